//! Argon2id password hashing, run off the async runtime (it is slow by design).

use std::sync::{Arc, LazyLock, Mutex, OnceLock, mpsc};

use tokio::sync::oneshot;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};

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
    let failed = |e: &dyn std::fmt::Display| AppError::Internal(format!("hashing: {e}"));
    let params = Params::default();
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| failed(&e))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let (algorithm, version) = (Algorithm::Argon2id, Version::V0x13);
    run(
        algorithm,
        version,
        &params,
        (password.as_bytes(), &salt),
        &mut out,
    )
    .map_err(|e| failed(&e))?;
    let hash = PasswordHash {
        algorithm: algorithm.ident(),
        version: Some(version.into()),
        params: ParamsString::try_from(&params).map_err(|e| failed(&e))?,
        salt: Some(Salt::new(&salt).map_err(|e| failed(&e))?),
        hash: Some(Output::new(&out).map_err(|e| failed(&e))?),
    };
    Ok(hash.to_string())
}

/// Argon2's memory (19 MiB with the default parameters), kept between hashes and shared by
/// the hashing threads: a hash takes one set of blocks (the last returned first) or
/// allocates one, and gives it back. So the process holds as many as were ever in use *at
/// once* — one, when sign-ins come one at a time — whichever thread ran them. Allocated
/// and freed per hash, the blocks left each allocator arena holding up to three of them
/// (128 sign-ins on two threads kept ~200 MiB more than the server needs); kept per
/// thread, sign-ins one at a time that happened to land on both threads held two.
static MEMORY: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());

/// Argon2 over `password` and `salt` into `out`, in reused memory.
fn run(
    algorithm: Algorithm,
    version: Version,
    params: &Params,
    (password, salt): (&[u8], &[u8]),
    out: &mut [u8],
) -> argon2::Result<()> {
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let blocks = params.block_count();
    let spare = MEMORY.lock().ok().and_then(|mut spare| spare.pop());
    let mut memory = match spare {
        Some(memory) if memory.len() >= blocks => memory,
        _ => vec![Block::default(); blocks],
    };
    let hashed = argon2.hash_password_into_with_memory(password, salt, out, &mut memory[..blocks]);
    if let Ok(mut spare) = MEMORY.lock() {
        spare.push(memory);
    }
    hashed
}

/// Whether `password` hashes to `stored` (a PHC string), with the parameters it names.
fn matches(password: &str, stored: &PasswordHash) -> bool {
    let (Some(salt), Some(expected)) = (&stored.salt, &stored.hash) else {
        return false;
    };
    let algorithm = Algorithm::try_from(stored.algorithm.as_str());
    let version = stored
        .version
        .map_or(Ok(Version::default()), Version::try_from);
    let (Ok(algorithm), Ok(version), Ok(params)) = (algorithm, version, Params::try_from(stored))
    else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    run(algorithm, version, &params, (password.as_bytes(), salt), &mut out).is_ok()
        // `Output`'s comparison takes constant time.
        && Output::new(&out).is_ok_and(|computed| &computed == expected)
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
        matches(&password, &parsed)
    })
    .await
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_blocking("not-a-real-password").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    use super::*;

    fn parse(stored: &str) -> PasswordHash {
        PasswordHash::new(stored).expect("a PHC string")
    }

    #[test]
    fn hashes_are_the_argon2_crates_own_both_ways() {
        // Ours verifies with the crate's verifier, and the crate's (every stored hash so
        // far) with ours: stored passwords keep working.
        let ours = hash_blocking("Correct horse 1").expect("hash");
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        let crates_own = Argon2::default()
            .hash_password(b"Correct horse 1")
            .expect("hash")
            .to_string();
        let verifier = Argon2::default();
        assert!(
            verifier
                .verify_password(b"Correct horse 1", &parse(&ours))
                .is_ok()
        );
        assert!(matches("Correct horse 1", &parse(&crates_own)));
        assert!(matches("Correct horse 1", &parse(&ours)));
        for (stored, wrong) in [(&ours, "Correct horse 2"), (&crates_own, "correct horse 1")] {
            assert!(!matches(wrong, &parse(stored)), "{wrong}");
        }
    }

    #[test]
    fn two_hashes_of_one_password_differ_by_their_salt() {
        let a = hash_blocking("same").expect("hash");
        let b = hash_blocking("same").expect("hash");
        assert_ne!(a, b);
        assert!(matches("same", &parse(&a)) && matches("same", &parse(&b)));
    }

    #[test]
    fn a_hash_of_other_parameters_still_verifies() {
        // A cheaper hash (as a test or an older setting might have stored) verifies with
        // the parameters it names, in the same reused memory (which only grows).
        let params = Params::new(8, 1, 1, None).expect("params");
        let cheap = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"pw-cheap")
            .expect("hash")
            .to_string();
        assert!(matches("pw-cheap", &parse(&cheap)));
        assert!(!matches("pw-dear", &parse(&cheap)));
    }
}
