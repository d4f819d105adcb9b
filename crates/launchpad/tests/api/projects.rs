use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::TestApp;

async fn create(app: &TestApp, token: Option<&str>, title: &str, category: &str) -> Value {
    let body = json!({"title": title, "description": "About {title}", "category": category, "tech_stack": ["rust"]});
    let r = app.post("/api/projects", token, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body
}

fn titles(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|p| p["title"].as_str().map(str::to_owned))
        .collect()
}

both_backends! {
    async fn a_student_creates_reads_updates_and_deletes_a_project(app: TestApp) {
        let s = app.register("p1@example.com").await;
        let p = create(&app, s.token(), "Smart Attendance", "iot").await;
        assert_eq!(p["status"], "idea_pending");
        assert_eq!(p["tech_stack"], json!(["rust"]));
        let id = p["id"].as_str().expect("id");
        let r = app.patch(&format!("/api/projects/{id}"), s.token(), json!({"title": "Smart Attendance v2", "category": null})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["title"], "Smart Attendance v2");
        assert_eq!(r.body["category"], Value::Null);
        assert_eq!(app.delete(&format!("/api/projects/{id}"), s.token()).await.status, StatusCode::NO_CONTENT);
        app.get(&format!("/api/projects/{id}"), s.token()).await.assert_error(StatusCode::NOT_FOUND);
        assert_eq!(app.get("/api/projects", s.token()).await.body["meta"]["total"], 0);
        for action in ["project.create", "project.update", "project.delete"] {
            assert_eq!(app.activity(action).await.len(), 1, "{action}");
        }
    }

    async fn project_lists_filter_sort_search_and_page(app: TestApp) {
        let s = app.register("p2@example.com").await;
        create(&app, s.token(), "Beta Robot", "robotics").await;
        create(&app, s.token(), "Alpha Chat", "ai").await;
        create(&app, s.token(), "Gamma 100% Vision", "ai").await;
        let r = app.get("/api/projects?sort_by=title&sort_order=asc", s.token()).await;
        assert_eq!(titles(&r.body), ["Alpha Chat", "Beta Robot", "Gamma 100% Vision"]);
        let r = app.get("/api/projects?category=ai&sort_by=title&sort_order=desc", s.token()).await;
        assert_eq!(titles(&r.body), ["Gamma 100% Vision", "Alpha Chat"]);
        let r = app.get("/api/projects?search=100%25", s.token()).await;
        assert_eq!(titles(&r.body), ["Gamma 100% Vision"]);
        let r = app.get("/api/projects?status=idea_pending&per_page=2&page=2&sort_by=title&sort_order=asc", s.token()).await;
        assert_eq!(r.body["meta"], json!({"total": 3, "page": 2, "per_page": 2, "total_pages": 2}));
        assert_eq!(titles(&r.body), ["Gamma 100% Vision"]);
        assert_eq!(app.get("/api/projects?status=completed", s.token()).await.body["meta"]["total"], 0);
        let r = app.get("/api/projects?status=finished", s.token()).await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.body["details"]["allowed"][0], "idea_pending");
        app.get("/api/projects?sort_by=user_id", s.token()).await.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
    }

    async fn projects_are_private_to_their_owner_and_readable_by_admins(app: TestApp) {
        let owner = app.register("own@example.com").await;
        let other = app.register("other@example.com").await;
        let admin = app.admin().await;
        let p = create(&app, owner.token(), "Private Thing", "x").await;
        let path = format!("/api/projects/{}", p["id"].as_str().expect("id"));
        app.get(&path, other.token()).await.assert_error(StatusCode::NOT_FOUND);
        app.patch(&path, other.token(), json!({"title": "Mine now"})).await.assert_error(StatusCode::NOT_FOUND);
        app.delete(&path, other.token()).await.assert_error(StatusCode::NOT_FOUND);
        assert_eq!(app.get("/api/projects", other.token()).await.body["meta"]["total"], 0);
        assert_eq!(app.get(&path, admin.token()).await.status, StatusCode::OK);
        assert_eq!(app.get("/api/projects", admin.token()).await.body["meta"]["total"], 1);
        // Admins act through admin routes, not by editing a student's project.
        app.patch(&path, admin.token(), json!({"title": "Admin edit"})).await.assert_error(StatusCode::FORBIDDEN);
        app.get(&path, None).await.assert_error(StatusCode::UNAUTHORIZED);
        assert_eq!(app.get(&path, owner.token()).await.body["title"], "Private Thing");
    }

    async fn admins_move_projects_only_along_allowed_transitions(app: TestApp) {
        let s = app.register("p3@example.com").await;
        let admin = app.admin().await;
        let p = create(&app, s.token(), "Stateful", "x").await;
        let path = format!("/api/admin/projects/{}/status", p["id"].as_str().expect("id"));
        let r = app.post(&path, admin.token(), json!({"status": "completed"})).await;
        r.assert_error(StatusCode::CONFLICT);
        assert_eq!(r.body["details"]["allowed"], json!(["synopsis_pending", "cancelled"]));
        assert!(app.activity("project.status").await.is_empty(), "a refused move is not logged");
        let r = app.post(&path, admin.token(), json!({"status": "cancelled"})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["status"], "cancelled");
        let r = app.post(&path, admin.token(), json!({"status": "in_progress"})).await;
        r.assert_error(StatusCode::CONFLICT);
        assert_eq!(r.body["details"]["allowed"], json!([]));
        app.post(&path, admin.token(), json!({"status": "done"})).await.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        app.post(&path, s.token(), json!({"status": "cancelled"})).await.assert_error(StatusCode::FORBIDDEN);
    }

    async fn invalid_projects_are_422_and_write_nothing(app: TestApp) {
        let s = app.register("p4@example.com").await;
        for body in [
            json!({"title": "ab"}),
            json!({"title": "x".repeat(201)}),
            json!({"title": "Fine", "tech_stack": (0..21).map(|i| format!("t{i}")).collect::<Vec<_>>()}),
            json!({"title": "Fine", "tech_stack": [""]}),
            json!({"title": "Fine", "status": "completed"}),
            json!({"title": 42}),
        ] {
            app.post("/api/projects", s.token(), body).await.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        }
        assert!(app.activity("project.create").await.is_empty());
    }
}

both_backends! {
    async fn descriptions_may_span_lines_but_titles_may_not(app: TestApp) {
        let s = app.register("p5@example.com").await;
        let body = json!({"title": "Multi", "description": "Line one\nLine two\n\tindented"});
        let r = app.post("/api/projects", s.token(), body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.body["description"], "Line one\nLine two\n\tindented");
        let r = app.post("/api/projects", s.token(), json!({"title": "Two\nlines"})).await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.body["details"]["field"], "title");
        let r = app.post("/api/projects", s.token(), json!({"title": "Bell", "description": "ding\u{7}"})).await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
    }
}
