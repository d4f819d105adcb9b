//! No secret leaks: the real binary, logging at `debug`, runs every flow that handles a
//! password or a token with canary values, and none of them turns up in a log line, an
//! activity-log row or a response body (other than the one that issued the token). An error
//! from deep in the database says nothing of SQL, files or stack traces.

use std::process::Stdio;

use launchpad::entity::activity_logs;
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;

use crate::helpers::{Backend, JWT_SECRET, TestDb};
use crate::process::{TempDir, bare, free_port, until_serving};

const FIRST_PASSWORD: &str = "Canary-Pw-1-q7Zx!";
const SECOND_PASSWORD: &str = "Canary-Pw-2-k4Wv!";
const WRONG_PASSWORD: &str = "Canary-Wrong-9pLm!";

/// The real server, with its log output collected.
struct Server {
    child: tokio::process::Child,
    base: String,
    logs: tokio::task::JoinHandle<String>,
    client: reqwest::Client,
    /// Every response body so far, with the request that got it.
    bodies: Vec<(String, String)>,
    _dir: TempDir,
}

impl Server {
    async fn start(db: &TestDb) -> Self {
        let dir = TempDir::new();
        let port = free_port().to_string();
        let uploads = dir.path().join("uploads").display().to_string();
        let mut child = bare(dir.path())
            .args(["--jwt-secret", JWT_SECRET, "--database-url", &db.url])
            .args([
                "--log-level",
                "debug",
                "--app-env",
                "test",
                "--auto-migrate",
                "true",
            ])
            .args(["--upload-dir", &uploads, "--db-pool-size", "2"])
            .args(["--api-port", &port, "serve"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("launchpad starts");
        // Read both pipes as the server writes, so a full pipe never blocks it.
        let (mut out, mut err) = (
            child.stdout.take().expect("stdout"),
            child.stderr.take().expect("stderr"),
        );
        let logs = tokio::spawn(async move {
            let (mut a, mut b) = (String::new(), String::new());
            let _ = tokio::join!(out.read_to_string(&mut a), err.read_to_string(&mut b));
            a + &b
        });
        until_serving(&mut child, &port).await;
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            logs,
            client: reqwest::Client::new(),
            bodies: Vec::new(),
            _dir: dir,
        }
    }

    /// Sends a request and keeps its body; the status and the body as JSON.
    async fn call(
        &mut self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        self.keep(format!("{method} {path}"), req).await
    }

    async fn keep(&mut self, label: String, req: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let r = req.send().await.expect("sent");
        let status = r.status();
        let text = r.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        self.bodies.push((label, text));
        (status, json)
    }

    /// Stops the server (SIGTERM) and returns everything it logged.
    async fn stop(mut self) -> (String, Vec<(String, String)>) {
        let pid = self.child.id().expect("still running").to_string();
        let killed = tokio::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .expect("run kill");
        assert!(killed.success());
        let waited = tokio::time::timeout(std::time::Duration::from_secs(10), self.child.wait());
        waited.await.expect("stops within 10 s").expect("wait");
        (self.logs.await.expect("logs"), self.bodies)
    }
}

/// The access token's signature: the part that makes it a credential.
fn signature(token: &str) -> String {
    token.rsplit('.').next().expect("a JWT").to_owned()
}

fn token(body: &Value, field: &str) -> String {
    body[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} in {body}"))
        .to_owned()
}

/// The answers that hand out tokens: the only bodies a token may appear in. (Two access
/// tokens for one account issued within the same second are the same token, so one can
/// appear in more than one of them.)
const ISSUERS: [&str; 3] = [
    "POST /api/auth/register",
    "POST /api/auth/login",
    "POST /api/auth/refresh",
];

/// Records the tokens of a session answer as canaries (`true`: a token); the access token.
fn issued(canaries: &mut Vec<(String, bool)>, body: &Value) -> String {
    let access = token(body, "access_token");
    canaries.push((signature(&access), true));
    canaries.push((token(body, "refresh_token"), true));
    access
}

async fn body(backend: Backend) {
    let db = TestDb::new(backend).await;
    let mut server = Server::start(&db).await;
    // Each canary, and whether it is a token (which its issuing answers hold).
    let mut canaries: Vec<(String, bool)> = [FIRST_PASSWORD, SECOND_PASSWORD, WRONG_PASSWORD]
        .map(|p| (p.to_owned(), false))
        .to_vec();
    let login = |password: &str| json!({"email": "canary@example.com", "password": password});
    let post = Method::POST;

    let register =
        json!({"email": "canary@example.com", "password": FIRST_PASSWORD, "name": "Canary Bird"});
    let (status, registered) = server
        .call(post.clone(), "/api/auth/register", None, Some(register))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{registered}");
    issued(&mut canaries, &registered);
    let (status, failed) = server
        .call(
            post.clone(),
            "/api/auth/login",
            None,
            Some(login(WRONG_PASSWORD)),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{failed}");
    let (status, session) = server
        .call(
            post.clone(),
            "/api/auth/login",
            None,
            Some(login(FIRST_PASSWORD)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    issued(&mut canaries, &session);
    let refresh = json!({"refresh_token": token(&session, "refresh_token")});
    let (status, rotated) = server
        .call(
            post.clone(),
            "/api/auth/refresh",
            None,
            Some(refresh.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let access = issued(&mut canaries, &rotated);

    let (status, me) = server
        .call(Method::GET, "/api/users/me", Some(&access), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    let (status, project) = server
        .call(
            post.clone(),
            "/api/projects",
            Some(&access),
            Some(json!({"title": "Canary"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{project}");
    let form = reqwest::multipart::Form::new()
        .text("kind", "project")
        .part(
            "file",
            crate::files::file_part(crate::files::pdf(), "canary.pdf", crate::files::PDF_TYPE),
        );
    let upload = server
        .client
        .post(format!(
            "{}/api/projects/{}/files",
            server.base,
            token(&project, "id")
        ))
        .bearer_auth(&access)
        .multipart(form);
    let (status, file) = server.keep("upload".into(), upload).await;
    assert_eq!(status, StatusCode::CREATED, "{file}");

    let change = json!({"current_password": FIRST_PASSWORD, "new_password": SECOND_PASSWORD});
    let (status, _) = server
        .call(
            post.clone(),
            "/api/users/me/password",
            Some(&access),
            Some(change),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = server
        .call(Method::GET, "/api/users/me", Some(&access), None)
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "access tokens end with a password change"
    );
    // The rotated-away refresh token, reused: refused.
    let (status, _) = server
        .call(post.clone(), "/api/auth/refresh", None, Some(refresh))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, last) = server
        .call(
            post.clone(),
            "/api/auth/login",
            None,
            Some(login(SECOND_PASSWORD)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{last}");
    issued(&mut canaries, &last);
    let logout = json!({"refresh_token": token(&last, "refresh_token")});
    let (status, _) = server
        .call(post.clone(), "/api/auth/logout", None, Some(logout))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // A failure deep in the database: the table a handler reads is gone, which
    // the server reports as a schema it cannot serve (503), leaking nothing.
    let conn = db.connect().await;
    conn.execute_unprepared("ALTER TABLE meetings RENAME TO meetings_gone")
        .await
        .expect("rename");
    let admin = json!({"email": "admin@test.com", "password": "Admin@1234"});
    let (_, admin) = server
        .call(post, "/api/auth/login", None, Some(admin))
        .await;
    let (status, broken) = server
        .call(
            Method::GET,
            "/api/meetings",
            Some(&token(&admin, "access_token")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{broken}");
    assert_eq!(broken["error"], "service temporarily unavailable");
    assert_eq!(broken["details"], json!({}));
    let text = broken.to_string();
    for leak in [
        "SELECT",
        "select ",
        "FROM",
        "meetings_",
        "relation",
        "no such table",
        ".rs",
        "src/",
        "/tmp",
        "panicked",
        "backtrace",
        "stack",
        "sqlx",
        "sea_orm",
    ] {
        assert!(!text.contains(leak), "an error body holds {leak:?}: {text}");
    }

    let rows = activity_logs::Entity::find()
        .into_json()
        .all(&conn)
        .await
        .expect("activity log");
    assert!(rows.len() >= 8, "the flows were logged: {rows:#?}");
    let rows: Vec<String> = rows.iter().map(Value::to_string).collect();
    let (logs, bodies) = server.stop().await;
    assert!(logs.lines().count() > 20, "debug logging was on:\n{logs}");
    for (canary, is_token) in &canaries {
        if let Some(line) = logs.lines().find(|l| l.contains(canary.as_str())) {
            panic!("{canary} logged: {line}");
        }
        if let Some(row) = rows.iter().find(|r| r.contains(canary.as_str())) {
            panic!("{canary} in the activity log: {row}");
        }
        let shown_by: Vec<&str> = bodies
            .iter()
            .filter(|(_, body)| body.contains(canary.as_str()))
            .map(|(label, _)| label.as_str())
            .collect();
        assert!(
            shown_by.iter().all(|l| *is_token && ISSUERS.contains(l)),
            "{canary} answered by {shown_by:?}"
        );
    }
    println!(
        "{} canaries, {} log lines, {} activity rows, {} response bodies: none leaked",
        canaries.len(),
        logs.lines().count(),
        rows.len(),
        bodies.len()
    );
}

crate::both_backends! {
    canary_passwords_and_tokens_appear_in_no_log_activity_row_or_other_response => super::body,
}
