//! Bad input at the edges is the client's mistake, answered alike on both backends:
//! timestamps outside the years 1–9999 (PostgreSQL errs on some, SQLite stores them all)
//! and meeting times in the past are 422s naming the field; file names lose direction
//! overrides; a file whose bytes went missing is a documented 410, logged and counted.

use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use launchpad::entity::{files, meetings};

use crate::files::{png, upload};

/// Times neither backend stores alike, percent-encoded for a query string.
const OUT_OF_RANGE: &[&str] = &[
    "-262143-01-01T00:00:00Z",
    "0000-12-31T23:59:59Z",
    "+10000-01-01T00:00:00Z",
];

fn in_query(time: &str) -> String {
    time.replace('+', "%2B")
}

crate::both_backends! {
    async fn list_filters_outside_the_years_1_to_9999_are_422_naming_the_field(app: TestApp) {
        let student = app.register("lister@test.com").await;
        let admin = app.admin().await;
        for time in OUT_OF_RANGE {
            for field in ["created_after", "created_before"] {
                for (path, token) in [
                    ("/api/projects", student.token()),
                    ("/api/activity-logs", admin.token()),
                    ("/api/admin/users", admin.token()),
                ] {
                    let url = format!("{path}?{field}={}", in_query(time));
                    let r = app.get(&url, token).await;
                    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
                    assert_eq!(r.body["details"]["field"], field, "{url}: {}", r.body);
                }
            }
        }
        // The edges of the range are fine.
        for time in ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z"] {
            let r = app.get(&format!("/api/projects?created_before={time}"), student.token()).await;
            assert_eq!(r.status, StatusCode::OK, "{time}: {}", r.body);
        }
    }

    async fn meeting_times_out_of_range_or_past_are_422_and_store_nothing(app: TestApp) {
        let student = app.register("meeter@test.com").await;
        let mut times: Vec<&str> = OUT_OF_RANGE.to_vec();
        times.push("2001-01-01T00:00:00Z");
        for time in &times {
            let body = json!({"topic": "Review my plan", "preferred_time": time});
            let r = app.post("/api/meetings", student.token(), body).await;
            r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(r.body["details"]["field"], "preferred_time", "{time}: {}", r.body);
        }
        let stored = meetings::Entity::find().count(&app.db).await.expect("count");
        assert_eq!(stored, 0, "a refused meeting was stored");

        let body = json!({"topic": "Review my plan", "preferred_time": "2999-01-01T10:00:00Z"});
        let r = app.post("/api/meetings", student.token(), body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let id = r.body["id"].as_str().expect("id").to_owned();
        let admin = app.admin().await;
        for time in &times {
            let body = json!({"scheduled_at": time, "meeting_link": "https://meet.example.com/x"});
            let r = app
                .post(&format!("/api/admin/meetings/{id}/schedule"), admin.token(), body)
                .await;
            r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(r.body["details"]["field"], "scheduled_at", "{time}: {}", r.body);
        }
        let meeting = meetings::Entity::find().one(&app.db).await.expect("read").expect("row");
        assert_eq!(meeting.scheduled_at, None);
    }

    async fn file_names_lose_direction_overrides_and_invisible_characters(app: TestApp) {
        let student = app.register("namer@test.com").await;
        let r = app.post("/api/projects", student.token(), json!({"title": "Named files"})).await;
        let project = r.body["id"].as_str().expect("id").to_owned();
        let r = upload(&app, student.token(), &project, "project", png(), "photo\u{202E}gnp.exe\u{200B}.png").await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.body["original_name"], "photognp.exe.png");
        let stored = files::Entity::find().one(&app.db).await.expect("read").expect("row");
        assert_eq!(stored.original_name, "photognp.exe.png");
    }

    async fn a_file_whose_bytes_are_missing_is_a_410_counted_as_an_integrity_problem(app: TestApp) {
        let student = app.register("loser@test.com").await;
        let r = app.post("/api/projects", student.token(), json!({"title": "Lost bytes"})).await;
        let project = r.body["id"].as_str().expect("id").to_owned();
        let r = upload(&app, student.token(), &project, "project", png(), "p.png").await;
        let id = r.body["id"].as_str().expect("id").to_owned();
        let row = files::Entity::find()
            .filter(files::Column::Id.eq(id.parse::<uuid::Uuid>().expect("uuid")))
            .one(&app.db)
            .await
            .expect("read")
            .expect("row");
        std::fs::remove_file(app.upload_dir.join(&row.storage_key)).expect("lose the bytes");
        let before = app.counter("launchpad_integrity_problems_total").await;
        let r = app.get(&format!("/api/files/{id}"), student.token()).await;
        r.assert_error(StatusCode::GONE);
        assert!(r.body["error"].as_str().unwrap_or_default().contains("missing"), "{}", r.body);
        assert_eq!(app.counter("launchpad_integrity_problems_total").await - before, 1);
    }
}
