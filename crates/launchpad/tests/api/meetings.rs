use reqwest::StatusCode;
use serde_json::json;

use crate::both_backends;

fn future(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339()
}

both_backends! {
    async fn a_meeting_is_requested_scheduled_and_completed(app: TestApp) {
        let s = app.register("m1@example.com").await;
        let admin = app.admin().await;
        let r = app.post("/api/meetings", s.token(), json!({"topic": "Synopsis help", "preferred_time": future(2)})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.body["status"], "requested");
        let id = r.body["id"].as_str().expect("id").to_owned();

        let complete = format!("/api/admin/meetings/{id}/complete");
        let r = app.post(&complete, admin.token(), json!({})).await;
        r.assert_error(StatusCode::CONFLICT);
        assert_eq!(r.body["details"]["allowed"], json!(["scheduled", "cancelled"]));

        let schedule = format!("/api/admin/meetings/{id}/schedule");
        let body = json!({"scheduled_at": future(3), "meeting_link": "https://meet.example.com/abc"});
        let r = app.post(&schedule, admin.token(), body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["status"], "scheduled");
        assert_eq!(r.body["meeting_link"], "https://meet.example.com/abc");
        assert!(r.body["admin_id"].is_string());
        // Rescheduling is allowed.
        let body = json!({"scheduled_at": future(4), "meeting_link": "https://meet.example.com/def"});
        assert_eq!(app.post(&schedule, admin.token(), body).await.status, StatusCode::OK);

        let r = app.post(&complete, admin.token(), json!({"notes": "Went well"})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["status"], "completed");
        assert_eq!(r.body["notes"], "Went well");
        app.post(&format!("/api/meetings/{id}/cancel"), s.token(), json!({})).await.assert_error(StatusCode::CONFLICT);
        assert_eq!(app.activity("meeting.schedule").await.len(), 2);
        assert_eq!(app.activity("meeting.complete").await.len(), 1);
    }

    async fn scheduling_needs_a_future_time_and_a_real_link(app: TestApp) {
        let s = app.register("m2@example.com").await;
        let admin = app.admin().await;
        let id = app.post("/api/meetings", s.token(), json!({"topic": "Review"})).await.body["id"].as_str().map(str::to_owned).expect("id");
        let path = format!("/api/admin/meetings/{id}/schedule");
        for body in [
            json!({"scheduled_at": "2001-01-01T00:00:00Z", "meeting_link": "https://meet.example.com/a"}),
            json!({"scheduled_at": future(1), "meeting_link": "javascript:alert(1)"}),
            json!({"scheduled_at": "tomorrow", "meeting_link": "https://meet.example.com/a"}),
        ] {
            app.post(&path, admin.token(), body).await.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        }
        app.post(&path, s.token(), json!({"scheduled_at": future(1), "meeting_link": "https://x.example.com/a"})).await
            .assert_error(StatusCode::FORBIDDEN);
        assert_eq!(app.get(&format!("/api/meetings/{id}"), s.token()).await.body["status"], "requested");
    }

    async fn students_cancel_their_own_meetings_and_cannot_see_others(app: TestApp) {
        let s = app.register("m3@example.com").await;
        let other = app.register("m4@example.com").await;
        let project = app.post("/api/projects", other.token(), json!({"title": "Not yours"})).await.body;
        app.post("/api/meetings", s.token(), json!({"topic": "Sneaky", "project_id": project["id"]})).await
            .assert_error(StatusCode::NOT_FOUND);
        let id = app.post("/api/meetings", s.token(), json!({"topic": "Mine"})).await.body["id"].as_str().map(str::to_owned).expect("id");
        app.get(&format!("/api/meetings/{id}"), other.token()).await.assert_error(StatusCode::NOT_FOUND);
        app.post(&format!("/api/meetings/{id}/cancel"), other.token(), json!({})).await.assert_error(StatusCode::NOT_FOUND);
        let r = app.post(&format!("/api/meetings/{id}/cancel"), s.token(), json!({})).await;
        assert_eq!(r.body["status"], "cancelled");
        let r = app.get("/api/meetings?status=cancelled&search=MINE", s.token()).await;
        assert_eq!(r.body["meta"]["total"], 1);
        assert_eq!(app.delete(&format!("/api/meetings/{id}"), s.token()).await.status, StatusCode::NO_CONTENT);
        assert_eq!(app.get("/api/meetings", s.token()).await.body["meta"]["total"], 0);
    }
}
