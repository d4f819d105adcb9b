//! The HTTP API: one module per resource, each owning its routes; the layers every
//! request passes through; and the JSON error shape.

pub mod auth;
pub mod catalog;
pub mod error;
pub mod extract;
pub mod health;
pub mod users;

use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Router, middleware};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::CorsLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::http::error::AppError;
use crate::state::AppState;

/// Largest JSON body accepted.
const MAX_JSON_BYTES: usize = 1024 * 1024;
/// A request still running after this is answered 408.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The whole application router with its layers.
pub fn router(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let cors = cors(&state);
    let api = Router::new()
        .merge(auth::router())
        .merge(users::router())
        .merge(catalog::router());
    Router::new()
        .nest("/api", api)
        .route("/health", get(health::health))
        .fallback(|| async { AppError::NotFound("route") })
        .method_not_allowed_fallback(|| async { StatusCode::METHOD_NOT_ALLOWED })
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(SetSensitiveRequestHeadersLayer::new([
                    header::AUTHORIZATION,
                    header::COOKIE,
                ]))
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(crate::telemetry::request_span))
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(middleware::from_fn(error::render_errors))
                .layer(CatchPanicLayer::custom(|_| {
                    AppError::Internal("handler panicked".into()).into_response()
                }))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    REQUEST_TIMEOUT,
                ))
                .layer(cors)
                .layer(DefaultBodyLimit::max(MAX_JSON_BYTES)),
        )
}

fn cors(state: &AppState) -> CorsLayer {
    let origins = state.settings.cors_origin_list().unwrap_or_default();
    if origins.is_empty() {
        return CorsLayer::new();
    }
    CorsLayer::new()
        .allow_origin(origins)
        .allow_methods(tower_http::cors::Any)
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
}
