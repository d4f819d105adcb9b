//! Reads on PostgreSQL streaming replicas.
//!
//! A read may go to a replica when the replica answers, is at most `max_lag` behind the
//! primary, and has replayed the reader's own last write — read-your-writes, across
//! every node: after a user's write commits, [`Replicas::wrote`] records the primary's WAL
//! position in `write_marks`; a read of theirs goes to a replica only once the replica's
//! replay position has passed it. Anything else goes to the primary: a replica that
//! lags, stops answering or was promoted simply stops being chosen, until it is fit
//! again. Writes always go to the primary.
//!
//! One task per process watches the replicas ([`POLL`]): each replica's replay position
//! and the age of the last transaction it replayed, against the primary's WAL position.
//! With no replica configured nothing runs and every read is the primary's, for free.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use sea_orm::sqlx::postgres::PgConnectOptions;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use serde::Serialize;
use uuid::Uuid;

use crate::connect::{DbSettings, QueryObserver};

/// The table of write marks ([`crate::migrations::WriteMarks`]).
pub const MARKS: &str = "write_marks";

/// How often the replicas are looked at.
pub const POLL: Duration = Duration::from_millis(100);
/// A replica last seen longer ago than this is not chosen (its watcher is stuck).
const STALE_AFTER: Duration = Duration::from_secs(1);
/// How long one look may take.
const LOOK_TIMEOUT: Duration = Duration::from_secs(1);

/// The primary and its replicas, shared by a process's requests (clones share).
#[derive(Clone)]
pub struct Replicas {
    inner: Arc<Inner>,
}

struct Inner {
    primary: DatabaseConnection,
    replicas: Vec<Replica>,
    max_lag: Duration,
    /// Round robin among fit replicas.
    next: AtomicUsize,
    /// Reads sent to the primary although replicas are configured.
    primary_reads: AtomicU64,
}

struct Replica {
    /// Host, port and database: never the credentials.
    name: String,
    db: DatabaseConnection,
    seen: Mutex<Seen>,
    reads: AtomicU64,
}

/// What the last look at a replica found.
#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    at: Option<Instant>,
    reachable: bool,
    /// In recovery, i.e. still a replica (a promoted one is not ours to read).
    replica: bool,
    replayed: u64,
    /// `None`: unknown (nothing replayed yet, or the primary did not answer).
    lag: Option<Duration>,
}

/// Where one read goes.
#[derive(Clone)]
pub struct Read {
    pub db: DatabaseConnection,
    /// The replica's index, or `None` for the primary.
    pub replica: Option<usize>,
}

/// A replica as `/health` shows it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplicaState {
    /// Host, port and database.
    pub name: String,
    /// `streaming` (serving reads), `lagging` (more than the allowed lag behind),
    /// `promoted` (no longer in recovery) or `unreachable`.
    pub state: &'static str,
    /// How far behind the primary, in milliseconds, when known.
    pub lag_ms: Option<u64>,
    /// Reads it served since start.
    pub reads: u64,
}

impl Replicas {
    /// The primary alone: every read is its.
    pub fn none(primary: DatabaseConnection) -> Self {
        Self::with(primary, Vec::new(), Duration::ZERO)
    }

    /// The primary and a lazily connected pool per replica URL (a replica that is down
    /// at start is simply not chosen), watched from now on. PostgreSQL only.
    pub async fn open(
        primary: DatabaseConnection,
        urls: &[String],
        max_lag: Duration,
        settings: &DbSettings,
        observe: Option<QueryObserver>,
    ) -> Result<Self, DbErr> {
        let mut replicas = Vec::new();
        for url in urls {
            let pool = DbSettings {
                url: url.clone(),
                lazy: true,
                // A read waits for a replica no longer than a look at it may take.
                acquire_timeout: settings.acquire_timeout.min(LOOK_TIMEOUT),
                ..settings.clone()
            };
            let db = match &observe {
                Some(observe) => crate::connect::connect_observed(&pool, observe.clone()).await?,
                None => crate::connect::connect(&pool).await?,
            };
            replicas.push((name_of(url), db));
        }
        let replicas = Self::with(primary, replicas, max_lag);
        if !replicas.inner.replicas.is_empty() {
            tokio::spawn(watch(Arc::downgrade(&replicas.inner)));
        }
        Ok(replicas)
    }

    fn with(
        primary: DatabaseConnection,
        replicas: Vec<(String, DatabaseConnection)>,
        max_lag: Duration,
    ) -> Self {
        let replicas = replicas
            .into_iter()
            .map(|(name, db)| Replica {
                name,
                db,
                seen: Mutex::new(Seen::default()),
                reads: AtomicU64::new(0),
            })
            .collect();
        Self {
            inner: Arc::new(Inner {
                primary,
                replicas,
                max_lag,
                next: AtomicUsize::new(0),
                primary_reads: AtomicU64::new(0),
            }),
        }
    }

    /// Whether any replica is configured.
    pub fn any(&self) -> bool {
        !self.inner.replicas.is_empty()
    }

    /// Where a read of `user`'s goes: a fit replica that has replayed the user's last
    /// write, else the primary. Costs one primary-key lookup on the primary, nothing
    /// without replicas.
    pub async fn reader(&self, user: Uuid) -> Result<Read, DbErr> {
        let inner = &self.inner;
        if inner.replicas.is_empty() {
            return Ok(self.on_primary());
        }
        let mark = self.mark(user).await?;
        let now = Instant::now();
        let count = inner.replicas.len();
        let start = inner.next.fetch_add(1, Ordering::Relaxed);
        for i in (0..count).map(|i| (start + i) % count) {
            let replica = &inner.replicas[i];
            if replica.seen().serves(now, inner.max_lag, mark) {
                replica.reads.fetch_add(1, Ordering::Relaxed);
                return Ok(Read {
                    db: replica.db.clone(),
                    replica: Some(i),
                });
            }
        }
        inner.primary_reads.fetch_add(1, Ordering::Relaxed);
        Ok(self.on_primary())
    }

    /// The primary, for a read that must see everything.
    pub fn on_primary(&self) -> Read {
        Read {
            db: self.inner.primary.clone(),
            replica: None,
        }
    }

    /// A read on replica `index` failed to reach it: it is not chosen again until its
    /// watcher reaches it.
    pub fn failed(&self, index: usize) {
        if let Some(replica) = self.inner.replicas.get(index)
            && let Ok(mut seen) = replica.seen.lock()
        {
            seen.reachable = false;
        }
    }

    /// Records that `user`'s write has just committed: their reads stay on the primary
    /// until a replica has replayed it. Nothing without replicas.
    pub async fn wrote(&self, user: Uuid) -> Result<(), DbErr> {
        if self.inner.replicas.is_empty() {
            return Ok(());
        }
        // The WAL position now is past the commit just made. Two writes of one user at
        // once may record their marks in either order: the mark only ever moves forward.
        let sql = format!(
            "INSERT INTO {MARKS} (user_id, lsn) VALUES ($1, {CURRENT_LSN}) \
             ON CONFLICT (user_id) DO UPDATE SET lsn = GREATEST({MARKS}.lsn, EXCLUDED.lsn)"
        );
        let statement = Statement::from_sql_and_values(DbBackend::Postgres, sql, [user.into()]);
        self.inner.primary.execute_raw(statement).await?;
        Ok(())
    }

    async fn mark(&self, user: Uuid) -> Result<u64, DbErr> {
        let sql = format!("SELECT lsn FROM {MARKS} WHERE user_id = $1");
        let statement = Statement::from_sql_and_values(DbBackend::Postgres, sql, [user.into()]);
        let row = self.inner.primary.query_one_raw(statement).await?;
        Ok(match row {
            Some(row) => lsn_of(row.try_get::<i64>("", "lsn")?),
            None => 0,
        })
    }

    /// Every replica's state, in configuration order.
    pub fn states(&self) -> Vec<ReplicaState> {
        let now = Instant::now();
        let max_lag = self.inner.max_lag;
        self.inner
            .replicas
            .iter()
            .map(|replica| {
                let seen = replica.seen();
                ReplicaState {
                    name: replica.name.clone(),
                    state: seen.state(now, max_lag),
                    lag_ms: seen.lag.map(|lag| lag.as_millis() as u64),
                    reads: replica.reads.load(Ordering::Relaxed),
                }
            })
            .collect()
    }

    /// Reads sent to the primary because no replica could take them.
    pub fn primary_reads(&self) -> u64 {
        self.inner.primary_reads.load(Ordering::Relaxed)
    }

    /// Closes the replicas' pools.
    pub async fn close(&self) {
        for replica in &self.inner.replicas {
            let _ = replica.db.clone().close().await;
        }
    }
}

impl Replica {
    fn seen(&self) -> Seen {
        self.seen.lock().map(|seen| *seen).unwrap_or_default()
    }
}

impl Seen {
    fn state(&self, now: Instant, max_lag: Duration) -> &'static str {
        let fresh = self
            .at
            .is_some_and(|at| now.duration_since(at) < STALE_AFTER);
        match () {
            _ if !fresh || !self.reachable => "unreachable",
            _ if !self.replica => "promoted",
            _ if self.lag.is_none_or(|lag| lag > max_lag) => "lagging",
            _ => "streaming",
        }
    }

    fn serves(&self, now: Instant, max_lag: Duration, mark: u64) -> bool {
        self.state(now, max_lag) == "streaming" && self.replayed >= mark
    }
}

/// The primary's WAL position, as a number (`pg_lsn` has no integer cast of its own).
const CURRENT_LSN: &str = "(pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint";

/// An LSN stored as `bigint` (positions below 2^63: 8 EiB of WAL).
fn lsn_of(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// `host:port/database` of a PostgreSQL URL, or `replica` if it does not parse.
fn name_of(url: &str) -> String {
    url.parse::<PgConnectOptions>().map_or_else(
        |_| "replica".to_owned(),
        |o| {
            format!(
                "{}:{}/{}",
                o.get_host(),
                o.get_port(),
                o.get_database().unwrap_or_default()
            )
        },
    )
}

/// Looks at every replica each [`POLL`], for as long as anyone holds the replicas.
async fn watch(inner: Weak<Inner>) {
    while let Some(inner) = inner.upgrade() {
        let primary = primary_lsn(&inner.primary).await;
        for replica in &inner.replicas {
            let seen = look(&replica.db, primary).await;
            if let Ok(mut slot) = replica.seen.lock() {
                *slot = seen;
            }
        }
        drop(inner);
        tokio::time::sleep(POLL).await;
    }
}

async fn primary_lsn(primary: &DatabaseConnection) -> Option<u64> {
    let sql = format!("SELECT {CURRENT_LSN} AS lsn");
    let statement = Statement::from_string(DbBackend::Postgres, sql);
    let row = tokio::time::timeout(LOOK_TIMEOUT, primary.query_one_raw(statement))
        .await
        .ok()?
        .ok()??;
    row.try_get::<i64>("", "lsn").ok().map(lsn_of)
}

/// How far behind the primary (at `primary`) a replica is: nothing if it has replayed
/// all of it, else the age of the last transaction it replayed (an upper bound: the
/// first one it has not replayed is younger).
async fn look(replica: &DatabaseConnection, primary: Option<u64>) -> Seen {
    let sql = "SELECT pg_is_in_recovery() AS replica, \
               COALESCE((pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint, 0) AS replayed, \
               (EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) * 1000)::bigint AS age_ms";
    let statement = Statement::from_string(DbBackend::Postgres, sql);
    let at = Some(Instant::now());
    let row = match tokio::time::timeout(LOOK_TIMEOUT, replica.query_one_raw(statement)).await {
        Ok(Ok(Some(row))) => row,
        _ => {
            return Seen {
                at,
                ..Seen::default()
            };
        }
    };
    let replayed = lsn_of(row.try_get::<i64>("", "replayed").unwrap_or(0));
    let age = row.try_get::<Option<i64>>("", "age_ms").ok().flatten();
    let lag = match primary {
        Some(primary) if replayed >= primary => Some(Duration::ZERO),
        Some(_) => age.map(|ms| Duration::from_millis(u64::try_from(ms).unwrap_or(0))),
        None => None,
    };
    Seen {
        at,
        reachable: true,
        replica: row.try_get::<bool>("", "replica").unwrap_or(false),
        replayed,
        lag,
    }
}
