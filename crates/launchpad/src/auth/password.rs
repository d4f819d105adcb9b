//! Argon2id password hashing, run off the async runtime (it is slow by design).

use std::sync::{LazyLock, OnceLock};

use tokio::sync::Semaphore;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};

use crate::http::error::AppError;

/// Argon2 holds ~19 MiB per call and a core for tens of milliseconds: more calls at once
/// than cores only queue on the CPU while memory grows (64 concurrent logins once took
/// the process to 11 GB). Calls wait here for a core instead.
static HASHERS: LazyLock<Semaphore> = LazyLock::new(|| {
    Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get))
});

/// Runs `work` on the blocking pool once a hashing slot is free.
async fn on_hasher<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    let _slot = HASHERS
        .acquire()
        .await
        .map_err(|e| AppError::Internal(format!("hashing slot: {e}")))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AppError::Internal(format!("hashing task: {e}")))
}

/// Hashes a password with Argon2id's default (OWASP-grade) parameters.
pub async fn hash(password: String) -> Result<String, AppError> {
    on_hasher(move || hash_blocking(&password)).await?
}

/// The same, for callers already off the runtime (the CLI, seeding).
pub fn hash_blocking(password: &str) -> Result<String, AppError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("hashing: {e}")))
}

/// Whether `password` matches `stored`. With no stored hash (unknown account) it still
/// spends the time of a real check, so response times do not reveal which emails exist.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, AppError> {
    on_hasher(move || {
        let stored = stored.as_deref().unwrap_or_else(|| dummy_hash());
        let Ok(parsed) = PasswordHash::new(stored) else {
            return false;
        };
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
    .await
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_blocking("not-a-real-password").unwrap_or_default())
}
