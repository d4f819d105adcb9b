//! Server-rendered pages for an app's admins, beside its JSON API: a session in two
//! HttpOnly, SameSite=Strict cookies over the same sign-in as the API ([`session`]),
//! a CSRF token and an Origin check on every form ([`guard`]), a strict Content
//! Security Policy, form bodies read with the API's own input types ([`Form`]), and the
//! one script such pages use, htmx, embedded in the binary ([`assets`]).
//!
//! The app renders its pages itself (it owns its templates) and nests them with
//! [`nest`], which puts every guard in front of them.

pub mod assets;
mod form;
pub mod guard;
pub mod session;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router, middleware};

pub use form::Form;

use crate::auth::Auth;

/// `pages` under `prefix` (say `/admin`), behind the CSRF guard, the session's refresh
/// and the security headers, with the embedded scripts at `<prefix>/assets/…`. The
/// session cookies are scoped to `prefix`. An error a page handler returns, and an
/// unknown page, is answered as a page ([`guard::errors_as_pages`]), not as the API's
/// JSON.
pub fn nest<S: Clone + Send + Sync + 'static>(
    prefix: &'static str,
    auth: Auth,
    pages: Router<S>,
) -> Router<S> {
    let pages = pages
        .fallback(|| async { crate::AppError::NotFound("page") })
        .layer(middleware::from_fn(guard::errors_as_pages))
        .layer(middleware::from_fn_with_state(auth, session::refresh))
        .layer(middleware::from_fn(guard::csrf))
        .merge(assets::router())
        .layer(middleware::from_fn(guard::headers))
        .layer(Extension(session::Prefix(prefix)));
    Router::new().nest(prefix, pages)
}

/// Whether a request came from htmx to replace a part of the page (not a whole page a
/// boosted link or form asked for).
pub fn is_fragment(headers: &HeaderMap) -> bool {
    headers.contains_key("hx-request") && !headers.contains_key("hx-boosted")
}

/// Sends the browser to `to`: an htmx request is told to load it as a page, any other
/// gets a 303.
pub fn redirect(headers: &HeaderMap, to: &str) -> Response {
    let Ok(location) = HeaderValue::from_str(to) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if headers.contains_key("hx-request") {
        ([("hx-redirect", location)], StatusCode::OK).into_response()
    } else {
        (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
    }
}
