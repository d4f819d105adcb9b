//! A pool behind a transaction-mode pooler (PgBouncer `pool_mode = transaction`).
//!
//! Such a pooler lends a server connection for one transaction at a time. sqlx runs a
//! statement in two exchanges — Parse and Describe, then Bind and Execute, each ended by
//! a Sync — and, outside a transaction, the pooler may lend the server connection to
//! someone else in between: the second half then fails ("prepared statement … does not
//! exist"), and so does any statement cached on the first server. So, with the
//! statement cache off, every checkout from the pool is one transaction: begun when the
//! connection is handed out, committed when it comes back.
//!
//! A SeaORM transaction inside a checkout sends its own `BEGIN` and `COMMIT`: the first
//! is absorbed (its warning silenced), the second commits for real, before the write is
//! answered. What runs outside one — a read, a write-mark upsert — is committed when the
//! connection returns to the pool, moments after the statement. Statements the pooler
//! lent out are forgotten by its `server_reset_query = DEALLOCATE ALL` (with
//! `server_reset_query_always = 1`), which the pooler must run.

use std::time::Duration;

use sea_orm::sqlx::pool::PoolOptions;
use sea_orm::sqlx::{self, Executor, PgConnection, Postgres};

/// `options` with every checkout beginning a transaction, whose statements time out
/// after `timeout` (set in the transaction: a pooler does not pass startup options on).
/// The pool ends it with [`end`] when the connection comes back.
pub(crate) fn checkouts_are_transactions(
    options: PoolOptions<Postgres>,
    timeout: Option<Duration>,
) -> PoolOptions<Postgres> {
    options
        .after_connect(move |conn, _| Box::pin(begin(conn, timeout)))
        .before_acquire(move |conn, _| {
            Box::pin(async move { begin(conn, timeout).await.map(|()| true) })
        })
}

/// Begins the checkout's transaction. Warnings are silenced in it: a SeaORM `BEGIN`
/// inside would warn that a transaction is in progress.
async fn begin(conn: &mut PgConnection, timeout: Option<Duration>) -> Result<(), sqlx::Error> {
    let timeout = timeout.map_or(0, |t| t.as_millis());
    let sql = format!(
        "BEGIN; SET LOCAL client_min_messages = error; SET LOCAL statement_timeout = {timeout}"
    );
    conn.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(sql)))
        .await?;
    Ok(())
}

/// Commits the checkout's transaction, if a SeaORM `COMMIT` has not (then it warns of
/// no transaction, silenced); rolls back one a failed statement aborted.
pub(crate) async fn end(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    let commit = sqlx::raw_sql("SET LOCAL client_min_messages = error; COMMIT");
    if conn.execute(commit).await.is_err() {
        conn.execute(sqlx::raw_sql("ROLLBACK")).await?;
    }
    Ok(())
}
