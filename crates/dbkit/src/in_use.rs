//! Who is using a database. Every running service holds a *shared* "in use" lock for its
//! whole life; a destructive schema change (rolling back, dropping every table) takes it
//! *exclusively* and refuses while anyone holds it — so an operator cannot drop tables
//! under a running server, and no server starts while they are being dropped.
//!
//! PostgreSQL: a session advisory lock per schema (`pg_advisory_lock_shared`) on a
//! connection of its own, outside the pool; it goes when the process or the connection
//! does, and a keeper takes it again after a database restart. SQLite: `flock` on a file
//! next to the database (`<file>.in-use`), released by the kernel when the process ends.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection};
use sea_orm::sqlx::{self, Connection};
use sea_orm::{DatabaseConnection, DbBackend, DbErr};
use tokio::task::JoinHandle;

/// The advisory lock's key: one per schema, so that databases sharing a server (tests'
/// schemas, say) do not see each other.
fn key() -> String {
    crate::names::lock_key("in-use")
}
/// How often the keeper checks that its connection (and so its lock) is still there.
const KEEPER_INTERVAL: Duration = Duration::from_secs(10);

/// Held by a running service: the database is in use while it lives, and the service
/// seals the activity log meanwhile ([`crate::chain::Sealer`]).
pub struct InUse {
    _held: Held,
    sealer: crate::chain::Sealer,
}

impl InUse {
    /// Stops using the database, after sealing what the service's last writes left.
    pub async fn release(self) {
        self.sealer.finish().await;
    }
}

enum Held {
    /// The PostgreSQL keeper, which owns the lock's connection; aborted on drop.
    Keeper(JoinHandle<()>),
    File(#[expect(dead_code, reason = "held: closing it releases the lock")] std::fs::File),
    /// An in-memory SQLite database: nobody else can use it anyway.
    Nothing,
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Held::Keeper(keeper) = self {
            keeper.abort();
        }
    }
}

/// Marks the database as in use for as long as the result lives. Waits (at most
/// `wait`) for the first lock, so that a destructive change started after this returns
/// sees the service; if the database is down by then, keeps trying in the background.
pub async fn hold(db: &DatabaseConnection, wait: Duration) -> Result<InUse, DbErr> {
    let held = match db.get_database_backend() {
        DbBackend::Postgres => {
            let options = db.get_postgres_connection_pool().connect_options();
            let (locked, first) = tokio::sync::oneshot::channel();
            let keeper = tokio::spawn(keep(options, locked));
            let _ = tokio::time::timeout(wait, first).await;
            Held::Keeper(keeper)
        }
        _ => match crate::connect::sqlite_sidecar(db, ".in-use") {
            Some(path) => Held::File(
                blocking(move || {
                    let file = open(path)?;
                    file.lock_shared()?;
                    Ok(file)
                })
                .await?,
            ),
            None => Held::Nothing,
        },
    };
    Ok(InUse {
        _held: held,
        sealer: crate::chain::Sealer::start(db),
    })
}

/// Takes the shared lock and keeps it: reconnects and takes it again whenever its
/// connection is lost. Says so on `locked` the first time it holds it.
async fn keep(options: Arc<PgConnectOptions>, locked: tokio::sync::oneshot::Sender<()>) {
    let mut locked = Some(locked);
    loop {
        match lock_shared(&options).await {
            Ok(mut conn) => {
                if let Some(tx) = locked.take() {
                    let _ = tx.send(());
                }
                while conn.ping().await.is_ok() {
                    tokio::time::sleep(KEEPER_INTERVAL).await;
                }
                tracing::warn!("lost the database's in-use lock; taking it again");
            }
            Err(e) => tracing::debug!(error = %e, "cannot take the in-use lock yet"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn lock_shared(options: &PgConnectOptions) -> Result<PgConnection, sqlx::Error> {
    let mut conn = PgConnection::connect_with(options).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "SELECT pg_advisory_lock_shared({})",
        key()
    )))
    .execute(&mut conn)
    .await?;
    Ok(conn)
}

/// The exclusive lock of a destructive change; the database is its alone while held.
pub struct Exclusive {
    _held: ExclusiveHeld,
}

#[expect(
    dead_code,
    reason = "held: closing the connection or file releases the lock"
)]
enum ExclusiveHeld {
    Pg(PgConnection),
    File(std::fs::File),
    Nothing,
}

/// Takes the database for a destructive change, or `None` when a service is using it
/// (does not wait for it).
pub async fn exclusive(db: &DatabaseConnection) -> Result<Option<Exclusive>, DbErr> {
    let held = match db.get_database_backend() {
        DbBackend::Postgres => {
            let err = |e: sqlx::Error| DbErr::Custom(format!("in-use lock: {e}"));
            let options = db.get_postgres_connection_pool().connect_options();
            let mut conn = PgConnection::connect_with(&options).await.map_err(err)?;
            let free: bool = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT pg_try_advisory_lock({})",
                key()
            )))
            .fetch_one(&mut conn)
            .await
            .map_err(err)?;
            if !free {
                let _ = conn.close().await;
                return Ok(None);
            }
            ExclusiveHeld::Pg(conn)
        }
        _ => match crate::connect::sqlite_sidecar(db, ".in-use") {
            Some(path) => {
                let file = blocking(move || {
                    let file = open(path)?;
                    Ok(file.try_lock().ok().map(|()| file))
                })
                .await?;
                match file {
                    Some(file) => ExclusiveHeld::File(file),
                    None => return Ok(None),
                }
            }
            None => ExclusiveHeld::Nothing,
        },
    };
    Ok(Some(Exclusive { _held: held }))
}

fn open(path: PathBuf) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T, DbErr> {
    let err = |e: String| DbErr::Custom(format!("in-use lock: {e}"));
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| err(e.to_string()))?
        .map_err(|e| err(e.to_string()))
}
