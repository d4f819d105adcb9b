//! A job queue on the `jobs` table, safe with many workers in many processes.
//!
//! A claim is one statement, `UPDATE jobs … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)
//! RETURNING …`: on PostgreSQL concurrent claimers skip each other's rows; on SQLite (which
//! has no row locks) it runs inside `BEGIN IMMEDIATE`, so claimers take turns on the write
//! lock. Every claim counts an attempt, and finishing a job names the attempt it finishes:
//! a worker that stalled past its lock, whose job was rescued and claimed again, cannot
//! overwrite the newer attempt's outcome.
//!
//! The table (created by the service's migrations) has `id, kind, payload, status,
//! attempts, max_attempts, run_at, locked_at, locked_by, last_error, dedupe_key,
//! created_at, updated_at`, with a unique index on `dedupe_key` among pending and running
//! jobs.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, LockBehavior, LockType, OnConflict, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, QueryResult};
use serde_json::Value;
use uuid::Uuid;

/// Attempts a job gets unless its kind says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: i32 = 5;
/// The longest `last_error` kept, in characters.
const MAX_ERROR_CHARS: usize = 1000;
/// The predicate of the unique index on `dedupe_key`, which is also the conflict target.
pub(crate) const QUEUED: &str = "status IN ('pending', 'running')";

fn col(name: &str) -> Expr {
    Expr::col(Alias::new(name))
}

fn jobs() -> Alias {
    Alias::new(crate::names().jobs_table)
}

/// A job to queue.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// What to do; workers run only the kinds they know.
    pub kind: &'static str,
    /// Its input, read by the handler of `kind`.
    pub payload: Value,
    /// Not before this time.
    pub run_at: DateTime<Utc>,
    /// Attempts before it is dead.
    pub max_attempts: i32,
    /// At most one pending or running job per key; another enqueue is a no-op.
    pub dedupe_key: Option<String>,
}

impl NewJob {
    /// A job due now, with the default attempts and no deduplication.
    pub fn new(kind: &'static str, payload: Value) -> Self {
        Self {
            kind,
            payload,
            run_at: crate::time::now(),
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            dedupe_key: None,
        }
    }

    /// Due at `run_at` instead of now.
    pub fn run_at(mut self, run_at: DateTime<Utc>) -> Self {
        self.run_at = run_at;
        self
    }

    /// At most this many attempts.
    pub fn max_attempts(mut self, max_attempts: i32) -> Self {
        self.max_attempts = max_attempts;
        self
    }

    /// Queued only if no job with this key is pending or running.
    pub fn dedupe(mut self, key: impl Into<String>) -> Self {
        self.dedupe_key = Some(key.into());
        self
    }
}

/// Queues `job` on `conn` (the pool, or the transaction whose commit should queue it).
/// Returns its id, or `None` when a job with its dedupe key is already queued.
pub async fn enqueue(conn: &impl ConnectionTrait, job: NewJob) -> Result<Option<Uuid>, DbErr> {
    let id = Uuid::now_v7();
    let now = crate::time::now();
    let mut insert = Query::insert();
    insert
        .into_table(jobs())
        .columns(
            [
                "id",
                "kind",
                "payload",
                "status",
                "attempts",
                "max_attempts",
                "run_at",
                "dedupe_key",
                "created_at",
                "updated_at",
            ]
            .map(Alias::new),
        )
        .values_panic([
            id.into(),
            job.kind.into(),
            job.payload.into(),
            "pending".into(),
            0.into(),
            job.max_attempts.into(),
            job.run_at.into(),
            job.dedupe_key.into(),
            now.into(),
            now.into(),
        ]);
    insert.on_conflict(
        OnConflict::column(Alias::new("dedupe_key"))
            .target_and_where(Expr::cust(QUEUED))
            .do_nothing()
            .to_owned(),
    );
    let inserted = conn.execute(&insert).await?.rows_affected();
    Ok((inserted == 1).then_some(id))
}

/// A claimed job: its attempt is running under this worker's lock.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: Uuid,
    pub kind: String,
    pub payload: Value,
    /// This attempt's number, from 1.
    pub attempts: i32,
    pub max_attempts: i32,
}

impl Job {
    fn from_row(row: &QueryResult) -> Result<Self, DbErr> {
        Ok(Self {
            id: row.try_get("", "id")?,
            kind: row.try_get("", "kind")?,
            payload: row.try_get("", "payload")?,
            attempts: row.try_get("", "attempts")?,
            max_attempts: row.try_get("", "max_attempts")?,
        })
    }
}

/// Claims up to `limit` due pending jobs of the given kinds for `worker`, oldest due first.
pub async fn claim(
    db: &DatabaseConnection,
    worker: &str,
    kinds: &[&str],
    limit: u64,
) -> Result<Vec<Job>, DbErr> {
    let now = crate::time::now();
    let due = Query::select()
        .column(Alias::new("id"))
        .from(jobs())
        .and_where(col("status").eq("pending"))
        .and_where(col("run_at").lte(now))
        .and_where(col("kind").is_in(kinds.iter().copied()))
        .order_by(Alias::new("run_at"), sea_orm::sea_query::Order::Asc)
        .limit(limit)
        // Rendered on PostgreSQL only; SQLite's write lock serialises claimers instead.
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .to_owned();
    let update = Query::update()
        .table(jobs())
        .value(Alias::new("status"), "running")
        .value(Alias::new("attempts"), col("attempts").add(1))
        .value(Alias::new("locked_at"), now)
        .value(Alias::new("locked_by"), worker)
        .value(Alias::new("updated_at"), now)
        .and_where(col("id").in_subquery(due))
        .returning(
            Query::returning()
                .columns(["id", "kind", "payload", "attempts", "max_attempts"].map(Alias::new)),
        )
        .to_owned();
    let tx = crate::write::begin_write(db).await?;
    let rows = tx.query_all(&update).await?;
    tx.commit().await?;
    rows.iter().map(Job::from_row).collect()
}

/// Only the attempt `job` is: still running, not rescued and claimed again since.
fn this_attempt(job: &Job) -> Expr {
    col("id")
        .eq(job.id)
        .and(col("status").eq("running"))
        .and(col("attempts").eq(job.attempts))
}

/// Marks the attempt succeeded. `false`: it was no longer this worker's (rescued after its
/// lock expired), and the newer attempt decides.
pub async fn complete(conn: &impl ConnectionTrait, job: &Job) -> Result<bool, DbErr> {
    let update = Query::update()
        .table(jobs())
        .value(Alias::new("status"), "succeeded")
        .value(Alias::new("locked_at"), Option::<DateTime<Utc>>::None)
        .value(Alias::new("locked_by"), Option::<String>::None)
        .value(Alias::new("updated_at"), crate::time::now())
        .and_where(this_attempt(job))
        .to_owned();
    Ok(conn.execute(&update).await?.rows_affected() == 1)
}

/// How long a failed job waits before its next attempt: `base · 2^(attempts − 1)`, at
/// most `cap`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Backoff {
    /// The wait after the `attempts`-th attempt failed.
    pub fn delay(&self, attempts: i32) -> Duration {
        // Past 2^31 the cap has long been reached.
        let doublings = std::cmp::min(u32::try_from(attempts.saturating_sub(1)).unwrap_or(0), 31);
        self.base.saturating_mul(1 << doublings).min(self.cap)
    }
}

/// What became of a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failed {
    /// Pending again, due at this time.
    Retry(DateTime<Utc>),
    /// Out of attempts.
    Dead,
    /// The attempt was no longer this worker's; nothing changed.
    Superseded,
}

/// Records a failed attempt: pending again after the backoff, or dead after its last
/// attempt. `error` is kept in `last_error`, cut short; it must not contain secrets.
pub async fn fail(
    conn: &impl ConnectionTrait,
    job: &Job,
    error: &str,
    backoff: &Backoff,
) -> Result<Failed, DbErr> {
    let now = crate::time::now();
    let outcome = if job.attempts >= job.max_attempts {
        Failed::Dead
    } else {
        let delay = chrono::Duration::from_std(backoff.delay(job.attempts))
            .unwrap_or(chrono::Duration::MAX);
        Failed::Retry(now.checked_add_signed(delay).unwrap_or(now))
    };
    let mut update = Query::update();
    update
        .table(jobs())
        .value(Alias::new("locked_at"), Option::<DateTime<Utc>>::None)
        .value(Alias::new("locked_by"), Option::<String>::None)
        .value(Alias::new("last_error"), truncate(error))
        .value(Alias::new("updated_at"), now)
        .and_where(this_attempt(job));
    match outcome {
        Failed::Retry(run_at) => update
            .value(Alias::new("status"), "pending")
            .value(Alias::new("run_at"), run_at),
        _ => update.value(Alias::new("status"), "dead"),
    };
    let changed = conn.execute(&update).await?.rows_affected() == 1;
    Ok(if changed { outcome } else { Failed::Superseded })
}

fn truncate(error: &str) -> String {
    error.chars().take(MAX_ERROR_CHARS).collect()
}

/// Jobs [`rescue`] took back from workers that stopped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rescued {
    /// Pending again, due now.
    pub retried: u64,
    /// Their lost attempt was their last.
    pub dead: u64,
}

/// Takes back running jobs whose lock is older than `lock_timeout` (their worker died or
/// stalled): pending again if they have attempts left, dead otherwise.
pub async fn rescue(conn: &impl ConnectionTrait, lock_timeout: Duration) -> Result<Rescued, DbErr> {
    let now = crate::time::now();
    let stale_before = chrono::Duration::from_std(lock_timeout)
        .ok()
        .and_then(|timeout| now.checked_sub_signed(timeout))
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let take_back = |status: &str, attempts_left: bool| {
        let left = col("attempts").lt(col("max_attempts"));
        Query::update()
            .table(jobs())
            .value(Alias::new("status"), status)
            .value(Alias::new("run_at"), now)
            .value(Alias::new("locked_at"), Option::<DateTime<Utc>>::None)
            .value(Alias::new("locked_by"), Option::<String>::None)
            .value(
                Alias::new("last_error"),
                Expr::cust("'lock expired: worker ' || locked_by || ' stopped during the attempt'"),
            )
            .value(Alias::new("updated_at"), now)
            .and_where(col("status").eq("running"))
            .and_where(col("locked_at").lt(stale_before))
            .and_where(if attempts_left { left } else { left.not() })
            .to_owned()
    };
    let dead = conn
        .execute(&take_back("dead", false))
        .await?
        .rows_affected();
    let retried = conn
        .execute(&take_back("pending", true))
        .await?
        .rows_affected();
    Ok(Rescued { retried, dead })
}

/// A job as an operator sees it.
#[derive(Debug, Clone)]
pub struct JobState {
    pub id: Uuid,
    pub kind: String,
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl JobState {
    fn from_row(row: &QueryResult) -> Result<Self, DbErr> {
        Ok(Self {
            id: row.try_get("", "id")?,
            kind: row.try_get("", "kind")?,
            status: row.try_get("", "status")?,
            attempts: row.try_get("", "attempts")?,
            max_attempts: row.try_get("", "max_attempts")?,
            run_at: row.try_get("", "run_at")?,
            last_error: row.try_get("", "last_error")?,
            updated_at: row.try_get("", "updated_at")?,
        })
    }
}

/// How many jobs are in each status (`pending`, `running`, `done`, `dead`), those with
/// none left out.
pub async fn counts(conn: &impl ConnectionTrait) -> Result<Vec<(String, i64)>, DbErr> {
    let q = Query::select()
        .column(Alias::new("status"))
        .expr(Expr::col(Alias::new("id")).count())
        .from(jobs())
        .group_by_col(Alias::new("status"))
        .order_by(Alias::new("status"), sea_orm::Order::Asc)
        .to_owned();
    conn.query_all(&q)
        .await?
        .iter()
        .map(|row| Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?)))
        .collect()
}

/// The job `id`.
pub async fn state(conn: &impl ConnectionTrait, id: Uuid) -> Result<Option<JobState>, DbErr> {
    let q = state_query().and_where(col("id").eq(id)).to_owned();
    conn.query_one(&q)
        .await?
        .as_ref()
        .map(JobState::from_row)
        .transpose()
}

fn state_query() -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .columns(
            [
                "id",
                "kind",
                "status",
                "attempts",
                "max_attempts",
                "run_at",
                "last_error",
                "updated_at",
            ]
            .map(Alias::new),
        )
        .from(jobs())
        .to_owned()
}

/// Up to `limit` jobs in `status`: pending ones longest due first, any other most
/// recently changed first.
pub async fn in_status(
    conn: &impl ConnectionTrait,
    status: &str,
    limit: u64,
) -> Result<Vec<JobState>, DbErr> {
    let (order_by, order) = if status == "pending" {
        ("run_at", sea_orm::Order::Asc)
    } else {
        ("updated_at", sea_orm::Order::Desc)
    };
    let q = state_query()
        .and_where(col("status").eq(status))
        .order_by(Alias::new(order_by), order)
        .limit(limit)
        .to_owned();
    conn.query_all(&q)
        .await?
        .iter()
        .map(JobState::from_row)
        .collect()
}

/// Gives a dead job one more attempt, due now; `false` if it is not dead (any more).
/// Its last error stays until the attempt ends.
pub async fn retry(conn: &impl ConnectionTrait, id: Uuid) -> Result<bool, DbErr> {
    let update = Query::update()
        .table(jobs())
        .value(Alias::new("status"), "pending")
        .value(Alias::new("run_at"), crate::time::now())
        .value(Alias::new("max_attempts"), col("attempts").add(1))
        .value(Alias::new("updated_at"), crate::time::now())
        .and_where(col("id").eq(id))
        .and_where(col("status").eq("dead"))
        .to_owned();
    Ok(conn.execute(&update).await?.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_up_to_the_cap() {
        let b = Backoff {
            base: Duration::from_secs(10),
            cap: Duration::from_secs(60),
        };
        let delays: Vec<u64> = (1..=6).map(|a| b.delay(a).as_secs()).collect();
        assert_eq!(delays, [10, 20, 40, 60, 60, 60]);
        assert_eq!(b.delay(i32::MAX).as_secs(), 60);
        assert_eq!(b.delay(0).as_secs(), 10);
    }

    #[test]
    fn errors_are_cut_to_a_bounded_length() {
        assert_eq!(truncate(&"é".repeat(5000)).chars().count(), MAX_ERROR_CHARS);
        assert_eq!(truncate("short"), "short");
    }
}
