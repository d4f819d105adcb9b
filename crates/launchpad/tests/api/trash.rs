use reqwest::StatusCode;
use serde_json::json;

use crate::both_backends;

both_backends! {
    async fn deleting_an_account_takes_its_projects_and_restoring_brings_back_exactly_those(app: TestApp) {
        let s = app.register("cascade@example.com").await;
        let admin = app.admin().await;
        let keep = app.post("/api/projects", s.token(), json!({"title": "Kept"})).await.body;
        let gone = app.post("/api/projects", s.token(), json!({"title": "Deleted earlier"})).await.body;
        let gone_id = gone["id"].as_str().expect("id").to_owned();
        app.delete(&format!("/api/projects/{gone_id}"), s.token()).await;
        app.post("/api/meetings", s.token(), json!({"topic": "Kickoff", "project_id": keep["id"]})).await;

        assert_eq!(app.delete("/api/users/me", s.token()).await.status, StatusCode::NO_CONTENT);
        let trash = app.get("/api/admin/trash?entity_type=project", admin.token()).await;
        assert_eq!(trash.body["meta"]["total"], 2);
        assert_eq!(app.get("/api/admin/trash?entity_type=meeting", admin.token()).await.body["meta"]["total"], 1);
        let deleted = app.activity("user.delete").await;
        assert_eq!(deleted[0].details["affected"]["projects"], 1, "the project deleted earlier is not re-stamped");
        assert_eq!(deleted[0].details["affected"]["meetings"], 1);

        // A project cannot come back while its owner is deleted.
        let keep_id = keep["id"].as_str().expect("id");
        let r = app.post(&format!("/api/admin/trash/project/{keep_id}/restore"), admin.token(), json!({})).await;
        r.assert_error(StatusCode::CONFLICT);

        let user_id = s.user_id.expect("id");
        let r = app.post(&format!("/api/admin/trash/user/{user_id}/restore"), admin.token(), json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["restored"], json!({"users": 1, "projects": 1, "meetings": 1}));
        let back = app.login("cascade@example.com", "Passw0rd!").await;
        let projects = app.get("/api/projects", back.token()).await;
        assert_eq!(projects.body["meta"]["total"], 1);
        assert_eq!(projects.body["data"][0]["title"], "Kept");
        assert_eq!(app.get("/api/meetings", back.token()).await.body["meta"]["total"], 1);

        // The project deleted on its own is still in the trash and comes back on its own.
        let r = app.post(&format!("/api/admin/trash/project/{gone_id}/restore"), admin.token(), json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(app.get("/api/projects", back.token()).await.body["meta"]["total"], 2);
        assert_eq!(app.activity("trash.restore").await.len(), 2);
    }

    async fn the_trash_rejects_unknown_types_and_rows_not_in_it(app: TestApp) {
        let admin = app.admin().await;
        let student = app.login("student@test.com", "Test@1234").await;
        let r = app.get("/api/admin/trash?entity_type=secrets", admin.token()).await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body["details"]["allowed"].as_array().is_some_and(|a| a.len() == 12), "{}", r.body);
        app.get("/api/admin/trash", admin.token()).await.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        app.get("/api/admin/trash?entity_type=project&per_page=500", admin.token()).await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        let id = uuid::Uuid::now_v7();
        app.post(&format!("/api/admin/trash/project/{id}/restore"), admin.token(), json!({})).await
            .assert_error(StatusCode::NOT_FOUND);
        app.post(&format!("/api/admin/trash/nope/{id}/restore"), admin.token(), json!({})).await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        app.get("/api/admin/trash?entity_type=project", student.token()).await.assert_error(StatusCode::FORBIDDEN);
        // A live row is there, but not in the trash.
        let plan = app.get("/api/plans", None).await.body["data"][0]["id"].as_str().map(str::to_owned).expect("plan");
        let r = app.post(&format!("/api/admin/trash/plan/{plan}/restore"), admin.token(), json!({})).await;
        r.assert_error(StatusCode::CONFLICT);
        assert_eq!(r.body["error"], "this plan is not in the trash");
    }
}
