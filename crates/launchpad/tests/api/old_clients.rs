//! What the predecessor's clients send is honoured or refused by name, never ignored:
//! `skip`/`limit` (and any parameter an operation does not take) are a 422 naming it and
//! the supported form; a time without a zone, as Python's `isoformat()` writes it, is
//! UTC; `sort_order=DESC` is `desc`.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::json;

crate::both_backends! {
    async fn parameters_an_operation_does_not_take_are_422_naming_them(app: TestApp) {
        let student = app.register("old@test.com").await;
        let r = app.get("/api/projects?skip=20&limit=10", student.token()).await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.body["details"]["field"], "skip", "{}", r.body);
        let message = r.body["error"].as_str().unwrap_or_default();
        assert!(message.contains("page") && message.contains("per_page"), "{message}");
        let allowed = r.body["details"]["allowed"].as_array().expect("allowed");
        assert!(allowed.contains(&json!("per_page")) && allowed.contains(&json!("cursor")));
        for (path, token, field) in [
            ("/api/plans?colour=blue", None, "colour"),
            ("/api/projects?page=1&sortby=title", student.token(), "sortby"),
            ("/api/users/me?x%20y=1", student.token(), "x y"),
        ] {
            let r = app.get(path, token).await;
            r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(r.body["details"]["field"], field, "{path}: {}", r.body);
        }
        // What an operation does take still works.
        let r = app.get("/api/projects?page=1&per_page=5&sort_by=title", student.token()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }

    async fn a_time_without_a_zone_is_utc_and_a_malformed_one_is_named(app: TestApp) {
        let student = app.register("naive@test.com").await;
        let r = app.post("/api/projects", student.token(), json!({"title": "Naive times"})).await;
        assert_eq!(r.status, StatusCode::CREATED);
        let naive = |at: chrono::DateTime<Utc>| at.naive_utc().format("%Y-%m-%dT%H:%M:%S%.6f").to_string();
        let hour_ago = naive(Utc::now() - Duration::hours(1));
        let r = app.get(&format!("/api/projects?created_after={hour_ago}"), student.token()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["meta"]["total"], 1);
        let r = app.get("/api/projects?created_before=2024-01-01T00:00:00", student.token()).await;
        assert_eq!(r.body["meta"]["total"], 0, "{}", r.body);

        let body = json!({"topic": "Naive meeting", "preferred_time": "2999-01-01T10:00:00"});
        let r = app.post("/api/meetings", student.token(), body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.body["preferred_time"], "2999-01-01T10:00:00Z");

        let r = app.get("/api/projects?created_after=yesterday", student.token()).await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.body["details"]["field"], "created_after", "{}", r.body);
        assert!(r.body["error"].as_str().unwrap_or_default().contains("RFC 3339"), "{}", r.body);
    }

    async fn sort_order_is_read_in_any_case(app: TestApp) {
        let student = app.register("case@test.com").await;
        for title in ["Alpha project", "Beta project"] {
            app.post("/api/projects", student.token(), json!({"title": title})).await;
        }
        let titles = |r: &crate::helpers::Response| -> Vec<String> {
            r.body["data"].as_array().expect("data").iter()
                .map(|p| p["title"].as_str().expect("title").to_owned()).collect()
        };
        let lower = app.get("/api/projects?sort_by=title&sort_order=desc", student.token()).await;
        for order in ["DESC", "Desc"] {
            let r = app.get(&format!("/api/projects?sort_by=title&sort_order={order}"), student.token()).await;
            assert_eq!(r.status, StatusCode::OK, "{order}: {}", r.body);
            assert_eq!(titles(&r), titles(&lower));
        }
        assert_eq!(titles(&lower), ["Beta project", "Alpha project"]);
    }
}
