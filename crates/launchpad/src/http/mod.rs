//! The HTTP API: one module per resource, each owning its routes; the layers every
//! request passes through; and the JSON error shape.

pub mod activity_logs;
pub mod admin_requests;
pub mod auth;
pub mod catalog;
pub mod chatbot;
mod doc_bodies;
mod doc_links;
pub mod doc_rules;
mod doc_shapes;
pub mod error;
pub mod error_docs;
pub mod extract;
pub mod files;
pub mod health;
pub mod ideas;
pub mod meetings;
pub mod orders;
pub mod projects;
pub mod query_guard;
pub mod stats;
pub mod subscriptions;
pub mod synopsis;
pub mod trash;
pub mod users;

use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Router, middleware};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::CorsLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use crate::http::error::{AppError, ErrorResponse};
use crate::state::AppState;

/// Largest JSON body accepted.
const MAX_JSON_BYTES: usize = 1024 * 1024;

/// The whole application: the API routes, `/openapi.json`, `/docs`, and the layers.
pub fn router(state: AppState) -> Router {
    let cors = cors(&state);
    let timeout = Duration::from_secs(state.settings.request_timeout_secs);
    let metrics = state.metrics.clone();
    let (routes, openapi) = api().split_for_parts();
    let query_params = query_guard::QueryParams::from_document(&openapi);
    let routes = routes
        .route_layer(middleware::from_fn_with_state(
            query_params,
            query_guard::refuse_unknown,
        ))
        .route_layer(middleware::from_fn_with_state(
            metrics,
            crate::metrics::track,
        ))
        .merge(
            Router::from(
                SwaggerUi::new("/docs")
                    .url("/openapi.json", openapi)
                    // A token pasted into "Authorize" survives a reload of the page.
                    .config(utoipa_swagger_ui::Config::default().persist_authorization(true)),
            )
            .layer(middleware::map_response(title_docs_page)),
        )
        .fallback(|| async { AppError::NotFound("route") })
        .method_not_allowed_fallback(|| async { StatusCode::METHOD_NOT_ALLOWED })
        .with_state(state);
    with_layers(routes, cors, timeout)
}

/// The `/docs` page as a browser tab and a bookmark name it: the product's API, not
/// "Swagger UI".
async fn title_docs_page(response: Response) -> Response {
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
    if !is_html || response.headers().contains_key(header::CONTENT_ENCODING) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(page) = axum::body::to_bytes(body, 64 * 1024).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let titled = String::from_utf8_lossy(&page).replace(
        "<title>Swagger UI</title>",
        &format!("<title>{DOCS_TITLE}</title>"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(titled))
}

/// The `/docs` page's title.
const DOCS_TITLE: &str = "Launchpad API — docs";

/// Every documented route. Routes are only ever added through `routes!`, so the
/// OpenAPI document and the router cannot drift apart.
pub fn api() -> OpenApiRouter<AppState> {
    let api = OpenApiRouter::new()
        .merge(auth::router())
        .merge(users::router())
        .merge(catalog::router())
        .merge(projects::router())
        .merge(subscriptions::router())
        .merge(orders::router())
        .merge(files::router())
        .merge(synopsis::router())
        .merge(meetings::router())
        .merge(admin_requests::router())
        .merge(chatbot::router())
        .merge(ideas::router())
        .merge(activity_logs::router())
        .merge(stats::router())
        .merge(trash::router());
    let mut api = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api", api)
        .routes(routes!(health::health))
        .routes(routes!(health::live))
        .routes(routes!(health::ready))
        .routes(routes!(health::metrics));
    error_docs::add_common_errors(api.get_openapi_mut());
    error_docs::describe_every_response(api.get_openapi_mut());
    doc_rules::state_list_rules(api.get_openapi_mut());
    doc_bodies::state_body_rules(api.get_openapi_mut());
    doc_shapes::state_shapes(api.get_openapi_mut());
    doc_links::link_created_resources(api.get_openapi_mut());
    api
}

/// The OpenAPI document's frame; the paths come from the handlers.
#[derive(OpenApi)]
#[openapi(
    info(title = "Launchpad API", description = "The student-project mentoring platform."),
    // In the order a reader needs them: signing in first, the admin's and operator's last.
    tags(
        (name = "auth", description = "Register, sign in, refresh, sign out"),
        (name = "users", description = "The caller's own account"),
        (name = "catalog", description = "Plans and services on offer"),
        (name = "projects", description = "A student's projects"),
        (name = "ideas", description = "Project ideas, rated, refined and selected"),
        (name = "synopsis", description = "A project's synopsis, for review"),
        (name = "files", description = "Files attached to projects"),
        (name = "meetings", description = "Mentoring meetings"),
        (name = "requests", description = "Requests to the admins"),
        (name = "orders", description = "Orders of plans"),
        (name = "subscriptions", description = "Subscriptions to services"),
        (name = "chatbot", description = "Chat sessions"),
        (name = "admin", description = "What admins do"),
        (name = "operations", description = "Health, readiness and metrics"),
    ),
    modifiers(&BearerAuth),
    components(schemas(ErrorResponse, dbkit::list::SortOrder))
)]
struct ApiDoc;

/// Declares the bearer-token scheme that `security(("bearer" = []))` refers to.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let scheme = SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        );
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme("bearer", scheme);
    }
}

/// The layers every request passes through, outermost first. A request still running
/// after `timeout` (`REQUEST_TIMEOUT_SECS`), reading its body included, is answered 408.
fn with_layers(routes: Router, cors: CorsLayer, timeout: Duration) -> Router {
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
            .layer(middleware::from_fn(error::render_errors))
            .layer(CatchPanicLayer::custom(|_| {
                AppError::Internal("handler panicked".into()).into_response()
            }))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                timeout,
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

#[cfg(test)]
mod tests {
    use axum::body::{Body, to_bytes};
    use axum::http::Request;
    use tower::ServiceExt;

    use axum::routing::get;

    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_answers_500_without_internals() {
        async fn boom() -> &'static str {
            panic!("secret detail: SELECT * FROM users")
        }
        let routes = Router::new().route("/boom", get(boom));
        let app = with_layers(routes, CorsLayer::new(), Duration::from_secs(30));
        let response = app
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
