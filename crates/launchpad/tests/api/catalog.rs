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

// ---------------------------------------------------------------------------------
// The admin catalogue.

fn plan_body(name: &str, price: i64) -> serde_json::Value {
    json!({
        "name": name,
        "description": "For testing",
        "price": price,
        "features": ["1 Project", "Mentor chat"],
        "blog_included": true,
        "max_projects": 2,
        "support_level": "Standard",
    })
}

fn id_of(body: &serde_json::Value) -> String {
    body["id"].as_str().expect("id").to_owned()
}

both_backends! {
    async fn an_admin_creates_and_updates_plans_and_every_write_is_logged(app: TestApp) {
        let admin = app.admin().await;
        let r = app.post("/api/admin/plans", admin.token(), plan_body("Starter", 1999)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let id = id_of(&r.body);
        assert_eq!(r.body["name"], "Starter");
        assert_eq!(r.body["price"], 1999);
        assert_eq!(r.body["features"], json!(["1 Project", "Mentor chat"]));
        assert_eq!(r.body["blog_included"], true);
        assert_eq!(r.body["max_projects"], 2);
        assert_eq!(r.body["support_level"], "Standard");
        assert_eq!(r.body["is_active"], true, "plans are active unless told otherwise");
        assert_eq!(app.get(&format!("/api/plans/{id}"), None).await.body["price"], 1999);
        assert_eq!(app.get("/api/plans", None).await.body["meta"]["total"], 4);

        // Only the required fields: the rest take their defaults.
        let r = app.post("/api/admin/plans", admin.token(), json!({
            "name": "Minimal", "price": 0, "max_projects": 1, "support_level": "Basic"
        })).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.body["features"], json!([]));
        assert_eq!(r.body["blog_included"], false);
        assert_eq!(r.body["description"], serde_json::Value::Null);

        let r = app.patch(&format!("/api/admin/plans/{id}"), admin.token(), json!({
            "price": 2499, "description": null, "features": ["Everything"], "is_active": false
        })).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["price"], 2499);
        assert_eq!(r.body["description"], serde_json::Value::Null);
        assert_eq!(r.body["features"], json!(["Everything"]));
        assert_eq!(r.body["is_active"], false);
        assert_eq!(r.body["name"], "Starter", "absent fields stay as they are");
        // Inactive: gone from the public catalogue, still in the admin one.
        app.get(&format!("/api/plans/{id}"), None).await.assert_error(StatusCode::NOT_FOUND);
        assert_eq!(app.get("/api/plans", None).await.body["meta"]["total"], 4);
        let all = app.get("/api/admin/plans", admin.token()).await;
        assert_eq!(all.status, StatusCode::OK, "{}", all.body);
        assert_eq!(all.body["meta"]["total"], 5);
        let inactive = app.get("/api/admin/plans?is_active=false", admin.token()).await;
        assert_eq!(inactive.body["meta"]["total"], 1);
        assert_eq!(inactive.body["data"][0]["id"], id);
        let active = app.get("/api/admin/plans?is_active=true&sort_by=name", admin.token()).await;
        let names: Vec<&str> = active.body["data"].as_array().expect("data").iter().filter_map(|p| p["name"].as_str()).collect();
        assert_eq!(names, ["Basic", "Minimal", "Premium", "Standard"]);

        let admin_id = app.get("/api/users/me", admin.token()).await.body["id"].as_str().map(str::to_owned);
        let created = app.activity("plan.create").await;
        assert_eq!(created.len(), 2);
        assert_eq!(created[0].entity_id.map(|i| i.to_string()), Some(id.clone()));
        assert_eq!(created[0].user_id.map(|i| i.to_string()), admin_id);
        let updated = app.activity("plan.update").await;
        assert_eq!(updated.len(), 1);
        assert_eq!(updated[0].details["fields"], json!(["description", "price", "features", "is_active"]));
    }

    async fn invalid_plans_are_422_naming_the_field_and_write_nothing(app: TestApp) {
        let admin = app.admin().await;
        let with = |field: &str, value: serde_json::Value| {
            let mut body = plan_body("Valid Name", 100);
            body[field] = value;
            body
        };
        let cases = [
            (with("name", json!("x")), Some("name")),
            (with("name", json!("n".repeat(101))), Some("name")),
            (with("name", json!("  ")), Some("name")),
            (with("price", json!(-1)), Some("price")),
            (with("max_projects", json!(0)), Some("max_projects")),
            (with("max_projects", json!(5_000_000_000_i64)), Some("max_projects")),
            (with("support_level", json!("Gold")), Some("support_level")),
            (with("support_level", json!("basic")), Some("support_level")),
            (with("features", json!([""])), Some("features")),
            (with("features", json!(vec!["f"; 21])), Some("features")),
            (with("price", json!(12.5)), None),
            (with("price", json!("100")), None),
            (with("is_admin", json!(true)), None),
            (json!({"name": "No Price", "max_projects": 1, "support_level": "Basic"}), None),
        ];
        for (body, field) in &cases {
            let r = app.post("/api/admin/plans", admin.token(), body.clone()).await;
            r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
            if let Some(field) = field {
                assert_eq!(r.body["details"]["field"], *field, "{body}: {}", r.body);
            }
        }
        let r = app.post("/api/admin/plans", admin.token(), with("support_level", json!("Gold"))).await;
        assert_eq!(r.body["details"]["allowed"], json!(["Basic", "Standard", "Premium"]));

        let basic = app.get("/api/plans", None).await.body["data"][0].clone();
        let url = format!("/api/admin/plans/{}", id_of(&basic));
        for (body, field) in [
            (json!({"price": -5}), Some("price")),
            (json!({"name": "y"}), Some("name")),
            (json!({"max_projects": 0}), Some("max_projects")),
            (json!({"support_level": "Platinum"}), Some("support_level")),
            (json!({"price": 1, "name": "z"}), Some("name")),
            (json!({"amount": 1}), None),
            (json!({"is_active": "yes"}), None),
        ] {
            let r = app.patch(&url, admin.token(), body.clone()).await;
            r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
            if let Some(field) = field {
                assert_eq!(r.body["details"]["field"], field, "{body}");
            }
        }
        // Nothing was written: not even the valid half of a half-valid update.
        assert_eq!(app.get("/api/admin/plans", admin.token()).await.body["meta"]["total"], 3);
        let after = app.get(&format!("/api/plans/{}", id_of(&basic)), None).await.body;
        assert_eq!(after["price"], basic["price"]);
        assert_eq!(after["updated_at"], basic["updated_at"]);
        assert!(app.activity("plan.create").await.is_empty());
        assert!(app.activity("plan.update").await.is_empty());
    }

    async fn a_live_plan_or_service_name_is_taken_once_and_a_duplicate_is_409(app: TestApp) {
        let admin = app.admin().await;
        let r = app.post("/api/admin/plans", admin.token(), plan_body("Basic", 100)).await;
        r.assert_error(StatusCode::CONFLICT);
        assert_eq!(r.body["details"]["field"], "name");
        assert_eq!(r.body["details"]["constraint"], "ux_plans_name_live");
        let plans = app.get("/api/plans", None).await.body;
        let standard = id_of(&plans["data"][1]);
        let r = app.patch(&format!("/api/admin/plans/{standard}"), admin.token(), json!({"name": "Premium"})).await;
        r.assert_error(StatusCode::CONFLICT);
        assert_eq!(r.body["details"]["field"], "name");
        assert_eq!(app.get(&format!("/api/plans/{standard}"), None).await.body["name"], "Standard");

        let r = app.post("/api/admin/services", admin.token(), json!({"name": "Code Review", "price": 5})).await;
        r.assert_error(StatusCode::CONFLICT);
        assert_eq!(r.body["details"]["field"], "name");
        assert_eq!(r.body["details"]["constraint"], "ux_services_name_live");
        assert!(app.activity("plan.create").await.is_empty());
        assert!(app.activity("plan.update").await.is_empty());
        assert!(app.activity("service.create").await.is_empty());

        // Unique among live rows only: a deleted plan's name is free again.
        let basic = id_of(&plans["data"][0]);
        app.delete(&format!("/api/admin/plans/{basic}"), admin.token()).await;
        let r = app.post("/api/admin/plans", admin.token(), plan_body("Basic", 100)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }

    async fn an_admin_manages_services_from_creation_to_the_trash_and_back(app: TestApp) {
        let admin = app.admin().await;
        let r = app.post("/api/admin/services", admin.token(), json!({
            "name": "Viva Preparation", "description": "Mock viva with a mentor", "price": 1299
        })).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let id = id_of(&r.body);
        assert_eq!(r.body["is_active"], true);
        assert_eq!(r.body["price"], 1299);
        assert_eq!(app.get(&format!("/api/services/{id}"), None).await.body["name"], "Viva Preparation");
        assert_eq!(app.get("/api/services", None).await.body["meta"]["total"], 5);

        for (body, field) in [
            (json!({"price": -1}), Some("price")),
            (json!({"name": "V"}), Some("name")),
            (json!({"name": "Valid", "features": []}), None),
        ] {
            let r = app.patch(&format!("/api/admin/services/{id}"), admin.token(), body).await;
            r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
            if let Some(field) = field {
                assert_eq!(r.body["details"]["field"], field);
            }
        }
        let r = app.post("/api/admin/services", admin.token(), json!({"name": "Cheap", "price": -10})).await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.body["details"]["field"], "price");

        let r = app.patch(&format!("/api/admin/services/{id}"), admin.token(), json!({"is_active": false, "price": 1499})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["price"], 1499);
        app.get(&format!("/api/services/{id}"), None).await.assert_error(StatusCode::NOT_FOUND);
        assert_eq!(app.get("/api/services", None).await.body["meta"]["total"], 4);
        assert_eq!(app.get("/api/admin/services", admin.token()).await.body["meta"]["total"], 5);
        assert_eq!(app.get("/api/admin/services?is_active=false", admin.token()).await.body["data"][0]["id"], id);

        assert_eq!(app.delete(&format!("/api/admin/services/{id}"), admin.token()).await.status, StatusCode::NO_CONTENT);
        assert_eq!(app.get("/api/admin/services", admin.token()).await.body["meta"]["total"], 4);
        app.delete(&format!("/api/admin/services/{id}"), admin.token()).await.assert_error(StatusCode::NOT_FOUND);
        app.patch(&format!("/api/admin/services/{id}"), admin.token(), json!({"price": 1})).await
            .assert_error(StatusCode::NOT_FOUND);

        let r = app.post(&format!("/api/admin/services/{id}/restore"), admin.token(), json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["name"], "Viva Preparation");
        assert_eq!(app.get("/api/admin/services", admin.token()).await.body["meta"]["total"], 5);
        // It is there, but not in the trash.
        app.post(&format!("/api/admin/services/{id}/restore"), admin.token(), json!({})).await
            .assert_error(StatusCode::CONFLICT);

        // Restoring a service whose name was taken again in the meantime is a 409.
        app.delete(&format!("/api/admin/services/{id}"), admin.token()).await;
        let r = app.post("/api/admin/services", admin.token(), json!({"name": "Viva Preparation", "price": 0})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let r = app.post(&format!("/api/admin/services/{id}/restore"), admin.token(), json!({})).await;
        r.assert_error(StatusCode::CONFLICT);
        assert_eq!(r.body["details"]["field"], "name");

        assert_eq!(app.activity("service.create").await.len(), 2);
        let updated = app.activity("service.update").await;
        assert_eq!(updated.len(), 1);
        assert_eq!(updated[0].details["fields"], json!(["price", "is_active"]));
        let deleted = app.activity("service.delete").await;
        assert_eq!(deleted.len(), 2);
        assert_eq!(deleted[0].details["affected"]["services"], 1);
        assert_eq!(app.activity("trash.restore").await.len(), 1);
    }

    async fn the_admin_catalogue_is_401_anonymously_403_for_students_and_404_for_missing_rows(app: TestApp) {
        let student = app.login("student@test.com", "Test@1234").await;
        let admin = app.admin().await;
        let id = uuid::Uuid::now_v7();
        let plan = plan_body("Sneaky", 1);
        let service = json!({"name": "Sneaky", "price": 1});
        let calls: Vec<(reqwest::Method, String, Option<serde_json::Value>)> = vec![
            (reqwest::Method::GET, "/api/admin/plans".into(), None),
            (reqwest::Method::POST, "/api/admin/plans".into(), Some(plan.clone())),
            (reqwest::Method::PATCH, format!("/api/admin/plans/{id}"), Some(json!({"price": 1}))),
            (reqwest::Method::GET, "/api/admin/services".into(), None),
            (reqwest::Method::POST, "/api/admin/services".into(), Some(service.clone())),
            (reqwest::Method::PATCH, format!("/api/admin/services/{id}"), Some(json!({"price": 1}))),
            (reqwest::Method::DELETE, format!("/api/admin/services/{id}"), None),
            (reqwest::Method::POST, format!("/api/admin/services/{id}/restore"), Some(json!({}))),
        ];
        for (method, path, body) in &calls {
            app.request(method.clone(), path, None, body.clone()).await.assert_error(StatusCode::UNAUTHORIZED);
            app.request(method.clone(), path, student.token(), body.clone()).await.assert_error(StatusCode::FORBIDDEN);
        }
        app.patch(&format!("/api/admin/plans/{id}"), admin.token(), json!({"price": 1})).await.assert_error(StatusCode::NOT_FOUND);
        app.patch(&format!("/api/admin/services/{id}"), admin.token(), json!({"price": 1})).await.assert_error(StatusCode::NOT_FOUND);
        app.patch("/api/admin/plans/not-a-uuid", admin.token(), json!({"price": 1})).await.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        app.delete("/api/admin/services/42", admin.token()).await.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.get("/api/admin/plans", admin.token()).await.body["meta"]["total"], 3);
        assert_eq!(app.get("/api/admin/services", admin.token()).await.body["meta"]["total"], 4);
        assert!(app.activity("plan.create").await.is_empty());
        assert!(app.activity("service.create").await.is_empty());
    }
}
