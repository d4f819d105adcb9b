//! Brute-force brakes on login and register (per client IP) and on every check of an
//! account's password — login and password change share one budget per account — in
//! memory. (Several instances each keep their own counts; the limits are per instance.)

use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::AppError;

/// The limiters of one application.
pub struct AuthLimits {
    per_ip: DefaultKeyedRateLimiter<String>,
    per_account: DefaultKeyedRateLimiter<String>,
}

impl AuthLimits {
    /// `per_ip` login/register attempts per minute from one address, and `per_account`
    /// login attempts per minute on one email.
    pub fn new(per_ip: NonZeroU32, per_account: NonZeroU32) -> Self {
        Self {
            per_ip: RateLimiter::keyed(Quota::per_minute(per_ip)),
            per_account: RateLimiter::keyed(Quota::per_minute(per_account)),
        }
    }

    /// Counts an attempt from `ip`; 429 when over the limit.
    pub fn check_ip(&self, ip: Option<&str>) -> Result<(), AppError> {
        check(&self.per_ip, ip.unwrap_or("unknown"))
    }

    /// Counts a password check on the account `email` (as stored: normalised by the
    /// caller), at login or a password change; 429 when over the limit.
    pub fn check_account(&self, email: &str) -> Result<(), AppError> {
        // Keys are client text: bound what one can make the map hold.
        let key: String = email.chars().take(320).collect();
        check(&self.per_account, &key)
    }
}

fn check(limiter: &DefaultKeyedRateLimiter<String>, key: &str) -> Result<(), AppError> {
    // Forget keys whose budget is full again, so the maps do not grow without bound.
    if limiter.len() > 10_000 {
        limiter.retain_recent();
    }
    limiter.check_key(&key.to_owned()).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        tracing::warn!(
            wait_secs = wait.as_secs(),
            "authentication attempts over the limit"
        );
        AppError::TooManyRequests {
            retry_after_secs: wait.as_secs().max(1),
        }
    })
}
