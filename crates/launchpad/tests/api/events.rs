//! The activity log speaks one language: an owned resource's events are named by its
//! entity type (`<entity type>.<verb>`), and every status move records `from` and `to`,
//! whichever resource moved.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::TestApp;

fn id(body: &Value) -> String {
    body["id"].as_str().expect("id").to_owned()
}

/// The first id of a public list.
async fn first(app: &TestApp, path: &str) -> String {
    id(&app.get(path, None).await.body["data"][0])
}

/// POSTs and expects a 2xx; the answer's body.
async fn ok(app: &TestApp, path: &str, token: Option<&str>, body: Value) -> Value {
    let r = app.post(path, token, body).await;
    assert!(r.status.is_success(), "{path}: {} {}", r.status, r.body);
    r.body
}

both_backends! {
    async fn every_move_of_every_resource_records_from_and_to_under_its_entity_type(app: TestApp) {
        let s = app.register("mover@example.com").await;
        let admin = app.admin().await;
        let (st, at) = (s.token(), admin.token());

        let project = id(&ok(&app, "/api/projects", st, json!({"title": "Journey"})).await);
        ok(&app, &format!("/api/admin/projects/{project}/status"), at, json!({"status": "cancelled"})).await;

        let plan = id(&app.get("/api/plans?sort_by=price&sort_order=desc", None).await.body["data"][0]);
        let order = id(&ok(&app, "/api/orders", st, json!({"plan_id": plan})).await);
        ok(&app, &format!("/api/admin/orders/{order}/status"), at, json!({"status": "paid", "payment_reference": "PAY-1"})).await;
        let order2 = id(&ok(&app, "/api/orders", st, json!({"plan_id": plan})).await);
        ok(&app, &format!("/api/orders/{order2}/cancel"), st, json!({})).await;

        let service = first(&app, "/api/services").await;
        let sub = id(&ok(&app, "/api/subscriptions", st, json!({"service_id": service})).await);
        ok(&app, &format!("/api/admin/subscriptions/{sub}/status"), at, json!({"status": "active"})).await;
        ok(&app, &format!("/api/subscriptions/{sub}/cancel"), st, json!({})).await;

        let meeting = id(&ok(&app, "/api/meetings", st, json!({"topic": "Plan"})).await);
        ok(&app, &format!("/api/admin/meetings/{meeting}/cancel"), at, json!({})).await;

        let request = id(&ok(&app, "/api/requests", st, json!({"request_type": "deadline_extension", "message": "More time"})).await);
        ok(&app, &format!("/api/admin/requests/{request}/resolve"), at, json!({"status": "approved"})).await;

        let moves = [
            ("project.status", "idea_pending", "cancelled"),
            ("order.status", "pending", "paid"),
            ("order.cancel", "pending", "cancelled"),
            ("subscription.status", "requested", "active"),
            ("subscription.cancel", "active", "cancelled"),
            ("meeting.cancel", "requested", "cancelled"),
            ("admin_request.resolve", "pending", "approved"),
        ];
        for (action, from, to) in moves {
            let logged = app.activity(action).await;
            assert_eq!(logged.len(), 1, "{action}");
            assert_eq!((logged[0].details["from"].as_str(), logged[0].details["to"].as_str()), (Some(from), Some(to)), "{action}: {}", logged[0].details);
        }
        assert_eq!(app.activity("order.status").await[0].details["payment_reference"], "PAY-1");

        // Every event about one of these resources is named by its entity type.
        let mut named = 0;
        for entity in ["project", "order", "subscription", "meeting", "admin_request"] {
            let r = app.get(&format!("/api/activity-logs?entity_type={entity}&per_page=100"), at).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            for row in r.body["data"].as_array().expect("rows") {
                let action = row["action"].as_str().expect("action");
                assert!(action.starts_with(&format!("{entity}.")), "{action} is about a {entity}");
                named += 1;
            }
        }
        assert!(named >= 12, "{named} events");
    }
}
