//! Building and running the application; used by `serve` and by the tests alike.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use migration::MigratorTrait;
use sea_orm::{DatabaseConnection, DbErr};
use tokio::net::TcpListener;
use webkit::auth::Auth;
use webkit::cli::ConnectError;
use webkit::ops::Ops;

use crate::auth::accounts::Users;
use crate::config::{AppEnv, ConfigError, Settings};
use crate::http::error::AppError;
use crate::jobs;
use crate::state::AppState;
use crate::storage::Storage;

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("STORAGE_URL: {0}")]
    Storage(String),
    #[error("seeding: {0}")]
    Seed(AppError),
    #[error(transparent)]
    Kits(#[from] crate::kits::KitError),
    #[error(transparent)]
    Bind(#[from] webkit::serve::BindError),
}

/// A database error at start-up, named for what the operator must do.
impl From<DbErr> for StartupError {
    fn from(e: DbErr) -> Self {
        StartupError::Connect(e.into())
    }
}

/// A built application, bound to its port, not yet serving.
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    /// What job workers need, when `serve` runs them (`SERVE_JOBS`).
    jobs: Option<jobs::Context>,
    /// Marks the database in use while this runs, so `migrate down` refuses.
    in_use: dbkit::in_use::InUse,
}

impl Application {
    /// Validates settings, opens the pool, migrates (and seeds a database it created)
    /// when asked, and binds the port (`API_PORT=0` picks a free one).
    ///
    /// With nothing to migrate the pool opens lazily: the server starts even while its
    /// database is down, answers 503 (and an unhealthy `/health`) until it is back, and
    /// recovers by itself. Migrating needs the database now, so with `AUTO_MIGRATE` a
    /// database that does not answer within `DB_POOL_TIMEOUT` stops start-up.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        crate::kits::configure()?;
        settings.validate()?;
        if settings.sign_in.jwt_secret.is_none() {
            tracing::warn!(
                "JWT_SECRET is not set: using a development secret; tokens are forgeable"
            );
        }
        let storage = Storage::open(&settings).map_err(StartupError::Storage)?;
        let metrics = webkit::metrics::Metrics::new(&[crate::http::files::INTEGRITY_PROBLEMS]);
        let webkit::serve::Pools { db, direct, in_use } =
            webkit::serve::open_pool(&settings.database, &metrics).await?;
        let replicas = webkit::serve::open_replicas(&settings.database, &db, &metrics).await?;
        if settings.auto_migrate() {
            prepare_database(&direct, settings.database.app_env).await?;
        }
        let jobs = if settings.serve_jobs {
            Some(jobs_context(&settings, storage.clone()).await?)
        } else {
            None
        };
        let listener = webkit::serve::bind(&settings.server).await?;
        let auth = auth(db.clone(), &direct, &settings, &metrics);
        let ops = Ops::new::<migration::Migrator>(
            db.clone(),
            metrics.clone(),
            &settings.server.ops_token,
            env!("CARGO_PKG_VERSION"),
        )
        .with_replicas(replicas.clone());
        let state = AppState {
            db,
            replicas,
            auth,
            ops,
            settings: Arc::new(settings),
            storage,
            metrics,
        };
        Ok(Self {
            listener,
            router: crate::http::router(state.clone(), crate::console::router(&state)),
            state,
            jobs,
            in_use,
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        webkit::serve::port(&self.listener)
    }

    /// The shared state (tests reach the database through it).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves (and runs job workers) until `shutdown` completes; then stops accepting
    /// connections, lets the requests in flight finish (for at most `SHUTDOWN_TIMEOUT`,
    /// so that a stalled client cannot hold the process forever), lets running jobs
    /// finish and closes the pools.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tracing::info!(port = self.port(), "listening");
        let timing = jobs::worker::Timing::from_settings(&self.state.settings);
        let workers = self
            .jobs
            .clone()
            .map(|ctx| jobs::worker::Workers::start(ctx, timing));
        let grace = Duration::from_secs(self.state.settings.server.shutdown_timeout);
        let served = webkit::serve::serve(self.listener, self.router, shutdown, grace).await;
        if let Some(workers) = workers {
            workers.stop().await;
        }
        self.in_use.release().await;
        // A handler or job cut off above may still hold a connection: do not wait for it.
        if let Some(ctx) = self.jobs {
            let _ = tokio::time::timeout(POOL_CLOSE_TIMEOUT, ctx.db.close()).await;
        }
        let _ = tokio::time::timeout(POOL_CLOSE_TIMEOUT, self.state.replicas.close()).await;
        let _ = tokio::time::timeout(POOL_CLOSE_TIMEOUT, self.state.db.close()).await;
        served?;
        tracing::info!("stopped");
        Ok(())
    }
}

/// How long stopping waits for the pool's connections to close.
const POOL_CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// Job workers get a pool of their own: they never hold a connection a request waits for.
async fn jobs_context(
    settings: &Settings,
    storage: Storage,
) -> Result<jobs::Context, StartupError> {
    let pool = dbkit::DbSettings {
        pool_size: 1,
        max_overflow: settings.job_concurrency,
        // Like the server's: `serve` starts while the database is down and recovers.
        lazy: true,
        ..settings.db()
    };
    Ok(jobs::Context::new(
        dbkit::connect(&pool).await?,
        storage,
        settings,
    ))
}

/// Applies pending migrations; a database this created gets its reference data too.
async fn prepare_database(db: &DatabaseConnection, env: AppEnv) -> Result<(), StartupError> {
    let first = migration::Migrator::migrations()
        .first()
        .map(|m| m.name().to_owned());
    let applied = dbkit::migrate::up::<migration::Migrator>(db, None).await?;
    if first.is_some_and(|first| applied.contains(&first)) {
        let report = crate::seed::run(db, env != AppEnv::Production)
            .await
            .map_err(StartupError::Seed)?;
        tracing::info!(?report, "new database migrated and seeded");
    } else if !applied.is_empty() {
        tracing::info!(?applied, "migrations applied");
    }
    Ok(())
}

/// Signing in, as the settings say, with Argon2 runs counted in the metrics, and the
/// signed-in users kept between requests on PostgreSQL (migration 016 notifies changes).
fn auth(
    db: DatabaseConnection,
    direct: &DatabaseConnection,
    settings: &Settings,
    metrics: &Arc<webkit::metrics::Metrics>,
) -> Auth {
    let metrics = metrics.clone();
    let auth = Auth::new(db, Arc::new(Users::new()), settings.sign_in.auth())
        .on_password_check(Arc::new(move || metrics.password_verified()));
    match settings.sign_in.auth_user_cache {
        true => auth.cache_users(
            direct,
            migration::m20261204_000016_users_change_notifications::CHANNEL,
        ),
        false => auth,
    }
}
