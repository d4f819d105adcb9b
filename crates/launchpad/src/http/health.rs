//! `GET /health`: is the service able to work, and in what state is it?

use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use serde_json::{Value, json};

use crate::state::AppState;

/// How long `/health` waits for the database before calling it unreachable.
const PING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`, or `unavailable` when the database cannot be reached.
    status: &'static str,
    /// `ok` or `unreachable`.
    database: &'static str,
    pool: Option<dbkit::connect::PoolStats>,
    #[schema(value_type = Object)]
    migrations: Value,
    version: &'static str,
    uptime_seconds: u64,
}

/// Service health: database, pool, migrations, version, uptime. 200 when the database
/// answers, 503 otherwise.
#[utoipa::path(get, path = "/health", tag = "operations", responses(
    (status = 200, body = Health),
    (status = 503, description = "The database is unreachable", body = Health),
))]
pub async fn health(State(state): State<AppState>) -> (StatusCode, axum::Json<Health>) {
    // Bounded on its own: during an outage the ping would otherwise wait the whole pool
    // acquire timeout, and a probe that waits that long is a probe that times out.
    let reachable = tokio::time::timeout(PING_TIMEOUT, state.db.ping())
        .await
        .is_ok_and(|pinged| pinged.is_ok());
    let migrations = if reachable {
        match dbkit::migrate::status::<migration::Migrator>(&state.db).await {
            Ok(all) => {
                let current = all
                    .iter()
                    .filter(|m| m.applied_at.is_some())
                    .map(|m| &m.name)
                    .max();
                let pending: Vec<&String> = all
                    .iter()
                    .filter(|m| m.applied_at.is_none())
                    .map(|m| &m.name)
                    .collect();
                json!({ "current": current, "pending": pending })
            }
            Err(_) => Value::Null,
        }
    } else {
        Value::Null
    };
    let health = Health {
        status: if reachable { "ok" } else { "unavailable" },
        database: if reachable { "ok" } else { "unreachable" },
        pool: dbkit::connect::pool_stats(&state.db),
        migrations,
        version: env!("CARGO_PKG_VERSION"),
        uptime_seconds: state.started.elapsed().as_secs(),
    };
    let status = if reachable {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(health))
}

/// Prometheus metrics: requests and latency per route, pool connections, statement
/// latency, slow statements.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses(
    (status = 200, description = "Prometheus text exposition format", content_type = "text/plain; version=0.0.4", body = String),
))]
pub async fn metrics(State(state): State<AppState>) -> impl axum::response::IntoResponse {
    let body = state.metrics.render(&state.db);
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
}
