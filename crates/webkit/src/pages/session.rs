//! A page user's session, in two cookies: the access token (short-lived, checked
//! against the account on every request, as the API's bearer token is) and the refresh
//! token (rotating, used once). Both are HttpOnly — no script of the page can read
//! them — SameSite=Strict and scoped to the pages' prefix, so the JSON API never sees
//! them and a cookie never authorises an API call. Signing in, refreshing and signing
//! out are [`Auth`]'s own operations, with the API's brakes, log rows and reuse
//! detection.

use axum::extract::{FromRef, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use dbkit::Actor;
use dbkit::audit::{Event, Outcome};

use crate::auth::{Auth, SignedIn, TokensOut};
use crate::error::AppError;
use crate::extract::actor_from;

const ACCESS_COOKIE: &str = "access";
const REFRESH_COOKIE: &str = "refresh";

/// Where the pages are mounted (`/admin`): their cookies' path, and their login page's
/// prefix.
#[derive(Debug, Clone, Copy)]
pub struct Prefix(pub &'static str);

/// The access token a request carries, or the one its refresh just gave.
#[derive(Debug, Clone)]
struct Access(String);

/// A signed-in page user: a live, active account whose access cookie is valid. Anyone
/// else is sent to `<prefix>/login`.
pub struct PageUser<U> {
    pub user: U,
    /// The request's actor, as the user.
    pub actor: Actor,
}

impl<U> PageUser<U> {
    /// Who acts, as the data layer takes it.
    pub fn caller(&self) -> (&U, &Actor) {
        (&self.user, &self.actor)
    }
}

impl<S: Send + Sync, U: SignedIn> FromRequestParts<S> for PageUser<U>
where
    Auth: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let to_login = || {
            let prefix = parts.extensions.get::<Prefix>().map_or("", |p| p.0);
            super::redirect(&parts.headers, &format!("{prefix}/login"))
        };
        let Some(Access(token)) = parts.extensions.get::<Access>() else {
            return Err(to_login());
        };
        let Ok(user) = Auth::from_ref(state).user::<U>(token).await else {
            return Err(to_login());
        };
        let actor = actor_from(parts).as_user(user.id());
        Ok(PageUser { user, actor })
    }
}

/// Reads the access cookie; when it has expired, trades the refresh cookie for new
/// tokens (sent back as cookies). A refresh token refused clears both cookies.
///
/// Two requests sent at the same moment with an expired access token both present the
/// refresh token; the second is taken for a stolen copy and ends the session (the
/// API's reuse detection, unchanged): the cost is a new sign-in, never a weaker check.
pub async fn refresh(State(auth): State<Auth>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let prefix = parts.extensions.get::<Prefix>().map_or("/", |p| p.0);
    let access = cookie(&parts.headers, ACCESS_COOKIE)
        .filter(|token| auth.jwt.verify(token).is_some())
        .map(str::to_owned);
    let refresh = cookie(&parts.headers, REFRESH_COOKIE).map(str::to_owned);
    let mut cookies = Vec::new();
    match (access, refresh) {
        (Some(token), _) => {
            parts.extensions.insert(Access(token));
        }
        (None, Some(refresh)) => match auth.refresh(&actor_from(&parts), &refresh).await {
            Ok(tokens) => {
                parts
                    .extensions
                    .insert(Access(tokens.access_token().to_owned()));
                cookies = session_cookies(&auth, &tokens, prefix);
            }
            // A refused token ends the session; an outage does not (the request goes on
            // without one, and the cookies stay for the next).
            Err(AppError::Unauthorized(_)) => cookies = cleared(prefix),
            Err(_) => {}
        },
        (None, None) => {}
    }
    let mut response = next.run(Request::from_parts(parts, body)).await;
    for cookie in cookies {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// Signs in as the API's login does (its brakes, its one 401, its log rows), for a
/// user `allowed` to use the pages: the session's cookies. Anyone else is refused (403,
/// logged `auth.login_refused`) before a session starts, so their sessions elsewhere
/// are untouched.
pub async fn sign_in<U: SignedIn>(
    auth: &Auth,
    actor: &Actor,
    (email, password): (&str, String),
    prefix: &str,
    allowed: impl Fn(&U) -> bool,
) -> Result<Vec<HeaderValue>, AppError> {
    let account = auth.check_credentials(actor, email, password).await?;
    let user = U::load(&auth.db, account.id, account.token_version)
        .await?
        .ok_or(AppError::Unauthorized("invalid email or password"))?;
    if !allowed(&user) {
        let event = Event::new(
            "auth.login_refused",
            dbkit::names::names().user_entity,
            account.id,
        )
        .outcome(Outcome::Failed);
        dbkit::write::record(&auth.db, &actor.as_user(account.id), event).await?;
        return Err(AppError::Forbidden);
    }
    let tokens = auth.open_session(actor, &account).await?;
    Ok(session_cookies(auth, &tokens, prefix))
}

/// Ends the session the request's cookies hold, as the API's logout does; the cookies
/// that clear it.
pub async fn sign_out(
    auth: &Auth,
    actor: &Actor,
    headers: &HeaderMap,
    prefix: &str,
) -> Result<Vec<HeaderValue>, AppError> {
    if let Some(refresh) = cookie(headers, REFRESH_COOKIE) {
        auth.sign_out(actor, refresh).await?;
    }
    Ok(cleared(prefix))
}

/// The value of the cookie `name` a request carries.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value)
}

/// A `Set-Cookie` for `name`: HttpOnly, SameSite=Strict, on `path`, for `max_age`
/// seconds (for the browser's session without one).
pub fn set_cookie(
    name: &str,
    value: &str,
    path: &str,
    max_age: Option<i64>,
) -> Option<HeaderValue> {
    let age = max_age.map_or(String::new(), |secs| format!("; Max-Age={secs}"));
    HeaderValue::from_str(&format!(
        "{name}={value}; Path={path}; HttpOnly; SameSite=Strict{age}"
    ))
    .ok()
}

fn session_cookies(auth: &Auth, tokens: &TokensOut, path: &str) -> Vec<HeaderValue> {
    [
        set_cookie(
            ACCESS_COOKIE,
            tokens.access_token(),
            path,
            Some(tokens.expires_in()),
        ),
        set_cookie(
            REFRESH_COOKIE,
            tokens.refresh_token(),
            path,
            Some(auth.refresh_ttl_secs()),
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn cleared(path: &str) -> Vec<HeaderValue> {
    [ACCESS_COOKIE, REFRESH_COOKIE]
        .into_iter()
        .filter_map(|name| set_cookie(name, "", path, Some(0)))
        .collect()
}

/// A response that also sets `cookies`.
pub fn with_cookies(response: impl IntoResponse, cookies: Vec<HeaderValue>) -> Response {
    let mut response = response.into_response();
    for cookie in cookies {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}
