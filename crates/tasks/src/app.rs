//! The running application: its state, its router, and serving it.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use webkit::activity::{ActivityLogOut, LogFilters};
use webkit::auth::Auth;
use webkit::cli::ConnectError;
use webkit::extract::Query;
use webkit::metrics::Metrics;
use webkit::openapi::BearerAuth;
use webkit::ops::Ops;
use webkit::{AppError, ErrorResponse};

use crate::migration::Migrator;
use crate::settings::Settings;
use crate::state::{AppState, CurrentUser};
use crate::users::Users;

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] webkit::config::ConfigError),
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error(transparent)]
    Kit(#[from] webkit::AlreadyConfigured),
    #[error(transparent)]
    Bind(#[from] webkit::serve::BindError),
}

impl From<sea_orm::DbErr> for StartupError {
    fn from(e: sea_orm::DbErr) -> Self {
        StartupError::Connect(e.into())
    }
}

/// A built application, bound to its port, not yet serving.
pub struct App {
    listener: TcpListener,
    router: Router,
    state: AppState,
    grace: Duration,
    /// Marks the database in use while this runs, so `migrate down` refuses.
    in_use: dbkit::in_use::InUse,
}

impl App {
    /// Checks the settings, opens the pool, migrates when asked (`AUTO_MIGRATE`), binds.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        crate::configure()?;
        settings.validate()?;
        let metrics = Metrics::new(&[]);
        let webkit::serve::Pools { db, direct, in_use } =
            webkit::serve::open_pool(&settings.database, &metrics).await?;
        if settings.database.auto_migrate() {
            dbkit::migrate::up::<Migrator>(&direct, None).await?;
        }
        let listener = webkit::serve::bind(&settings.server).await?;
        let auth = Auth::new(db.clone(), Arc::new(Users::new()), settings.sign_in.auth());
        let ops = Ops::new::<Migrator>(
            db.clone(),
            metrics.clone(),
            &settings.server.ops_token,
            env!("CARGO_PKG_VERSION"),
        );
        let state = AppState {
            db,
            auth,
            ops,
            metrics,
        };
        let router = webkit::layers::app(
            api(),
            axum::Router::new(),
            state.clone(),
            state.metrics.clone(),
            "Tasks API — docs",
            settings.server.layers(),
        );
        let grace = Duration::from_secs(settings.server.shutdown_timeout);
        Ok(Self {
            listener,
            router,
            state,
            grace,
            in_use,
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_default()
    }

    /// The pool (tests read the database through it).
    pub fn db(&self) -> &DatabaseConnection {
        &self.state.db
    }

    /// The metrics (tests capture the statements a request runs through them).
    pub fn metrics(&self) -> Arc<Metrics> {
        self.state.metrics.clone()
    }

    /// Serves until `shutdown`, drains, closes the pool.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tracing::info!(port = self.port(), "listening");
        let served = webkit::serve::serve(self.listener, self.router, shutdown, self.grace).await;
        self.in_use.release().await;
        let _ = tokio::time::timeout(Duration::from_secs(2), self.state.db.close()).await;
        served
    }
}

/// Every documented route.
pub fn api() -> OpenApiRouter<AppState> {
    let routes = OpenApiRouter::new()
        .merge(crate::users::router())
        .merge(webkit::auth::router())
        .merge(crate::routes::router())
        .routes(routes!(my_activity));
    let mut api = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api", routes)
        .merge(webkit::ops::router());
    webkit::openapi::add_common_errors(api.get_openapi_mut());
    webkit::openapi::describe_every_response(api.get_openapi_mut());
    api
}

/// The caller's own logged actions, newest first.
#[utoipa::path(get, path = "/activity-logs/me", tag = "users", security(("bearer" = [])), params(dbkit::list::ListParams, LogFilters),
    responses((status = 200, body = dbkit::list::Page<ActivityLogOut>)))]
async fn my_activity(
    axum::extract::State(state): axum::extract::State<AppState>,
    CurrentUser { user, .. }: CurrentUser,
    Query(params): Query<dbkit::list::ListParams>,
    Query(filters): Query<LogFilters>,
) -> Result<axum::Json<dbkit::list::Page<ActivityLogOut>>, AppError> {
    let rows = webkit::activity::of_user(user.id);
    Ok(axum::Json(
        webkit::activity::page(&state.db, rows, &params, &filters).await?,
    ))
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Tasks API", description = "Each user's tasks, with a trash and an activity log."),
    tags(
        (name = "auth", description = "Register, sign in, refresh, sign out"),
        (name = "users", description = "The caller's account and activity"),
        (name = "tasks", description = "The caller's tasks"),
        (name = "operations", description = "Health, readiness and metrics"),
    ),
    modifiers(&BearerAuth),
    components(schemas(ErrorResponse, dbkit::list::SortOrder))
)]
struct ApiDoc;
