use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Response, Session, TestApp};

/// The seeded services' ids, by name: Code Review, Deployment Guidance,
/// Documentation Help, Synopsis Review.
async fn services(app: &TestApp) -> Vec<String> {
    let r = app.get("/api/services?sort_by=name", None).await;
    r.body["data"]
        .as_array()
        .expect("services")
        .iter()
        .map(|s| s["id"].as_str().expect("id").to_owned())
        .collect()
}

fn id_of(body: &Value) -> String {
    body["id"].as_str().expect("id").to_owned()
}

async fn subscribe(app: &TestApp, token: Option<&str>, service: &str) -> String {
    let r = app
        .post("/api/subscriptions", token, json!({"service_id": service}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "subscribe: {}", r.body);
    id_of(&r.body)
}

/// An admin's status move.
async fn set_status(app: &TestApp, admin: &Session, id: &str, status: &str) -> Response {
    app.post(
        &format!("/api/admin/subscriptions/{id}/status"),
        admin.token(),
        json!({"status": status}),
    )
    .await
}

fn statuses(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|s| s["status"].as_str().expect("status").to_owned())
        .collect()
}

both_backends! {
    async fn a_student_subscribes_to_a_service_and_sees_its_name_and_price(app: TestApp) {
        let s = app.register("sub@example.com").await;
        let ids = services(&app).await;
        let r = app.post("/api/subscriptions", s.token(), json!({"service_id": ids[0]})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let id = id_of(&r.body);
        assert_eq!(r.body["status"], "requested");
        assert_eq!(r.body["service_id"], ids[0]);
        assert_eq!(r.body["service"], json!({"id": ids[0], "name": "Code Review", "price": 1999}));
        assert_eq!(r.body["user_id"], s.user_id.expect("user id").to_string());

        let r = app.get(&format!("/api/subscriptions/{id}"), s.token()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["service"]["name"], "Code Review");
        subscribe(&app, s.token(), &ids[3]).await;

        let r = app.get("/api/subscriptions", s.token()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["meta"], json!({"total": 2, "page": 1, "per_page": 20, "total_pages": 1}));
        // Newest first, each with its own service.
        let names: Vec<&str> = r.body["data"].as_array().expect("data").iter().filter_map(|s| s["service"]["name"].as_str()).collect();
        assert_eq!(names, ["Synopsis Review", "Code Review"]);
        assert_eq!(r.body["data"][0]["service"]["price"], 999);

        let logged = app.activity("subscription.create").await;
        assert_eq!(logged.len(), 2);
        assert_eq!(logged[0].entity_id.map(|i| i.to_string()), Some(id));
        assert_eq!(logged[0].entity_type.as_deref(), Some("subscription"));
        assert_eq!(logged[0].user_id, s.user_id);
        assert_eq!(logged[0].details["service_id"], ids[0]);
    }

    async fn a_subscription_keeps_naming_its_service_after_the_service_changes(app: TestApp) {
        let s = app.register("keep@example.com").await;
        let admin = app.admin().await;
        let ids = services(&app).await;
        let id = subscribe(&app, s.token(), &ids[1]).await;
        app.patch(&format!("/api/admin/services/{}", ids[1]), admin.token(), json!({"is_active": false, "price": 2999})).await;
        let r = app.get(&format!("/api/subscriptions/{id}"), s.token()).await;
        assert_eq!(r.body["service"], json!({"id": ids[1], "name": "Deployment Guidance", "price": 2999}));
        app.delete(&format!("/api/admin/services/{}", ids[1]), admin.token()).await;
        let r = app.get("/api/subscriptions", s.token()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["data"][0]["service"]["name"], "Deployment Guidance");
    }

    async fn only_a_live_active_service_can_be_subscribed_to(app: TestApp) {
        let s = app.register("nosub@example.com").await;
        let admin = app.admin().await;
        let ids = services(&app).await;
        app.patch(&format!("/api/admin/services/{}", ids[0]), admin.token(), json!({"is_active": false})).await;
        app.delete(&format!("/api/admin/services/{}", ids[1]), admin.token()).await;
        let missing = uuid::Uuid::now_v7().to_string();
        for service in [&ids[0], &ids[1], &missing] {
            let r = app.post("/api/subscriptions", s.token(), json!({"service_id": service})).await;
            r.assert_error(StatusCode::NOT_FOUND);
            assert_eq!(r.body["error"], "service not found");
        }
        for body in [
            json!({"service_id": "not-a-uuid"}),
            json!({}),
            json!({"service_id": ids[2], "status": "active"}),
            json!({"service_id": ids[2], "user_id": uuid::Uuid::now_v7()}),
        ] {
            app.post("/api/subscriptions", s.token(), body).await.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        }
        app.post("/api/subscriptions", None, json!({"service_id": ids[2]})).await.assert_error(StatusCode::UNAUTHORIZED);
        assert_eq!(app.get("/api/subscriptions", admin.token()).await.body["meta"]["total"], 0);
        assert!(app.activity("subscription.create").await.is_empty());
    }

    async fn a_second_open_subscription_to_a_service_is_409_until_the_first_is_cancelled(app: TestApp) {
        let s = app.register("twice@example.com").await;
        let other = app.register("other@example.com").await;
        let ids = services(&app).await;
        let first = subscribe(&app, s.token(), &ids[2]).await;
        let r = app.post("/api/subscriptions", s.token(), json!({"service_id": ids[2]})).await;
        r.assert_error(StatusCode::CONFLICT);
        assert_eq!(r.body["details"]["field"], "service_id");
        assert_eq!(r.body["details"]["constraint"], "ux_user_services_user_service_live");
        // Someone else may subscribe to the same service.
        subscribe(&app, other.token(), &ids[2]).await;
        assert_eq!(app.activity("subscription.create").await.len(), 2);

        let r = app.post(&format!("/api/subscriptions/{first}/cancel"), s.token(), json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let again = subscribe(&app, s.token(), &ids[2]).await;
        assert_ne!(again, first);
        let r = app.get("/api/subscriptions?sort_by=created_at&sort_order=asc", s.token()).await;
        assert_eq!(statuses(&r.body), ["cancelled", "requested"]);
    }

    async fn subscriptions_move_requested_active_completed_and_can_be_cancelled_while_open(app: TestApp) {
        let s = app.register("moves@example.com").await;
        let admin = app.admin().await;
        let ids = services(&app).await;
        let a = subscribe(&app, s.token(), &ids[0]).await;
        let b = subscribe(&app, s.token(), &ids[1]).await;
        let c = subscribe(&app, s.token(), &ids[2]).await;
        let d = subscribe(&app, s.token(), &ids[3]).await;
        for (id, to) in [(&a, "active"), (&a, "completed"), (&b, "active"), (&b, "cancelled"), (&c, "cancelled")] {
            let r = set_status(&app, &admin, id, to).await;
            assert_eq!(r.status, StatusCode::OK, "{to}: {}", r.body);
            assert_eq!(r.body["status"], to);
            assert_eq!(r.body["service"]["id"], r.body["service_id"]);
        }
        // The owner cancels an active one.
        set_status(&app, &admin, &d, "active").await;
        let r = app.post(&format!("/api/subscriptions/{d}/cancel"), s.token(), json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["status"], "cancelled");

        let moved = app.activity("subscription.status").await;
        assert_eq!(moved.len(), 6);
        assert_eq!(moved[0].details, json!({"from": "requested", "to": "active"}));
        assert_eq!(moved[1].details, json!({"from": "active", "to": "completed"}));
        let cancelled = app.activity("subscription.cancel").await;
        assert_eq!(cancelled.len(), 1);
        assert_eq!(cancelled[0].details, json!({"from": "active", "to": "cancelled"}));
        assert_eq!(cancelled[0].user_id, s.user_id);
    }

    async fn illegal_subscription_moves_are_409_listing_what_is_allowed_and_change_nothing(app: TestApp) {
        let s = app.register("illegal@example.com").await;
        let admin = app.admin().await;
        let ids = services(&app).await;
        let requested = subscribe(&app, s.token(), &ids[0]).await;
        let done = subscribe(&app, s.token(), &ids[1]).await;
        let cancelled = subscribe(&app, s.token(), &ids[2]).await;
        set_status(&app, &admin, &done, "active").await;
        set_status(&app, &admin, &done, "completed").await;
        set_status(&app, &admin, &cancelled, "cancelled").await;
        let before = app.get("/api/subscriptions?sort_by=created_at&sort_order=asc", s.token()).await.body;
        let logged = app.activity("subscription.status").await.len();

        for (id, to, allowed) in [
            (&requested, "completed", json!(["active", "cancelled"])),
            (&requested, "requested", json!(["active", "cancelled"])),
            (&done, "active", json!([])),
            (&done, "cancelled", json!([])),
            (&cancelled, "requested", json!([])),
            (&cancelled, "active", json!([])),
        ] {
            let r = set_status(&app, &admin, id, to).await;
            r.assert_error(StatusCode::CONFLICT);
            assert_eq!(r.body["details"]["allowed"], allowed, "→ {to}: {}", r.body);
            assert_eq!(r.body["details"]["to"], to);
        }
        for id in [&done, &cancelled] {
            let r = app.post(&format!("/api/subscriptions/{id}/cancel"), s.token(), json!({})).await;
            r.assert_error(StatusCode::CONFLICT);
            assert_eq!(r.body["details"]["allowed"], json!([]));
        }
        let r = set_status(&app, &admin, &requested, "paused").await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.body["details"]["field"], "status");
        assert_eq!(r.body["details"]["allowed"], json!(["requested", "active", "completed", "cancelled"]));
        app.post(&format!("/api/admin/subscriptions/{requested}/status"), admin.token(), json!({})).await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY);

        let after = app.get("/api/subscriptions?sort_by=created_at&sort_order=asc", s.token()).await.body;
        assert_eq!(after["data"], before["data"], "nothing changed");
        assert_eq!(app.activity("subscription.status").await.len(), logged);
        assert!(app.activity("subscription.cancel").await.is_empty());
    }

    async fn subscription_lists_filter_by_status_sort_and_page(app: TestApp) {
        let s = app.register("lists@example.com").await;
        let admin = app.admin().await;
        let ids = services(&app).await;
        let mut subs = Vec::new();
        for service in &ids {
            subs.push(subscribe(&app, s.token(), service).await);
        }
        for (i, to) in [(0, "active"), (1, "cancelled"), (2, "active")] {
            app.post(&format!("/api/admin/subscriptions/{}/status", subs[i]), admin.token(), json!({"status": to})).await;
        }
        let r = app.get("/api/subscriptions?status=active", s.token()).await;
        assert_eq!(r.body["meta"]["total"], 2);
        assert_eq!(statuses(&r.body), ["active", "active"]);
        let r = app.get("/api/subscriptions?status=requested", s.token()).await;
        assert_eq!(r.body["data"][0]["id"], subs[3]);
        let r = app.get("/api/subscriptions?sort_by=status&sort_order=asc", s.token()).await;
        assert_eq!(statuses(&r.body), ["active", "active", "cancelled", "requested"]);
        let r = app.get("/api/subscriptions?sort_by=created_at&sort_order=asc&per_page=3&page=2", s.token()).await;
        assert_eq!(r.body["meta"], json!({"total": 4, "page": 2, "per_page": 3, "total_pages": 2}));
        assert_eq!(r.body["data"].as_array().map(Vec::len), Some(1));
        assert_eq!(r.body["data"][0]["id"], subs[3]);
        let r = app.get("/api/subscriptions?sort_by=updated_at", s.token()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["data"][0]["id"], subs[2], "most recently changed first");
        let r = app.get(&format!("/api/subscriptions?service_id={}", ids[1]), s.token()).await;
        assert_eq!(r.body["meta"]["total"], 1);
        assert_eq!(r.body["data"][0]["id"], subs[1]);
        let r = app.get("/api/subscriptions?created_before=2000-01-01T00:00:00Z", s.token()).await;
        assert_eq!(r.body["meta"]["total"], 0);
        let r = app.get("/api/subscriptions?created_after=2000-01-01T00:00:00Z", s.token()).await;
        assert_eq!(r.body["meta"]["total"], 4);
        // Subscriptions have no text of their own: a search is answered, and matches nothing.
        let r = app.get("/api/subscriptions?search=review", s.token()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["meta"]["total"], 0);

        for (query, field) in [
            ("status=paused", "status"),
            ("sort_by=name", "sort_by"),
            ("per_page=101", "per_page"),
            ("service_id=nope", ""),
        ] {
            let r = app.get(&format!("/api/subscriptions?{query}"), s.token()).await;
            r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
            if !field.is_empty() {
                assert_eq!(r.body["details"]["field"], field, "{query}");
            }
        }
        let r = app.get("/api/subscriptions?status=paused", s.token()).await;
        assert_eq!(r.body["details"]["allowed"], json!(["requested", "active", "completed", "cancelled"]));
        let r = app.get("/api/subscriptions?sort_by=name", s.token()).await;
        assert_eq!(r.body["details"]["allowed"], json!(["created_at", "updated_at", "status"]));
    }

    async fn another_students_subscription_is_404_while_admins_read_them_all(app: TestApp) {
        let owner = app.register("owner@example.com").await;
        let stranger = app.register("stranger@example.com").await;
        let admin = app.admin().await;
        let ids = services(&app).await;
        let id = subscribe(&app, owner.token(), &ids[0]).await;
        subscribe(&app, stranger.token(), &ids[1]).await;

        let theirs = app.get(&format!("/api/subscriptions/{id}"), stranger.token()).await;
        theirs.assert_error(StatusCode::NOT_FOUND);
        let missing = app.get(&format!("/api/subscriptions/{}", uuid::Uuid::now_v7()), stranger.token()).await;
        missing.assert_error(StatusCode::NOT_FOUND);
        assert_eq!(theirs.body["error"], missing.body["error"]);
        assert_eq!(theirs.body["error"], "subscription not found");
        app.post(&format!("/api/subscriptions/{id}/cancel"), stranger.token(), json!({})).await
            .assert_error(StatusCode::NOT_FOUND);
        let r = app.get("/api/subscriptions", stranger.token()).await;
        assert_eq!(r.body["meta"]["total"], 1);
        assert_ne!(r.body["data"][0]["id"], id);

        let r = app.get(&format!("/api/subscriptions/{id}"), admin.token()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(app.get("/api/subscriptions", admin.token()).await.body["meta"]["total"], 2);
        // Admins act on other people's subscriptions through the admin route only.
        app.post(&format!("/api/subscriptions/{id}/cancel"), admin.token(), json!({})).await
            .assert_error(StatusCode::FORBIDDEN);
        app.post(&format!("/api/admin/subscriptions/{id}/status"), owner.token(), json!({"status": "active"})).await
            .assert_error(StatusCode::FORBIDDEN);
        app.post(&format!("/api/admin/subscriptions/{id}/status"), None, json!({"status": "active"})).await
            .assert_error(StatusCode::UNAUTHORIZED);
        app.get("/api/subscriptions", None).await.assert_error(StatusCode::UNAUTHORIZED);
        app.get(&format!("/api/subscriptions/{id}"), None).await.assert_error(StatusCode::UNAUTHORIZED);
        app.post(&format!("/api/admin/subscriptions/{}/status", uuid::Uuid::now_v7()), admin.token(), json!({"status": "active"})).await
            .assert_error(StatusCode::NOT_FOUND);
        app.get("/api/subscriptions/not-a-uuid", owner.token()).await.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        app.post("/api/subscriptions/123/cancel", owner.token(), json!({})).await.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        app.post("/api/admin/subscriptions/xyz/status", admin.token(), json!({"status": "active"})).await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.get(&format!("/api/subscriptions/{id}"), owner.token()).await.body["status"], "requested");
    }

    async fn a_deleted_account_takes_its_subscriptions_out_of_sight_and_a_restore_brings_them_back(app: TestApp) {
        let s = app.register("leaving@example.com").await;
        let admin = app.admin().await;
        let ids = services(&app).await;
        let id = subscribe(&app, s.token(), &ids[0]).await;
        subscribe(&app, s.token(), &ids[1]).await;
        assert_eq!(app.get("/api/subscriptions", admin.token()).await.body["meta"]["total"], 2);

        assert_eq!(app.delete("/api/users/me", s.token()).await.status, StatusCode::NO_CONTENT);
        assert_eq!(app.get("/api/subscriptions", admin.token()).await.body["meta"]["total"], 0);
        app.get(&format!("/api/subscriptions/{id}"), admin.token()).await.assert_error(StatusCode::NOT_FOUND);
        app.post(&format!("/api/admin/subscriptions/{id}/status"), admin.token(), json!({"status": "active"})).await
            .assert_error(StatusCode::NOT_FOUND);
        let trash = app.get("/api/admin/trash?entity_type=subscription", admin.token()).await;
        assert_eq!(trash.body["meta"]["total"], 2, "{}", trash.body);

        let user = s.user_id.expect("user id");
        let r = app.post(&format!("/api/admin/users/{user}/restore"), admin.token(), json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(app.get("/api/subscriptions", admin.token()).await.body["meta"]["total"], 2);
        let r = app.get(&format!("/api/subscriptions/{id}"), admin.token()).await;
        assert_eq!(r.body["status"], "requested");
    }
}
