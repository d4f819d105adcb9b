use reqwest::StatusCode;
use serde_json::json;

use crate::both_backends;

both_backends! {
    async fn register_returns_tokens_and_the_user_and_logs_it(app: TestApp) {
        let r = app.post("/api/auth/register", None, json!({
            "email": "Ada@Example.com", "password": "Passw0rd!", "name": "Ada Lovelace"
        })).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.body["token_type"], "bearer");
        assert_eq!(r.body["expires_in"], 15 * 60);
        assert_eq!(r.body["user"]["email"], "ada@example.com");
        assert!(r.body["user"].get("password_hash").is_none());
        let logged = app.activity("user.register").await;
        assert_eq!(logged.len(), 1);
        assert_eq!(logged[0].entity_id.map(|id| id.to_string()).as_deref(), r.body["user"]["id"].as_str());
    }

    async fn duplicate_email_is_409_whatever_its_case_and_writes_nothing(app: TestApp) {
        app.register("dup@example.com").await;
        let r = app.post("/api/auth/register", None, json!({
            "email": "DUP@example.com", "password": "Passw0rd!", "name": "Someone Else"
        })).await;
        r.assert_error(StatusCode::CONFLICT);
        assert_eq!(r.body["details"]["field"], "email");
        assert_eq!(app.activity("user.register").await.len(), 1);
    }

    async fn login_failures_share_one_message_and_are_logged(app: TestApp) {
        app.register("eve@example.com").await;
        let wrong = app.post("/api/auth/login", None, json!({"email": "eve@example.com", "password": "nope-nope"})).await;
        let unknown = app.post("/api/auth/login", None, json!({"email": "who@example.com", "password": "nope-nope"})).await;
        wrong.assert_error(StatusCode::UNAUTHORIZED);
        unknown.assert_error(StatusCode::UNAUTHORIZED);
        assert_eq!(wrong.body["error"], unknown.body["error"]);
        let failed = app.activity("auth.login_failed").await;
        assert_eq!(failed.len(), 2);
        assert!(failed.iter().all(|row| row.status == "failed"));
        assert!(failed[0].entity_id.is_some(), "a known account is named");
        assert!(failed[1].entity_id.is_none());
    }

    async fn refresh_rotates_and_reuse_revokes_the_whole_family(app: TestApp) {
        let first = app.register("rot@example.com").await;
        let r = app.post("/api/auth/refresh", None, json!({"refresh_token": first.refresh})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let second = r.body["refresh_token"].as_str().expect("new token").to_owned();
        assert_ne!(second, first.refresh);
        // The old token comes back: a copy exists somewhere. Both must now be dead.
        app.post("/api/auth/refresh", None, json!({"refresh_token": first.refresh})).await
            .assert_error(StatusCode::UNAUTHORIZED);
        app.post("/api/auth/refresh", None, json!({"refresh_token": second})).await
            .assert_error(StatusCode::UNAUTHORIZED);
        // Each presentation of a revoked token is a logged reuse; the first revoked the family.
        let reuse = app.activity("auth.refresh_reuse").await;
        assert_eq!(reuse.len(), 2);
        assert_eq!(reuse[0].details["revoked"], 1);
        assert_eq!(reuse[1].details["revoked"], 0);
    }

    async fn logout_ends_the_session(app: TestApp) {
        let s = app.register("bye@example.com").await;
        let r = app.post("/api/auth/logout", None, json!({"refresh_token": s.refresh})).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        app.post("/api/auth/refresh", None, json!({"refresh_token": s.refresh})).await
            .assert_error(StatusCode::UNAUTHORIZED);
        // Logging out again is harmless.
        let again = app.post("/api/auth/logout", None, json!({"refresh_token": s.refresh})).await;
        assert_eq!(again.status, StatusCode::NO_CONTENT);
        assert_eq!(app.activity("auth.logout").await.len(), 1);
    }

    async fn bad_or_missing_access_tokens_are_401(app: TestApp) {
        app.get("/api/users/me", None).await.assert_error(StatusCode::UNAUTHORIZED);
        app.get("/api/users/me", Some("not.a.jwt")).await.assert_error(StatusCode::UNAUTHORIZED);
        let s = app.register("tok@example.com").await;
        let tampered = format!("{}x", s.access);
        app.get("/api/users/me", Some(&tampered)).await.assert_error(StatusCode::UNAUTHORIZED);
        assert_eq!(app.get("/api/users/me", s.token()).await.status, StatusCode::OK);
    }

    async fn secrets_never_reach_the_activity_log(app: TestApp) {
        let password = "Canary-Passw0rd-7731";
        let r = app.post("/api/auth/register", None, json!({
            "email": "canary@example.com", "password": password, "name": "Canary"
        })).await;
        let refresh = r.body["refresh_token"].as_str().expect("token").to_owned();
        app.post("/api/auth/login", None, json!({"email": "canary@example.com", "password": "wrong-canary"})).await;
        app.post("/api/auth/refresh", None, json!({"refresh_token": refresh})).await;
        let rows = launchpad::entity::activity_logs::Entity::find().all(&app.db).await.expect("rows");
        assert!(rows.len() >= 3);
        let dump = format!("{rows:?}");
        for secret in [password, "wrong-canary", refresh.as_str(), "argon2"] {
            assert!(!dump.contains(secret), "{secret} leaked into the activity log");
        }
    }
}

use sea_orm::EntityTrait;
