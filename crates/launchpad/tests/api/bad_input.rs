use reqwest::StatusCode;
use serde_json::json;

use crate::both_backends;

both_backends! {
    async fn malformed_bodies_are_4xx_and_write_nothing(app: TestApp) {
        let url = format!("{}/api/auth/register", app.address);
        let send = |body: &'static str, content_type: &'static str| {
            app.client.post(&url).header("content-type", content_type).body(body).send()
        };
        let cases = [
            (send("{\"email\":", "application/json").await, StatusCode::BAD_REQUEST),
            (send("not json", "application/json").await, StatusCode::BAD_REQUEST),
            (send("{}", "text/plain").await, StatusCode::UNSUPPORTED_MEDIA_TYPE),
            (send("{\"email\": 5, \"password\": \"x\", \"name\": \"y\"}", "application/json").await, StatusCode::UNPROCESSABLE_ENTITY),
            (send("{\"email\": \"a@b.co\"}", "application/json").await, StatusCode::UNPROCESSABLE_ENTITY),
            (send("[1, 2, 3]", "application/json").await, StatusCode::UNPROCESSABLE_ENTITY),
        ];
        for (response, status) in cases {
            let response = response.expect("sent");
            assert_eq!(response.status(), status);
            let body: serde_json::Value = response.json().await.expect("json error body");
            assert!(body["error"].is_string() && body["request_id"].is_string(), "{body}");
        }
        assert!(app.activity("user.register").await.is_empty());
    }

    async fn invalid_registrations_are_422_naming_the_field(app: TestApp) {
        let long = "x".repeat(10_000);
        for (body, field) in [
            (json!({"email": "nope", "password": "Passw0rd!", "name": "Al"}), "email"),
            (json!({"email": format!("{long}@example.com"), "password": "Passw0rd!", "name": "Al"}), "email"),
            (json!({"email": "a@example.com", "password": "short", "name": "Al"}), "password"),
            (json!({"email": "a@example.com", "password": long, "name": "Al"}), "password"),
            (json!({"email": "a@example.com", "password": "Passw0rd!", "name": "A"}), "name"),
            (json!({"email": "a@example.com", "password": "Passw0rd!", "name": long}), "name"),
            (json!({"email": "a@example.com", "password": "Passw0rd!", "name": "Al", "phone": "x"}), "phone"),
        ] {
            let r = app.post("/api/auth/register", None, body).await;
            r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(r.body["details"]["field"], field);
        }
        let r = app.post("/api/auth/register", None, json!({
            "email": "a@example.com", "password": "Passw0rd!", "name": "Al", "is_admin": true
        })).await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(app.activity("user.register").await.is_empty());
    }

    async fn oversized_bodies_are_413(app: TestApp) {
        let huge = "x".repeat(2 * 1024 * 1024);
        let r = app.post("/api/auth/login", None, json!({"email": huge, "password": "x"})).await;
        r.assert_error(StatusCode::PAYLOAD_TOO_LARGE);
    }
}
