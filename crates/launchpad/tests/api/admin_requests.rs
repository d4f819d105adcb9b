use reqwest::StatusCode;
use serde_json::json;

use crate::both_backends;

both_backends! {
    async fn a_request_is_filed_and_decided_by_an_admin(app: TestApp) {
        let s = app.register("r1@example.com").await;
        let admin = app.admin().await;
        let r = app.post("/api/requests", s.token(), json!({"request_type": "deadline_extension", "message": "Two more weeks please"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let id = r.body["id"].as_str().expect("id").to_owned();
        let resolve = format!("/api/admin/requests/{id}/resolve");
        app.post(&resolve, s.token(), json!({"status": "approved"})).await.assert_error(StatusCode::FORBIDDEN);
        app.post(&resolve, admin.token(), json!({"status": "pending"})).await.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        let r = app.post(&resolve, admin.token(), json!({"status": "approved", "note": "Granted"})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["status"], "approved");
        assert_eq!(r.body["resolution_note"], "Granted");
        assert!(r.body["resolved_at"].is_string());
        let r = app.post(&resolve, admin.token(), json!({"status": "rejected"})).await;
        r.assert_error(StatusCode::CONFLICT);
        assert_eq!(r.body["details"]["allowed"], json!(["resolved"]));
        assert_eq!(app.post(&resolve, admin.token(), json!({"status": "resolved"})).await.status, StatusCode::OK);
        assert_eq!(app.activity("admin_request.resolve").await.len(), 2);
        let mine = app.get(&format!("/api/requests/{id}"), s.token()).await;
        assert_eq!(mine.body["status"], "resolved");
    }

    async fn request_lists_are_per_user_filtered_and_searchable(app: TestApp) {
        let a = app.register("r2@example.com").await;
        let b = app.register("r3@example.com").await;
        let admin = app.admin().await;
        app.post("/api/requests", a.token(), json!({"request_type": "plan_change", "message": "Upgrade to Premium"})).await;
        app.post("/api/requests", a.token(), json!({"request_type": "mentor_change", "message": "Another mentor"})).await;
        app.post("/api/requests", b.token(), json!({"request_type": "plan_change", "message": "Downgrade"})).await;
        assert_eq!(app.get("/api/requests", a.token()).await.body["meta"]["total"], 2);
        assert_eq!(app.get("/api/requests", admin.token()).await.body["meta"]["total"], 3);
        let r = app.get("/api/requests?search=premium", a.token()).await;
        assert_eq!(r.body["meta"]["total"], 1);
        let r = app.get("/api/requests?search=premium", b.token()).await;
        assert_eq!(r.body["meta"]["total"], 0);
        let r = app.get("/api/requests?sort_by=request_type&sort_order=asc", a.token()).await;
        assert_eq!(r.body["data"][0]["request_type"], "mentor_change");
        app.post("/api/requests", a.token(), json!({"request_type": "x", "message": "m"})).await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        app.post("/api/requests", a.token(), json!({"request_type": "plan_change", "message": "   "})).await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        let id = app.get("/api/requests", b.token()).await.body["data"][0]["id"].as_str().map(str::to_owned).expect("id");
        app.delete(&format!("/api/requests/{id}"), a.token()).await.assert_error(StatusCode::NOT_FOUND);
        assert_eq!(app.delete(&format!("/api/requests/{id}"), b.token()).await.status, StatusCode::NO_CONTENT);
        assert_eq!(app.get("/api/requests", admin.token()).await.body["meta"]["total"], 2);
    }
}
