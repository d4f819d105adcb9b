//! The admin console at `/admin`: the platform's admins' daily work in a browser,
//! server-rendered (askama templates, compiled in and escaping by default) with htmx
//! for in-place updates, every asset embedded. Each page calls the same resource
//! operations as the JSON API — the same validation, transactions, log rows and
//! guarded moves — so the console adds no way around the API's rules.
//!
//! The session, CSRF guard and security headers are the kit's ([`webkit::pages`]); see
//! `docs/CONSOLE.md` for why.

mod activity;
mod login;
mod lookup;
mod meetings;
mod orders;
mod overview;
mod requests;
mod stats;
mod synopses;
mod trash;
mod users;
mod view;

use axum::Router;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use uuid::Uuid;
use webkit::AppError;
use webkit::auth::Auth;
use webkit::pages::guard::CsrfToken;
use webkit::pages::session::PageUser;

use crate::entity::users::Model as User;
use crate::resources::Caller;
use crate::state::AppState;

/// Where the console lives.
pub const PREFIX: &str = "/admin";

static CSS: &[u8] = include_bytes!("../../assets/console.css");

/// Every console page, behind the kit's guards.
pub fn router(state: &AppState) -> Router<AppState> {
    let pages = Router::new()
        .route(
            "/assets/console.css",
            get(webkit::pages::assets::file(CSS, "text/css")),
        )
        .merge(login::router())
        .merge(overview::router())
        .merge(synopses::router())
        .merge(meetings::router())
        .merge(orders::router())
        .merge(requests::router())
        .merge(trash::router())
        .merge(activity::router())
        .merge(users::router())
        .merge(stats::router());
    webkit::pages::nest(PREFIX, state.auth.clone(), pages)
}

/// A signed-in admin. Anyone not signed in is sent to the sign-in page; a signed-in
/// student is refused (403).
pub type Admin = PageUser<User>;

/// The console's extractor: [`Admin`], checked to be one.
pub struct SignedInAdmin(pub Admin);

impl<S: Send + Sync> FromRequestParts<S> for SignedInAdmin
where
    Auth: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let admin = Admin::from_request_parts(parts, state).await?;
        if !admin.user.is_admin {
            let page = "<!doctype html><title>Refused</title><p role=\"alert\">This console is for admins.</p>";
            return Err((StatusCode::FORBIDDEN, Html(page)).into_response());
        }
        Ok(SignedInAdmin(admin))
    }
}

/// A row's move, by a signed-in admin: who acts, and how the row is answered (in place
/// for htmx, a page otherwise, with the form token its new forms carry).
pub struct Act {
    admin: Admin,
    csrf: CsrfToken,
    headers: HeaderMap,
}

impl Act {
    pub fn caller(&self) -> Caller<'_> {
        self.admin.caller()
    }

    pub fn admin(&self) -> &User {
        &self.admin.user
    }

    /// The row `id` as the move left it, or the API's refusal in its place; without
    /// scripts, back to `back`.
    pub fn answer(&self, id: Uuid, done: Result<view::Row, AppError>, back: &str) -> Response {
        view::answer(&self.headers, &self.csrf, id, done, back)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Act
where
    Auth: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let SignedInAdmin(admin) = SignedInAdmin::from_request_parts(parts, state).await?;
        let csrf = CsrfToken::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Act {
            admin,
            csrf,
            headers: parts.headers.clone(),
        })
    }
}
