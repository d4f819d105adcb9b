//! `/api/auth`: register here; login, refresh (rotating, with reuse detection) and logout
//! are the kit's ([`webkit::auth::router`]).

use axum::extract::State;
use axum::http::StatusCode;
use dbkit::Writer;
use dbkit::audit::Event;
use sea_orm::ActiveModelTrait;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use webkit::auth::{TokensOut, password};

use crate::domain::text::{NAME, PASSWORD};
use crate::domain::{self, Email};
use crate::entity::users;
use crate::http::error::{AppError, ErrorResponse};
use crate::http::extract::{Client, Json};
use crate::http::users::UserOut;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .merge(webkit::auth::router())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RegisterIn {
    email: String,
    password: String,
    name: String,
    phone: Option<String>,
}

/// A new account, signed in.
#[derive(Debug, Serialize, ToSchema)]
pub struct Registered {
    #[serde(flatten)]
    tokens: TokensOut,
    user: UserOut,
}

/// Create a student account and sign it in.
#[utoipa::path(post, path = "/auth/register", tag = "auth", request_body = RegisterIn, responses(
    (status = 201, description = "Registered and signed in", body = Registered),
    (status = 409, description = "Email already registered", body = ErrorResponse),
    (status = 429, description = "Too many attempts from this address; see Retry-After", body = ErrorResponse),
    (status = 422, description = "Invalid field", body = ErrorResponse),
))]
async fn register(
    State(state): State<AppState>,
    Client(actor): Client,
    Json(body): Json<RegisterIn>,
) -> Result<(StatusCode, axum::Json<Registered>), AppError> {
    state.auth.limits.check_ip(actor.ip.as_deref())?;
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
    let tokens = state
        .auth
        .start_session(writer.tx(), user.id, user.token_version)
        .await?;
    writer
        .commit(Event::new("user.register", "user", user.id))
        .await?;
    let user = UserOut::from(user);
    Ok((StatusCode::CREATED, axum::Json(Registered { tokens, user })))
}
