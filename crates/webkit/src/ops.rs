//! Operations: `GET /health` (is the service able to work, and in what state is it?),
//! `/health/live`, `/health/ready` for probes and load balancers, and `/metrics`.
//!
//! The service is ready only when its database answers *and* holds the schema this
//! binary needs: with migrations pending every API call would fail, so a load balancer
//! must not send it traffic. With `OPS_TOKEN` set, `/metrics` and the details of
//! `/health` (versions, migration names, pool) need it as a bearer token.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{FromRef, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dbkit::migrate::MigrationState;
use sea_orm::{DatabaseConnection, DbErr};
use sea_orm_migration::MigratorTrait;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::AppError;
use crate::metrics::Metrics;
use crate::response::ErrorResponse;

/// The migrations an app's binary knows, with their state in a database.
type StatusFn = for<'a> fn(
    &'a DatabaseConnection,
) -> Pin<
    Box<dyn Future<Output = Result<Vec<MigrationState>, DbErr>> + Send + 'a>,
>;

/// What the operations routes read; an app's state hands it out with `FromRef`.
#[derive(Clone)]
pub struct Ops {
    db: DatabaseConnection,
    metrics: Arc<Metrics>,
    started: Instant,
    /// `OPS_TOKEN`; empty when the details are open to anyone.
    token: Arc<str>,
    /// The app's version (its `CARGO_PKG_VERSION`).
    version: &'static str,
    migrations: StatusFn,
    replicas: dbkit::replicas::Replicas,
}

impl Ops {
    /// For an app whose migrations are `M`, started now.
    pub fn new<M: MigratorTrait + 'static>(
        db: DatabaseConnection,
        metrics: Arc<Metrics>,
        token: &str,
        version: &'static str,
    ) -> Self {
        Self {
            replicas: dbkit::replicas::Replicas::none(db.clone()),
            db,
            metrics,
            started: Instant::now(),
            token: token.into(),
            version,
            migrations: |db| Box::pin(dbkit::migrate::status::<M>(db)),
        }
    }

    /// Reporting on `replicas` too (in `/health` and `/metrics`).
    pub fn with_replicas(self, replicas: dbkit::replicas::Replicas) -> Self {
        Self { replicas, ..self }
    }
}

/// `GET /health`, `/health/live`, `/health/ready` and `/metrics`.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Ops: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(live))
        .routes(routes!(ready))
        .routes(routes!(metrics))
}

/// How long `/health` waits for the database before calling it unreachable.
const PING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`; `unavailable` when the database cannot be reached; `migrations_pending`
    /// when its schema is behind this binary (`migrations.pending` lists them);
    /// `storage_full` or `storage_failing` while writes are refused by a full disk or an
    /// I/O error (reads still work).
    pub status: &'static str,
    /// `ok` or `unreachable`. Like the rest below, only with the operations token when
    /// `OPS_TOKEN` is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<&'static str>,
    /// `ok`, or `full` / `failing` since a write was refused for want of storage (until a
    /// write commits again).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool: Option<dbkit::connect::PoolStats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub migrations: Option<Migrations>,
    /// The read replicas (`DATABASE_REPLICA_URL`), when there are any. Their state never
    /// makes the service unhealthy: reads fall back to the primary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<Vec<dbkit::replicas::ReplicaState>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uptime_seconds: Option<u64>,
}

/// The schema's state against this binary's migrations.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Migrations {
    /// The last applied migration.
    pub current: Option<String>,
    /// Migrations this binary needs that are not applied.
    pub pending: Vec<String>,
}

/// What a probe sees.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Probe {
    /// `ok`, `unavailable` or `migrations_pending`.
    status: &'static str,
}

/// The database and its schema, as a probe judges them.
struct Readiness {
    reachable: bool,
    migrations: Option<Migrations>,
}

impl Readiness {
    async fn check(state: &Ops) -> Self {
        // Bounded on its own: during an outage the ping would otherwise wait the whole
        // pool acquire timeout, and a probe that waits that long is a probe that times out.
        let reachable = tokio::time::timeout(PING_TIMEOUT, state.db.ping())
            .await
            .is_ok_and(|pinged| pinged.is_ok());
        let migrations = if reachable {
            migrations(state).await
        } else {
            None
        };
        Self {
            reachable,
            migrations,
        }
    }

    fn status(&self) -> &'static str {
        match &self.migrations {
            _ if !self.reachable => "unavailable",
            Some(m) if m.pending.is_empty() => "ok",
            // Pending, or the bookkeeping could not be read: not a schema to serve from.
            _ => "migrations_pending",
        }
    }

    fn code(&self) -> StatusCode {
        if self.status() == "ok" {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

async fn migrations(state: &Ops) -> Option<Migrations> {
    let all = (state.migrations)(&state.db).await.ok()?;
    let current = all
        .iter()
        .filter(|m| m.applied_at.is_some())
        .map(|m| m.name.clone())
        .max();
    let pending = all
        .into_iter()
        .filter(|m| m.applied_at.is_none())
        .map(|m| m.name)
        .collect();
    Some(Migrations { current, pending })
}

/// Service health: database, schema, storage, pool, replicas, version, uptime. 200 when the
/// database answers, holds every migration this binary needs and takes writes; 503
/// otherwise. With `OPS_TOKEN` set, only `status` unless the request carries the token.
#[utoipa::path(get, path = "/health", tag = "operations", responses(
    (status = 200, body = Health),
    (status = 503, description = "The database is unreachable, migrations are pending, or writes are refused by a full disk or an I/O error", body = Health),
))]
async fn health(State(state): State<Ops>, headers: HeaderMap) -> impl IntoResponse {
    let (code, health) = state.health(has_ops_token(&state, &headers)).await;
    (code, axum::Json(health))
}

impl Ops {
    /// The service's health and its status code, as `GET /health` answers it; the
    /// details only when `details` (the operations token was shown, or an admin asks).
    pub async fn health(&self, details: bool) -> (StatusCode, Health) {
        let ready = Readiness::check(self).await;
        let storage = dbkit::writable::problem();
        let (status, code) = match storage {
            Some(problem) if ready.status() == "ok" => (
                match problem {
                    dbkit::writable::Problem::Full => "storage_full",
                    dbkit::writable::Problem::Failing => "storage_failing",
                },
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            _ => (ready.status(), ready.code()),
        };
        let health = if details {
            Health {
                status,
                database: Some(if ready.reachable { "ok" } else { "unreachable" }),
                storage: Some(storage.map_or("ok", dbkit::writable::Problem::as_str)),
                pool: dbkit::connect::pool_stats(&self.db),
                migrations: ready.migrations,
                replicas: self.replicas.any().then(|| self.replicas.states()),
                version: Some(self.version),
                uptime_seconds: Some(self.started.elapsed().as_secs()),
            }
        } else {
            Health {
                status,
                database: None,
                storage: None,
                pool: None,
                migrations: None,
                replicas: None,
                version: None,
                uptime_seconds: None,
            }
        };
        (code, health)
    }
}

/// Liveness: the process answers. Never looks at the database (restarting a server
/// because its database is down helps nobody).
#[utoipa::path(get, path = "/health/live", tag = "operations", responses(
    (status = 200, body = Probe),
))]
async fn live() -> axum::Json<Probe> {
    axum::Json(Probe { status: "ok" })
}

/// Readiness, for load balancers: 200 only when the database answers and its schema is
/// complete. A full disk does not make the service unready: reads still work, and every
/// node shares the database, so there is nowhere better to send them.
#[utoipa::path(get, path = "/health/ready", tag = "operations", responses(
    (status = 200, body = Probe),
    (status = 503, description = "The database is unreachable, or migrations are pending", body = Probe),
))]
async fn ready(State(state): State<Ops>) -> impl IntoResponse {
    let ready = Readiness::check(&state).await;
    let probe = Probe {
        status: ready.status(),
    };
    (ready.code(), axum::Json(probe))
}

/// Prometheus metrics: requests and latency per route, pool connections, statement
/// latency, slow statements, the replicas' state, lag and reads. With `OPS_TOKEN` set,
/// only with the token.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses(
    (status = 200, description = "Prometheus text exposition format", content_type = "text/plain; version=0.0.4", body = String),
    (status = 401, description = "OPS_TOKEN is set and the request does not carry it", body = ErrorResponse),
))]
async fn metrics(State(state): State<Ops>, headers: HeaderMap) -> Response {
    if !has_ops_token(&state, &headers) {
        return AppError::Unauthorized("this endpoint needs the operations token").into_response();
    }
    let body = state.metrics.render(&state.db, &state.replicas);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// Whether the request may see operational details: always when no `OPS_TOKEN` is set,
/// otherwise only with `Authorization: Bearer <OPS_TOKEN>`. Compared as digests, so the
/// time taken says nothing about how much of the token was right.
fn has_ops_token(state: &Ops, headers: &HeaderMap) -> bool {
    let expected = &state.token;
    if expected.is_empty() {
        return true;
    }
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    Sha256::digest(given.trim().as_bytes()) == Sha256::digest(expected.as_bytes())
}
