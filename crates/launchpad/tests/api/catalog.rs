use reqwest::StatusCode;
use serde_json::json;

use crate::both_backends;

both_backends! {
    async fn plans_are_public_and_sorted_by_price(app: TestApp) {
        let r = app.get("/api/plans", None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["meta"], json!({"total": 3, "page": 1, "per_page": 20, "total_pages": 1}));
        let prices: Vec<i64> = r.body["data"].as_array().expect("data").iter().filter_map(|p| p["price"].as_i64()).collect();
        assert_eq!(prices, [2999, 4999, 7999]);
        assert_eq!(r.body["data"][2]["blog_included"], true);
        assert_eq!(r.body["data"][0]["features"][0], "1 Project");
        let r = app.get("/api/plans?sort_by=price&sort_order=desc&per_page=1&page=2", None).await;
        assert_eq!(r.body["data"][0]["name"], "Standard");
        assert_eq!(r.body["meta"]["total_pages"], 3);
        let r = app.get("/api/services?search=review", None).await;
        assert_eq!(r.body["meta"]["total"], 2);
    }

    async fn search_is_literal_not_a_pattern(app: TestApp) {
        for (search, expected) in [("%", 0), ("_", 0), ("\\", 0), ("'; DROP TABLE plans; --", 0), ("prem", 1)] {
            let url = format!("/api/plans?search={}", urlencode(search));
            let r = app.get(&url, None).await;
            assert_eq!(r.status, StatusCode::OK, "{search}: {}", r.body);
            assert_eq!(r.body["meta"]["total"], expected, "search {search:?}");
        }
        assert_eq!(app.get("/api/plans", None).await.body["meta"]["total"], 3);
    }

    async fn bad_list_parameters_are_422_naming_the_parameter(app: TestApp) {
        for (query, field) in [
            ("per_page=101", Some("per_page")),
            ("per_page=0", Some("per_page")),
            ("page=0", Some("page")),
            ("page=-1", None),
            ("page=abc", None),
            ("sort_by=password_hash", Some("sort_by")),
            ("sort_order=sideways", None),
            ("created_after=yesterday", None),
            ("created_after=2030-01-01T00:00:00Z&created_before=2020-01-01T00:00:00Z", Some("created_after")),
            ("status=active", Some("status")),
        ] {
            let r = app.get(&format!("/api/plans?{query}"), None).await;
            r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
            if let Some(field) = field {
                assert_eq!(r.body["details"]["field"], field, "{query}");
            }
        }
        let r = app.get("/api/plans?sort_by=nope", None).await;
        assert_eq!(r.body["details"]["allowed"], json!(["price", "created_at", "name"]));
    }

    async fn date_filters_bound_the_creation_time(app: TestApp) {
        let r = app.get("/api/plans?created_after=2000-01-01T00:00:00Z", None).await;
        assert_eq!(r.body["meta"]["total"], 3);
        let r = app.get("/api/plans?created_before=2000-01-01T00:00:00Z", None).await;
        assert_eq!(r.body["meta"]["total"], 0);
        let r = app.get("/api/plans?created_after=2999-01-01T00:00:00%2B05:30", None).await;
        assert_eq!(r.body["meta"]["total"], 0);
    }

    async fn a_deleted_plan_disappears_and_comes_back_on_restore(app: TestApp) {
        let admin = app.admin().await;
        let plans = app.get("/api/plans", None).await;
        let id = plans.body["data"][0]["id"].as_str().expect("id").to_owned();
        assert_eq!(app.delete(&format!("/api/admin/plans/{id}"), admin.token()).await.status, StatusCode::NO_CONTENT);
        app.get(&format!("/api/plans/{id}"), None).await.assert_error(StatusCode::NOT_FOUND);
        assert_eq!(app.get("/api/plans", None).await.body["meta"]["total"], 2);
        app.delete(&format!("/api/admin/plans/{id}"), admin.token()).await.assert_error(StatusCode::NOT_FOUND);
        let r = app.post(&format!("/api/admin/plans/{id}/restore"), admin.token(), json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(app.get(&format!("/api/plans/{id}"), None).await.status, StatusCode::OK);
        let deleted = app.activity("plan.delete").await;
        assert_eq!(deleted.len(), 1);
        let admin_id = app.get("/api/users/me", admin.token()).await.body["id"].as_str().map(str::to_owned);
        assert_eq!(deleted[0].user_id.map(|id| id.to_string()), admin_id, "the log names who deleted it");
        assert_eq!(deleted[0].details["affected"]["plans"], 1);
        assert_eq!(app.activity("trash.restore").await.len(), 1);
    }

    async fn bad_ids_are_4xx_never_5xx(app: TestApp) {
        app.get("/api/plans/not-a-uuid", None).await.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        app.get(&format!("/api/plans/{}", uuid::Uuid::now_v7()), None).await.assert_error(StatusCode::NOT_FOUND);
        app.get("/api/services/123", None).await.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
