//! Brute-force brakes on login and register (per client IP) and on every check of an
//! account's password — login and password change share one budget per account — kept
//! in the database ([`dbkit::attempts`]), so that every instance on it draws on the same
//! budgets: two nodes behind a load balancer allow what one node allows.

use std::num::NonZeroU32;

use dbkit::attempts::{self, Verdict};
use sea_orm::DatabaseConnection;

use crate::error::AppError;

/// The brakes of one application.
pub struct AuthLimits {
    db: DatabaseConnection,
    per_ip: NonZeroU32,
    per_account: NonZeroU32,
}

impl AuthLimits {
    /// `per_ip` login/register attempts per minute from one address, and `per_account`
    /// login attempts per minute on one email, counted in `db`.
    pub fn new(db: DatabaseConnection, per_ip: NonZeroU32, per_account: NonZeroU32) -> Self {
        Self {
            db,
            per_ip,
            per_account,
        }
    }

    /// Counts an attempt from `ip`; 429 when over the limit.
    pub async fn check_ip(&self, ip: Option<&str>) -> Result<(), AppError> {
        let key = format!("ip:{}", ip.unwrap_or("unknown"));
        self.spend(&key, self.per_ip).await
    }

    /// Counts a password check on the account `email` (as stored: normalised by the
    /// caller), at login or a password change; 429 when over the limit.
    pub async fn check_account(&self, email: &str) -> Result<(), AppError> {
        self.spend(&format!("account:{email}"), self.per_account)
            .await
    }

    async fn spend(&self, key: &str, per_minute: NonZeroU32) -> Result<(), AppError> {
        match attempts::spend(&self.db, key, per_minute).await? {
            Verdict::Allowed => Ok(()),
            Verdict::Refused { retry_after } => {
                tracing::warn!(
                    wait_secs = retry_after.as_secs(),
                    "authentication attempts over the limit"
                );
                Err(AppError::TooManyRequests {
                    // Whole seconds, rounded up: a client waiting that long gets through.
                    retry_after_secs: (retry_after.as_secs()
                        + u64::from(retry_after.subsec_nanos() > 0))
                    .max(1),
                })
            }
        }
    }
}
