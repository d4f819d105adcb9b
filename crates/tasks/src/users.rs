//! Accounts: registering (the sign-in routes are the kit's), the caller's own account,
//! and the users table as the kits read it.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use dbkit::Writer;
use dbkit::audit::Event;
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use webkit::AppError;
use webkit::auth::table::Table;
use webkit::auth::{Accounts, TokensOut, password};
use webkit::extract::{Client, Json};
use webkit::resource::Owner;
use webkit::rules::Email;
use webkit::rules::text::{NAME, PASSWORD};

use crate::entity::users;
use crate::state::{AppState, CurrentUser};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(me))
}

/// An account, as its owner sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    id: Uuid,
    email: String,
    name: String,
    last_login_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl From<users::Model> for UserOut {
    fn from(u: users::Model) -> Self {
        Self {
            id: u.id,
            email: u.email,
            name: u.name,
            last_login_at: u.last_login_at,
            created_at: u.created_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RegisterIn {
    email: String,
    password: String,
    name: String,
}

/// A new account, signed in.
#[derive(Debug, Serialize, ToSchema)]
pub struct Registered {
    #[serde(flatten)]
    tokens: TokensOut,
    user: UserOut,
}

/// Create an account and sign it in.
#[utoipa::path(post, path = "/auth/register", tag = "auth", request_body = RegisterIn, responses(
    (status = 201, description = "Registered and signed in", body = Registered),
    (status = 409, description = "Email already registered", body = webkit::ErrorResponse),
    (status = 429, description = "Too many attempts from this address; see Retry-After", body = webkit::ErrorResponse),
))]
async fn register(
    State(state): State<AppState>,
    Client(actor): Client,
    Json(body): Json<RegisterIn>,
) -> Result<(StatusCode, axum::Json<Registered>), AppError> {
    state.auth.limits.check_ip(actor.ip.as_deref()).await?;
    let id = Uuid::now_v7();
    let account = users::ActiveModel {
        id: Set(id),
        email: Set(Email::parse(&body.email)?.into_inner()),
        name: Set(NAME.check(&body.name)?),
        password_hash: Set(password::hash(PASSWORD.check(&body.password)?).await?),
        token_version: Set(0),
        is_active: Set(true),
        last_login_at: Set(None),
        ..Default::default()
    };
    // The new account is who acts: the row is in its own log.
    let writer = Writer::begin(&state.db, &actor.as_user(id)).await?;
    let user = account.insert(writer.tx()).await?;
    let tokens = state.auth.start_session(writer.tx(), user.id, 0).await?;
    writer
        .commit(Event::new("user.register", "user", user.id))
        .await?;
    let user = UserOut::from(user);
    Ok((StatusCode::CREATED, axum::Json(Registered { tokens, user })))
}

/// The caller's account.
#[utoipa::path(get, path = "/users/me", tag = "users", security(("bearer" = [])), responses(
    (status = 200, body = UserOut),
))]
async fn me(CurrentUser { user, .. }: CurrentUser) -> axum::Json<UserOut> {
    axum::Json(user.into())
}

/// The users table, for the sign-in routes.
pub type Users = Table<users::Entity>;

webkit::user_table!(crate::entity::users);

/// Every user owns their tasks; nobody administers others'.
impl Owner for users::Model {
    fn id(&self) -> Uuid {
        self.id
    }

    fn is_admin(&self) -> bool {
        false
    }
}

/// The demo account's email and password (`tasks seed`, outside production).
pub const DEMO: (&str, &str) = ("demo@tasks.example", "Demo@1234");

/// Creates the demo account with three tasks, unless it exists; whether it did.
pub async fn seed_demo(db: &DatabaseConnection) -> Result<bool, AppError> {
    let (email, secret) = DEMO;
    if Users::new().by_email(db, email).await?.is_some() {
        return Ok(false);
    }
    let writer = Writer::begin(db, &dbkit::Actor::system()).await?;
    let user = users::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(email.to_owned()),
        name: Set("Demo".to_owned()),
        password_hash: Set(password::hash(secret.to_owned()).await?),
        token_version: Set(0),
        is_active: Set(true),
        last_login_at: Set(None),
        ..Default::default()
    }
    .insert(writer.tx())
    .await?;
    crate::tasks::seed(writer.tx(), user.id).await?;
    writer
        .commit(Event::new("seed.demo", "user", user.id))
        .await?;
    Ok(true)
}
