//! The activity log: one row per state-changing action, written by [`crate::Writer`]
//! in the same transaction as the change, or on its own for events that change
//! nothing else (a failed login).
//!
//! The table it writes is `activity_logs` with the columns `id, user_id, action,
//! entity_type, entity_id, details, ip_address, user_agent, status, duration_ms,
//! created_at` and the chain's (see [`crate::chain`]); the service's migrations create it.

use std::borrow::Cow;
use std::time::Instant;

use sea_orm::{ConnectionTrait, DbErr};
use serde_json::Value;
use uuid::Uuid;

use crate::chain::{self, Row};

/// Who is acting, from where; recorded with every log row.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The signed-in user, if any.
    pub user_id: Option<Uuid>,
    /// The client's IP address.
    pub ip: Option<String>,
    /// The client's user agent.
    pub user_agent: Option<String>,
    /// When the request began; the log row's duration is measured from here.
    pub started: Instant,
}

impl Actor {
    /// An actor for work started from the command line or a background job.
    pub fn system() -> Self {
        Self {
            user_id: None,
            ip: None,
            user_agent: None,
            started: Instant::now(),
        }
    }

    /// The same actor, acting as `user_id` (after a login, say).
    pub fn as_user(&self, user_id: Uuid) -> Self {
        Self {
            user_id: Some(user_id),
            ..self.clone()
        }
    }
}

/// Outcome recorded with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The action did what was asked.
    Success,
    /// The action was refused (bad credentials, forbidden, invalid).
    Failed,
    /// The action broke on our side.
    Error,
}

impl Outcome {
    /// The value stored in `activity_logs.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failed => "failed",
            Outcome::Error => "error",
        }
    }
}

/// What happened, to which entity.
#[derive(Debug, Clone)]
pub struct Event {
    /// What was done, `<entity type>.<verb>`: `user.register`, `plan.delete`.
    pub action: Cow<'static, str>,
    /// The kind of entity acted on, if any.
    pub entity_type: Option<&'static str>,
    /// The entity acted on, if any.
    pub entity_id: Option<Uuid>,
    /// Context; keys that look secret are removed before writing.
    pub details: Value,
    /// How it ended.
    pub outcome: Outcome,
}

impl Event {
    /// A successful action on an entity.
    pub fn new(action: &'static str, entity_type: &'static str, entity_id: Uuid) -> Self {
        Self {
            action: Cow::Borrowed(action),
            entity_type: Some(entity_type),
            entity_id: Some(entity_id),
            details: Value::Object(Default::default()),
            outcome: Outcome::Success,
        }
    }

    /// `verb` done to the entity `entity_id` of type `entity_type`, logged as
    /// `<entity_type>.<verb>`: the action is named by what it acted on.
    pub fn on(entity_type: &'static str, verb: &str, entity_id: Uuid) -> Self {
        Self {
            action: Cow::Owned(format!("{entity_type}.{verb}")),
            ..Self::new("", entity_type, entity_id)
        }
    }

    /// A successful action not tied to one entity.
    pub fn action(action: &'static str) -> Self {
        Self {
            action: Cow::Borrowed(action),
            entity_type: None,
            entity_id: None,
            details: Value::Object(Default::default()),
            outcome: Outcome::Success,
        }
    }

    /// Adds context.
    pub fn details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    /// Adds one key to the context (the context becomes an object if it was not one).
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        if !self.details.is_object() {
            self.details = Value::Object(Default::default());
        }
        if let Value::Object(map) = &mut self.details {
            map.insert(key.to_owned(), value.into());
        }
        self
    }

    /// Sets the outcome.
    pub fn outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }
}

/// Key fragments that never reach the log, whatever a caller passes.
const SECRET_KEYS: &[&str] = &[
    "password",
    "token",
    "hash",
    "secret",
    "authorization",
    "cookie",
];

/// Removes every object key that looks like it holds a secret, at any depth.
pub fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|k, _| {
                let k = k.to_ascii_lowercase();
                !SECRET_KEYS.iter().any(|s| k.contains(s))
            });
            map.values_mut().for_each(redact);
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// The longest user agent kept; longer ones are cut (they are client-controlled).
const MAX_USER_AGENT: usize = 512;

/// Writes one log row on `conn`, the change's transaction, through [`chain::append`]
/// (commit it with [`crate::Writer`], which wakes the sealer).
pub async fn insert(conn: &impl ConnectionTrait, actor: &Actor, event: Event) -> Result<(), DbErr> {
    let mut details = event.details;
    redact(&mut details);
    let mut row = Row::new(
        Uuid::now_v7(),
        &event.action,
        actor.user_id,
        details,
        crate::time::now(),
    );
    row.entity_type = event.entity_type.map(str::to_owned);
    row.entity_id = event.entity_id;
    row.ip_address = actor.ip.clone();
    row.user_agent = actor
        .user_agent
        .as_deref()
        .map(|ua| ua.chars().take(MAX_USER_AGENT).collect::<String>());
    row.status = event.outcome.as_str().to_owned();
    row.duration_ms = Some(i64::try_from(actor.started.elapsed().as_millis()).unwrap_or(i64::MAX));
    chain::append(conn, vec![row]).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn redact_removes_secret_keys_at_any_depth() {
        let mut v = json!({
            "email": "a@b.c",
            "password": "x",
            "nested": {"refresh_token": "y", "keep": 1, "list": [{"password_hash": "z", "ok": true}]}
        });
        redact(&mut v);
        assert_eq!(
            v,
            json!({"email": "a@b.c", "nested": {"keep": 1, "list": [{"ok": true}]}})
        );
    }
}
