//! Opening a tuned connection pool for SQLite or PostgreSQL.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx::postgres::PgSslMode;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::sqlx::{self, Postgres, Sqlite};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend, DbErr};

/// Everything needed to open the pool; built from the application's configuration.
#[derive(Debug, Clone)]
pub struct DbSettings {
    /// `sqlite://file.db` or `postgres://…`.
    pub url: String,
    /// Connections kept open.
    pub pool_size: u32,
    /// Extra connections opened under load and closed when idle.
    pub max_overflow: u32,
    /// How long a request waits for a connection before giving up (→ 503).
    pub acquire_timeout: Duration,
    /// Connections older than this are closed and replaced.
    pub recycle: Duration,
    /// PostgreSQL `statement_timeout`; ignored on SQLite.
    pub statement_timeout: Option<Duration>,
    /// Statements slower than this are logged (SQL text only, never parameter values).
    pub slow_query_threshold: Duration,
    /// Open no connection until one is needed, so that a server can start while its
    /// database is down (and answer 503 until it is back). Otherwise opening the pool
    /// fails if the database does not answer within `acquire_timeout`.
    pub lazy: bool,
    /// `url` is a transaction-mode pooler (PgBouncer `pool_mode = transaction`): no
    /// statement cache, every checkout one transaction ([`crate::pooler`]). Session
    /// features — advisory locks, `LISTEN` — need a connection to the server itself.
    pub transaction_pooler: bool,
}

impl DbSettings {
    /// `url` with the defaults a service starts from: 10 connections and 20 more under
    /// load, 5 s to get one, recycled hourly, 30 s statement timeout, slow at 500 ms.
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            pool_size: 10,
            max_overflow: 20,
            acquire_timeout: Duration::from_secs(5),
            recycle: Duration::from_secs(3600),
            statement_timeout: Some(Duration::from_secs(30)),
            slow_query_threshold: Duration::from_millis(500),
            lazy: false,
            transaction_pooler: false,
        }
    }
}

/// How long SQLite waits for another writer before answering "database is locked".
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// An idle connection older than this is pinged before it is handed out.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(30);

/// A file beside a SQLite database file, named `<file><suffix>` (for locks); `None` for
/// an in-memory database.
pub(crate) fn sqlite_sidecar(db: &DatabaseConnection, suffix: &str) -> Option<PathBuf> {
    let options = db.get_sqlite_connection_pool().connect_options();
    let options: &SqliteConnectOptions = options.as_ref();
    let file = options.get_filename();
    let name = file.to_str()?;
    if name.is_empty() || name == ":memory:" {
        return None;
    }
    let mut path = file.as_os_str().to_owned();
    path.push(suffix);
    Some(PathBuf::from(path))
}

/// The backend a URL selects, without connecting.
pub fn backend_of(url: &str) -> Option<DbBackend> {
    if url.starts_with("sqlite:") {
        Some(DbBackend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Some(DbBackend::Postgres)
    } else {
        None
    }
}

/// One executed statement, as reported to a [`QueryObserver`].
#[derive(Debug, Clone, Copy)]
pub struct QueryEvent<'a> {
    /// The statement: SQL with placeholders, and its values (which may be personal data:
    /// an observer must not log or export them).
    pub statement: &'a sea_orm::Statement,
    /// How long it took.
    pub elapsed: Duration,
    /// Whether it returned an error.
    pub failed: bool,
    /// Whether it crossed the slow-query threshold.
    pub slow: bool,
}

/// Called after every statement (metrics, statement counting in tests).
pub type QueryObserver = Arc<dyn Fn(&QueryEvent<'_>) + Send + Sync>;

/// Opens the pool. SQLite files are created if missing and opened in WAL mode with
/// foreign keys on, a busy timeout and `synchronous=FULL` (the activity log is a
/// compliance record: an acknowledged write must survive a power cut).
pub async fn connect(settings: &DbSettings) -> Result<DatabaseConnection, DbErr> {
    connect_with(settings, |_| {}).await
}

/// Like [`connect`], reporting every statement to `observe`.
pub async fn connect_observed(
    settings: &DbSettings,
    observe: QueryObserver,
) -> Result<DatabaseConnection, DbErr> {
    open(settings, |_| {}, Some(observe)).await
}

/// Like [`connect`], with a last chance to adjust the options (used for scratch schemas).
pub async fn connect_with(
    settings: &DbSettings,
    adjust: impl FnOnce(&mut ConnectOptions),
) -> Result<DatabaseConnection, DbErr> {
    open(settings, adjust, None).await
}

async fn open(
    settings: &DbSettings,
    adjust: impl FnOnce(&mut ConnectOptions),
    observe: Option<QueryObserver>,
) -> Result<DatabaseConnection, DbErr> {
    // Behind a pooler: its statement timeout (the pooler would refuse or drop the
    // startup option that carries it otherwise).
    let pooler = settings
        .transaction_pooler
        .then_some(settings.statement_timeout);
    let mut opt = ConnectOptions::new(settings.url.clone());
    opt.max_connections(settings.pool_size + settings.max_overflow)
        .min_connections(settings.pool_size)
        .acquire_timeout(settings.acquire_timeout)
        .max_lifetime(settings.recycle)
        .idle_timeout(Duration::from_secs(600))
        // Per-statement INFO logging is noise; slow statements are logged below.
        .sqlx_logging(false)
        .test_before_acquire(false)
        .test_before_acquire_if_idle_for(PING_IF_IDLE_FOR)
        .connect_lazy(settings.lazy)
        .map_sqlx_sqlite_opts(|o| {
            o.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
        })
        .map_sqlx_sqlite_pool_opts(|o| {
            o.after_release(|conn, _| Box::pin(no_transaction_left::<Sqlite>(conn)))
        })
        .map_sqlx_postgres_pool_opts(move |o| {
            let o = match pooler {
                Some(timeout) => crate::pooler::checkouts_are_transactions(o, timeout),
                None => o,
            };
            o.after_release(move |conn, _| {
                Box::pin(async move {
                    if pooler.is_some() {
                        crate::pooler::end(conn).await?;
                    }
                    no_transaction_left::<Postgres>(conn).await
                })
            })
        });
    let plain_on_loopback = !names_ssl_mode(&settings.url, std::env::var_os("PGSSLMODE").is_some());
    let statement_cache = pooler.is_none();
    opt.map_sqlx_postgres_opts(move |o| {
        let o = match plain_on_loopback && (o.get_socket().is_some() || is_loopback(o.get_host())) {
            true => o.ssl_mode(PgSslMode::Disable),
            false => o,
        };
        // A statement prepared on one server connection of a pooler is unknown to the
        // next: prepare each time, inside the checkout's transaction.
        match statement_cache {
            true => o,
            false => o.statement_cache_capacity(0),
        }
    });
    if pooler.is_some() {
        // Connections opened only when asked for: one opened to wait idle would hold a
        // transaction open, and with it a server connection of the pooler.
        opt.min_connections(0);
    } else if let Some(timeout) = settings.statement_timeout {
        opt.statement_timeout(timeout);
    }
    adjust(&mut opt);
    let mut db = Database::connect(opt).await?;
    let threshold = settings.slow_query_threshold;
    db.set_metric_callback(move |info| {
        let slow = info.elapsed >= threshold;
        if let Some(observe) = &observe {
            observe(&QueryEvent {
                statement: info.statement,
                elapsed: info.elapsed,
                failed: info.failed,
                slow,
            });
        }
        if slow {
            tracing::warn!(
                target: "dbkit::slow_query",
                elapsed_ms = info.elapsed.as_millis() as u64,
                failed = info.failed,
                sql = %clip(&info.statement.sql),
                "slow query"
            );
        }
    });
    Ok(db)
}

/// Whether the operator chose the TLS mode (`sslmode=` in the URL, or `PGSSLMODE`): then
/// it is theirs. Otherwise a connection to this machine (a loopback address, `localhost`
/// or a Unix socket) goes without TLS: its bytes never leave the kernel, and encrypting
/// them cost ~13 % of the server's and ~14 % of PostgreSQL's CPU per list request
/// (2,620 → 3,032 req/s; medians of three interleaved runs, bench/NOTES.md). Anything
/// else keeps sqlx's default, `prefer`.
fn names_ssl_mode(url: &str, env: bool) -> bool {
    env || url
        .split_once('?')
        .is_some_and(|(_, query)| query.split('&').any(|p| p.starts_with("sslmode=")))
}

/// Whether `host` is this machine.
fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.starts_with('/')
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether a connection handed back to the pool may be handed out again: only with no
/// transaction open. When a statement fails with `SQLITE_FULL` or an I/O error, SQLite may
/// roll the whole transaction back by itself; the `ROLLBACK` that follows then fails and
/// sqlx still counts the transaction as open. Reused, such a connection turned the next
/// `BEGIN` into a `SAVEPOINT` (SeaORM nests when the count is not 0), and after one more
/// failure into a transaction that never ended: later requests "committed" savepoints,
/// were answered 201, held the write lock against everyone, and were rolled back when
/// the connection closed. So the pool closes any connection whose transaction count is
/// not 0 once its queued rollback has run; closing rolls back whatever is left.
async fn no_transaction_left<DB: sqlx::Database>(
    conn: &mut DB::Connection,
) -> Result<bool, sqlx::Error> {
    use sqlx::Connection;
    if !conn.is_in_transaction() {
        return Ok(true);
    }
    // A dropped transaction's rollback is queued on the connection; the ping runs it.
    conn.ping().await?;
    let clean = !conn.is_in_transaction();
    if !clean {
        tracing::warn!("a connection still in a transaction after its rollback was closed");
    }
    Ok(clean)
}

/// The longest SQL text a slow-query line carries: a bulk insert's statement runs to
/// hundreds of kilobytes of placeholders, which would drown the log.
const MAX_LOGGED_SQL: usize = 2000;

/// `sql`, cut at [`MAX_LOGGED_SQL`] bytes (on a character boundary) with a note of its length.
fn clip(sql: &str) -> std::borrow::Cow<'_, str> {
    if sql.len() <= MAX_LOGGED_SQL {
        return sql.into();
    }
    let end = (0..=MAX_LOGGED_SQL)
        .rev()
        .find(|&i| sql.is_char_boundary(i))
        .unwrap_or(0);
    format!("{}… ({} bytes in all)", &sql[..end], sql.len()).into()
}

/// Pool occupancy, for health checks.
#[derive(Debug, Clone, Copy, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PoolStats {
    /// Connections open now.
    pub size: u32,
    /// Open connections waiting for work.
    pub idle: u32,
    /// Open connections lent out.
    pub in_use: u32,
    /// The most the pool will open.
    pub max: u32,
}

/// Reads the pool's occupancy without touching the database.
pub fn pool_stats(db: &DatabaseConnection) -> Option<PoolStats> {
    fn stats<D: sea_orm::sqlx::Database>(pool: &sea_orm::sqlx::Pool<D>) -> PoolStats {
        let size = pool.size();
        let idle = pool.num_idle() as u32;
        PoolStats {
            size,
            idle,
            in_use: size.saturating_sub(idle),
            max: pool.options().get_max_connections(),
        }
    }
    match db.get_database_backend() {
        DbBackend::Sqlite => Some(stats(db.get_sqlite_connection_pool())),
        DbBackend::Postgres => Some(stats(db.get_postgres_connection_pool())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_named_tls_mode_is_the_operators() {
        use super::names_ssl_mode;
        assert!(!names_ssl_mode("postgres://u@127.0.0.1/db", false));
        assert!(!names_ssl_mode(
            "postgres://u@h/db?options=-csearch_path%3Dx",
            false
        ));
        assert!(names_ssl_mode(
            "postgres://u@h/db?options=x&sslmode=prefer",
            false
        ));
        assert!(names_ssl_mode("postgres://u@127.0.0.1/db", true));
    }

    #[test]
    fn this_machine_is_a_loopback_address_localhost_or_a_socket() {
        use super::is_loopback;
        for host in [
            "127.0.0.1",
            "127.1.2.3",
            "::1",
            "[::1]",
            "localhost",
            "LocalHost",
            "/run/postgresql",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "10.0.0.5",
            "db.example.com",
            "192.168.1.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn long_sql_is_clipped_on_a_char_boundary() {
        assert_eq!(super::clip("SELECT 1"), "SELECT 1");
        let long = format!("SELECT '{}'", "é".repeat(2000));
        let clipped = super::clip(&long);
        assert!(clipped.len() < 2100, "{}", clipped.len());
        assert!(clipped.ends_with(&format!("({} bytes in all)", long.len())));
    }
}
