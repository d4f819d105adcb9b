//! No N+1: a list issues the same number of statements for one row as for a hundred.
//! Lists are found in the OpenAPI document (their 200 body is a `Page_…`), so a new
//! list is checked without anyone remembering this file.

use reqwest::StatusCode;
use serde_json::json;

use crate::both_backends;
use crate::helpers::{Session, TestApp};

/// Three of everything for one student, some of it deleted (for the trash).
pub async fn populate(app: &TestApp, s: &Session) -> (String, String) {
    let plans = app.get("/api/plans", None).await.body;
    let services = app.get("/api/services", None).await.body;
    let mut project = String::new();
    let mut session = String::new();
    for i in 0..3 {
        let p = app
            .post(
                "/api/projects",
                s.token(),
                json!({"title": format!("Project {i}")}),
            )
            .await;
        project = p.body["id"].as_str().expect("project").to_owned();
        crate::files::upload(
            app,
            s.token(),
            &project,
            "project",
            crate::files::pdf(),
            "f.pdf",
        )
        .await;
        app.post(
            "/api/meetings",
            s.token(),
            json!({"topic": format!("Topic {i}"), "project_id": project}),
        )
        .await;
        app.post(
            "/api/requests",
            s.token(),
            json!({"request_type": "help", "message": "Please"}),
        )
        .await;
        app.post(
            "/api/orders",
            s.token(),
            json!({"plan_id": plans["data"][i]["id"]}),
        )
        .await;
        app.post(
            "/api/subscriptions",
            s.token(),
            json!({"service_id": services["data"][i]["id"]}),
        )
        .await;
        let idea = json!({"title": format!("Idea {i}"), "tech_stack": [], "complexity": "beginner", "project_id": project});
        app.post("/api/ideas", s.token(), idea).await;
        let form = reqwest::multipart::Form::new()
            .text("project_id", project.clone())
            .text("title", format!("Synopsis {i}"))
            .part(
                "file",
                crate::files::file_part(crate::files::pdf(), "s.pdf", crate::files::PDF_TYPE),
            );
        crate::files::send_form(app, "/api/synopsis", s.token(), form).await;
        let chat = app
            .post(
                "/api/chatbot/messages",
                s.token(),
                json!({"message_type": "user", "message": "Hi"}),
            )
            .await;
        session = chat.body["session_id"]
            .as_str()
            .expect("session")
            .to_owned();
        app.post(
            "/api/chatbot/messages",
            s.token(),
            json!({"session_id": session, "message_type": "user", "message": "Again"}),
        )
        .await;
    }
    for i in 0..2 {
        let p = app
            .post(
                "/api/projects",
                s.token(),
                json!({"title": format!("Doomed {i}")}),
            )
            .await;
        app.delete(
            &format!("/api/projects/{}", p.body["id"].as_str().expect("id")),
            s.token(),
        )
        .await;
    }
    (project, session)
}

both_backends! {
    async fn every_list_issues_as_many_statements_for_one_row_as_for_a_hundred(backend: Backend) {
        // Every request reads its user: a cached one (any write in this test process
        // drops the cache) would make the counts differ by one at random.
        let app = TestApp::spawn_with(backend, &["--auth-user-cache", "false"]).await;
        let s = app.register("many@example.com").await;
        let admin = app.admin().await;
        let (project, session) = populate(&app, &s).await;
        let doc = app.get("/openapi.json", None).await.body;
        let mut checked = Vec::new();
        for (template, _) in crate::helpers::list_operations(&doc) {
            let path = template.replace("{id}", &project).replace("{session_id}", &session);
            let extra = if path.contains("/trash") { "entity_type=project&" } else { "" };
            let admin_only = path.starts_with("/api/admin/") || path == "/api/activity-logs";
            let token = if admin_only { admin.token() } else { s.token() };
            let mut counts = Vec::new();
            for per_page in [1, 100] {
                // Only the request's own statements: the log sealer, jobs and probes run
                // beside it in other tasks (a busy machine once counted the sealer's too).
                let before = app.metrics.route_statements("GET", template);
                let r = app.get(&format!("{path}?{extra}per_page={per_page}"), token).await;
                assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
                let rows = r.body["data"].as_array().map_or(0, Vec::len);
                if per_page == 100 {
                    assert!(rows >= 2, "{path} lists {rows} rows: not enough to reveal an N+1");
                }
                let count = app.metrics.route_statements("GET", template) - before;
                assert!(count > 0, "{template}: no statements counted for its route");
                counts.push(count);
            }
            assert_eq!(counts[0], counts[1], "{template}: {} statements for 1 row, {} for 100", counts[0], counts[1]);
            checked.push(format!("{template}: {}", counts[0]));
        }
        assert!(checked.len() >= 18, "{checked:#?}");
        println!("statements per list request: {checked:#?}");
    }
}
