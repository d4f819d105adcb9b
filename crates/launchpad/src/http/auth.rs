//! `/api/auth`: register, login, refresh (rotating, with reuse detection), logout.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::Duration;
use dbkit::audit::{Event, Outcome};
use dbkit::{Actor, Writer};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use dbkit::soft_delete::SoftDeletable;

use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::sessions::{bump_token_version, revoke_family};
use crate::auth::{password, refresh};
use crate::domain::text::{NAME, PASSWORD};
use crate::domain::{self, Email};
use crate::entity::{refresh_tokens, users};
use crate::http::error::{AppError, ErrorResponse};
use crate::http::extract::{Client, Json};
use crate::http::users::UserOut;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(refresh_session))
        .routes(routes!(logout))
}

/// The one answer to every failed login, whatever the reason.
const LOGIN_FAILED: &str = "invalid email or password";
const REFRESH_FAILED: &str = "invalid or expired refresh token";

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RegisterIn {
    email: String,
    password: String,
    name: String,
    phone: Option<String>,
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

/// Tokens for a session.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokensOut {
    access_token: String,
    refresh_token: String,
    token_type: &'static str,
    /// Seconds until the access token expires.
    expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<UserOut>,
}

/// Create a student account and sign it in.
#[utoipa::path(post, path = "/auth/register", tag = "auth", request_body = RegisterIn, responses(
    (status = 201, description = "Registered and signed in", body = TokensOut),
    (status = 409, description = "Email already registered", body = ErrorResponse),
    (status = 429, description = "Too many attempts from this address; see Retry-After", body = ErrorResponse),
    (status = 422, description = "Invalid field", body = ErrorResponse),
))]
async fn register(
    State(state): State<AppState>,
    Client(actor): Client,
    Json(body): Json<RegisterIn>,
) -> Result<(StatusCode, axum::Json<TokensOut>), AppError> {
    state.auth_limits.check_ip(actor.ip.as_deref())?;
    let email = Email::parse(&body.email)?.into_inner();
    let name = NAME.check(&body.name)?;
    let phone = body.phone.as_deref().map(domain::phone).transpose()?;
    let password_hash = password::hash(PASSWORD.check(&body.password)?).await?;
    let id = Uuid::now_v7();
    let account = users::ActiveModel::from(users::NewAccount {
        id,
        email,
        name,
        password_hash,
        phone,
        is_admin: false,
        signup_step: domain::SIGNUP_STEPS[0],
    });
    let writer = Writer::begin(&state.db, &actor.as_user(id)).await?;
    let user = account.insert(writer.tx()).await?;
    let mut tokens = start_session(writer.tx(), &state, &user, Uuid::now_v7()).await?;
    writer
        .commit(Event::new("user.register", "user", user.id))
        .await?;
    tokens.user = Some(UserOut::from(user));
    Ok((StatusCode::CREATED, axum::Json(tokens)))
}

/// Sign in with email and password.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginIn, responses(
    (status = 200, description = "Signed in", body = TokensOut),
    (status = 401, description = "Wrong email or password (one message for every cause)", body = ErrorResponse),
    (status = 429, description = "Too many attempts from this address or on this account; see Retry-After", body = ErrorResponse),
))]
async fn login(
    State(state): State<AppState>,
    Client(actor): Client,
    Json(body): Json<LoginIn>,
) -> Result<axum::Json<TokensOut>, AppError> {
    state.auth_limits.check_ip(actor.ip.as_deref())?;
    // The account's budget is keyed by the address as stored, so that its lookalikes
    // (other case, full-width letters) draw on the same one.
    let email = Email::parse(&body.email).map(Email::into_inner);
    let key = match &email {
        Ok(email) => email.clone(),
        Err(_) => body.email.trim().to_lowercase(),
    };
    state.auth_limits.check_account(&key)?;
    let user = match email {
        Ok(email) => {
            users::Entity::find_live()
                .filter(users::Column::Email.eq(email))
                .one(&state.db)
                .await?
        }
        Err(_) => None,
    };
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let matches = password::verify(body.password, stored, state.metrics.clone()).await?;
    let user = match user {
        Some(user) if matches && user.is_active => user,
        other => {
            let mut event = Event::action("auth.login_failed").outcome(Outcome::Failed);
            if let Some(user) = other {
                event.entity_type = Some("user");
                event.entity_id = Some(user.id);
            }
            dbkit::write::record(&state.db, &actor, event).await?;
            return Err(AppError::Unauthorized(LOGIN_FAILED));
        }
    };
    let writer = Writer::begin(&state.db, &actor.as_user(user.id)).await?;
    let now = dbkit::time::now();
    users::Entity::update_many()
        .col_expr(users::Column::LastLoginAt, Expr::value(now))
        .filter(users::Column::Id.eq(user.id))
        .exec(writer.tx())
        .await?;
    let tokens = start_session(writer.tx(), &state, &user, Uuid::now_v7()).await?;
    writer
        .commit(Event::new("auth.login", "user", user.id))
        .await?;
    Ok(axum::Json(tokens))
}

/// Issues an access token and a new refresh token in `family`, storing its hash.
async fn start_session(
    conn: &impl ConnectionTrait,
    state: &AppState,
    user: &users::Model,
    family_id: Uuid,
) -> Result<TokensOut, AppError> {
    let (row, token) = new_refresh_token(state, user.id, family_id)?;
    row.insert(conn).await?;
    tokens_for(state, user, token)
}

fn new_refresh_token(
    state: &AppState,
    user_id: Uuid,
    family_id: Uuid,
) -> Result<(refresh_tokens::ActiveModel, String), AppError> {
    let token = refresh::generate().map_err(|e| AppError::Internal(format!("randomness: {e}")))?;
    let now = dbkit::time::now();
    let ttl = Duration::days(i64::try_from(state.settings.refresh_token_expire_days).unwrap_or(7));
    let row = refresh_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        token_hash: Set(refresh::hash(&token)),
        family_id: Set(family_id),
        expires_at: Set(now + ttl),
        revoked_at: Set(None),
        replaced_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    Ok((row, token))
}

fn tokens_for(
    state: &AppState,
    user: &users::Model,
    refresh_token: String,
) -> Result<TokensOut, AppError> {
    let access_token = state
        .jwt
        .issue(user.id, user.token_version)
        .map_err(|e| AppError::Internal(format!("signing: {e}")))?;
    Ok(TokensOut {
        access_token,
        refresh_token,
        token_type: "bearer",
        expires_in: state.jwt.ttl_secs,
        user: None,
    })
}

/// Exchange a refresh token for new tokens. Each refresh token works once; presenting
/// a used one revokes every token of its session.
#[utoipa::path(post, path = "/auth/refresh", tag = "auth", request_body = RefreshIn, responses(
    (status = 200, description = "New tokens", body = TokensOut),
    (status = 401, description = "Invalid, expired, used or revoked token", body = ErrorResponse),
))]
async fn refresh_session(
    State(state): State<AppState>,
    Client(actor): Client,
    Json(body): Json<RefreshIn>,
) -> Result<axum::Json<TokensOut>, AppError> {
    let presented = find_token(&state, &body.refresh_token).await?;
    let user = users::Entity::find_live()
        .filter(users::Column::Id.eq(presented.user_id))
        .filter(users::Column::IsActive.eq(true))
        .one(&state.db)
        .await?;
    let actor = actor.as_user(presented.user_id);
    if presented.revoked_at.is_some() {
        return Err(reuse_detected(&state, &actor, &presented).await?);
    }
    let Some(user) = user.filter(|_| presented.expires_at > dbkit::time::now()) else {
        return Err(AppError::Unauthorized(REFRESH_FAILED));
    };
    let writer = Writer::begin(&state.db, &actor).await?;
    let (next, token) = new_refresh_token(&state, presented.user_id, presented.family_id)?;
    let next = next.insert(writer.tx()).await?;
    // Only one of two concurrent refreshes with the same token can win this update.
    let now = dbkit::time::now();
    let rotated = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
        .col_expr(refresh_tokens::Column::ReplacedBy, Expr::value(next.id))
        .col_expr(refresh_tokens::Column::UpdatedAt, Expr::value(now))
        .filter(refresh_tokens::Column::Id.eq(presented.id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(writer.tx())
        .await?
        .rows_affected;
    if rotated == 0 {
        drop(writer);
        return Err(reuse_detected(&state, &actor, &presented).await?);
    }
    writer
        .commit(
            Event::new("auth.refresh", "user", presented.user_id)
                .details(json!({ "family_id": presented.family_id })),
        )
        .await?;
    Ok(axum::Json(tokens_for(&state, &user, token)?))
}

async fn find_token(state: &AppState, token: &str) -> Result<refresh_tokens::Model, AppError> {
    if token.is_empty() || token.len() > 256 {
        return Err(AppError::Unauthorized(REFRESH_FAILED));
    }
    refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(refresh::hash(token)))
        .one(&state.db)
        .await?
        .ok_or(AppError::Unauthorized(REFRESH_FAILED))
}

/// A used or revoked refresh token came back: someone holds a copy. Every token of its
/// family is revoked, so both the thief and the user must log in again.
async fn reuse_detected(
    state: &AppState,
    actor: &Actor,
    token: &refresh_tokens::Model,
) -> Result<AppError, AppError> {
    let writer = Writer::begin(&state.db, actor).await?;
    let revoked = revoke_family(writer.tx(), token.family_id).await?;
    let event = Event::new("auth.refresh_reuse", "user", token.user_id)
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
    State(state): State<AppState>,
    Client(actor): Client,
    Json(body): Json<RefreshIn>,
) -> Result<StatusCode, AppError> {
    // Logging out twice, or with an unknown token, is not an error: the session is over.
    let token = match find_token(&state, &body.refresh_token).await {
        Ok(token) => token,
        Err(AppError::Unauthorized(_)) => return Ok(StatusCode::NO_CONTENT),
        Err(e) => return Err(e),
    };
    let writer = Writer::begin(&state.db, &actor.as_user(token.user_id)).await?;
    let revoked = revoke_family(writer.tx(), token.family_id).await?;
    if revoked > 0 {
        // Access tokens are short-lived but not revocable one by one: bumping the
        // account's version ends them all; other devices simply refresh.
        bump_token_version(writer.tx(), token.user_id).await?;
        writer
            .commit(Event::new("auth.logout", "user", token.user_id))
            .await?;
    }
    Ok(StatusCode::NO_CONTENT)
}
