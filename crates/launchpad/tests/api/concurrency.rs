//! One winner per state change, under concurrency. Every state-changing operation of the
//! OpenAPI document is sent N times at once (released together) on fresh rows, and held
//! against the same N requests sent one after another on other fresh rows: as many
//! successes, the same activity-log rows per action, the same rows live and in the trash
//! per table, never a 5xx — and the log's hash chain verifies afterwards. Operations come
//! from the document, so a new one fails here until it has a recipe.

use std::collections::BTreeMap;
use std::sync::Arc;

use launchpad::tables::REGISTRY;
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use tokio::sync::Barrier;
use uuid::Uuid;

use crate::both_backends;
use crate::helpers::{Response, Session, TestApp};

/// Identical requests per operation.
const N: usize = 8;

/// What a request carries.
#[derive(Clone)]
enum Body {
    None,
    Json(Value),
    /// A multipart form: these text fields and a PDF in `file`.
    Form(Vec<(&'static str, String)>),
}

/// One request, ready to send N times.
#[derive(Clone)]
struct Call {
    method: Method,
    path: String,
    token: Option<String>,
    body: Body,
}

impl Call {
    async fn send(&self, app: &TestApp) -> Response {
        match &self.body {
            Body::Form(fields) => {
                let mut form = reqwest::multipart::Form::new();
                for (name, value) in fields {
                    form = form.text(*name, value.clone());
                }
                let pdf = crate::files::file_part(crate::files::pdf(), "c.pdf", "application/pdf");
                let form = form.part("file", pdf);
                crate::files::send_form(app, &self.path, self.token.as_deref(), form).await
            }
            Body::Json(body) => {
                let token = self.token.as_deref();
                let body = Some(body.clone());
                app.request(self.method.clone(), &self.path, token, body)
                    .await
            }
            Body::None => {
                app.request(self.method.clone(), &self.path, self.token.as_deref(), None)
                    .await
            }
        }
    }
}

/// Fresh rows for one run: a student owning one of everything, a second account to
/// delete or erase, and a plan and a service of its own.
struct World {
    tag: String,
    student: Session,
    victim: Session,
    admin: String,
    ids: BTreeMap<&'static str, String>,
}

impl World {
    async fn create(app: &TestApp, admin: &Session) -> Self {
        let tag = Uuid::now_v7().simple().to_string()[20..].to_owned();
        let student = app.register(&format!("s-{tag}@example.com")).await;
        let victim = app.register(&format!("v-{tag}@example.com")).await;
        let mut world = Self {
            tag,
            student,
            victim,
            admin: admin.access.clone(),
            ids: BTreeMap::new(),
        };
        let (tag, admin) = (world.tag.clone(), world.admin.clone());
        let admin = Some(admin.as_str());
        let plan = json!({"name": format!("Plan {tag}"), "price": 1000, "max_projects": 1, "support_level": "Basic"});
        world
            .make("plan", "/api/admin/plans", admin, plan, app)
            .await;
        let service = json!({"name": format!("Service {tag}"), "price": 500});
        world
            .make("service", "/api/admin/services", admin, service, app)
            .await;
        let own = Some(world.student.access.clone());
        let own = own.as_deref();
        world
            .make(
                "project",
                "/api/projects",
                own,
                json!({"title": "A project"}),
                app,
            )
            .await;
        let project = world.ids["project"].clone();
        let meeting = json!({"topic": "A meeting", "project_id": project});
        world
            .make("meeting", "/api/meetings", own, meeting, app)
            .await;
        let request = json!({"request_type": "help", "message": "A request"});
        world
            .make("request", "/api/requests", own, request, app)
            .await;
        let order = json!({"plan_id": world.ids["plan"]});
        world.make("order", "/api/orders", own, order, app).await;
        let subscription = json!({"service_id": world.ids["service"]});
        world
            .make("subscription", "/api/subscriptions", own, subscription, app)
            .await;
        let idea = json!({"title": "An idea", "tech_stack": [], "complexity": "beginner", "project_id": project});
        world.make("idea", "/api/ideas", own, idea, app).await;
        let file = Call {
            method: Method::POST,
            path: format!("/api/projects/{project}/files"),
            token: own.map(str::to_owned),
            body: Body::Form(vec![("kind", "project".into())]),
        };
        world.keep("file", file.send(app).await);
        let synopsis = Call {
            method: Method::POST,
            path: "/api/synopsis".into(),
            token: own.map(str::to_owned),
            body: Body::Form(vec![
                ("project_id", project.clone()),
                ("title", "A synopsis".into()),
            ]),
        };
        world.keep("synopsis", synopsis.send(app).await);
        let chat = json!({"message_type": "user", "message": "Hello"});
        let chat = app.post("/api/chatbot/messages", own, chat).await;
        assert_eq!(chat.status, StatusCode::CREATED, "chat: {}", chat.body);
        let session = chat.body["session_id"].as_str().expect("session_id");
        world.ids.insert("session", session.to_owned());
        world
    }

    async fn make(
        &mut self,
        kind: &'static str,
        path: &str,
        token: Option<&str>,
        body: Value,
        app: &TestApp,
    ) {
        let r = app.post(path, token, body).await;
        self.keep(kind, r);
    }

    fn keep(&mut self, kind: &'static str, r: Response) {
        assert_eq!(r.status, StatusCode::CREATED, "world {kind}: {}", r.body);
        let id = r.body["id"].as_str().expect("id").to_owned();
        self.ids.insert(kind, id);
    }

    fn student(&self) -> Option<String> {
        Some(self.student.access.clone())
    }

    fn admin(&self) -> Option<String> {
        Some(self.admin.clone())
    }

    /// The path of `template` with this world's ids.
    fn path(&self, template: &str) -> String {
        let kind = [
            ("/api/admin/users/{id}/", "victim"),
            ("/api/projects/", "project"),
            ("/api/admin/projects/", "project"),
            ("/api/admin/trash/", "project"),
            ("/api/meetings/", "meeting"),
            ("/api/admin/meetings/", "meeting"),
            ("/api/requests/", "request"),
            ("/api/admin/requests/", "request"),
            ("/api/admin/plans/", "plan"),
            ("/api/admin/services/", "service"),
            ("/api/ideas/", "idea"),
            ("/api/files/", "file"),
            ("/api/synopsis/", "synopsis"),
            ("/api/admin/synopsis/", "synopsis"),
            ("/api/chatbot/sessions/", "session"),
            ("/api/orders/", "order"),
            ("/api/admin/orders/", "order"),
            ("/api/subscriptions/", "subscription"),
            ("/api/admin/subscriptions/", "subscription"),
        ]
        .iter()
        .find(|(prefix, _)| template.starts_with(prefix))
        .map(|(_, kind)| *kind);
        let Some(kind) = kind else {
            return template.to_owned();
        };
        let id = match kind {
            "victim" => self.victim.user_id.expect("victim id").to_string(),
            _ => self.ids[kind].clone(),
        };
        template
            .replace("{entity_type}", "project")
            .replace("{id}", &id)
            .replace("{session_id}", &id)
    }

    /// What must already have happened for one request of `op` to succeed (a restore
    /// needs a deleted row, completing a meeting a scheduled one).
    async fn prepare(&self, app: &TestApp, op: &str) {
        let admin = self.admin();
        let prior = match op {
            "POST /api/admin/meetings/{id}/complete" => {
                Some(self.call(admin, "POST /api/admin/meetings/{id}/schedule", schedule()))
            }
            "POST /api/admin/plans/{id}/restore" => {
                Some(self.call(admin, "DELETE /api/admin/plans/{id}", Body::None))
            }
            "POST /api/admin/services/{id}/restore" => {
                Some(self.call(admin, "DELETE /api/admin/services/{id}", Body::None))
            }
            "POST /api/admin/trash/{entity_type}/{id}/restore" => {
                Some(self.call(self.student(), "DELETE /api/projects/{id}", Body::None))
            }
            "POST /api/admin/users/{id}/restore" => Some(Call {
                method: Method::DELETE,
                path: "/api/users/me".into(),
                token: Some(self.victim.access.clone()),
                body: Body::None,
            }),
            _ => None,
        };
        if let Some(prior) = prior {
            let r = prior.send(app).await;
            assert!(
                r.status.is_success(),
                "preparing {op}: {} {}",
                r.status,
                r.body
            );
        }
    }

    fn call(&self, token: Option<String>, op: &str, body: Body) -> Call {
        let (method, template) = op.split_once(' ').expect("METHOD /path");
        Call {
            method: Method::from_bytes(method.as_bytes()).expect("method"),
            path: self.path(template),
            token,
            body,
        }
    }

    /// The request for `op` ("METHOD /template"), or `None` if there is no recipe for it.
    fn recipe(&self, op: &str) -> Option<Call> {
        let tag = &self.tag;
        let (student, admin) = (self.student(), self.admin());
        let json = |v: Value| Body::Json(v);
        let (token, body) = match op {
            "POST /api/auth/register" => (
                None,
                json(
                    json!({"email": format!("new-{tag}@example.com"), "password": "Passw0rd!", "name": "New One"}),
                ),
            ),
            "POST /api/auth/login" => (
                None,
                json(json!({"email": format!("s-{tag}@example.com"), "password": "Passw0rd!"})),
            ),
            "POST /api/auth/refresh" | "POST /api/auth/logout" => {
                (None, json(json!({"refresh_token": self.student.refresh})))
            }
            "PATCH /api/users/me" => (student, json(json!({"name": "Renamed One"}))),
            "DELETE /api/users/me" => (student, Body::None),
            "POST /api/users/me/password" => (
                student,
                json(json!({"current_password": "Passw0rd!", "new_password": "N3w-Passw0rd!"})),
            ),
            "POST /api/projects" => (student, json(json!({"title": "Another project"}))),
            "PATCH /api/projects/{id}" => (student, json(json!({"title": "Renamed project"}))),
            "POST /api/projects/{id}/files" => {
                (student, Body::Form(vec![("kind", "project".into())]))
            }
            "POST /api/synopsis" => (
                student,
                Body::Form(vec![
                    ("project_id", self.ids["project"].clone()),
                    ("title", "Another synopsis".into()),
                ]),
            ),
            "POST /api/meetings" => (student, json(json!({"topic": "Another meeting"}))),
            "POST /api/requests" => (
                student,
                json(json!({"request_type": "help", "message": "Another request"})),
            ),
            "POST /api/orders" => (student, json(json!({"plan_id": self.ids["plan"]}))),
            "POST /api/subscriptions" => {
                (student, json(json!({"service_id": self.ids["service"]})))
            }
            "POST /api/chatbot/messages" => (
                student,
                json(
                    json!({"message_type": "user", "message": "Again", "session_id": self.ids["session"]}),
                ),
            ),
            "POST /api/ideas" => (
                student,
                json(json!({"title": "Another idea", "tech_stack": [], "complexity": "advanced"})),
            ),
            "POST /api/ideas/{id}/rate" => (student, json(json!({"rating": 4}))),
            "POST /api/ideas/{id}/refine" => (student, json(json!({"title": "Refined idea"}))),
            "POST /api/admin/plans" => (
                admin,
                json(
                    json!({"name": format!("New plan {tag}"), "price": 100, "max_projects": 2, "support_level": "Standard"}),
                ),
            ),
            "PATCH /api/admin/plans/{id}" => (admin, json(json!({"price": 1200}))),
            "POST /api/admin/services" => (
                admin,
                json(json!({"name": format!("New service {tag}"), "price": 100})),
            ),
            "PATCH /api/admin/services/{id}" => (admin, json(json!({"price": 700}))),
            "POST /api/admin/meetings/{id}/schedule" => (admin, schedule()),
            "POST /api/admin/meetings/{id}/complete" => (admin, json(json!({"notes": "Done"}))),
            "POST /api/admin/orders/{id}/status" => (admin, json(json!({"status": "paid"}))),
            "POST /api/admin/subscriptions/{id}/status" => {
                (admin, json(json!({"status": "active"})))
            }
            "POST /api/admin/projects/{id}/status" => (admin, json(json!({"status": "cancelled"}))),
            "POST /api/admin/requests/{id}/resolve" => (admin, json(json!({"status": "approved"}))),
            "POST /api/admin/synopsis/{id}/review" => (
                admin,
                json(json!({"decision": "Approved", "comment": "Good"})),
            ),
            op if op.starts_with("POST /api/admin/") => (admin, Body::None),
            op if op.starts_with("DELETE /api/admin/") => (admin, Body::None),
            op if op.starts_with("POST /api/") || op.starts_with("DELETE /api/") => {
                (student, Body::None)
            }
            _ => return None,
        };
        Some(self.call(token, op, body))
    }
}

fn schedule() -> Body {
    let at = (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339();
    Body::Json(json!({"scheduled_at": at, "meeting_link": "https://meet.example.com/x"}))
}

/// What a run did: statuses, activity-log rows written by requests (per action and
/// outcome), and rows live and deleted per table.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    successes: usize,
    log_rows: BTreeMap<String, i64>,
    rows: BTreeMap<String, (i64, i64)>,
}

/// Activity-log rows written by requests (jobs write none with an IP), per action/outcome.
async fn log_rows(app: &TestApp) -> BTreeMap<String, i64> {
    let sql = "SELECT action || '/' || status, COUNT(*) FROM activity_logs \
               WHERE ip_address IS NOT NULL GROUP BY action, status";
    let rows = app
        .db
        .query_all_raw(Statement::from_string(app.db.get_database_backend(), sql))
        .await
        .expect("count log rows");
    rows.iter()
        .map(|r| {
            let key: String = r.try_get_by_index(0).expect("action");
            let n: i64 = r.try_get_by_index(1).expect("count");
            (key, n)
        })
        .collect()
}

/// Live and deleted rows of every soft-deletable table.
async fn table_rows(app: &TestApp) -> BTreeMap<String, (i64, i64)> {
    let mut counts = BTreeMap::new();
    for table in REGISTRY.0 {
        let sql = format!(
            "SELECT COUNT(*) - COUNT(deleted_at), COUNT(deleted_at) FROM {}",
            table.table
        );
        let backend = app.db.get_database_backend();
        let row = app
            .db
            .query_one_raw(Statement::from_string(backend, sql))
            .await
            .expect("count rows")
            .expect("a row");
        let live: i64 = row.try_get_by_index(0).expect("live");
        let deleted: i64 = row.try_get_by_index(1).expect("deleted");
        counts.insert(table.table.to_owned(), (live, deleted));
    }
    counts
}

fn diff<V: Copy + Default + PartialEq>(
    before: &BTreeMap<String, V>,
    after: &BTreeMap<String, V>,
    sub: impl Fn(V, V) -> V,
) -> BTreeMap<String, V> {
    after
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                sub(*v, before.get(k).copied().unwrap_or_default()),
            )
        })
        .filter(|(_, v)| *v != V::default())
        .collect()
}

/// Sends `call` N times, one after another or all at once; what changed.
async fn run(app: &Arc<TestApp>, call: &Call, at_once: bool) -> (Outcome, Vec<StatusCode>) {
    let (logs, rows) = (log_rows(app).await, table_rows(app).await);
    let statuses = if at_once {
        let barrier = Arc::new(Barrier::new(N));
        let tasks: Vec<_> = (0..N)
            .map(|_| {
                let (app, call, barrier) = (app.clone(), call.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    call.send(&app).await.status
                })
            })
            .collect();
        let mut statuses = Vec::new();
        for task in tasks {
            statuses.push(task.await.expect("request task"));
        }
        statuses
    } else {
        let mut statuses = Vec::new();
        for _ in 0..N {
            statuses.push(call.send(app).await.status);
        }
        statuses
    };
    let outcome = Outcome {
        successes: statuses.iter().filter(|s| s.is_success()).count(),
        log_rows: diff(&logs, &log_rows(app).await, |a, b| a - b),
        rows: diff(&rows, &table_rows(app).await, |a, b| (a.0 - b.0, a.1 - b.1)),
    };
    (outcome, statuses)
}

/// Every state-changing operation of the document, as "METHOD /template".
fn state_changing_operations(doc: &Value) -> Vec<String> {
    let mut ops = Vec::new();
    for (template, item) in doc["paths"].as_object().expect("paths") {
        for method in ["post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                ops.push(format!("{} {template}", method.to_uppercase()));
            }
        }
    }
    ops
}

both_backends! {
    async fn every_state_change_has_one_winner_when_sent_many_times_at_once(backend: Backend) {
        // A connection per request, so that the requests really overlap in the database.
        let app = Arc::new(TestApp::spawn_with(backend, &["--db-pool-size", "10"]).await);
        let admin = app.admin().await;
        let doc = app.get("/openapi.json", None).await.body;
        let ops = state_changing_operations(&doc);
        assert!(ops.len() >= 40, "only {} operations", ops.len());
        let mut failures = Vec::new();
        for op in &ops {
            let mut outcomes = Vec::new();
            for at_once in [false, true] {
                let world = World::create(&app, &admin).await;
                world.prepare(&app, op).await;
                let call = world.recipe(op).unwrap_or_else(|| panic!("no recipe for {op}"));
                let (outcome, statuses) = run(&app, &call, at_once).await;
                if statuses.iter().any(|s| s.is_server_error()) {
                    failures.push(format!("{op}: a 5xx among {statuses:?}"));
                }
                outcomes.push((outcome, statuses));
            }
            let (serial, concurrent) = (&outcomes[0], &outcomes[1]);
            if serial.0 != concurrent.0 {
                failures.push(format!(
                    "{op}:\n  one after another: {:?} {:?}\n  all at once:       {:?} {:?}",
                    serial.1, serial.0, concurrent.1, concurrent.0
                ));
            }
        }
        let report = dbkit::chain::verify(&app.db).await.expect("verify");
        assert_eq!(report.problem, None, "the chain must verify");
        assert!(failures.is_empty(), "{} of {} operations:\n{}", failures.len(), ops.len(), failures.join("\n"));
        println!("{} operations × {N} requests at once held against {N} in a row", ops.len());
    }
}

both_backends! {
    async fn selecting_different_ideas_of_one_project_at_once_leaves_exactly_one_selected(backend: Backend) {
        let app = Arc::new(TestApp::spawn_with(backend, &["--db-pool-size", "10"]).await);
        let student = app.register("chooser@example.com").await;
        let token = student.token();
        let project = crate::files::project(&app, token, "One project").await;
        let mut ideas = Vec::new();
        for i in 0..N {
            let idea = json!({"title": format!("Idea {i}"), "tech_stack": [], "complexity": "beginner", "project_id": project});
            let r = app.post("/api/ideas", token, idea).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            ideas.push(r.body["id"].as_str().expect("id").to_owned());
        }
        for trial in 0..5 {
            let barrier = Arc::new(Barrier::new(N));
            let tasks: Vec<_> = ideas
                .iter()
                .map(|id| {
                    let (app, barrier) = (app.clone(), barrier.clone());
                    let (path, token) = (format!("/api/ideas/{id}/select"), student.access.clone());
                    tokio::spawn(async move {
                        barrier.wait().await;
                        app.post(&path, Some(&token), json!({})).await.status
                    })
                })
                .collect();
            for task in tasks {
                let status = task.await.expect("task");
                assert_eq!(status, StatusCode::OK, "trial {trial}: every selection succeeds in turn");
            }
            let listed = app.get(&format!("/api/ideas?project_id={project}&user_selected=true"), token).await;
            assert_eq!(listed.body["meta"]["total"], 1, "trial {trial}: {}", listed.body);
        }
        assert_eq!(app.activity("idea.select").await.len(), 5 * N);
        assert_eq!(dbkit::chain::verify(&app.db).await.expect("verify").problem, None);
    }
}
