//! The layers every request passes through, outermost first: sensitive headers kept out
//! of logs, a request id given and returned, one span per request, every error in the
//! one JSON shape, a panic answered 500 without its message, a deadline, CORS, and a
//! body limit.

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use axum::{Router, middleware};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::CorsLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::config::Layers;
use crate::error::AppError;

/// Largest JSON body accepted (a route reading more, an upload, sets its own limit).
const MAX_JSON_BYTES: usize = 1024 * 1024;

/// The whole application from its documented routes: the document's query parameters
/// enforced ([`crate::query_guard`]), every matched route counted ([`crate::metrics`]),
/// `/openapi.json` and `/docs` (titled `docs_title`), the app's `pages` (outside the
/// API's document: see [`crate::pages`]), the one 404 and 405, and every layer. API
/// routes are only ever added through `routes!`, so the document and the router cannot
/// drift apart.
pub fn app<S: Clone + Send + Sync + 'static>(
    api: utoipa_axum::router::OpenApiRouter<S>,
    pages: Router<S>,
    state: S,
    metrics: std::sync::Arc<crate::metrics::Metrics>,
    docs_title: &'static str,
    layers: Layers,
) -> Router {
    let (routes, openapi) = api.split_for_parts();
    let query_params = crate::query_guard::QueryParams::from_document(&openapi);
    let routes = routes
        .route_layer(middleware::from_fn_with_state(
            query_params,
            crate::query_guard::refuse_unknown,
        ))
        .route_layer(middleware::from_fn_with_state(
            metrics,
            crate::metrics::track,
        ))
        .merge(crate::openapi::docs(openapi, docs_title))
        .merge(pages)
        .fallback(|| async { AppError::NotFound("route") })
        .method_not_allowed_fallback(|| async { StatusCode::METHOD_NOT_ALLOWED })
        .with_state(state);
    with_layers(routes, layers)
}

/// `routes` with every layer.
pub fn with_layers(routes: Router, layers: Layers) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    routes.layer(
        ServiceBuilder::new()
            .layer(SetSensitiveRequestHeadersLayer::new([
                header::AUTHORIZATION,
                header::COOKIE,
            ]))
            .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
            .layer(TraceLayer::new_for_http().make_span_with(crate::telemetry::request_span))
            .layer(PropagateRequestIdLayer::new(request_id))
            .layer(middleware::from_fn(crate::render_errors))
            .layer(CatchPanicLayer::custom(|_| {
                AppError::Internal("handler panicked".into()).into_response()
            }))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                layers.timeout,
            ))
            .layer(cors(layers.cors_origins))
            .layer(DefaultBodyLimit::max(MAX_JSON_BYTES)),
    )
}

fn cors(origins: Vec<HeaderValue>) -> CorsLayer {
    if origins.is_empty() {
        return CorsLayer::new();
    }
    CorsLayer::new()
        .allow_origin(origins)
        .allow_methods(tower_http::cors::Any)
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::body::{Body, to_bytes};
    use axum::http::Request;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_answers_500_without_internals() {
        async fn boom() -> &'static str {
            panic!("secret detail: SELECT * FROM users")
        }
        let routes = Router::new().route("/boom", get(boom));
        let layers = Layers {
            timeout: Duration::from_secs(30),
            cors_origins: Vec::new(),
        };
        let response = with_layers(routes, layers)
            .oneshot(Request::get("/boom").body(Body::empty()).expect("request"))
            .await
            .expect("response");
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(response.headers().contains_key("x-request-id"));
        let body = to_bytes(response.into_body(), 64 * 1024)
            .await
            .expect("body");
        let json: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(json["error"], "internal error");
        assert_eq!(json["path"], "/boom");
        assert!(!String::from_utf8_lossy(&body).contains("secret"));
    }
}
