//! Serving until told to stop, then draining: SIGTERM or Ctrl-C stops accepting
//! connections, lets the requests in flight finish for a bounded time, and returns.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use std::sync::Arc;

use axum::Router;
use dbkit::in_use::InUse;
use sea_orm::{DatabaseConnection, DbErr};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::config::{DatabaseArgs, ServerArgs};
use crate::metrics::Metrics;

/// A server's connections to its database.
pub struct Pools {
    /// What requests and jobs use: `DATABASE_URL` (a pooler, perhaps).
    pub db: DatabaseConnection,
    /// The server itself (`DATABASE_DIRECT_URL`, else the same pool): migrations, the
    /// locks that span a session, `LISTEN`.
    pub direct: DatabaseConnection,
    /// Marks the database in use (so `migrate down` refuses while the server runs).
    pub in_use: InUse,
}

/// Opens a server's pools, their statements counted in `metrics`, and marks the database
/// in use. With nothing to migrate the pools open lazily: the server starts even while
/// its database is down, answers 503 until it is back, and recovers by itself; migrating
/// (`AUTO_MIGRATE`) needs the database now.
pub async fn open_pool(database: &DatabaseArgs, metrics: &Arc<Metrics>) -> Result<Pools, DbErr> {
    let lazy = !database.auto_migrate();
    let settings = dbkit::DbSettings {
        lazy,
        ..database.db()
    };
    let db = dbkit::connect::connect_observed(&settings, metrics.observer()).await?;
    let direct = match database.direct() {
        same if same.url == settings.url => db.clone(),
        // Few and short uses: a connection or two.
        other => {
            let other = dbkit::DbSettings {
                lazy,
                pool_size: 1,
                max_overflow: 2,
                ..other
            };
            dbkit::connect::connect_observed(&other, metrics.observer()).await?
        }
    };
    let in_use = dbkit::in_use::hold(&direct, settings.acquire_timeout).await?;
    Ok(Pools { db, direct, in_use })
}

/// The read replicas `DATABASE_REPLICA_URL` names, of the primary `db`, watched from now
/// on (none: every read is the primary's).
pub async fn open_replicas(
    database: &DatabaseArgs,
    db: &DatabaseConnection,
    metrics: &Arc<Metrics>,
) -> Result<dbkit::replicas::Replicas, DbErr> {
    let max_lag = std::time::Duration::from_millis(database.database_replica_max_lag_ms);
    let urls = database.replica_urls();
    let settings = database.db();
    dbkit::replicas::Replicas::open(
        db.clone(),
        &urls,
        max_lag,
        &settings,
        Some(metrics.observer()),
    )
    .await
}

/// The address could not be listened on.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {addr}: {source}")]
pub struct BindError {
    pub addr: SocketAddr,
    pub source: std::io::Error,
}

/// Listens on `API_HOST:API_PORT` (`API_PORT=0` picks a free port).
pub async fn bind(server: &ServerArgs) -> Result<TcpListener, BindError> {
    let addr = SocketAddr::new(server.api_host, server.api_port);
    TcpListener::bind(addr)
        .await
        .map_err(|source| BindError { addr, source })
}

/// The port `listener` is bound to.
pub fn port(listener: &TcpListener) -> u16 {
    listener.local_addr().map(|a| a.port()).unwrap_or_default()
}

/// Serves `router` on `listener` until `shutdown` completes; then stops accepting
/// connections and lets the requests in flight finish, for at most `grace`
/// (`SHUTDOWN_TIMEOUT`), so that a stalled client cannot hold the process forever.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let (shutdown, drain_deadline) = with_deadline(shutdown, grace);
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let serve = axum::serve(listener, service).with_graceful_shutdown(shutdown);
    tokio::select! {
        served = serve.into_future() => served,
        () = drain_deadline => {
            tracing::warn!(
                grace_secs = grace.as_secs(),
                "requests still in flight at SHUTDOWN_TIMEOUT; stopping without them"
            );
            Ok(())
        }
    }
}

/// `shutdown`, and a future that completes `grace` after it has (never, if it never
/// does): how long requests in flight may keep the server from stopping.
fn with_deadline(
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> (
    impl Future<Output = ()> + Send + 'static,
    impl Future<Output = ()> + Send + 'static,
) {
    let (signalled, on_signal) = oneshot::channel::<()>();
    let shutdown = async move {
        shutdown.await;
        let _ = signalled.send(());
    };
    let deadline = async move {
        match on_signal.await {
            Ok(()) => tokio::time::sleep(grace).await,
            Err(_) => std::future::pending().await,
        }
    };
    (shutdown, deadline)
}

/// Completes when `signal` (if it could be installed) is received.
#[cfg(unix)]
async fn received(signal: Option<tokio::signal::unix::Signal>) {
    match signal {
        Some(mut signal) => {
            signal.recv().await;
        }
        None => std::future::pending().await,
    }
}

/// Completes on SIGTERM or Ctrl-C (SIGINT). Call it before starting up.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    // The handlers are installed now, not when the future is first polled: a signal that
    // arrives while the process is still starting (connecting, migrating) is kept and
    // ends it gracefully once started, instead of killing it with the default action.
    #[cfg(unix)]
    let handlers = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let (term, int) = handlers;
            tokio::select! { _ = received(term) => {}, _ = received(int) => {} }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutdown requested; draining in-flight requests");
    }
}
