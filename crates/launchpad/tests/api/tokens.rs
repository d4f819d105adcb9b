//! Forged, stale and misused tokens all answer 401 with `WWW-Authenticate`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{JWT_SECRET, TestApp};

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Claims the server would issue for `sub`, to be bent one way or another.
fn claims(sub: &str) -> Value {
    json!({"sub": sub, "ver": 0, "iat": now(), "exp": now() + 600, "iss": "launchpad", "aud": "launchpad-api"})
}

fn sign(alg: Algorithm, claims: &Value) -> String {
    encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .expect("sign")
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

async fn assert_refused(app: &TestApp, token: &str, what: &str) {
    let r = app.get("/api/users/me", Some(token)).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "{what} was accepted: {}",
        r.body
    );
    let challenge = r
        .headers
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok());
    assert!(
        challenge.is_some_and(|c| c.starts_with("Bearer")),
        "{what}: no WWW-Authenticate"
    );
}

/// Waits (at most 2 s) until `token` is refused.
async fn eventually_refused(app: &TestApp, token: &str) {
    let started = std::time::Instant::now();
    while app.get("/api/users/me", Some(token)).await.status == StatusCode::OK {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "still accepted after 2 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    println!("refused {:?} after the change", started.elapsed());
}

/// What `GET /api/users/me` with `token` costs in statements.
async fn me_costs(app: &TestApp, token: &str) -> u64 {
    let before = app.metrics.statements();
    assert_eq!(
        app.get("/api/users/me", Some(token)).await.status,
        StatusCode::OK
    );
    app.metrics.statements() - before
}

/// Whether the server comes to answer `token` from its cache (no statement at all):
/// other tests' writes in this process drop the cache too, so it tries for a while.
async fn cached(app: &TestApp, token: &str) -> bool {
    let started = std::time::Instant::now();
    loop {
        me_costs(app, token).await;
        if me_costs(app, token).await == 0 {
            return true;
        }
        if started.elapsed() > std::time::Duration::from_secs(5) {
            return false;
        }
    }
}

both_backends! {
    async fn a_known_token_reads_no_user_on_postgres_until_a_write_here_changes_anything(app: TestApp) {
        let s = app.register("cached@example.com").await;
        // PostgreSQL caches the user (its listener is connected); SQLite never does.
        let postgres = app.backend == crate::helpers::Backend::Postgres;
        assert_eq!(cached(&app, &s.access).await, postgres);
        // A logout through this server ends the token at once: no waiting for anything.
        app.post("/api/auth/logout", s.token(), json!({"refresh_token": s.refresh})).await;
        assert_refused(&app, &s.access, "a token after its logout").await;
    }

    async fn forged_and_malformed_access_tokens_are_refused(app: TestApp) {
        let s = app.register("forge@example.com").await;
        let sub = s.user_id.expect("id").to_string();
        let good = sign(Algorithm::HS256, &claims(&sub));
        assert_eq!(app.get("/api/users/me", Some(&good)).await.status, StatusCode::OK, "the control token works");

        let parts: Vec<&str> = good.split('.').collect();
        let other = app.register("victim@example.com").await.user_id.expect("id").to_string();
        let mut cases: Vec<(String, &str)> = vec![
            (format!("{}.{}.", b64(&json!({"alg": "none", "typ": "JWT"})), parts[1]), "alg none"),
            (sign(Algorithm::HS384, &claims(&sub)), "another algorithm (HS384)"),
            (format!("{}.{}.{}", parts[0], b64(&claims(&other)), parts[2]), "tampered claims"),
            (format!("{}.{}.", parts[0], parts[1]), "stripped signature"),
            (format!("{}.{}.{}", parts[0], parts[1], &parts[2][..parts[2].len() - 6]), "truncated signature"),
            (good[..good.len() / 2].to_owned(), "half a token"),
            (s.refresh.clone(), "a refresh token"),
        ];
        let mut bent = |edit: &dyn Fn(&mut Value), what: &'static str| {
            let mut c = claims(&sub);
            edit(&mut c);
            cases.push((sign(Algorithm::HS256, &c), what));
        };
        bent(&|c| drop(c.as_object_mut().map(|o| o.remove("exp"))), "missing exp");
        bent(&|c| c["exp"] = json!("tomorrow"), "exp of the wrong type");
        bent(&|c| c["exp"] = json!(now() - 120), "expired");
        bent(&|c| c["iss"] = json!("someone-else"), "wrong issuer");
        bent(&|c| drop(c.as_object_mut().map(|o| o.remove("iss"))), "missing issuer");
        bent(&|c| c["aud"] = json!("another-api"), "wrong audience");
        bent(&|c| c["sub"] = json!("not-a-uuid"), "malformed subject");
        bent(&|c| c["ver"] = json!(1), "a version the account never had");
        let wrong_key = encode(&Header::new(Algorithm::HS256), &claims(&sub), &EncodingKey::from_secret(b"not-the-server-secret-not-the-server"));
        cases.push((wrong_key.expect("sign"), "another secret"));
        for (token, what) in &cases {
            assert_refused(&app, token, what).await;
        }
        assert_eq!(app.get("/api/users/me", Some(&good)).await.status, StatusCode::OK);
    }

    async fn tokens_of_deleted_or_deactivated_accounts_are_refused(app: TestApp) {
        let gone = app.register("gone2@example.com").await;
        app.delete("/api/users/me", gone.token()).await;
        assert_refused(&app, &gone.access, "a deleted account's token").await;

        let off = app.register("off@example.com").await;
        let id = off.user_id.expect("id");
        // Known to the server (and so, on PostgreSQL, cached) before the change.
        let postgres = app.backend == crate::helpers::Backend::Postgres;
        assert_eq!(cached(&app, &off.access).await, postgres);
        let sql = if app.backend == crate::helpers::Backend::Postgres {
            format!("UPDATE users SET is_active = false WHERE id = '{id}'")
        } else {
            format!("UPDATE users SET is_active = 0 WHERE id = x'{}'", id.simple())
        };
        app.db.execute_unprepared(&sql).await.expect("deactivate");
        // A change behind the server's back reaches its cache when PostgreSQL's
        // notification arrives (milliseconds); SQLite reads the user every time.
        eventually_refused(&app, &off.access).await;
        assert_refused(&app, &off.access, "a deactivated account's token").await;
        app.post("/api/auth/refresh", None, json!({"refresh_token": off.refresh})).await
            .assert_error(StatusCode::UNAUTHORIZED);
    }

    async fn logout_and_password_change_end_earlier_access_tokens(app: TestApp) {
        let s = app.register("rotate@example.com").await;
        let other_device = app.login("rotate@example.com", "Passw0rd!").await;
        app.post("/api/auth/logout", None, json!({"refresh_token": s.refresh})).await;
        assert_refused(&app, &s.access, "a token issued before logout").await;
        assert_refused(&app, &other_device.access, "another device's token after logout").await;
        // The other device's session is not over: it refreshes and carries on.
        let r = app.post("/api/auth/refresh", None, json!({"refresh_token": other_device.refresh})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let fresh = r.body["access_token"].as_str().expect("token").to_owned();
        assert_eq!(app.get("/api/users/me", Some(&fresh)).await.status, StatusCode::OK);

        let wrong = app.post("/api/users/me/password", Some(&fresh), json!({"current_password": "nope-nope", "new_password": "N3w-passw0rd"})).await;
        wrong.assert_error(StatusCode::FORBIDDEN);
        assert_eq!(wrong.body["details"]["field"], "current_password");
        let r = app.post("/api/users/me/password", Some(&fresh), json!({"current_password": "Passw0rd!", "new_password": "N3w-passw0rd"})).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        assert_refused(&app, &fresh, "a token issued before the password change").await;
        app.post("/api/auth/login", None, json!({"email": "rotate@example.com", "password": "Passw0rd!"})).await
            .assert_error(StatusCode::UNAUTHORIZED);
        let back = app.login("rotate@example.com", "N3w-passw0rd").await;
        assert_eq!(app.get("/api/users/me", back.token()).await.status, StatusCode::OK);
        assert_eq!(app.activity("user.password_change").await.len(), 1);
    }

    async fn two_concurrent_refreshes_with_one_token_give_exactly_one_success(app: TestApp) {
        for round in 0..3 {
            let s = app.register(&format!("race{round}@example.com")).await;
            let body = json!({"refresh_token": s.refresh});
            let (a, b) = tokio::join!(
                app.post("/api/auth/refresh", None, body.clone()),
                app.post("/api/auth/refresh", None, body.clone()),
            );
            let wins = [a.status, b.status].iter().filter(|st| **st == StatusCode::OK).count();
            assert_eq!(wins, 1, "round {round}: {} and {}", a.status, b.status);
        }
    }
}
