//! Signing in: accounts with Argon2id passwords, short-lived access tokens (JWT) and
//! rotating refresh tokens ([`dbkit::sessions`]), brute-force brakes, and the
//! [`CurrentUser`] extractor that checks the account on every request.
//!
//! The app owns its users table and says how to read it through [`Accounts`] (for the
//! sign-in routes) and [`SignedIn`] (for the extractor); it registers accounts itself and
//! starts their first session with [`Auth::start_session`]. The routes of [`router`] —
//! `POST /auth/login`, `/auth/refresh`, `/auth/logout` — do the rest, each effect in one
//! transaction with its activity-log row.

pub mod cache;
pub mod jwt;
pub mod limits;
pub mod password;
mod routes;
mod session;
pub mod table;

use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use dbkit::Actor;
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

pub use routes::router;
/// For implementing [`Accounts`].
pub use sea_orm::prelude::async_trait::async_trait;

use crate::error::AppError;
use crate::extract::actor_from;
use jwt::Jwt;
use limits::AuthLimits;
use password::OnCheck;

/// What signing in needs to know of an account.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: Uuid,
    /// The Argon2 PHC string ([`password::hash`]).
    pub password_hash: String,
    /// Access tokens carry it; raising it ends them all.
    pub token_version: i32,
    /// A deactivated account cannot sign in.
    pub active: bool,
}

/// The app's users table, as the sign-in routes read and write it. Reads see live
/// (not soft-deleted) accounts only.
#[async_trait]
pub trait Accounts: Send + Sync {
    /// The account whose stored email is `email` (normalised by [`crate::rules::Email`]),
    /// active or not.
    async fn by_email(
        &self,
        db: &DatabaseConnection,
        email: &str,
    ) -> Result<Option<Account>, DbErr>;

    /// The active account `id`.
    async fn active(&self, db: &DatabaseConnection, id: Uuid) -> Result<Option<Account>, DbErr>;

    /// Records a sign-in (a last-login stamp, say), in the sign-in's transaction.
    async fn signed_in(&self, tx: &DatabaseTransaction, id: Uuid) -> Result<(), DbErr>;

    /// Makes every access token issued to `id` so far invalid (raises its token version).
    async fn end_access(&self, tx: &DatabaseTransaction, id: Uuid) -> Result<(), DbErr>;
}

/// How an app signs its users in.
#[derive(Debug, Clone, Copy)]
pub struct Settings<'a> {
    /// The key access tokens are signed with.
    pub secret: &'a str,
    pub access_token_minutes: u64,
    pub refresh_token_days: u64,
    /// Sign-in and register attempts per minute from one address.
    pub attempts_per_ip: NonZeroU32,
    /// Password checks per minute on one account.
    pub attempts_per_account: NonZeroU32,
}

/// Everything signing in needs; an app's state hands it out with `FromRef`.
#[derive(Clone)]
pub struct Auth {
    pub db: DatabaseConnection,
    pub jwt: Arc<Jwt>,
    pub limits: Arc<AuthLimits>,
    pub accounts: Arc<dyn Accounts>,
    refresh_ttl: chrono::Duration,
    on_password_check: OnCheck,
    users: Arc<cache::UserCache>,
}

impl Auth {
    pub fn new(db: DatabaseConnection, accounts: Arc<dyn Accounts>, settings: Settings) -> Self {
        let days = i64::try_from(settings.refresh_token_days).unwrap_or(i64::MAX / 86_400_000);
        Self {
            limits: Arc::new(AuthLimits::new(
                db.clone(),
                settings.attempts_per_ip,
                settings.attempts_per_account,
            )),
            db,
            jwt: Arc::new(Jwt::new(
                crate::settings().app,
                settings.secret,
                settings.access_token_minutes,
            )),
            accounts,
            refresh_ttl: chrono::Duration::days(days),
            on_password_check: Arc::new(|| {}),
            users: Arc::default(),
        }
    }

    /// Keeps the users [`CurrentUser`] reads between requests, dropped whenever one may
    /// have changed: on every write about a user this process commits, and when PostgreSQL notifies
    /// `channel` (the app's users table must notify it on every change: see
    /// [`cache`]), listened to on `server` — the database server itself: a pooler does
    /// not keep a `LISTEN`. Nothing is cached on SQLite. Call within the server's runtime.
    pub fn cache_users(self, server: &DatabaseConnection, channel: &'static str) -> Self {
        self.users.listen(server, channel);
        self
    }

    /// Seconds a refresh token lives.
    pub fn refresh_ttl_secs(&self) -> i64 {
        self.refresh_ttl.num_seconds()
    }

    /// Calls `hook` on every Argon2 verification (for a metric).
    pub fn on_password_check(self, hook: OnCheck) -> Self {
        Self {
            on_password_check: hook,
            ..self
        }
    }

    /// Whether `password` is the account's (with no account, the same time is spent).
    pub async fn check_password(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Result<bool, AppError> {
        password::verify(password, stored, self.on_password_check.clone()).await
    }

    /// Starts a new session for `account`: a refresh token stored (hashed) in `tx`, and
    /// an access token at its current version.
    pub async fn start_session(
        &self,
        tx: &DatabaseTransaction,
        account_id: Uuid,
        token_version: i32,
    ) -> Result<TokensOut, AppError> {
        let (_, refresh) =
            dbkit::sessions::issue(tx, account_id, Uuid::now_v7(), self.refresh_ttl).await?;
        self.tokens(account_id, token_version, refresh)
    }

    fn tokens(&self, id: Uuid, version: i32, refresh_token: String) -> Result<TokensOut, AppError> {
        let access_token = self
            .jwt
            .issue(id, version)
            .map_err(|e| AppError::Internal(format!("signing: {e}")))?;
        Ok(TokensOut {
            access_token,
            refresh_token,
            token_type: "bearer",
            expires_in: self.jwt.ttl_secs,
        })
    }
}

/// Tokens for a session.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokensOut {
    access_token: String,
    refresh_token: String,
    token_type: &'static str,
    /// Seconds until the access token expires.
    expires_in: i64,
}

impl TokensOut {
    pub fn access_token(&self) -> &str {
        &self.access_token
    }

    pub fn refresh_token(&self) -> &str {
        &self.refresh_token
    }

    /// Seconds until the access token expires.
    pub fn expires_in(&self) -> i64 {
        self.expires_in
    }
}

/// How the [`CurrentUser`] extractor loads the app's user (and keeps it: see
/// [`Auth::cache_users`]).
pub trait SignedIn: Sized + Clone + Send + Sync + 'static {
    /// The live, active user `id`, if its access tokens are at `token_version`.
    fn load(
        db: &DatabaseConnection,
        id: Uuid,
        token_version: i32,
    ) -> impl Future<Output = Result<Option<Self>, DbErr>> + Send;

    fn id(&self) -> Uuid;
}

/// A signed-in, live, active user, checked against the database on every request (so a
/// deleted or deactivated account, a logout or a password change ends access at once) —
/// or, with [`Auth::cache_users`], against what a request read since the last change
/// anywhere (a change made through another process arrives within milliseconds).
/// Anything else is a 401.
pub struct CurrentUser<U> {
    pub user: U,
    /// The request's actor, as the user.
    pub actor: Actor,
}

impl<U> CurrentUser<U> {
    /// Who acts, as the data layer takes it: the account and the request's actor.
    pub fn caller(&self) -> (&U, &Actor) {
        (&self.user, &self.actor)
    }
}

const BAD_TOKEN: &str = "missing, invalid or expired access token";

impl<S: Send + Sync, U: SignedIn> FromRequestParts<S> for CurrentUser<U>
where
    Auth: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let auth = Auth::from_ref(state);
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(AppError::Unauthorized(BAD_TOKEN))?;
        let user: U = auth.user(token).await?;
        if let Some(signed_in) = parts.extensions.get::<crate::reads::SignedInAs>() {
            signed_in.set(user.id());
        }
        let actor = actor_from(parts).as_user(user.id());
        Ok(CurrentUser { user, actor })
    }
}

impl<U: SignedIn> crate::reads::Reader for CurrentUser<U> {
    fn user_id(&self) -> Uuid {
        self.user.id()
    }
}
