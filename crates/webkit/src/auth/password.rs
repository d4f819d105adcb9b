//! Argon2id password hashing, run off the async runtime (it is slow by design).

use std::sync::{Arc, LazyLock, Mutex, OnceLock, mpsc};

use tokio::sync::oneshot;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};

use crate::error::AppError;

/// A job for the hashing threads.
type Job = Box<dyn FnOnce() + Send>;

/// Argon2 holds ~19 MiB per call and a core for tens of milliseconds. On Tokio's blocking
/// pool every call may land on a new thread, and each thread's allocator arena keeps its
/// 19 MiB after the call (64 concurrent logins once took the process to 11.5 GB). A few
/// long-lived threads, one per core, do all the hashing instead: extra calls queue, and
/// memory stays at a few arenas' worth.
static HASHERS: LazyLock<Mutex<mpsc::Sender<Job>>> = LazyLock::new(|| {
    let (sender, receiver) = mpsc::channel::<Job>();
    let receiver = Arc::new(Mutex::new(receiver));
    let threads = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    for i in 0..threads {
        let receiver = Arc::clone(&receiver);
        let spawned = std::thread::Builder::new()
            .name(format!("argon2-{i}"))
            .spawn(move || {
                loop {
                    // The guard is dropped before the job runs, so the threads hash in parallel.
                    let job = match receiver.lock() {
                        Ok(r) => r.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start a hashing thread");
        }
    }
    Mutex::new(sender)
});

/// Runs `work` on a hashing thread and waits for it without blocking the runtime.
async fn on_hasher<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    let (done, result) = oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = done.send(work());
    });
    HASHERS
        .lock()
        .map_err(|_| AppError::Internal("hashing queue poisoned".into()))?
        .send(job)
        .map_err(|_| AppError::Internal("hashing threads stopped".into()))?;
    result
        .await
        .map_err(|_| AppError::Internal("hashing job dropped".into()))
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

/// Counts Argon2 verifications, for an app's metrics.
pub type OnCheck = Arc<dyn Fn() + Send + Sync>;

/// Whether `password` matches `stored`. With no stored hash (unknown account) it still
/// spends the time of a real check, so response times do not reveal which emails exist.
/// Each Argon2 run calls `on_check`, which is how that is proven.
pub async fn verify(
    password: String,
    stored: Option<String>,
    on_check: OnCheck,
) -> Result<bool, AppError> {
    on_hasher(move || {
        let stored = stored.as_deref().unwrap_or_else(|| dummy_hash());
        let Ok(parsed) = PasswordHash::new(stored) else {
            return false;
        };
        on_check();
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
