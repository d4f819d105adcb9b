//! `POST /auth/login`, `/auth/refresh` (rotating, with reuse detection), `/auth/logout`.

use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Auth, TokensOut};
use crate::error::AppError;
use crate::extract::{Client, Json};
use crate::response::ErrorResponse;

/// The routes, for an app whose state hands out [`Auth`].
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Auth: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(refresh_session))
        .routes(routes!(logout))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct LoginIn {
    email: String,
    password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RefreshIn {
    refresh_token: String,
}

/// Sign in with email and password.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginIn, responses(
    (status = 200, description = "Signed in", body = TokensOut),
    (status = 401, description = "Wrong email or password (one message for every cause)", body = ErrorResponse),
    (status = 429, description = "Too many attempts from this address or on this account; see Retry-After", body = ErrorResponse),
))]
async fn login(
    State(auth): State<Auth>,
    Client(actor): Client,
    Json(body): Json<LoginIn>,
) -> Result<axum::Json<TokensOut>, AppError> {
    Ok(axum::Json(
        auth.sign_in(&actor, &body.email, body.password).await?,
    ))
}

/// Exchange a refresh token for new tokens. Each refresh token works once; presenting
/// a used one revokes every token of its session.
#[utoipa::path(post, path = "/auth/refresh", tag = "auth", request_body = RefreshIn, responses(
    (status = 200, description = "New tokens", body = TokensOut),
    (status = 401, description = "Invalid, expired, used or revoked token", body = ErrorResponse),
))]
async fn refresh_session(
    State(auth): State<Auth>,
    Client(actor): Client,
    Json(body): Json<RefreshIn>,
) -> Result<axum::Json<TokensOut>, AppError> {
    Ok(axum::Json(auth.refresh(&actor, &body.refresh_token).await?))
}

/// End the session of a refresh token.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", request_body = RefreshIn, responses(
    (status = 204, description = "Signed out (also for an unknown or already revoked token)"),
))]
async fn logout(
    State(auth): State<Auth>,
    Client(actor): Client,
    Json(body): Json<RefreshIn>,
) -> Result<StatusCode, AppError> {
    auth.sign_out(&actor, &body.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}
