//! Signing in, refreshing and signing out as operations, whatever the transport: the
//! JSON routes ([`super::router`]) and an app's own pages (a console with a cookie
//! session) call the same code, with the same brakes, log rows and rotation.

use dbkit::audit::{Event, Outcome};
use dbkit::sessions::{self, refresh_token};
use dbkit::{Actor, Writer};
use serde_json::json;

use super::{Account, Auth, SignedIn, TokensOut};
use crate::error::AppError;
use crate::rules::Email;

/// The one answer to every failed login, whatever the reason.
const LOGIN_FAILED: &str = "invalid email or password";
const REFRESH_FAILED: &str = "invalid or expired refresh token";
const BAD_TOKEN: &str = "missing, invalid or expired access token";

fn user_entity() -> &'static str {
    dbkit::names::names().user_entity
}

impl Auth {
    /// Signs in with an email and a password: the address's and the account's brakes
    /// (429), one 401 for every cause (logged `auth.login_failed`), then a new session,
    /// logged `auth.login`.
    pub async fn sign_in(
        &self,
        actor: &Actor,
        email: &str,
        password: String,
    ) -> Result<TokensOut, AppError> {
        let account = self.check_credentials(actor, email, password).await?;
        self.open_session(actor, &account).await
    }

    /// The account an email and a password name, checked as [`Auth::sign_in`] checks
    /// them (brakes, one 401 for every cause, `auth.login_failed` logged) — without
    /// starting a session, for a caller with conditions of its own.
    pub async fn check_credentials(
        &self,
        actor: &Actor,
        email: &str,
        password: String,
    ) -> Result<Account, AppError> {
        let raw = email;
        self.limits.check_ip(actor.ip.as_deref()).await?;
        // The account's budget is keyed by the address as stored, so that its lookalikes
        // (other case, full-width letters) draw on the same one.
        let email = Email::parse(raw).map(Email::into_inner);
        let key = match &email {
            Ok(email) => email.clone(),
            Err(_) => raw.trim().to_lowercase(),
        };
        self.limits.check_account(&key).await?;
        let account = match email {
            Ok(email) => self.accounts.by_email(&self.db, &email).await?,
            Err(_) => None,
        };
        let stored = account.as_ref().map(|a| a.password_hash.clone());
        let matches = self.check_password(password, stored).await?;
        match account {
            Some(account) if matches && account.active => Ok(account),
            other => {
                let mut event = Event::action("auth.login_failed").outcome(Outcome::Failed);
                if let Some(account) = other {
                    event.entity_type = Some(user_entity());
                    event.entity_id = Some(account.id);
                }
                dbkit::write::record(&self.db, actor, event).await?;
                Err(AppError::Unauthorized(LOGIN_FAILED))
            }
        }
    }

    /// A new session for an account whose credentials were checked, logged `auth.login`.
    pub async fn open_session(
        &self,
        actor: &Actor,
        account: &Account,
    ) -> Result<TokensOut, AppError> {
        let writer = Writer::begin(&self.db, &actor.as_user(account.id)).await?;
        self.accounts.signed_in(writer.tx(), account.id).await?;
        let tokens = self
            .start_session(writer.tx(), account.id, account.token_version)
            .await?;
        writer
            .commit(Event::new("auth.login", user_entity(), account.id))
            .await?;
        Ok(tokens)
    }

    /// New tokens for a refresh token, which works once: presenting a used one revokes
    /// every token of its session (logged `auth.refresh_reuse`).
    pub async fn refresh(&self, actor: &Actor, refresh_token: &str) -> Result<TokensOut, AppError> {
        let presented = sessions::find(&self.db, refresh_token)
            .await?
            .ok_or(AppError::Unauthorized(REFRESH_FAILED))?;
        let account = self.accounts.active(&self.db, presented.user_id).await?;
        let actor = actor.as_user(presented.user_id);
        if presented.revoked_at.is_some() {
            return Err(self.reuse_detected(&actor, &presented).await?);
        }
        let Some(account) = account.filter(|_| presented.expires_at > dbkit::time::now()) else {
            return Err(AppError::Unauthorized(REFRESH_FAILED));
        };
        let writer = Writer::begin(&self.db, &actor).await?;
        let Some(token) = sessions::rotate(writer.tx(), &presented, self.refresh_ttl).await? else {
            drop(writer);
            return Err(self.reuse_detected(&actor, &presented).await?);
        };
        let event = Event::new("auth.refresh", user_entity(), presented.user_id)
            .details(json!({ "family_id": presented.family_id }));
        writer.commit(event).await?;
        self.tokens(account.id, account.token_version, token)
    }

    /// Ends the session of a refresh token (and the account's access tokens); an unknown
    /// or already revoked token is already over.
    pub async fn sign_out(&self, actor: &Actor, refresh_token: &str) -> Result<(), AppError> {
        // Logging out twice, or with an unknown token, is not an error: the session is over.
        let Some(token) = sessions::find(&self.db, refresh_token).await? else {
            return Ok(());
        };
        let writer = Writer::begin(&self.db, &actor.as_user(token.user_id)).await?;
        let revoked = sessions::revoke_family(writer.tx(), token.family_id).await?;
        if revoked > 0 {
            // Access tokens are short-lived but not revocable one by one: ending the
            // account's access ends them all; other devices simply refresh.
            self.accounts.end_access(writer.tx(), token.user_id).await?;
            writer
                .commit(Event::new("auth.logout", user_entity(), token.user_id))
                .await?;
        }
        Ok(())
    }

    /// The user an access token names, at the token's version; a 401 otherwise.
    pub async fn user<U: SignedIn>(&self, token: &str) -> Result<U, AppError> {
        let (id, version) = self
            .jwt
            .verify(token.trim())
            .ok_or(AppError::Unauthorized(BAD_TOKEN))?;
        let stamp = self.users.stamp();
        if let Some(user) = stamp.and_then(|stamp| self.users.get((id, version), stamp)) {
            return Ok(user);
        }
        let user: U = U::load(&self.db, id, version)
            .await?
            .ok_or(AppError::Unauthorized(BAD_TOKEN))?;
        if let Some(stamp) = stamp {
            self.users.put((id, version), user.clone(), stamp);
        }
        Ok(user)
    }

    /// A used or revoked refresh token came back: someone holds a copy. Every token of its
    /// family is revoked, so both the thief and the user must log in again.
    async fn reuse_detected(
        &self,
        actor: &Actor,
        token: &refresh_token::Model,
    ) -> Result<AppError, AppError> {
        let writer = Writer::begin(&self.db, actor).await?;
        let revoked = sessions::revoke_family(writer.tx(), token.family_id).await?;
        let event = Event::new("auth.refresh_reuse", user_entity(), token.user_id)
            .details(json!({ "family_id": token.family_id, "revoked": revoked }))
            .outcome(Outcome::Failed);
        writer.commit(event).await?;
        Ok(AppError::Unauthorized(REFRESH_FAILED))
    }
}
