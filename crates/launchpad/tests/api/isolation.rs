//! The isolation matrix: every documented route that takes an id × {owner, another
//! student, admin, anonymous}. Routes come from the OpenAPI document, so a new route
//! is covered (or fails for want of a fixture) without anyone remembering this file.

use std::collections::BTreeMap;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Session, TestApp};

/// Ids of one of each resource, owned by one student.
struct Fixture {
    ids: BTreeMap<&'static str, String>,
}

impl Fixture {
    async fn create(app: &TestApp, owner: &Session) -> Self {
        let mut ids = BTreeMap::new();
        let mut make = async |kind: &'static str, path: &str, body: Value| {
            let r = app.post(path, owner.token(), body).await;
            assert_eq!(r.status, StatusCode::CREATED, "fixture {kind}: {}", r.body);
            ids.insert(kind, r.body["id"].as_str().expect("id").to_owned());
        };
        let first_id = async |path: &str| {
            let body = app.get(path, None).await.body;
            body["data"][0]["id"]
                .as_str()
                .map(str::to_owned)
                .expect("a catalogue row")
        };
        let plan = first_id("/api/plans").await;
        let service = first_id("/api/services").await;
        make(
            "project",
            "/api/projects",
            json!({"title": "Owner's project"}),
        )
        .await;
        make(
            "meeting",
            "/api/meetings",
            json!({"topic": "Owner's meeting"}),
        )
        .await;
        let request = json!({"request_type": "help", "message": "Owner's request"});
        make("request", "/api/requests", request).await;
        make("order", "/api/orders", json!({"plan_id": plan})).await;
        make(
            "subscription",
            "/api/subscriptions",
            json!({"service_id": service}),
        )
        .await;
        let idea = json!({"title": "Owner's idea", "tech_stack": [], "complexity": "beginner"});
        make("idea", "/api/ideas", idea).await;
        let project = ids["project"].clone();
        let file = crate::files::upload(
            app,
            owner.token(),
            &project,
            "project",
            crate::files::pdf(),
            "a.pdf",
        )
        .await;
        assert_eq!(
            file.status,
            StatusCode::CREATED,
            "fixture file: {}",
            file.body
        );
        ids.insert(
            "file",
            file.body["id"].as_str().expect("file id").to_owned(),
        );
        let form = reqwest::multipart::Form::new()
            .text("project_id", project)
            .text("title", "Owner's synopsis")
            .part(
                "file",
                crate::files::file_part(crate::files::pdf(), "s.pdf", crate::files::PDF_TYPE),
            );
        let synopsis = crate::files::send_form(app, "/api/synopsis", owner.token(), form).await;
        assert_eq!(
            synopsis.status,
            StatusCode::CREATED,
            "fixture synopsis: {}",
            synopsis.body
        );
        ids.insert(
            "synopsis",
            synopsis.body["id"]
                .as_str()
                .expect("synopsis id")
                .to_owned(),
        );
        let chat = json!({"message_type": "user", "message": "Hello"});
        let chat = app.post("/api/chatbot/messages", owner.token(), chat).await;
        assert_eq!(
            chat.status,
            StatusCode::CREATED,
            "fixture chat: {}",
            chat.body
        );
        ids.insert(
            "session",
            chat.body["session_id"]
                .as_str()
                .expect("session id")
                .to_owned(),
        );
        ids.insert("user", owner.user_id.expect("owner id").to_string());
        // Erasure is not undone by the next route: it gets an account of its own.
        let erasable = app.register("erasable@example.com").await;
        ids.insert(
            "erasable",
            erasable.user_id.expect("erasable id").to_string(),
        );
        // Nor is a deactivation, which would end the owner's access for the routes after it.
        let switchable = app.register("switchable@example.com").await;
        ids.insert(
            "switchable",
            switchable.user_id.expect("switchable id").to_string(),
        );
        ids.insert("plan", plan);
        ids.insert("service", service);
        Self { ids }
    }

    /// The concrete path for a route template, or `None` if no fixture covers it.
    fn path(&self, template: &str) -> Option<String> {
        let kind = resource_of(template)?;
        let id = self.ids.get(kind)?;
        Some(template.replace("{id}", id).replace("{session_id}", id))
    }
}

/// Which resource a route's `{id}` names.
fn resource_of(template: &str) -> Option<&'static str> {
    match template {
        "/api/admin/users/{id}/erase" => return Some("erasable"),
        "/api/admin/users/{id}/deactivate" | "/api/admin/users/{id}/activate" => {
            return Some("switchable");
        }
        _ => {}
    }
    const PREFIXES: &[(&str, &str)] = &[
        ("/api/projects/", "project"),
        ("/api/admin/projects/", "project"),
        ("/api/meetings/", "meeting"),
        ("/api/admin/meetings/", "meeting"),
        ("/api/requests/", "request"),
        ("/api/admin/requests/", "request"),
        ("/api/admin/users/", "user"),
        ("/api/plans/", "plan"),
        ("/api/admin/plans/", "plan"),
        ("/api/services/", "service"),
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
    ];
    PREFIXES
        .iter()
        .find(|(prefix, _)| template.starts_with(prefix))
        .map(|(_, kind)| *kind)
}

/// A valid body for routes that need one, so a 4xx comes from access control, not validation.
fn body_for(method: &str, template: &str) -> Option<Value> {
    let future = (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339();
    let body = match (method, template) {
        ("patch", "/api/projects/{id}") => json!({"title": "Renamed project"}),
        ("post", "/api/admin/projects/{id}/status") => json!({"status": "cancelled"}),
        ("post", "/api/admin/meetings/{id}/schedule") => {
            json!({"scheduled_at": future, "meeting_link": "https://meet.example.com/x"})
        }
        ("post", "/api/admin/requests/{id}/resolve") => json!({"status": "approved"}),
        ("post", "/api/ideas/{id}/rate") => json!({"rating": 4}),
        ("post", "/api/ideas/{id}/refine") => json!({"title": "Refined idea"}),
        ("post", "/api/admin/synopsis/{id}/review") => {
            json!({"decision": "Approved", "comment": "Good"})
        }
        ("post", "/api/admin/orders/{id}/status") => json!({"status": "paid"}),
        ("post", "/api/admin/subscriptions/{id}/status") => json!({"status": "active"}),
        ("post", _) | ("patch", _) => json!({}),
        _ => return None,
    };
    Some(body)
}

/// Routes anyone may call.
fn is_public(method: &str, template: &str) -> bool {
    method == "get"
        && (template.starts_with("/api/plans/") || template.starts_with("/api/services/"))
}

/// What the owner, another student and an admin may get back.
#[derive(Debug)]
struct Expect {
    owner: Vec<StatusCode>,
    other: Vec<StatusCode>,
    admin: Vec<StatusCode>,
}

fn expectations(method: &str, template: &str) -> Expect {
    use StatusCode as S;
    let done = vec![S::OK, S::CREATED, S::NO_CONTENT, S::CONFLICT];
    if is_public(method, template) {
        return Expect {
            owner: vec![S::OK],
            other: vec![S::OK],
            admin: vec![S::OK],
        };
    }
    if template.starts_with("/api/admin/") {
        // Admin routes: students are refused whoever owns the row. A restore may find the
        // row live (404: not in the trash) when no route deleted it.
        let mut admin = done;
        if template.ends_with("/restore") {
            admin.push(S::NOT_FOUND);
        }
        return Expect {
            owner: vec![S::FORBIDDEN],
            other: vec![S::FORBIDDEN],
            admin,
        };
    }
    if method == "get" {
        return Expect {
            owner: vec![S::OK],
            other: vec![S::NOT_FOUND],
            admin: vec![S::OK],
        };
    }
    // Student routes that change a row: only its owner; an admin is told to use admin routes.
    Expect {
        owner: done,
        other: vec![S::NOT_FOUND],
        admin: vec![S::FORBIDDEN],
    }
}

both_backends! {
    async fn every_route_with_an_id_isolates_owners_students_admins_and_anonymous_callers(app: TestApp) {
        let owner = app.register("owner@example.com").await;
        let other = app.register("other@example.com").await;
        let admin = app.admin().await;
        let fixture = Fixture::create(&app, &owner).await;
        let doc = app.get("/openapi.json", None).await.body;
        let mut routes: Vec<(String, String)> = Vec::new();
        for (template, item) in doc["paths"].as_object().expect("paths") {
            for method in ["get", "post", "patch", "put", "delete"] {
                if item.get(method).is_some() && template.contains('{') {
                    routes.push((method.to_owned(), template.clone()));
                }
            }
        }
        // Deletes after the rest (they hide the row), the project's last (it takes its
        // synopsis, files and ideas along), restores after the deletes.
        routes.sort_by_key(|(method, template)| {
            let delete = method == "delete";
            (template.ends_with("/restore"), delete, delete && template == "/api/projects/{id}")
        });
        let missing: Vec<String> = routes
            .iter()
            .filter(|(_, t)| fixture.path(t).is_none() && !t.starts_with("/api/admin/trash/"))
            .map(|(m, t)| format!("{m} {t}"))
            .collect();
        assert!(missing.is_empty(), "routes with no fixture: {missing:#?}");

        let mut cells = 0;
        for (method, template) in routes.iter().filter(|(_, t)| !t.starts_with("/api/admin/trash/")) {
            let path = fixture.path(template).expect("fixture");
            let verb = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let body = body_for(method, template);
            let expect = expectations(method, template);
            let is_upload = method == "post" && template == "/api/projects/{id}/files";
            let call = async |who: Option<&Session>| {
                let token = who.and_then(Session::token);
                if is_upload {
                    let project = path.trim_start_matches("/api/projects/").trim_end_matches("/files");
                    return crate::files::upload(&app, token, project, "project", crate::files::pdf(), "b.pdf").await.status;
                }
                app.request(verb.clone(), &path, token, body.clone()).await.status
            };
            let anonymous = call(None).await;
            if is_public(method, template) {
                assert_eq!(anonymous, StatusCode::OK, "anonymous {method} {template}");
            } else {
                assert_eq!(anonymous, StatusCode::UNAUTHORIZED, "anonymous {method} {template}");
            }
            let got = call(Some(&other)).await;
            assert!(expect.other.contains(&got), "other student {method} {template}: {got}, expected {:?}", expect.other);
            let got = call(Some(&admin)).await;
            assert!(expect.admin.contains(&got), "admin {method} {template}: {got}, expected {:?}", expect.admin);
            let got = call(Some(&owner)).await;
            assert!(expect.owner.contains(&got), "owner {method} {template}: {got}, expected {:?}", expect.owner);
            cells += 4;
        }
        assert!(cells >= 4 * 15, "only {cells} cells");
        println!("isolation matrix: {cells} cells over {} routes", cells / 4);
    }
}
