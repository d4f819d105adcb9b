//! Whether writes are landing. A write refused for lack of space or by an I/O error marks
//! the process's storage as failing until a later write commits, so that health checks
//! can say so while it lasts. With no writes at all the mark fades after [`REMEMBERED`]:
//! the next write that fails sets it again.
//!
//! The mark is per process, which serves one database per process, as Launchpad runs.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a failure is reported when no write follows it.
pub const REMEMBERED: Duration = Duration::from_secs(30);

/// What went wrong with the last write that failed for want of storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// No space left.
    Full,
    /// An I/O error, or the storage is read-only.
    Failing,
}

impl Problem {
    /// The word health checks report.
    pub fn as_str(self) -> &'static str {
        match self {
            Problem::Full => "full",
            Problem::Failing => "failing",
        }
    }
}

static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);
/// Milliseconds after [`EPOCH`] of the last failure, plus one; 0 when writes are landing.
static FAILED_AT: AtomicU64 = AtomicU64::new(0);
static KIND: AtomicU8 = AtomicU8::new(0);

fn now_ms() -> u64 {
    u64::try_from(EPOCH.elapsed().as_millis()).unwrap_or(u64::MAX - 1)
}

/// A write failed for want of storage.
pub fn failed(problem: Problem) {
    KIND.store(problem as u8, Ordering::Relaxed);
    FAILED_AT.store(now_ms() + 1, Ordering::Release);
}

/// A write committed: storage takes writes again.
pub fn succeeded() {
    if FAILED_AT.load(Ordering::Relaxed) != 0 {
        FAILED_AT.store(0, Ordering::Release);
    }
}

/// The storage problem of the last failed write, unless a write has committed since or
/// it is older than [`REMEMBERED`].
pub fn problem() -> Option<Problem> {
    let at = FAILED_AT.load(Ordering::Acquire);
    if at == 0 || now_ms().saturating_sub(at - 1) > REMEMBERED.as_millis() as u64 {
        return None;
    }
    Some(match KIND.load(Ordering::Relaxed) {
        k if k == Problem::Full as u8 => Problem::Full,
        _ => Problem::Failing,
    })
}
