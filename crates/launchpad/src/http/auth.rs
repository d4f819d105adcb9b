//! `/api/auth`: register here; login, refresh (rotating, with reuse detection) and logout
//! are the kit's ([`webkit::auth::router`]).

use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use webkit::auth::TokensOut;

use crate::http::error::{AppError, ErrorResponse};
use crate::http::extract::{Client, Json};
use crate::http::users::UserOut;
use crate::resources::users::{self, RegisterIn};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .merge(webkit::auth::router())
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
    let (user, tokens) = users::register(&state.db, &state.auth, &actor, body).await?;
    let user = UserOut::from(user);
    Ok((StatusCode::CREATED, axum::Json(Registered { tokens, user })))
}
