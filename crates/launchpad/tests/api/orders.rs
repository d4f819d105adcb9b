use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Response, Session, TestApp};

/// The seeded plans' ids by price: Basic 2999, Standard 4999, Premium 7999.
async fn plans(app: &TestApp) -> Vec<String> {
    let r = app.get("/api/plans", None).await;
    r.body["data"]
        .as_array()
        .expect("plans")
        .iter()
        .map(|p| p["id"].as_str().expect("id").to_owned())
        .collect()
}

fn id_of(body: &Value) -> String {
    body["id"].as_str().expect("id").to_owned()
}

async fn order(app: &TestApp, who: &Session, plan: &str) -> String {
    let r = app
        .post("/api/orders", who.token(), json!({"plan_id": plan}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "order: {}", r.body);
    id_of(&r.body)
}

/// An admin's status move.
async fn set_status(app: &TestApp, admin: &Session, id: &str, body: Value) -> Response {
    app.post(
        &format!("/api/admin/orders/{id}/status"),
        admin.token(),
        body,
    )
    .await
}

fn column<'a>(body: &'a Value, field: &str) -> Vec<&'a Value> {
    body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|o| &o[field])
        .collect()
}

both_backends! {
    async fn a_student_orders_a_plan_at_the_plans_price_in_inr(app: TestApp) {
        let s = app.register("buyer@example.com").await;
        let ids = plans(&app).await;
        let r = app.post("/api/orders", s.token(), json!({"plan_id": ids[1]})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let id = id_of(&r.body);
        assert_eq!(r.body["plan_id"], ids[1]);
        assert_eq!(r.body["amount"], 4999);
        assert_eq!(r.body["currency"], "INR");
        assert_eq!(r.body["status"], "pending");
        assert_eq!(r.body["payment_reference"], Value::Null);
        assert_eq!(r.body["user_id"], s.user_id.expect("user id").to_string());

        let got = app.get(&format!("/api/orders/{id}"), s.token()).await;
        assert_eq!(got.status, StatusCode::OK, "{}", got.body);
        assert_eq!(got.body, r.body);
        let list = app.get("/api/orders", s.token()).await;
        assert_eq!(list.body["meta"], json!({"total": 1, "page": 1, "per_page": 20, "total_pages": 1}));
        assert_eq!(list.body["data"][0], r.body);

        let logged = app.activity("order.create").await;
        assert_eq!(logged.len(), 1);
        assert_eq!(logged[0].entity_type.as_deref(), Some("order"));
        assert_eq!(logged[0].entity_id.map(|i| i.to_string()), Some(id));
        assert_eq!(logged[0].user_id, s.user_id);
        assert_eq!(logged[0].details, json!({"plan_id": ids[1], "amount": 4999, "currency": "INR"}));
    }

    async fn an_order_keeps_its_amount_when_the_plan_price_changes_later(app: TestApp) {
        let s = app.register("early@example.com").await;
        let admin = app.admin().await;
        let ids = plans(&app).await;
        let first = order(&app, &s, &ids[0]).await;
        let r = app.patch(&format!("/api/admin/plans/{}", ids[0]), admin.token(), json!({"price": 3499})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let second = order(&app, &s, &ids[0]).await;
        assert_eq!(app.get(&format!("/api/orders/{first}"), s.token()).await.body["amount"], 2999);
        assert_eq!(app.get(&format!("/api/orders/{second}"), s.token()).await.body["amount"], 3499);
        // Paying later does not reprice it either.
        let r = set_status(&app, &admin, &first, json!({"status": "paid"})).await;
        assert_eq!(r.body["amount"], 2999);
    }

    async fn the_client_cannot_set_the_amount_and_only_live_active_paid_plans_can_be_ordered(app: TestApp) {
        let s = app.register("cheat@example.com").await;
        let admin = app.admin().await;
        let ids = plans(&app).await;
        for body in [
            json!({"plan_id": ids[2], "amount": 1}),
            json!({"plan_id": ids[2], "currency": "USD"}),
            json!({"plan_id": ids[2], "status": "paid"}),
            json!({"plan_id": "not-a-uuid"}),
            json!({}),
        ] {
            app.post("/api/orders", s.token(), body).await.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        }

        let free = app.post("/api/admin/plans", admin.token(), json!({
            "name": "Free Tier", "price": 0, "max_projects": 1, "support_level": "Basic"
        })).await;
        assert_eq!(free.status, StatusCode::CREATED, "{}", free.body);
        let r = app.post("/api/orders", s.token(), json!({"plan_id": id_of(&free.body)})).await;
        r.assert_error(StatusCode::CONFLICT);
        assert_eq!(r.body["details"]["field"], "plan_id");

        app.patch(&format!("/api/admin/plans/{}", ids[0]), admin.token(), json!({"is_active": false})).await;
        app.delete(&format!("/api/admin/plans/{}", ids[1]), admin.token()).await;
        let missing = uuid::Uuid::now_v7().to_string();
        for plan in [&ids[0], &ids[1], &missing] {
            let r = app.post("/api/orders", s.token(), json!({"plan_id": plan})).await;
            r.assert_error(StatusCode::NOT_FOUND);
            assert_eq!(r.body["error"], "plan not found");
        }
        app.post("/api/orders", None, json!({"plan_id": ids[2]})).await.assert_error(StatusCode::UNAUTHORIZED);
        assert_eq!(app.get("/api/orders", admin.token()).await.body["meta"]["total"], 0);
        assert!(app.activity("order.create").await.is_empty());
    }

    async fn admins_move_orders_from_pending_through_paid_to_completed_or_cancel_them(app: TestApp) {
        let s = app.register("paying@example.com").await;
        let admin = app.admin().await;
        let ids = plans(&app).await;
        let a = order(&app, &s, &ids[0]).await;
        let b = order(&app, &s, &ids[1]).await;
        let c = order(&app, &s, &ids[2]).await;

        let r = set_status(&app, &admin, &a, json!({"status": "paid", "payment_reference": "  PAY-001  "})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["status"], "paid");
        assert_eq!(r.body["payment_reference"], "PAY-001");
        let r = set_status(&app, &admin, &a, json!({"status": "completed"})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["status"], "completed");
        assert_eq!(r.body["payment_reference"], "PAY-001", "the reference stays");
        // pending → cancelled, and paid (without a reference) → cancelled.
        assert_eq!(set_status(&app, &admin, &b, json!({"status": "cancelled"})).await.body["status"], "cancelled");
        let r = set_status(&app, &admin, &c, json!({"status": "paid"})).await;
        assert_eq!(r.body["payment_reference"], Value::Null);
        assert_eq!(set_status(&app, &admin, &c, json!({"status": "cancelled"})).await.body["status"], "cancelled");

        let own = app.get(&format!("/api/orders/{a}"), s.token()).await;
        assert_eq!(own.body["status"], "completed");
        let moved = app.activity("order.status").await;
        assert_eq!(moved.len(), 5);
        assert_eq!(moved[0].details, json!({"from": "pending", "to": "paid", "payment_reference": "PAY-001"}));
        assert_eq!(moved[1].details["from"], "paid");
        assert_eq!(moved[1].details["to"], "completed");
        let admin_id = app.get("/api/users/me", admin.token()).await.body["id"].as_str().map(str::to_owned);
        assert_eq!(moved[0].user_id.map(|i| i.to_string()), admin_id);
        // The search finds an order by its payment reference.
        let r = app.get("/api/orders?search=pay-00", admin.token()).await;
        assert_eq!(r.body["meta"]["total"], 1);
        assert_eq!(r.body["data"][0]["id"], a);
    }

    async fn illegal_order_moves_are_409_listing_what_is_allowed_and_change_nothing(app: TestApp) {
        let s = app.register("stuck@example.com").await;
        let admin = app.admin().await;
        let ids = plans(&app).await;
        let pending = order(&app, &s, &ids[0]).await;
        let paid = order(&app, &s, &ids[1]).await;
        let done = order(&app, &s, &ids[2]).await;
        let cancelled = order(&app, &s, &ids[0]).await;
        set_status(&app, &admin, &paid, json!({"status": "paid", "payment_reference": "REF-1"})).await;
        set_status(&app, &admin, &done, json!({"status": "paid"})).await;
        set_status(&app, &admin, &done, json!({"status": "completed"})).await;
        set_status(&app, &admin, &cancelled, json!({"status": "cancelled"})).await;
        let before = app.get("/api/orders?sort_by=created_at&sort_order=asc", s.token()).await.body;
        let logged = app.activity("order.status").await.len();

        for (id, to, allowed) in [
            (&pending, "completed", json!(["paid", "cancelled"])),
            (&pending, "pending", json!(["paid", "cancelled"])),
            (&paid, "pending", json!(["completed", "cancelled"])),
            (&paid, "paid", json!(["completed", "cancelled"])),
            (&done, "paid", json!([])),
            (&done, "cancelled", json!([])),
            (&cancelled, "pending", json!([])),
            (&cancelled, "paid", json!([])),
        ] {
            let r = set_status(&app, &admin, id, json!({"status": to})).await;
            r.assert_error(StatusCode::CONFLICT);
            assert_eq!(r.body["details"]["allowed"], allowed, "→ {to}: {}", r.body);
            assert_eq!(r.body["details"]["to"], to);
        }
        // Moving an already-paid order to paid again cannot overwrite its reference.
        set_status(&app, &admin, &paid, json!({"status": "paid", "payment_reference": "REF-2"})).await
            .assert_error(StatusCode::CONFLICT);

        for (body, field, allowed) in [
            (json!({"status": "refunded"}), "status", Some(json!(["pending", "paid", "completed", "cancelled"]))),
            (json!({"status": "cancelled", "payment_reference": "X-1"}), "payment_reference", None),
            (json!({"status": "paid", "payment_reference": ""}), "payment_reference", None),
            (json!({"status": "paid", "payment_reference": "r".repeat(101)}), "payment_reference", None),
        ] {
            let r = set_status(&app, &admin, &pending, body.clone()).await;
            r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(r.body["details"]["field"], field, "{body}");
            if let Some(allowed) = allowed {
                assert_eq!(r.body["details"]["allowed"], allowed);
            }
        }
        for body in [json!({}), json!({"status": "paid", "amount": 1})] {
            set_status(&app, &admin, &pending, body).await.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        }

        let after = app.get("/api/orders?sort_by=created_at&sort_order=asc", s.token()).await.body;
        assert_eq!(after["data"], before["data"], "nothing changed");
        assert_eq!(app.activity("order.status").await.len(), logged);
    }

    async fn a_payment_reference_belongs_to_one_order_only(app: TestApp) {
        let s = app.register("refs@example.com").await;
        let other = app.register("refs2@example.com").await;
        let admin = app.admin().await;
        let ids = plans(&app).await;
        let first = order(&app, &s, &ids[0]).await;
        let second = order(&app, &other, &ids[1]).await;
        let r = set_status(&app, &admin, &first, json!({"status": "paid", "payment_reference": "UPI-42"})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = set_status(&app, &admin, &second, json!({"status": "paid", "payment_reference": "UPI-42"})).await;
        r.assert_error(StatusCode::CONFLICT);
        assert_eq!(r.body["details"]["field"], "payment_reference");
        assert_eq!(r.body["details"]["constraint"], "ux_orders_payment_reference");
        let r = app.get(&format!("/api/orders/{second}"), other.token()).await;
        assert_eq!(r.body["status"], "pending");
        assert_eq!(r.body["payment_reference"], Value::Null);
        assert_eq!(app.activity("order.status").await.len(), 1);
        // Orders paid without a reference do not collide with each other.
        let third = order(&app, &s, &ids[2]).await;
        for id in [&second, &third] {
            let r = set_status(&app, &admin, id, json!({"status": "paid"})).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        }
    }

    async fn owners_cancel_their_orders_only_while_pending(app: TestApp) {
        let s = app.register("undo@example.com").await;
        let stranger = app.register("nosy@example.com").await;
        let admin = app.admin().await;
        let ids = plans(&app).await;
        let pending = order(&app, &s, &ids[0]).await;
        let paid = order(&app, &s, &ids[1]).await;
        set_status(&app, &admin, &paid, json!({"status": "paid"})).await;

        app.post(&format!("/api/orders/{pending}/cancel"), stranger.token(), json!({})).await
            .assert_error(StatusCode::NOT_FOUND);
        app.post(&format!("/api/orders/{pending}/cancel"), admin.token(), json!({})).await
            .assert_error(StatusCode::FORBIDDEN);
        app.post(&format!("/api/orders/{pending}/cancel"), None, json!({})).await
            .assert_error(StatusCode::UNAUTHORIZED);

        let r = app.post(&format!("/api/orders/{pending}/cancel"), s.token(), json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["status"], "cancelled");
        let r = app.post(&format!("/api/orders/{pending}/cancel"), s.token(), json!({})).await;
        r.assert_error(StatusCode::CONFLICT);
        assert_eq!(r.body["details"]["allowed"], json!([]));
        // A paid order is the admin's to cancel.
        let r = app.post(&format!("/api/orders/{paid}/cancel"), s.token(), json!({})).await;
        r.assert_error(StatusCode::CONFLICT);
        assert_eq!(r.body["details"]["from"], "paid");
        assert_eq!(r.body["details"]["allowed"], json!([]));
        assert_eq!(app.get(&format!("/api/orders/{paid}"), s.token()).await.body["status"], "paid");

        let cancelled = app.activity("order.cancel").await;
        assert_eq!(cancelled.len(), 1);
        assert_eq!(cancelled[0].user_id, s.user_id);
        assert_eq!(cancelled[0].entity_id.map(|i| i.to_string()), Some(pending));
    }

    async fn order_lists_filter_by_status_and_dates_sort_and_page(app: TestApp) {
        let s = app.register("many@example.com").await;
        let admin = app.admin().await;
        let ids = plans(&app).await;
        let mut orders = Vec::new();
        for plan in [&ids[1], &ids[0], &ids[2]] {
            orders.push(order(&app, &s, plan).await);
        }
        set_status(&app, &admin, &orders[0], json!({"status": "paid"})).await;
        set_status(&app, &admin, &orders[2], json!({"status": "cancelled"})).await;

        let r = app.get("/api/orders", s.token()).await;
        assert_eq!(column(&r.body, "id"), [&json!(orders[2]), &json!(orders[1]), &json!(orders[0])], "newest first");
        let r = app.get("/api/orders?status=paid", s.token()).await;
        assert_eq!(r.body["meta"]["total"], 1);
        assert_eq!(r.body["data"][0]["id"], orders[0]);
        let r = app.get("/api/orders?sort_by=amount&sort_order=asc", s.token()).await;
        assert_eq!(column(&r.body, "amount"), [&json!(2999), &json!(4999), &json!(7999)]);
        let r = app.get("/api/orders?sort_by=amount", s.token()).await;
        assert_eq!(column(&r.body, "amount"), [&json!(7999), &json!(4999), &json!(2999)]);
        let r = app.get("/api/orders?sort_by=status&sort_order=asc", s.token()).await;
        assert_eq!(column(&r.body, "status"), [&json!("cancelled"), &json!("paid"), &json!("pending")]);
        let r = app.get("/api/orders?sort_by=amount&sort_order=asc&per_page=2&page=2", s.token()).await;
        assert_eq!(r.body["meta"], json!({"total": 3, "page": 2, "per_page": 2, "total_pages": 2}));
        assert_eq!(column(&r.body, "amount"), [&json!(7999)]);
        let r = app.get("/api/orders?page=9", s.token()).await;
        assert_eq!(r.body["data"], json!([]));
        assert_eq!(r.body["meta"]["total"], 3);
        let r = app.get(&format!("/api/orders?plan_id={}", ids[0]), s.token()).await;
        assert_eq!(column(&r.body, "id"), [&json!(orders[1])]);

        // Date bounds are inclusive.
        let created: Vec<String> = {
            let r = app.get("/api/orders?sort_by=created_at&sort_order=asc", s.token()).await;
            column(&r.body, "created_at").iter().map(|v| v.as_str().expect("created_at").to_owned()).collect()
        };
        let encoded = |t: &str| t.replace('+', "%2B");
        let r = app.get(&format!("/api/orders?created_after={}", encoded(&created[1])), s.token()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["meta"]["total"], 2);
        let r = app.get(&format!("/api/orders?created_before={}", encoded(&created[1])), s.token()).await;
        assert_eq!(r.body["meta"]["total"], 2);
        let r = app.get(&format!("/api/orders?created_after={0}&created_before={0}", encoded(&created[1])), s.token()).await;
        assert_eq!(column(&r.body, "id"), [&json!(orders[1])]);
        let r = app.get("/api/orders?created_before=2000-01-01T00:00:00Z", s.token()).await;
        assert_eq!(r.body["meta"]["total"], 0);
        let r = app.get("/api/orders?status=paid&created_after=2000-01-01T00:00:00Z", s.token()).await;
        assert_eq!(r.body["meta"]["total"], 1);

        for (query, field) in [
            ("status=refunded", "status"),
            ("sort_by=user_id", "sort_by"),
            ("created_after=2030-01-01T00:00:00Z&created_before=2020-01-01T00:00:00Z", "created_after"),
            ("page=0", "page"),
            ("created_after=last-week", ""),
            ("plan_id=basic", ""),
        ] {
            let r = app.get(&format!("/api/orders?{query}"), s.token()).await;
            r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
            if !field.is_empty() {
                assert_eq!(r.body["details"]["field"], field, "{query}");
            }
        }
        let r = app.get("/api/orders?status=refunded", s.token()).await;
        assert_eq!(r.body["details"]["allowed"], json!(["pending", "paid", "completed", "cancelled"]));
        let r = app.get("/api/orders?sort_by=user_id", s.token()).await;
        assert_eq!(r.body["details"]["allowed"], json!(["created_at", "amount", "status"]));
    }

    async fn another_students_order_is_404_while_admins_read_them_all(app: TestApp) {
        let owner = app.register("mine@example.com").await;
        let stranger = app.register("yours@example.com").await;
        let admin = app.admin().await;
        let ids = plans(&app).await;
        let id = order(&app, &owner, &ids[0]).await;
        order(&app, &stranger, &ids[1]).await;

        let theirs = app.get(&format!("/api/orders/{id}"), stranger.token()).await;
        theirs.assert_error(StatusCode::NOT_FOUND);
        let missing = app.get(&format!("/api/orders/{}", uuid::Uuid::now_v7()), stranger.token()).await;
        missing.assert_error(StatusCode::NOT_FOUND);
        assert_eq!(theirs.body["error"], missing.body["error"]);
        assert_eq!(theirs.body["error"], "order not found");
        let r = app.get("/api/orders", stranger.token()).await;
        assert_eq!(r.body["meta"]["total"], 1);
        assert_ne!(r.body["data"][0]["id"], id);
        assert_eq!(app.get("/api/orders?status=pending", owner.token()).await.body["meta"]["total"], 1);

        assert_eq!(app.get(&format!("/api/orders/{id}"), admin.token()).await.status, StatusCode::OK);
        assert_eq!(app.get("/api/orders", admin.token()).await.body["meta"]["total"], 2);
        set_status(&app, &owner, &id, json!({"status": "paid"})).await.assert_error(StatusCode::FORBIDDEN);
        app.post(&format!("/api/admin/orders/{id}/status"), None, json!({"status": "paid"})).await
            .assert_error(StatusCode::UNAUTHORIZED);
        app.get("/api/orders", None).await.assert_error(StatusCode::UNAUTHORIZED);
        app.get(&format!("/api/orders/{id}"), None).await.assert_error(StatusCode::UNAUTHORIZED);
        set_status(&app, &admin, &uuid::Uuid::now_v7().to_string(), json!({"status": "paid"})).await
            .assert_error(StatusCode::NOT_FOUND);
        app.get("/api/orders/not-a-uuid", owner.token()).await.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        app.post("/api/orders/1/cancel", owner.token(), json!({})).await.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        set_status(&app, &admin, "nope", json!({"status": "paid"})).await.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.get(&format!("/api/orders/{id}"), owner.token()).await.body["status"], "pending");
        assert!(app.activity("order.status").await.is_empty());
    }

    async fn a_deleted_account_takes_its_orders_out_of_sight_and_a_restore_brings_them_back(app: TestApp) {
        let s = app.register("quitter@example.com").await;
        let admin = app.admin().await;
        let ids = plans(&app).await;
        let id = order(&app, &s, &ids[0]).await;
        order(&app, &s, &ids[1]).await;
        set_status(&app, &admin, &id, json!({"status": "paid", "payment_reference": "GONE-1"})).await;

        assert_eq!(app.delete("/api/users/me", s.token()).await.status, StatusCode::NO_CONTENT);
        assert_eq!(app.get("/api/orders", admin.token()).await.body["meta"]["total"], 0);
        app.get(&format!("/api/orders/{id}"), admin.token()).await.assert_error(StatusCode::NOT_FOUND);
        set_status(&app, &admin, &id, json!({"status": "completed"})).await.assert_error(StatusCode::NOT_FOUND);
        let trash = app.get("/api/admin/trash?entity_type=order", admin.token()).await;
        assert_eq!(trash.body["meta"]["total"], 2, "{}", trash.body);

        let user = s.user_id.expect("user id");
        let r = app.post(&format!("/api/admin/users/{user}/restore"), admin.token(), json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(app.get("/api/orders", admin.token()).await.body["meta"]["total"], 2);
        let r = app.get(&format!("/api/orders/{id}"), admin.token()).await;
        assert_eq!(r.body["status"], "paid");
        assert_eq!(r.body["payment_reference"], "GONE-1");
    }
}
