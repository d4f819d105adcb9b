//! Budgets of attempts per minute (sign-ins, registrations), kept in the database so that
//! every process on it draws on the same one: N nodes behind a load balancer allow what
//! one node allows, not N times as much.
//!
//! Each key holds one number, its *theoretical arrival time* (GCRA, as in the
//! `governor` crate): a budget of `n` per minute lets one attempt through every `60/n`
//! seconds, with bursts of up to `n`. One upsert both checks and spends, so two
//! processes racing on a key cannot both take its last attempt. Keys are stored as
//! SHA-256 digests: the table never holds the email addresses or IPs it counts.
//!
//! Time is the database's clock, in microseconds since the epoch, read once the key's row
//! is locked: the nodes' own clocks may differ, and a racer that read a clock earlier
//! but reached the row later would find a budget spent a little ahead of it.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, Value};

use crate::sql::param as p;

/// The table of budgets ([`crate::migrations::AttemptBudgets`] creates it).
pub const TABLE: &str = "attempt_budgets";

/// The window a per-minute budget refills over, in microseconds.
const MINUTE_US: i64 = 60_000_000;

/// Spent budgets are forgotten on every this-many-th attempt of a process.
const SWEEP_EVERY: u32 = 1_000;

/// What an attempt was told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Over the budget: the next attempt is allowed after this long.
    Refused {
        retry_after: Duration,
    },
}

/// Spends one attempt of `key`'s budget of `per_minute` attempts per minute, shared
/// with every process on `db`.
pub async fn spend(
    db: &impl ConnectionTrait,
    key: &str,
    per_minute: NonZeroU32,
) -> Result<Verdict, DbErr> {
    let interval = MINUTE_US / i64::from(per_minute.get());
    let key = crate::sessions::hash(key);
    let backend = db.get_database_backend();
    sweep_now_and_then(db).await?;
    let take = statement(
        backend,
        &take_sql(backend),
        vec![key.clone().into(), interval.into(), MINUTE_US.into()],
    );
    if db.query_one_raw(take).await?.is_some() {
        return Ok(Verdict::Allowed);
    }
    // Refused: the key's row exists (a new key always gets through), and says until when.
    let sql = format!(
        "SELECT tat, {} AS now FROM {TABLE} WHERE key_hash = {}",
        clock(backend),
        p(backend, 1)
    );
    let wait = match db
        .query_one_raw(statement(backend, &sql, vec![key.into()]))
        .await?
    {
        Some(row) => {
            let (tat, now): (i64, i64) = (row.try_get("", "tat")?, row.try_get("", "now")?);
            (tat + interval - MINUTE_US - now).max(0)
        }
        None => 0,
    };
    Ok(Verdict::Refused {
        retry_after: Duration::from_micros(wait.unsigned_abs()),
    })
}

/// The upsert that takes an attempt if the budget has one: a new key starts full; a
/// known key's time moves on by one interval, from now if it lies in the past, unless
/// that would put it more than a minute ahead. Returns a row only when it took one.
fn take_sql(backend: DbBackend) -> String {
    let (key, interval, window) = (p(backend, 1), p(backend, 2), p(backend, 3));
    let now = clock(backend);
    format!(
        "INSERT INTO {TABLE} (key_hash, tat) VALUES ({key}, {now} + {interval}) \
         ON CONFLICT (key_hash) DO UPDATE \
         SET tat = CASE WHEN {TABLE}.tat > {now} THEN {TABLE}.tat ELSE {now} END + {interval} \
         WHERE {TABLE}.tat - {now} <= {window} - {interval} RETURNING tat"
    )
}

/// The database's time now, in microseconds since the epoch. PostgreSQL's
/// `clock_timestamp()` is read where it is evaluated (after the row's lock), not at the
/// transaction's start; SQLite's `'now'` is the statement's, and its writes take turns.
fn clock(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::bigint",
        _ => "CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)",
    }
}

/// Deletes, on one attempt in [`SWEEP_EVERY`], the keys whose budget is full again:
/// a missing key means the same, so the table holds only the keys spent lately.
async fn sweep_now_and_then(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    if CALLS.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY != SWEEP_EVERY - 1 {
        return Ok(());
    }
    let backend = db.get_database_backend();
    let sql = format!("DELETE FROM {TABLE} WHERE tat < {}", clock(backend));
    db.execute_raw(Statement::from_string(backend, sql)).await?;
    Ok(())
}

fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(backend, sql, values)
}
