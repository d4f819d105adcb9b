//! The OpenAPI document's common parts: the bearer scheme, the `/docs` page, and the
//! error answers an operation gives because of its shape, added to the document so that it lists every status a route can answer: a handler documents the
//! errors of its own logic (404 of a missing row, 409 of a state, 429), this the ones its
//! extractors and the layers give (a bad token, a malformed id or body, a timeout).
//! And every response gets the description OpenAPI requires, when its handler gave none.

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use utoipa::Modify;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response};
use utoipa_swagger_ui::SwaggerUi;

/// Declares the bearer-token scheme that `security(("bearer" = []))` refers to; name it
/// in `#[openapi(modifiers(&BearerAuth))]`.
pub struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApi) {
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

/// `/openapi.json` and `/docs`, the document read in Swagger UI, whose browser tab and
/// bookmark say `title` (the product's API, not "Swagger UI").
pub fn docs<S: Clone + Send + Sync + 'static>(openapi: OpenApi, title: &'static str) -> Router<S> {
    Router::from(
        SwaggerUi::new("/docs")
            .url("/openapi.json", openapi)
            // A token pasted into "Authorize" survives a reload of the page.
            .config(utoipa_swagger_ui::Config::default().persist_authorization(true)),
    )
    .layer(axum::middleware::map_response(move |r| retitle(r, title)))
}

async fn retitle(
    response: axum::response::Response,
    title: &'static str,
) -> axum::response::Response {
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
        &format!("<title>{title}</title>"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    axum::response::Response::from_parts(parts, axum::body::Body::from(titled))
}

/// Adds to every operation the error responses its extractors and the layers can give,
/// keeping any the handler documents itself.
pub fn add_common_errors(openapi: &mut OpenApi) {
    for item in openapi.paths.paths.values_mut() {
        let operations = [
            (&mut item.get, false),
            (&mut item.put, true),
            (&mut item.post, true),
            (&mut item.delete, true),
            (&mut item.patch, true),
        ];
        for (operation, writes) in operations {
            let Some(operation) = operation else { continue };
            let mut errors = common_errors(operation);
            if writes {
                errors.push((
                    "507",
                    "The server's storage is full: nothing was saved; retry after Retry-After seconds",
                ));
            }
            if writes && is_student_route(operation) {
                // `access::find_owned`: a row of someone else's, reached by an admin.
                errors.push((
                    "403",
                    "An admin acting on another user's row through a student route (admins use the admin routes)",
                ));
            }
            for (status, description) in errors {
                operation
                    .responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| RefOr::T(error_response(description)));
            }
        }
    }
}

/// Gives every response without a description its status's reason phrase ("OK",
/// "Created"): OpenAPI requires one, and validators and client generators refuse a
/// document without. And takes rustdoc's backticks out of summaries.
pub fn describe_every_response(openapi: &mut OpenApi) {
    for item in openapi.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            // Summaries are plain text in every viewer: rustdoc's code marks would show.
            if let Some(summary) = &mut operation.summary {
                summary.retain(|c| c != '`');
            }
            for (status, response) in &mut operation.responses.responses {
                let RefOr::T(response) = response else {
                    continue;
                };
                if response.description.is_empty() {
                    response.description = status
                        .parse::<u16>()
                        .ok()
                        .and_then(|code| StatusCode::from_u16(code).ok())
                        .and_then(|code| code.canonical_reason())
                        .unwrap_or("Response")
                        .to_owned();
                }
            }
        }
    }
}

/// Signed in, and not under the admin tag.
fn is_student_route(operation: &Operation) -> bool {
    let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    secured && !operation.tags.iter().flatten().any(|tag| tag == "admin")
}

/// (status, why) for each error this operation's shape allows.
fn common_errors(operation: &Operation) -> Vec<(&'static str, &'static str)> {
    let mut errors = vec![
        ("408", "The request took longer than REQUEST_TIMEOUT_SECS"),
        (
            "503",
            "The database is unavailable or busy; retry after Retry-After seconds",
        ),
    ];
    let has = |place: ParameterIn| {
        operation.parameters.iter().flatten().any(|p| match p {
            RefOr::T(p) => p.parameter_in == place,
            RefOr::Ref(_) => false,
        })
    };
    if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
        errors.push(("401", "Missing, invalid or expired access token"));
    }
    if operation
        .tags
        .iter()
        .flatten()
        .any(|tag| tag.as_str() == "admin")
    {
        errors.push(("403", "Signed in, but not an admin"));
    }
    if has(ParameterIn::Path) {
        errors.push(("404", "No such resource, or not the caller's"));
        errors.push(("422", "A malformed path parameter"));
    }
    if has(ParameterIn::Query) {
        errors.push((
            "422",
            "A query parameter that does not parse or is not allowed",
        ));
    }
    if operation.request_body.is_some() {
        errors.push(("400", "A body that cannot be read (malformed JSON or form)"));
        errors.push(("413", "A body larger than the limit"));
        errors.push((
            "415",
            "A body of another Content-Type than the one documented",
        ));
        errors.push((
            "422",
            "A field that is missing, unknown, of the wrong type or invalid",
        ));
    }
    errors
}

/// A response with the API's error body.
fn error_response(description: &str) -> Response {
    let mut response = Response::new(description);
    let body = Content::new(Some(Ref::from_schema_name("ErrorResponse")));
    response
        .content
        .insert("application/json".to_owned(), RefOr::T(body));
    response
}
