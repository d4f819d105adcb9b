//! Sealing: chaining the rows that were written unchained — on PostgreSQL every row, right
//! after its transaction commits (see [`super::append`]); rows older than the chain
//! (migration 012).
//!
//! Rows are chained in the order the sealer finds them committed, oldest `created_at`
//! first within one pass, so `seq` follows commit order, not `created_at` order, by up to
//! the length of a transaction. Each running service holds a [`Sealer`]: woken by every
//! commit in the process ([`wake`]) and once a [`TICK`] (for rows another process left,
//! or a wake that came while it was busy), it seals in a transaction of its own. Several
//! sealers (nodes) take turns on the head's lock.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::sea_query::{Alias, Expr, ExprTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Order, Statement};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::{Row, chain_after, fetch, head, select_rows, set_head};

/// How long a row may stay unsealed before [`super::verify`] reports it: the window in
/// which an edit made directly in the database could go unnoticed. A running sealer
/// seals within milliseconds of the commit; a row older than this means no service has
/// been sealing (the sealer was stopped, or the row was inserted behind the log's back).
pub const SEAL_WINDOW: Duration = Duration::from_secs(10);

/// How often a sealer looks for unsealed rows when nothing wakes it.
pub const TICK: Duration = Duration::from_secs(1);

/// Rows chained per statement: 6 parameters each, well under both backends' limits.
const PAGE: u64 = 1_000;

/// Commits that may have left rows to seal, and the sealers waiting for one.
static WAKES: AtomicU64 = AtomicU64::new(0);
static WAKE: LazyLock<Notify> = LazyLock::new(Notify::new);

/// Tells this process's sealers that a transaction with log rows has committed.
pub fn wake() {
    WAKES.fetch_add(1, Ordering::Release);
    WAKE.notify_waiters();
}

/// Chains every unsealed row after the head, oldest first (`created_at`, then `id`).
/// Takes the head's lock for the rest of the transaction `conn` is in; returns the rows
/// sealed.
pub async fn seal_pending(conn: &impl ConnectionTrait) -> Result<u64, DbErr> {
    let mut head = head(conn, true).await?;
    let mut sealed = 0;
    loop {
        let page = select_rows()
            .and_where(Expr::col(Alias::new("seq")).is_null())
            .order_by(Alias::new("created_at"), Order::Asc)
            .order_by(Alias::new("id"), Order::Asc)
            .limit(PAGE)
            .to_owned();
        let rows = chain_after(&head, fetch(conn, &page).await?);
        let Some(last) = rows.last() else {
            break;
        };
        head.seq = last.seq.unwrap_or_default();
        head.hash = last.hash.clone().unwrap_or_default();
        let count = rows.len() as u64;
        conn.execute_raw(chain_columns(conn.get_database_backend(), rows))
            .await?;
        sealed += count;
        if count < PAGE {
            break;
        }
    }
    if sealed > 0 {
        set_head(conn, head.seq, &head.hash).await?;
    }
    Ok(sealed)
}

/// One statement writing sealed rows' chain columns: an `UPDATE … FROM (VALUES …)`, the
/// same text on both backends (each names a `VALUES` list's columns `column1`, …). A
/// statement per row cost the sealer a round trip and a plan per row.
fn chain_columns(backend: DbBackend, rows: Vec<Row>) -> Statement {
    let table = crate::names().log_table;
    let mut values = Vec::with_capacity(rows.len() * COLUMNS);
    let mut tuples = Vec::with_capacity(rows.len());
    for row in rows {
        let first = values.len() + 1;
        let params: Vec<_> = (first..first + COLUMNS)
            .map(|n| crate::sql::param(backend, n))
            .collect();
        tuples.push(format!("({})", params.join(", ")));
        values.extend([
            sea_orm::Value::from(row.id),
            row.seq.into(),
            row.prev_hash.into(),
            row.hash.into(),
            row.personal_hash.into(),
            // Set when written, but not on rows older than the chain (migration 012).
            row.subject.into(),
        ]);
    }
    let sql = format!(
        "UPDATE {table} SET seq = v.column2, prev_hash = v.column3, hash = v.column4, \
         personal_hash = v.column5, subject = v.column6 FROM (VALUES {}) AS v \
         WHERE {table}.id = v.column1",
        tuples.join(", ")
    );
    Statement::from_sql_and_values(backend, sql, values)
}

/// Values per row in [`chain_columns`].
const COLUMNS: usize = 6;

/// A running service's sealer. [`Sealer::finish`] seals what is left when the service
/// stops; dropped without it (the process dies), rows left unsealed are sealed by the
/// next sealer to run, at the latest when a service starts again.
pub struct Sealer {
    running: Option<(JoinHandle<()>, DatabaseConnection)>,
}

/// How long [`Sealer::finish`] tries: a database that is away must not hold a shutdown.
const FINISH_TIMEOUT: Duration = Duration::from_secs(2);

impl Sealer {
    /// Starts sealing `db`'s log: on PostgreSQL only — SQLite chains in the writing
    /// transaction, so nothing there waits to be sealed.
    pub fn start(db: &DatabaseConnection) -> Self {
        let running = (db.get_database_backend() == DbBackend::Postgres)
            .then(|| (tokio::spawn(run(db.clone())), db.clone()));
        Self { running }
    }

    /// Stops, after sealing what the service's last writes left.
    pub async fn finish(mut self) {
        if let Some((task, db)) = self.running.take() {
            task.abort();
            let _ = task.await;
            match tokio::time::timeout(FINISH_TIMEOUT, seal(&db)).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "sealing the activity log at stop"),
                Err(_) => tracing::warn!("sealing the activity log at stop timed out"),
            }
        }
    }
}

impl Drop for Sealer {
    fn drop(&mut self) {
        if let Some((task, _)) = &self.running {
            task.abort();
        }
    }
}

async fn run(db: DatabaseConnection) {
    // Waits first: the service may still be migrating the database it just opened.
    let mut seen = WAKES.load(Ordering::Acquire);
    let (mut ready, mut failing) = (false, false);
    loop {
        let woken = WAKE.notified();
        tokio::pin!(woken);
        // Registered before the check: a commit after it wakes the wait at once.
        woken.as_mut().enable();
        if WAKES.load(Ordering::Acquire) == seen {
            let _ = tokio::time::timeout(TICK, woken).await;
        }
        seen = WAKES.load(Ordering::Acquire);
        // Failing, it tries again at the next commit (the database is back) or tick. Until
        // it has sealed once, the service may still be creating the log: no warning.
        match seal(&db).await {
            Ok(_) => (ready, failing) = (true, false),
            Err(e) if ready && !failing => {
                failing = true;
                tracing::warn!(error = %e, "sealing the activity log failed; retrying");
            }
            Err(e) => tracing::debug!(error = %e, "sealing the activity log failed"),
        }
    }
}

/// Seals every unsealed row of `db`'s log, in a transaction of its own; the rows sealed.
/// What a command that wrote calls before it exits, when no service may be running to
/// seal its rows.
pub async fn seal(db: &DatabaseConnection) -> Result<u64, DbErr> {
    let tx = crate::write::begin_write(db).await?;
    let sealed = seal_pending(&tx).await?;
    tx.commit().await?;
    Ok(sealed)
}
