//! What stands in front of every page: a CSRF token checked on every form, the Origin
//! checked on every write, and headers that let a page run only its own scripts.
//!
//! The session cookies are SameSite=Strict, so a cross-site form never carries them;
//! the token and the Origin check are the second and third lock on the same door (a
//! sibling subdomain is "same site", and old browsers ignore SameSite).

use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::session::{self, Prefix};
use crate::response::ErrorBody;

/// The form field every page form carries the token in.
pub const CSRF_FIELD: &str = "_csrf";
/// The cookie holding the browser's token (HttpOnly: pages put it into forms).
const CSRF_COOKIE: &str = "csrf";
/// Larger form bodies are refused before they are read (pages post short forms).
const MAX_FORM_BYTES: usize = 64 * 1024;

/// The policy every page answers with: its own scripts, styles and images only, no
/// inline script or style, no plugin, no frame, forms only to itself.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The browser's CSRF token, for the forms of a page.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

impl<S: Send + Sync> FromRequestParts<S> for CsrfToken {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, StatusCode> {
        parts
            .extensions
            .get::<CsrfToken>()
            .cloned()
            .ok_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

/// Gives a browser without a token one, and refuses a write whose Origin is another
/// site's or whose form does not carry the browser's token (403).
pub async fn csrf(request: Request, next: Next) -> Response {
    let known = session::cookie(request.headers(), CSRF_COOKIE)
        .filter(|token| !token.is_empty())
        .map(str::to_owned);
    let (mut parts, body) = request.into_parts();
    let prefix = parts.extensions.get::<Prefix>().map_or("/", |p| p.0);
    let is_write = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    let body = if is_write {
        if !same_origin(&parts.headers) {
            return refused("This form came from another site.", prefix);
        }
        let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
            return refused("This form is too large.", prefix);
        };
        if !known
            .as_deref()
            .zip(form_token(&bytes).as_deref())
            .is_some_and(|(cookie, form)| same_token(cookie, form))
        {
            return refused(
                "This form has expired. Reload the page and try again.",
                prefix,
            );
        }
        Body::from(bytes)
    } else {
        body
    };
    let Some(token) = known.clone().or_else(random_token) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    parts.extensions.insert(CsrfToken(token.clone()));
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if known.is_none()
        && let Some(cookie) = session::set_cookie(CSRF_COOKIE, &token, prefix, None)
    {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// The security headers of every page.
pub async fn headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        ("content-security-policy", CSP),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "same-origin"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    // Pages hold personal data: never kept by a shared cache or the back button's store.
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Whether a write's Origin (when the browser sends one; every current one does) names
/// the host the request was sent to.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin.split_once("://").map(|(_, rest)| rest);
    host.is_some() && origin_host == host
}

fn form_token(body: &Bytes) -> Option<String> {
    form_urlencoded::parse(body)
        .find(|(name, _)| name == CSRF_FIELD)
        .map(|(_, value)| value.into_owned())
}

/// Whether two tokens are one, compared as digests: how long the comparison takes says
/// nothing about how much of a guess was right.
fn same_token(a: &str, b: &str) -> bool {
    Sha256::digest(a) == Sha256::digest(b)
}

/// 32 random bytes, URL-safe; none without randomness.
fn random_token() -> Option<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).ok()?;
    Some(URL_SAFE_NO_PAD.encode(bytes))
}

fn refused(message: &'static str, home: &str) -> Response {
    (StatusCode::FORBIDDEN, error_page(message, home)).into_response()
}

/// Answers an error a page handler returned (the API's [`crate::AppError`], whose
/// message is safe to show) as a small page with the same status, instead of the JSON
/// the API's clients read.
pub async fn errors_as_pages(request: Request, next: Next) -> Response {
    let home = request.extensions().get::<Prefix>().map_or("/", |p| p.0);
    let mut response = next.run(request).await;
    match response.extensions_mut().remove::<ErrorBody>() {
        Some(error) => {
            let (parts, _) = response.into_parts();
            let mut page = error_page(&error.message, home).into_response();
            *page.status_mut() = parts.status;
            for name in [header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
                if let Some(value) = parts.headers.get(&name) {
                    page.headers_mut().insert(name, value.clone());
                }
            }
            page
        }
        None => response,
    }
}

fn error_page(message: &str, home: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Not done</title>\
         <main><h1>Not done</h1><p role=\"alert\">{}</p><p><a href=\"{}\">Start again</a></p></main></html>",
        escape(message),
        escape(home)
    ))
}

/// `text` as HTML text.
fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}
