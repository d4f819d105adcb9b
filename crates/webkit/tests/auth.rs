//! `webkit::auth` on its own, on SQLite and PostgreSQL: an app of a few lines (a users
//! table, the kit's activity log and refresh tokens, the kit's routes and one route behind
//! `CurrentUser`) and what the kit promises about signing in.

use std::num::NonZeroU32;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use dbkit::migrations::{ActivityLog, AttemptBudgets, RefreshTokens, id, timestamps};
use dbkit::testing::TestDb;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, FromQueryResult};
use sea_orm_migration::prelude::*;
use serde_json::{Value, json};
use tower::ServiceExt;
use uuid::Uuid;
use webkit::auth::{Account, Accounts, Auth, CurrentUser, SignedIn, async_trait};

struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(UsersTable),
            Box::new(ActivityLog::named("m1_000002_activity_log").users("users")),
            Box::new(RefreshTokens::named("m1_000003_refresh_tokens", "users")),
            Box::new(AttemptBudgets::named("m1_000004_attempt_budgets")),
        ]
    }
}

#[derive(DeriveMigrationName)]
struct UsersTable;

#[async_trait::async_trait]
impl MigrationTrait for UsersTable {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut users = Table::create();
        users
            .table("users")
            .col(id())
            .col(ColumnDef::new("email").string_len(320).not_null())
            .col(ColumnDef::new("password_hash").string_len(255).not_null())
            .col(
                ColumnDef::new("token_version")
                    .integer()
                    .not_null()
                    .default(0),
            );
        timestamps(&mut users);
        manager.create_table(users).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("users").to_owned())
            .await
    }
}

/// The test app's user.
#[derive(Debug, Clone, FromQueryResult)]
struct User {
    id: Uuid,
    email: String,
    password_hash: String,
    token_version: i32,
}

impl From<User> for Account {
    fn from(u: User) -> Self {
        Account {
            id: u.id,
            password_hash: u.password_hash,
            token_version: u.token_version,
            active: true,
        }
    }
}

async fn user_where(db: &impl ConnectionTrait, filter: SimpleExpr) -> Result<Option<User>, DbErr> {
    let select = Query::select()
        .columns(["id", "email", "password_hash", "token_version"].map(Alias::new))
        .from("users")
        .and_where(filter)
        .to_owned();
    User::find_by_statement(db.get_database_backend().build(&select))
        .one(db)
        .await
}

struct Users;

#[async_trait]
impl Accounts for Users {
    async fn by_email(
        &self,
        db: &DatabaseConnection,
        email: &str,
    ) -> Result<Option<Account>, DbErr> {
        Ok(user_where(db, Expr::col("email").eq(email))
            .await?
            .map(Account::from))
    }

    async fn active(&self, db: &DatabaseConnection, id: Uuid) -> Result<Option<Account>, DbErr> {
        Ok(user_where(db, Expr::col("id").eq(id))
            .await?
            .map(Account::from))
    }

    async fn signed_in(&self, _: &DatabaseTransaction, _: Uuid) -> Result<(), DbErr> {
        Ok(())
    }

    async fn end_access(&self, tx: &DatabaseTransaction, id: Uuid) -> Result<(), DbErr> {
        let bump = Query::update()
            .table("users")
            .value("token_version", Expr::col("token_version").add(1))
            .and_where(Expr::col("id").eq(id))
            .to_owned();
        tx.execute(&bump).await.map(drop)
    }
}

impl SignedIn for User {
    async fn load(db: &DatabaseConnection, id: Uuid, version: i32) -> Result<Option<Self>, DbErr> {
        let filter = Expr::col("id")
            .eq(id)
            .and(Expr::col("token_version").eq(version));
        user_where(db, filter).await
    }

    fn id(&self) -> Uuid {
        self.id
    }
}

async fn me(CurrentUser { user, .. }: CurrentUser<User>) -> axum::Json<Value> {
    axum::Json(json!({ "email": user.email }))
}

const PASSWORD: &str = "correct horse battery";

/// The app, migrated, with one account.
async fn app(db: &TestDb) -> (Router, DatabaseConnection) {
    let conn = db.connect().await;
    dbkit::migrate::up::<Migrator>(&conn, None)
        .await
        .expect("migrate");
    let hash = webkit::auth::password::hash(PASSWORD.into())
        .await
        .expect("hash");
    let now = dbkit::time::now();
    let insert = Query::insert()
        .into_table("users")
        .columns(["id", "email", "password_hash", "created_at", "updated_at"].map(Alias::new))
        .values_panic([
            Uuid::now_v7().into(),
            "ada@example.com".into(),
            hash.into(),
            now.into(),
            now.into(),
        ])
        .to_owned();
    conn.execute(&insert).await.expect("a user");
    let many = NonZeroU32::new(1000).expect("non-zero");
    let settings = webkit::auth::Settings {
        secret: "a-secret-of-thirty-two-bytes-or-more",
        access_token_minutes: 15,
        refresh_token_days: 7,
        attempts_per_ip: many,
        attempts_per_account: many,
    };
    let auth = Auth::new(conn.clone(), Arc::new(Users), settings);
    let (router, _) = webkit::auth::router::<Auth>()
        .route("/me", axum::routing::get(me))
        .split_for_parts();
    (router.with_state(auth), conn)
}

async fn call(app: &Router, path: &str, bearer: Option<&str>, body: Value) -> (StatusCode, Value) {
    let mut request = Request::post(path).header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = bearer {
        request = request
            .method("GET")
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let request = request.body(Body::from(body.to_string())).expect("request");
    let response = app.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn login(app: &Router) -> (String, String) {
    let (status, body) = call(
        app,
        "/auth/login",
        None,
        json!({"email": "Ada@Example.com", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = |k: &str| body[k].as_str().expect(k).to_owned();
    (token("access_token"), token("refresh_token"))
}

async fn actions(conn: &DatabaseConnection) -> Vec<String> {
    let select = Query::select()
        .column("action")
        .from("activity_logs")
        .order_by("seq", Order::Asc)
        .to_owned();
    let rows = conn.query_all(&select).await.expect("log");
    rows.iter()
        .map(|r| r.try_get::<String>("", "action").expect("action"))
        .collect()
}

dbkit::both_backends! {
    async fn a_wrong_password_and_an_unknown_email_get_the_same_401_and_are_logged(db: TestDb) {
        let (app, conn) = app(&db).await;
        let wrong = call(&app, "/auth/login", None, json!({"email": "ada@example.com", "password": "wrong password"})).await;
        let unknown = call(&app, "/auth/login", None, json!({"email": "bob@example.com", "password": PASSWORD})).await;
        assert_eq!(wrong.0, StatusCode::UNAUTHORIZED);
        assert_eq!(wrong.1["error"], unknown.1["error"]);
        assert_eq!(actions(&conn).await, ["auth.login_failed", "auth.login_failed"]);
    }

    async fn a_refresh_token_works_once_and_its_reuse_ends_the_session(db: TestDb) {
        let (app, conn) = app(&db).await;
        let (access, first) = login(&app).await;
        assert_eq!(call(&app, "/me", Some(&access), Value::Null).await.1["email"], "ada@example.com");
        let (status, body) = call(&app, "/auth/refresh", None, json!({"refresh_token": first})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let second = body["refresh_token"].as_str().expect("rotated").to_owned();
        assert_ne!(second, first);
        // The first token again: someone holds a copy. The whole session ends.
        let (status, _) = call(&app, "/auth/refresh", None, json!({"refresh_token": first})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, _) = call(&app, "/auth/refresh", None, json!({"refresh_token": second})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(actions(&conn).await, ["auth.login", "auth.refresh", "auth.refresh_reuse", "auth.refresh_reuse"]);
    }

    async fn of_two_refreshes_with_one_token_at_once_exactly_one_wins(db: TestDb) {
        let (app, _conn) = app(&db).await;
        let (_, token) = login(&app).await;
        let tries: Vec<_> = (0..2)
            .map(|_| {
                let (app, token) = (app.clone(), token.clone());
                tokio::spawn(async move { call(&app, "/auth/refresh", None, json!({"refresh_token": token})).await.0 })
            })
            .collect();
        let mut won = 0;
        for t in tries {
            won += usize::from(t.await.expect("refresh") == StatusCode::OK);
        }
        assert_eq!(won, 1);
    }

    async fn logout_ends_access_tokens_too_and_twice_is_fine(db: TestDb) {
        let (app, _conn) = app(&db).await;
        let (access, refresh) = login(&app).await;
        let (status, _) = call(&app, "/auth/logout", None, json!({"refresh_token": refresh})).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(call(&app, "/me", Some(&access), Value::Null).await.0, StatusCode::UNAUTHORIZED);
        let (status, _) = call(&app, "/auth/logout", None, json!({"refresh_token": refresh})).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _) = call(&app, "/auth/refresh", None, json!({"refresh_token": refresh})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}
