//! `POST /auth/login`, `/auth/refresh` (rotating, with reuse detection), `/auth/logout`.

use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use dbkit::audit::{Event, Outcome};
use dbkit::sessions::{self, refresh_token};
use dbkit::{Actor, Writer};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Auth, TokensOut};
use crate::error::AppError;
use crate::extract::{Client, Json};
use crate::response::ErrorResponse;
use crate::rules::Email;

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

/// The one answer to every failed login, whatever the reason.
const LOGIN_FAILED: &str = "invalid email or password";
const REFRESH_FAILED: &str = "invalid or expired refresh token";

fn user_entity() -> &'static str {
    dbkit::names::names().user_entity
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
    auth.limits.check_ip(actor.ip.as_deref())?;
    // The account's budget is keyed by the address as stored, so that its lookalikes
    // (other case, full-width letters) draw on the same one.
    let email = Email::parse(&body.email).map(Email::into_inner);
    let key = match &email {
        Ok(email) => email.clone(),
        Err(_) => body.email.trim().to_lowercase(),
    };
    auth.limits.check_account(&key)?;
    let account = match email {
        Ok(email) => auth.accounts.by_email(&auth.db, &email).await?,
        Err(_) => None,
    };
    let stored = account.as_ref().map(|a| a.password_hash.clone());
    let matches = auth.check_password(body.password, stored).await?;
    let account = match account {
        Some(account) if matches && account.active => account,
        other => {
            let mut event = Event::action("auth.login_failed").outcome(Outcome::Failed);
            if let Some(account) = other {
                event.entity_type = Some(user_entity());
                event.entity_id = Some(account.id);
            }
            dbkit::write::record(&auth.db, &actor, event).await?;
            return Err(AppError::Unauthorized(LOGIN_FAILED));
        }
    };
    let writer = Writer::begin(&auth.db, &actor.as_user(account.id)).await?;
    auth.accounts.signed_in(writer.tx(), account.id).await?;
    let tokens = auth
        .start_session(writer.tx(), account.id, account.token_version)
        .await?;
    writer
        .commit(Event::new("auth.login", user_entity(), account.id))
        .await?;
    Ok(axum::Json(tokens))
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
    let presented = sessions::find(&auth.db, &body.refresh_token)
        .await?
        .ok_or(AppError::Unauthorized(REFRESH_FAILED))?;
    let account = auth.accounts.active(&auth.db, presented.user_id).await?;
    let actor = actor.as_user(presented.user_id);
    if presented.revoked_at.is_some() {
        return Err(reuse_detected(&auth, &actor, &presented).await?);
    }
    let Some(account) = account.filter(|_| presented.expires_at > dbkit::time::now()) else {
        return Err(AppError::Unauthorized(REFRESH_FAILED));
    };
    let writer = Writer::begin(&auth.db, &actor).await?;
    let Some(token) = sessions::rotate(writer.tx(), &presented, auth.refresh_ttl).await? else {
        drop(writer);
        return Err(reuse_detected(&auth, &actor, &presented).await?);
    };
    let event = Event::new("auth.refresh", user_entity(), presented.user_id)
        .details(json!({ "family_id": presented.family_id }));
    writer.commit(event).await?;
    Ok(axum::Json(auth.tokens(
        account.id,
        account.token_version,
        token,
    )?))
}

/// A used or revoked refresh token came back: someone holds a copy. Every token of its
/// family is revoked, so both the thief and the user must log in again.
async fn reuse_detected(
    auth: &Auth,
    actor: &Actor,
    token: &refresh_token::Model,
) -> Result<AppError, AppError> {
    let writer = Writer::begin(&auth.db, actor).await?;
    let revoked = sessions::revoke_family(writer.tx(), token.family_id).await?;
    let event = Event::new("auth.refresh_reuse", user_entity(), token.user_id)
        .details(json!({ "family_id": token.family_id, "revoked": revoked }))
        .outcome(Outcome::Failed);
    writer.commit(event).await?;
    Ok(AppError::Unauthorized(REFRESH_FAILED))
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
    // Logging out twice, or with an unknown token, is not an error: the session is over.
    let Some(token) = sessions::find(&auth.db, &body.refresh_token).await? else {
        return Ok(StatusCode::NO_CONTENT);
    };
    let writer = Writer::begin(&auth.db, &actor.as_user(token.user_id)).await?;
    let revoked = sessions::revoke_family(writer.tx(), token.family_id).await?;
    if revoked > 0 {
        // Access tokens are short-lived but not revocable one by one: ending the
        // account's access ends them all; other devices simply refresh.
        auth.accounts.end_access(writer.tx(), token.user_id).await?;
        writer
            .commit(Event::new("auth.logout", user_entity(), token.user_id))
            .await?;
    }
    Ok(StatusCode::NO_CONTENT)
}
