//! The task API through HTTP and its CLI, each test on a fresh database of both backends.

use std::sync::Arc;

use clap::Parser;
use dbkit::testing::plans::{large_tables, plan, touches, unserved, walks_from_start};
use dbkit::testing::{Backend, Fixture, TestDb};
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};
use serde_json::{Value, json};
use tasks::app::App;
use tasks::cli::Cli;
use tokio::sync::oneshot;
use webkit::metrics::Metrics;

const SECRET: &str = "test-secret-test-secret-test-secret-42";

/// A running server on its own database.
struct TestApp {
    address: String,
    client: reqwest::Client,
    db: DatabaseConnection,
    metrics: Arc<Metrics>,
    backend: Backend,
    stop: Option<oneshot::Sender<()>>,
    // Last: the server stops before its database goes.
    database: TestDb,
}

impl Fixture for TestApp {
    async fn make(backend: Backend) -> Self {
        let database = TestDb::new(backend).await;
        let args = [
            "tasks",
            "--database-url",
            &database.url,
            "--api-port",
            "0",
            "--jwt-secret",
            SECRET,
            "--app-env",
            "test",
            "--auto-migrate",
            "true",
            "--log-level",
            "warn",
            "--db-pool-size",
            "1",
            "--db-max-overflow",
            "4",
            "--auth-rate-limit-per-ip",
            "100000",
            "--auth-rate-limit-per-account",
            "100000",
            "serve",
        ];
        let settings = Cli::try_parse_from(args).expect("settings").settings;
        let app = App::build(settings).await.expect("app builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        let (db, metrics) = (app.db().clone(), app.metrics());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        Self {
            address,
            client: reqwest::Client::new(),
            db,
            metrics,
            backend,
            stop: Some(stop),
            database,
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl TestApp {
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }

    /// Registers `email`; its access token.
    async fn register(&self, email: &str) -> String {
        let body = json!({"email": email, "password": "correct horse", "name": "Someone"});
        let (status, body) = self
            .call(Method::POST, "/api/auth/register", None, Some(body))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["access_token"].as_str().expect("token").to_owned()
    }

    async fn task(&self, token: &str, title: &str) -> String {
        let (status, body) = self
            .post("/api/tasks", token, json!({"title": title}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().expect("id").to_owned()
    }

    /// The caller's logged actions, oldest first.
    async fn actions(&self, token: &str) -> Vec<String> {
        let (_, body) = self
            .get("/api/activity-logs/me?sort_order=asc&per_page=100", token)
            .await;
        body["data"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| r["action"].as_str().expect("action").to_owned())
            .collect()
    }

    fn cli(&self, args: &[&str]) -> (i32, String) {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tasks"))
            .args(["--database-url", &self.database.url, "--log-level", "warn"])
            .args(args)
            .output()
            .expect("tasks runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }
}

dbkit::both_backends! {
    async fn a_task_is_created_changed_completed_deleted_and_restored_with_its_log(app: TestApp) {
        let me = app.register("ada@example.com").await;
        let id = app.task(&me, "Write the report").await;
        let (status, task) = app.get(&format!("/api/tasks/{id}"), &me).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!((task["status"].as_str(), task["priority"].as_str()), (Some("Pending"), Some("Medium")));
        let patch = json!({"status": "Completed", "priority": "High"});
        let (status, task) = app.call(Method::PATCH, &format!("/api/tasks/{id}"), Some(&me), Some(patch)).await;
        assert_eq!(status, StatusCode::OK, "{task}");
        assert!(task["completed_at"].is_string(), "completed_at is stamped: {task}");
        let (_, task) = app.call(Method::PATCH, &format!("/api/tasks/{id}"), Some(&me), Some(json!({"status": "Pending"}))).await;
        assert!(task["completed_at"].is_null(), "reopening clears completed_at: {task}");
        let (status, _) = app.call(Method::DELETE, &format!("/api/tasks/{id}"), Some(&me), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(app.get(&format!("/api/tasks/{id}"), &me).await.0, StatusCode::NOT_FOUND);
        let (_, trash) = app.get("/api/tasks/trash", &me).await;
        assert_eq!(trash["data"][0]["id"], id.as_str());
        let (status, task) = app.post(&format!("/api/tasks/{id}/restore"), &me, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{task}");
        assert_eq!(app.get("/api/tasks/trash", &me).await.1["meta"]["total"], 0);
        assert_eq!(app.actions(&me).await, [
            "user.register", "task.create", "task.status", "task.status", "task.delete", "task.restore",
        ]);
    }

    async fn another_users_task_is_404_to_read_change_delete_and_restore(app: TestApp) {
        let mine = app.register("mine@example.com").await;
        let theirs = app.register("theirs@example.com").await;
        let id = app.task(&theirs, "Their task").await;
        let path = format!("/api/tasks/{id}");
        assert_eq!(app.get(&path, &mine).await.0, StatusCode::NOT_FOUND);
        let patch = Some(json!({"title": "Mine now"}));
        assert_eq!(app.call(Method::PATCH, &path, Some(&mine), patch).await.0, StatusCode::NOT_FOUND);
        assert_eq!(app.call(Method::DELETE, &path, Some(&mine), None).await.0, StatusCode::NOT_FOUND);
        app.call(Method::DELETE, &path, Some(&theirs), None).await;
        assert_eq!(app.post(&format!("{path}/restore"), &mine, json!({})).await.0, StatusCode::NOT_FOUND);
        assert_eq!(app.get("/api/tasks/trash", &mine).await.1["meta"]["total"], 0);
        assert_eq!(app.get("/api/tasks", &mine).await.1["meta"]["total"], 0);
    }

    async fn bad_input_is_a_422_naming_the_field_and_writes_nothing(app: TestApp) {
        let me = app.register("careful@example.com").await;
        for (body, field) in [
            (json!({"title": "  "}), "title"),
            (json!({"title": "x", "status": "Done"}), "status"),
            (json!({"title": "x", "priority": "Urgent"}), "priority"),
            (json!({"title": "x", "colour": "red"}), "colour"),
        ] {
            let (status, error) = app.post("/api/tasks", &me, body).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
            assert_eq!(error["details"]["field"], field, "{error}");
        }
        assert_eq!(app.get("/api/tasks", &me).await.1["meta"]["total"], 0);
        let (status, _) = app.get("/api/tasks?skip=10", &me).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "an unknown parameter is refused");
    }

    async fn of_two_concurrent_completions_exactly_one_wins(app: TestApp) {
        let me = app.register("racer@example.com").await;
        let id = app.task(&me, "Race").await;
        let path = format!("/api/tasks/{id}");
        let body = Some(json!({"status": "Completed"}));
        let (a, b) = tokio::join!(
            app.call(Method::PATCH, &path, Some(&me), body.clone()),
            app.call(Method::PATCH, &path, Some(&me), body.clone()),
        );
        let mut statuses = [a.0, b.0];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT], "{} / {}", a.1, b.1);
        let moves = app.actions(&me).await.iter().filter(|a| *a == "task.status").count();
        assert_eq!(moves, 1);
    }

    async fn of_two_concurrent_restores_one_brings_the_task_back_and_the_other_is_404(app: TestApp) {
        let me = app.register("restorer@example.com").await;
        let id = app.task(&me, "Back and forth").await;
        app.call(Method::DELETE, &format!("/api/tasks/{id}"), Some(&me), None).await;
        let path = format!("/api/tasks/{id}/restore");
        let (a, b) = tokio::join!(app.post(&path, &me, json!({})), app.post(&path, &me, json!({})));
        let mut statuses = [a.0, b.0];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::NOT_FOUND], "{} / {}", a.1, b.1);
        let restores = app.actions(&me).await.iter().filter(|a| *a == "task.restore").count();
        assert_eq!(restores, 1);
    }

    async fn an_address_registers_once_whatever_its_case(app: TestApp) {
        app.register("once@example.com").await;
        let body = json!({"email": "ONCE@Example.com", "password": "correct horse", "name": "Again"});
        let (status, error) = app.call(Method::POST, "/api/auth/register", None, Some(body)).await;
        assert_eq!(status, StatusCode::CONFLICT, "{error}");
        assert_eq!(error["details"]["field"], "email", "{error}");
        assert_eq!(error["error"], "an account with this email already exists");
    }

    async fn lists_filter_search_sort_and_page(app: TestApp) {
        let me = app.register("lister@example.com").await;
        for (title, status, priority) in [
            ("Buy milk", "Pending", "Low"),
            ("Write essay", "In Progress", "High"),
            ("Milk the cow", "Completed", "High"),
        ] {
            let body = json!({"title": title, "status": status, "priority": priority});
            assert_eq!(app.post("/api/tasks", &me, body).await.0, StatusCode::CREATED);
        }
        let titles = |body: &Value| -> Vec<String> {
            body["data"].as_array().expect("data").iter().map(|t| t["title"].as_str().expect("title").to_owned()).collect()
        };
        let (_, page) = app.get("/api/tasks?search=milk&sort_by=title&sort_order=asc", &me).await;
        assert_eq!(titles(&page), ["Buy milk", "Milk the cow"]);
        // Accents and case change neither what is found nor the order (the twins).
        let body = json!({"title": "Éclair for the café", "status": "Pending", "priority": "Low"});
        assert_eq!(app.post("/api/tasks", &me, body).await.0, StatusCode::CREATED);
        let (_, page) = app.get("/api/tasks?search=CAFE", &me).await;
        assert_eq!(titles(&page), ["Éclair for the café"]);
        let (_, page) = app.get("/api/tasks?sort_by=title&sort_order=asc", &me).await;
        assert_eq!(titles(&page), ["Buy milk", "Éclair for the café", "Milk the cow", "Write essay"]);
        let (_, page) = app.get("/api/tasks?search=e%CC%81clair", &me).await;
        assert_eq!(titles(&page), ["Éclair for the café"]);
        let (_, page) = app.get("/api/tasks?priority=High&status=Completed", &me).await;
        assert_eq!(titles(&page), ["Milk the cow"]);
        let (_, page) = app.get("/api/tasks?per_page=3&page=2", &me).await;
        assert_eq!((page["meta"]["total"].as_u64(), titles(&page).len()), (Some(4), 1));
        let (_, first) = app.get("/api/tasks?per_page=2&cursor=", &me).await;
        let next = first["meta"]["next_cursor"].as_str().expect("a next page").to_owned();
        let (_, second) = app.get(&format!("/api/tasks?per_page=2&cursor={next}"), &me).await;
        assert_eq!(titles(&first).len() + titles(&second).len(), 4);
        assert!(second["meta"]["next_cursor"].is_null());
    }

    async fn the_cli_migrates_seeds_and_verifies_the_database(app: TestApp) {
        let (code, out) = app.cli(&["migrate", "status"]);
        assert_eq!(code, 0, "{out}");
        assert!(out.lines().all(|l| l.starts_with("applied")), "{out}");
        assert_eq!(app.cli(&["seed"]).0, 0);
        let (code, out) = app.cli(&["seed"]);
        assert_eq!((code, out.trim()), (0, "seeded: nothing to do"));
        let (code, out) = app.cli(&["verify"]);
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("audit chain: ok"), "{out}");
        let demo = json!({"email": "demo@tasks.example", "password": "Demo@1234"});
        let (status, tokens) = app.call(Method::POST, "/api/auth/login", None, Some(demo)).await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        let token = tokens["access_token"].as_str().expect("token");
        assert_eq!(app.get("/api/tasks", token).await.1["meta"]["total"], 3);
    }

    async fn every_list_is_served_by_an_index(app: TestApp) {
        let me = app.register("planner@example.com").await;
        for title in ["One", "Two", "Three"] {
            let id = app.task(&me, title).await;
            if title == "Three" {
                app.call(Method::DELETE, &format!("/api/tasks/{id}"), Some(&me), None).await;
            }
        }
        let postgres = app.backend == Backend::Postgres;
        let large = if postgres { volume(&app.db).await } else { Vec::new() };
        let mut lists = Vec::new();
        for base in ["/api/tasks?", "/api/tasks/trash?", "/api/activity-logs/me?"] {
            lists.push(format!("{base}per_page=2"));
            let (_, first) = app.get(&format!("{base}per_page=1&cursor="), &me).await;
            if let Some(next) = first["meta"]["next_cursor"].as_str() {
                lists.push(format!("{base}per_page=1&cursor={next}"));
            }
        }
        for filter in ["status=Pending", "status=In%20Progress&priority=High", "search=on", "sort_by=title&sort_order=asc"] {
            lists.push(format!("/api/tasks?{filter}&per_page=2"));
        }
        let mut failures = Vec::new();
        let mut planned = 0;
        for list in &lists {
            app.metrics.capture();
            let (status, body) = app.get(list, &me).await;
            assert_eq!(status, StatusCode::OK, "{list}: {body}");
            for statement in app.metrics.take_captured().iter().filter(|s| s.sql.trim_start().starts_with("SELECT")) {
                let lines = plan(&app.db, statement).await;
                planned += 1;
                let judged = !postgres || touches(&lines, &large);
                let from_start = list.contains("cursor=") && !list.ends_with("cursor=") && walks_from_start(&lines, &statement.sql);
                if judged && (unserved(&lines) || from_start) {
                    failures.push(format!("GET {list}\n  {}\n  {}", statement.sql, lines.join("\n  ")));
                }
            }
        }
        assert!(failures.is_empty(), "served by no index:\n{}", failures.join("\n"));
        // Each of the 10 lists runs its page (and a count for offset pages) after loading
        // the caller.
        assert!(planned >= 18, "only {planned} statements planned");
    }
}

/// PostgreSQL plans by its statistics: on a handful of rows it sorts in memory rather than
/// walk an index. Its proof runs on 20,000 tasks of 200 users (with their log rows),
/// analysed; the tables that are large then are the ones judged.
async fn volume(db: &DatabaseConnection) -> Vec<String> {
    for sql in [
        "INSERT INTO users (id, email, name, password_hash, created_at, updated_at) \
         SELECT gen_random_uuid(), 'bulk' || n || '@example.com', 'Bulk', 'x', now(), now() \
         FROM generate_series(1, 200) n",
        // The title's twin by hand: an ASCII title folds to its lower case.
        "INSERT INTO tasks (id, user_id, title, title_fold, status, priority, created_at, updated_at) \
         SELECT gen_random_uuid(), u.id, 'Bulk task ' || n, 'bulk task ' || n, 'Pending', 'Low', \
         now() - n * interval '1 minute', now() \
         FROM users u CROSS JOIN generate_series(1, 100) n WHERE u.email LIKE 'bulk%'",
        "INSERT INTO activity_logs (id, user_id, action, details, status, created_at) \
         SELECT gen_random_uuid(), user_id, 'task.create', '{}', 'success', created_at FROM tasks",
    ] {
        db.execute_unprepared(sql).await.expect(sql);
    }
    assert_eq!(db.get_database_backend(), DbBackend::Postgres);
    large_tables(db).await
}
