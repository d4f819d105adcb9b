//! Login and register are rate-limited per IP, and every password check (login, password
//! change) per account; failed logins look alike.

use reqwest::StatusCode;
use serde_json::{Value, json};

use launchpad::entity::users;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::helpers::{Backend, TestApp};

fn login(email: &str, password: &str) -> Value {
    json!({"email": email, "password": password})
}

/// Registers `known@example.com` and `disabled@example.com`, then deactivates the latter.
async fn known_and_disabled_accounts(app: &TestApp) {
    app.register("known@example.com").await;
    let off = app.register("disabled@example.com").await;
    users::Entity::update_many()
        .col_expr(users::Column::IsActive, Expr::value(false))
        .filter(users::Column::Id.eq(off.user_id.expect("id")))
        .exec(&app.db)
        .await
        .expect("deactivate");
}

crate::both_backends! {
    async fn failed_logins_are_indistinguishable(app: TestApp) {
        known_and_disabled_accounts(&app).await;
        let mut bodies = Vec::new();
        for (email, password) in [
            ("nobody@example.com", "Passw0rd!"),
            ("known@example.com", "wrong-password"),
            ("disabled@example.com", "Passw0rd!"),
        ] {
            let r = app.post("/api/auth/login", None, login(email, password)).await;
            r.assert_error(StatusCode::UNAUTHORIZED);
            let mut body = r.body.clone();
            body["request_id"] = Value::Null;
            bodies.push(body.to_string());
        }
        assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:#?}");
    }

    async fn every_login_attempt_runs_the_password_hasher_exactly_once(app: TestApp) {
        known_and_disabled_accounts(&app).await;
        for (email, password, status) in [
            ("nobody@example.com", "Passw0rd!", StatusCode::UNAUTHORIZED),
            ("known@example.com", "wrong-password", StatusCode::UNAUTHORIZED),
            ("disabled@example.com", "Passw0rd!", StatusCode::UNAUTHORIZED),
            ("not an email", "Passw0rd!", StatusCode::UNAUTHORIZED),
            ("known@example.com", "Passw0rd!", StatusCode::OK),
        ] {
            let before = password_checks(&app).await;
            let r = app.post("/api/auth/login", None, login(email, password)).await;
            assert_eq!(r.status, status, "{email}: {}", r.body);
            let runs = password_checks(&app).await - before;
            assert_eq!(runs, 1, "{email} / {password}: the hasher ran {runs} times");
        }
    }
}

/// `launchpad_password_checks_total` as `/metrics` reports it.
async fn password_checks(app: &TestApp) -> u64 {
    app.counter("launchpad_password_checks_total").await
}

async fn limited(backend: Backend) -> TestApp {
    let flags = [
        "--auth-rate-limit-per-ip",
        "5",
        "--auth-rate-limit-per-account",
        "3",
    ];
    TestApp::spawn_with(backend, &flags).await
}

async fn attempts_beyond_the_account_limit_get_429_with_retry_after(backend: Backend) {
    let app = limited(backend).await;
    for _ in 0..3 {
        let r = app
            .post("/api/auth/login", None, login("student@test.com", "guess"))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    // Even the right password: the account's budget is spent.
    let r = app
        .post(
            "/api/auth/login",
            None,
            login("student@test.com", "Test@1234"),
        )
        .await;
    r.assert_error(StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = r.headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    // Another account from the same address still has its own budget.
    app.login("admin@test.com", "Admin@1234").await;
}

async fn attempts_beyond_the_address_limit_get_429(backend: Backend) {
    let app = limited(backend).await;
    for i in 0..5 {
        let r = app
            .post(
                "/api/auth/login",
                None,
                login(&format!("u{i}@example.com"), "guess"),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    app.post("/api/auth/login", None, login("u9@example.com", "guess"))
        .await
        .assert_error(StatusCode::TOO_MANY_REQUESTS);
    let body = json!({"email": "new@example.com", "password": "Passw0rd!", "name": "New One"});
    app.post("/api/auth/register", None, body)
        .await
        .assert_error(StatusCode::TOO_MANY_REQUESTS);
    assert!(
        app.activity("user.register").await.is_empty(),
        "a refused registration writes nothing"
    );
}

/// A stolen access token does not buy unlimited guesses at the current password: a
/// password change checks it against the account's login budget, and only attempts
/// within it run the hasher.
async fn password_change_guesses_share_the_accounts_login_budget(backend: Backend) {
    let app = limited(backend).await;
    // One of the account's three attempts.
    let session = app.login("student@test.com", "Test@1234").await;
    let guess =
        |n: u32| json!({"current_password": format!("guess-{n}"), "new_password": "N3w-passw0rd"});
    let before = password_checks(&app).await;
    for n in 0..2 {
        let r = app
            .post("/api/users/me/password", session.token(), guess(n))
            .await;
        r.assert_error(StatusCode::FORBIDDEN);
    }
    let r = app
        .post("/api/users/me/password", session.token(), guess(2))
        .await;
    r.assert_error(StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers.contains_key("retry-after"));
    assert_eq!(
        password_checks(&app).await - before,
        2,
        "a refused attempt runs no hasher"
    );
    // The same budget as login's: the right password cannot sign in either, for now.
    app.post(
        "/api/auth/login",
        None,
        login("student@test.com", "Test@1234"),
    )
    .await
    .assert_error(StatusCode::TOO_MANY_REQUESTS);
    // And a lookalike of the address draws on it too.
    app.post(
        "/api/auth/login",
        None,
        login("ＳＴＵＤＥＮＴ@test.com", "guess"),
    )
    .await
    .assert_error(StatusCode::TOO_MANY_REQUESTS);
}

/// Two nodes on one database (behind a load balancer, say) share the budgets: guesses
/// alternating between them are refused at the same count as on one node, the address's
/// and the account's alike.
async fn nodes_on_one_database_share_the_budgets(backend: Backend) {
    let a = limited(backend).await;
    let flags = [
        "--auth-rate-limit-per-ip",
        "5",
        "--auth-rate-limit-per-account",
        "3",
    ];
    let b = a.another_node(&flags).await;
    let nodes = [&a, &b];
    for n in 0..3 {
        let r = nodes[n % 2]
            .post("/api/auth/login", None, login("student@test.com", "guess"))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "guess {n}");
    }
    for node in nodes {
        node.post(
            "/api/auth/login",
            None,
            login("student@test.com", "Test@1234"),
        )
        .await
        .assert_error(StatusCode::TOO_MANY_REQUESTS);
    }
    // The address has spent 5 of its 5 (3 guesses, 2 refused tries count too).
    b.post(
        "/api/auth/login",
        None,
        login("admin@test.com", "Admin@1234"),
    )
    .await
    .assert_error(StatusCode::TOO_MANY_REQUESTS);
}

crate::both_backends! {
    nodes_on_one_database_share_the_budgets => super::nodes_on_one_database_share_the_budgets,
    password_change_guesses_share_the_accounts_login_budget => super::password_change_guesses_share_the_accounts_login_budget,
    attempts_beyond_the_account_limit_get_429_with_retry_after => super::attempts_beyond_the_account_limit_get_429_with_retry_after,
    attempts_beyond_the_address_limit_get_429 => super::attempts_beyond_the_address_limit_get_429,
}
