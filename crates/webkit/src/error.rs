//! What can go wrong, in every layer of an app: one error type, with nothing of HTTP in
//! it. [`crate::response`] turns it into a response (its status and the one JSON shape);
//! each variant's doc says which status that is.
//!
//! A database error becomes the error a client can act on: a violated constraint is a
//! 409 or 422 explained by the app's rules ([`crate::Settings::constraints`]), never by the
//! database's own message; an outage is a 503, a full disk a 507.

use dbkit::error::Violated;
use dbkit::{DbFailure, classify, writable};
use sea_orm::DbErr;
use serde_json::{Value, json};

/// Everything a request can fail with. Each variant's status is in its doc.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the request cannot be read (malformed JSON, bad encoding).
    #[error("{0}")]
    BadRequest(String),
    /// 401: missing, invalid or expired credentials. The message is deliberately generic.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// 403: authenticated, but not allowed.
    #[error("forbidden")]
    Forbidden,
    /// 403: a secret re-entered to confirm an action (the current password) is wrong.
    #[error("the {field} is wrong")]
    WrongSecret { field: &'static str },
    /// 404: no such resource — or one the caller may not see.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// 410: the resource exists but its content is lost (an integrity problem).
    #[error("{0}")]
    Gone(&'static str),
    /// 409: conflicts with existing data or the resource's state.
    #[error("{message}")]
    Conflict { message: String, details: Value },
    /// 415: the body is not of a type this endpoint reads.
    #[error("{0}")]
    UnsupportedMediaType(&'static str),
    /// 413: the body is too large.
    #[error("request body is too large")]
    PayloadTooLarge,
    /// 429: too many attempts; retry after the given number of seconds.
    #[error("too many attempts; try again later")]
    TooManyRequests { retry_after_secs: u64 },
    /// 422: well-formed but invalid input.
    #[error("{message}")]
    Validation { message: String, details: Value },
    /// 503: the database is unreachable or no connection was free in time.
    #[error("service temporarily unavailable")]
    Unavailable,
    /// 507: the disk is full; nothing was written. Retry after space is freed.
    #[error("the server's storage is full; nothing was saved, try again later")]
    StorageFull,
    /// 500: a bug. The cause is logged, never sent.
    #[error("internal error")]
    Internal(String),
}

impl AppError {
    /// A 422 about one field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        AppError::Validation {
            details: json!({ "field": field, "reason": message }),
            message,
        }
    }

    /// A 409 with a message and no details.
    pub fn conflict(message: impl Into<String>) -> Self {
        AppError::Conflict {
            message: message.into(),
            details: json!({}),
        }
    }
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        match classify(&err) {
            DbFailure::Unique(v) => {
                violation(v, Broken::Conflict, "conflicts with an existing record")
            }
            DbFailure::ForeignKey(v) => violation(
                v,
                Broken::Conflict,
                "refers to a record that does not exist",
            ),
            DbFailure::Check(v) | DbFailure::NotNull(v) => {
                violation(v, Broken::Rule, "breaks a data rule")
            }
            DbFailure::Unavailable => {
                tracing::warn!(error = %err, "database unavailable");
                AppError::Unavailable
            }
            DbFailure::SchemaBehind => {
                tracing::error!(error = %err, "the database schema is behind this binary (migrations pending?)");
                AppError::Unavailable
            }
            DbFailure::Concurrent => {
                tracing::warn!(error = %err, "transaction lost to a concurrent one");
                AppError::Conflict {
                    message: "the request collided with a concurrent change and did nothing; \
                              send it again"
                        .into(),
                    details: json!({ "retry": true }),
                }
            }
            DbFailure::StorageFull => AppError::storage(writable::Problem::Full, &err),
            DbFailure::StorageFailed => AppError::storage(writable::Problem::Failing, &err),
            DbFailure::Other => AppError::Internal(err.to_string()),
        }
    }
}

impl AppError {
    /// A write the storage refused (full disk, I/O error, read-only): marked for the
    /// health check, logged, and answered 507 or 503 — the client did nothing wrong.
    pub fn storage(problem: writable::Problem, cause: &dyn std::fmt::Display) -> Self {
        writable::failed(problem);
        tracing::error!(%cause, storage = problem.as_str(), "a write was refused by storage");
        match problem {
            writable::Problem::Full => AppError::StorageFull,
            writable::Problem::Failing => AppError::Unavailable,
        }
    }
}

/// What a violated constraint means for the request.
enum Broken {
    /// It collides with a row there is (or is not): a conflict.
    Conflict,
    /// It breaks a rule of the data: invalid.
    Rule,
}

/// Explains a constraint violation by its rule; the database's own message (which can
/// hold the offending value) is never sent.
fn violation(violated: Violated, broken: Broken, fallback: &str) -> AppError {
    let (message, details) = match violated.explain(crate::settings().constraints) {
        Some(rule) => (
            rule.message.to_owned(),
            json!({ "field": rule.field, "constraint": rule.name }),
        ),
        None => (
            format!("the request {fallback}"),
            json!({ "constraint": violated.constraint }),
        ),
    };
    match broken {
        Broken::Conflict => AppError::Conflict { message, details },
        Broken::Rule => AppError::Validation { message, details },
    }
}

impl From<dbkit::list::InvalidParam> for AppError {
    fn from(e: dbkit::list::InvalidParam) -> Self {
        let mut details = json!({ "field": e.field, "reason": e.message });
        if !e.allowed.is_empty() {
            details["allowed"] = json!(e.allowed);
        }
        AppError::Validation {
            message: e.message,
            details,
        }
    }
}

impl From<dbkit::list::ListError> for AppError {
    fn from(e: dbkit::list::ListError) -> Self {
        match e {
            dbkit::list::ListError::Invalid(e) => e.into(),
            dbkit::list::ListError::Db(e) => e.into(),
        }
    }
}
