//! Files pages load, embedded in the binary so that a console works offline, with no
//! CDN and no build step: htmx (0BSD, vendored from the npm registry unchanged, its
//! version in its name) and whatever an app adds with [`file`] or [`versioned`].

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

/// The vendored htmx, at `<prefix>/assets/htmx-2.0.11.min.js`.
pub const HTMX: &str = "htmx-2.0.11.min.js";
static HTMX_JS: &[u8] = include_bytes!("../../assets/htmx-2.0.11.min.js");

/// `<prefix>/assets/<HTMX>`.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route(
        &format!("/assets/{HTMX}"),
        get(file(HTMX_JS, "text/javascript")),
    )
}

/// A handler answering an embedded file. Names of embedded files change with their
/// content (a version or a hash in the name), so browsers may keep them for a year.
pub fn file(
    bytes: &'static [u8],
    content_type: &'static str,
) -> impl Fn() -> std::future::Ready<axum::response::Response> + Clone + Send + Sync + 'static {
    move || {
        std::future::ready(
            (
                [
                    (header::CONTENT_TYPE, content_type),
                    (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
                ],
                bytes,
            )
                .into_response(),
        )
    }
}
