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
pub mod extract;
pub mod files;
pub mod ideas;
pub mod meetings;
pub mod orders;
pub mod projects;
pub mod stats;
mod stored_bytes;
pub mod subscriptions;
pub mod synopsis;
pub mod trash;
pub mod users;

use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use webkit::openapi::BearerAuth;

use crate::http::error::ErrorResponse;
use crate::state::AppState;

/// The whole application: the API routes, `/openapi.json`, `/docs`, the app's `pages`
/// (the admin console, which sits above this layer), and the layers.
pub fn router(state: AppState, pages: Router<AppState>) -> Router {
    let layers = state.settings.server.layers();
    let metrics = state.metrics.clone();
    let mut api = api();
    if state.replicas.any() {
        let replicas = state.replicas.clone();
        api = api.layer(axum::middleware::from_fn_with_state(
            replicas,
            webkit::reads::route,
        ));
    }
    webkit::layers::app(api, pages, state, metrics, DOCS_TITLE, layers)
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
        .merge(webkit::ops::router());
    webkit::openapi::add_common_errors(api.get_openapi_mut());
    webkit::openapi::describe_every_response(api.get_openapi_mut());
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
