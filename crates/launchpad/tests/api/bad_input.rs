use reqwest::StatusCode;
use serde_json::json;

use crate::both_backends;
use crate::helpers::TestApp;

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

/// Sends the head of a request and half of its `body`, then waits, sending nothing more:
/// a client too slow to finish. Returns the answer's status and JSON body.
async fn stalled_request(
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, serde_json::Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.expect("connect");
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("send head");
    stream
        .write_all(&body[..body.len() / 2])
        .await
        .expect("send half the body");
    stream.flush().await.expect("flush");
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(20),
        stream.read_to_end(&mut answer),
    )
    .await
    .expect("the server answers a stalled request by itself")
    .expect("read the answer");
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let (_, json) = text.split_once("\r\n\r\n").expect("a head and a body");
    (
        status,
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json:?}")),
    )
}

/// With `REQUEST_TIMEOUT_SECS=2`, a JSON body and an upload that never finish arriving
/// are answered 408 in the error shape, and neither writes anything.
mod a_request_whose_body_arrives_too_slowly_is_408_and_writes_nothing {
    use super::*;
    use crate::files::{file_rows, pdf, project, stored};
    use crate::helpers::Backend;

    async fn body(backend: Backend) {
        let app = TestApp::spawn_with(backend, &["--request-timeout-secs", "2"]).await;
        let s = app.register("slow@example.com").await;
        let p = project(&app, s.token(), "Slow").await;
        let register =
            json!({"email": "late@example.com", "password": "Passw0rd!", "name": "Late"});
        let register = register.to_string();
        let boundary = "launchpad-slow-boundary";
        let mut form = format!(
            "--{boundary}\r\ncontent-disposition: form-data; name=\"kind\"\r\n\r\nproject\r\n\
             --{boundary}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\
             content-type: application/pdf\r\n\r\n"
        )
        .into_bytes();
        let mut file = pdf();
        file.resize(256 * 1024, b' ');
        form.extend_from_slice(&file);
        form.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let form_type = format!("multipart/form-data; boundary={boundary}");
        let auth = format!("Bearer {}", s.access);
        let upload_path = format!("/api/projects/{p}/files");
        let upload_headers = [
            ("content-type", form_type.as_str()),
            ("authorization", auth.as_str()),
        ];
        let started = std::time::Instant::now();
        let (json_answer, upload_answer) = tokio::join!(
            stalled_request(
                &app,
                "/api/auth/register",
                &[("content-type", "application/json")],
                register.as_bytes()
            ),
            stalled_request(&app, &upload_path, &upload_headers, &form),
        );
        let waited = started.elapsed();
        assert!(
            waited >= std::time::Duration::from_secs(2),
            "answered after {waited:?}"
        );
        for (status, body) in [json_answer, upload_answer] {
            assert_eq!(status, 408, "{body}");
            assert_eq!(body["error"], "request timeout", "{body}");
            assert!(
                body["request_id"].is_string() && body["path"].is_string(),
                "{body}"
            );
        }
        assert_eq!(
            app.activity("user.register").await.len(),
            1,
            "only slow@ registered"
        );
        assert_eq!(file_rows(&app).await, 0);
        // The half-received upload's temporary file is removed.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !stored(&app).is_empty() {
            assert!(
                std::time::Instant::now() < deadline,
                "left behind: {:?}",
                stored(&app)
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    crate::both_backends!(@tests body);
}
