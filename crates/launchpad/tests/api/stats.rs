//! `/api/admin/stats/…`: the seed notes' monitoring queries, with exact figures that are
//! the same on both backends.

use chrono::{Duration, Utc};
use dbkit::Actor;
use dbkit::audit::{self, Event, Outcome};
use launchpad::entity::{activity_logs, chatbot_history, ideas};
use reqwest::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::activity_logs::backdate_log;
use crate::both_backends;
use crate::helpers::{Session, TestApp};

const STATS: [&str; 5] = [
    "active-users",
    "failed-actions",
    "chatbot-daily",
    "chatbot-intents",
    "idea-categories",
];

async fn stats(app: &TestApp, admin: &Session, path: &str) -> Value {
    let r = app
        .get(&format!("/api/admin/stats/{path}"), admin.token())
        .await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    r.body
}

/// Posts a chat message; returns its id.
async fn message(
    app: &TestApp,
    who: &Session,
    intent: Option<&str>,
    response_time_ms: Option<i64>,
) -> Uuid {
    let r = app.post("/api/chatbot/messages", who.token(), json!({
        "message_type": "assistant", "message": "an answer", "intent": intent, "response_time_ms": response_time_ms,
    })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("id")
}

async fn move_message(app: &TestApp, id: Uuid, days_ago: i64) {
    let when = dbkit::time::now() - Duration::days(days_ago);
    chatbot_history::Entity::update_many()
        .col_expr(chatbot_history::Column::CreatedAt, Expr::value(when))
        .filter(chatbot_history::Column::Id.eq(id))
        .exec(&app.db)
        .await
        .expect("backdate message");
}

/// Creates an idea (selected if asked); returns its id.
async fn idea(app: &TestApp, who: &Session, category: Option<&str>, selected: bool) -> String {
    let r = app.post("/api/ideas", who.token(), json!({
        "title": "An idea", "category": category, "complexity": "beginner", "tech_stack": [],
    })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_str().expect("id").to_owned();
    if selected {
        let r = app
            .post(&format!("/api/ideas/{id}/select"), who.token(), json!({}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    id
}

/// The last log row of `action` by `user`.
async fn last_log(app: &TestApp, action: &str, user: Option<Uuid>) -> Uuid {
    let mut q = activity_logs::Entity::find().filter(activity_logs::Column::Action.eq(action));
    q = match user {
        Some(user) => q.filter(activity_logs::Column::UserId.eq(user)),
        None => q.filter(activity_logs::Column::UserId.is_null()),
    };
    q.order_by_desc(activity_logs::Column::CreatedAt)
        .one(&app.db)
        .await
        .expect("query")
        .expect("row")
        .id
}

fn day(days_ago: i64) -> String {
    (Utc::now() - Duration::days(days_ago))
        .format("%Y-%m-%d")
        .to_string()
}

both_backends! {
    async fn the_most_active_users_are_counted_over_the_window(app: TestApp) {
        let a = app.register("a@example.com").await;
        let b = app.register("b@example.com").await;
        let c = app.register("c@example.com").await;
        let (a_id, b_id, c_id) = (a.user_id.expect("a"), b.user_id.expect("b"), c.user_id.expect("c"));
        for _ in 0..3 {
            message(&app, &a, None, None).await;
        }
        message(&app, &b, None, None).await;
        backdate_log(&app, last_log(&app, "chat.message", Some(a_id)).await, 40).await;
        let admin = app.admin().await;

        // a: registered + 2 messages in the window (one is 40 days old); b: registered + 1;
        // the admin's login and c's registration tie, and sort by email.
        let r = stats(&app, &admin, "active-users").await;
        assert_eq!(r["days"], 30);
        assert_eq!(r["limit"], 10);
        let admin_id = r["data"][2]["user_id"].clone();
        assert_eq!(r["data"], json!([
            {"user_id": a_id, "email": "a@example.com", "name": "Student One", "actions": 3},
            {"user_id": b_id, "email": "b@example.com", "name": "Student One", "actions": 2},
            {"user_id": admin_id, "email": "admin@test.com", "name": r["data"][2]["name"], "actions": 1},
            {"user_id": c_id, "email": "c@example.com", "name": "Student One", "actions": 1},
        ]));
        assert!(admin_id.is_string());
        let r = stats(&app, &admin, "active-users?days=60&limit=2").await;
        assert_eq!((r["days"].clone(), r["limit"].clone()), (json!(60), json!(2)));
        assert_eq!(r["data"].as_array().map(Vec::len), Some(2));
        assert_eq!(r["data"][0]["user_id"], a_id.to_string());
        assert_eq!(r["data"][0]["actions"], 4);
        assert_eq!(r["data"][1]["user_id"], b_id.to_string());
    }

    async fn failed_actions_are_counted_by_action_over_the_window(app: TestApp) {
        app.register("victim@example.com").await;
        for _ in 0..3 {
            let r = app.post("/api/auth/login", None, json!({"email": "victim@example.com", "password": "not it at all"})).await;
            r.assert_error(StatusCode::UNAUTHORIZED);
        }
        backdate_log(&app, last_log(&app, "auth.login_failed", None).await, 40).await;
        for outcome in [Outcome::Error, Outcome::Failed, Outcome::Success] {
            audit::insert(&app.db, &Actor::system(), Event::action("file.upload").outcome(outcome)).await.expect("log");
        }
        let admin = app.admin().await;
        let r = stats(&app, &admin, "failed-actions").await;
        assert_eq!(r["data"], json!([
            {"action": "auth.login_failed", "failures": 2},
            {"action": "file.upload", "failures": 2},
        ]));
        let r = stats(&app, &admin, "failed-actions?days=41").await;
        assert_eq!(r["data"][0], json!({"action": "auth.login_failed", "failures": 3}));
        let r = stats(&app, &admin, "failed-actions?days=60&limit=1").await;
        assert_eq!(r["data"], json!([{"action": "auth.login_failed", "failures": 3}]));
        let r = stats(&app, &admin, "failed-actions?days=1").await;
        assert_eq!(r["data"].as_array().map(Vec::len), Some(2));
    }

    async fn chatbot_activity_is_counted_per_day_and_response_time_per_intent(app: TestApp) {
        let a = app.register("a@example.com").await;
        let b = app.register("b@example.com").await;
        let c = app.register("c@example.com").await;
        message(&app, &a, Some("idea_generation"), Some(100)).await;
        message(&app, &a, Some("idea_generation"), Some(201)).await;
        message(&app, &a, Some("greeting"), Some(50)).await;
        message(&app, &a, None, Some(30)).await;
        let a_yesterday = message(&app, &a, Some("greeting"), None).await;
        let b_old = message(&app, &b, Some("idea_generation"), Some(300)).await;
        let b_yesterday = message(&app, &b, None, None).await;
        message(&app, &c, Some("idea_generation"), Some(1000)).await;
        move_message(&app, a_yesterday, 1).await;
        move_message(&app, b_yesterday, 1).await;
        move_message(&app, b_old, 40).await;
        // Deleted conversations are not counted.
        let sessions = app.get("/api/chatbot/sessions", c.token()).await;
        let session = sessions.body["data"][0]["session_id"].as_str().expect("session").to_owned();
        let r = app.delete(&format!("/api/chatbot/sessions/{session}"), c.token()).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        let admin = app.admin().await;

        let r = stats(&app, &admin, "chatbot-daily").await;
        assert_eq!(r, json!({"days": 30, "data": [
            {"day": day(0), "messages": 4, "unique_users": 1},
            {"day": day(1), "messages": 2, "unique_users": 2},
        ]}));
        let r = stats(&app, &admin, "chatbot-daily?days=60").await;
        assert_eq!(r["data"].as_array().map(Vec::len), Some(3));
        assert_eq!(r["data"][2], json!({"day": day(40), "messages": 1, "unique_users": 1}));
        let r = stats(&app, &admin, "chatbot-daily?days=1").await;
        assert_eq!(r["data"], json!([{"day": day(0), "messages": 4, "unique_users": 1}]));

        let r = stats(&app, &admin, "chatbot-intents").await;
        assert_eq!(r["data"], json!([
            {"intent": "idea_generation", "messages": 2, "avg_response_time_ms": 150.5},
            {"intent": "greeting", "messages": 1, "avg_response_time_ms": 50.0},
            {"intent": null, "messages": 1, "avg_response_time_ms": 30.0},
        ]));
        let r = stats(&app, &admin, "chatbot-intents?days=60&limit=1").await;
        assert_eq!(r["data"], json!([
            {"intent": "idea_generation", "messages": 3, "avg_response_time_ms": 200.33},
        ]));
    }

    async fn idea_categories_are_counted_with_their_selection_rate(app: TestApp) {
        let a = app.register("a@example.com").await;
        let b = app.register("b@example.com").await;
        idea(&app, &a, Some("ml"), true).await;
        idea(&app, &a, Some("ml"), false).await;
        idea(&app, &b, Some("ml"), false).await;
        idea(&app, &b, Some("iot"), true).await;
        idea(&app, &a, None, false).await;
        let old = idea(&app, &a, Some("web"), true).await;
        ideas::Entity::update_many()
            .col_expr(ideas::Column::CreatedAt, Expr::value(dbkit::time::now() - Duration::days(40)))
            .filter(ideas::Column::Id.eq(old.parse::<Uuid>().expect("uuid")))
            .exec(&app.db).await.expect("backdate idea");
        let gone = idea(&app, &b, Some("ml"), true).await;
        assert_eq!(app.delete(&format!("/api/ideas/{gone}"), b.token()).await.status, StatusCode::NO_CONTENT);
        let admin = app.admin().await;

        let r = stats(&app, &admin, "idea-categories").await;
        assert_eq!(r, json!({"days": 30, "limit": 10, "data": [
            {"category": "ml", "ideas": 3, "selected": 1, "selection_rate": 0.3333},
            {"category": "iot", "ideas": 1, "selected": 1, "selection_rate": 1.0},
            {"category": null, "ideas": 1, "selected": 0, "selection_rate": 0.0},
        ]}));
        let r = stats(&app, &admin, "idea-categories?days=60").await;
        let categories: Vec<&Value> = r["data"].as_array().expect("data").iter().map(|c| &c["category"]).collect();
        assert_eq!(categories, [&json!("ml"), &json!("iot"), &json!("web"), &Value::Null]);
        assert_eq!(r["data"][2]["selection_rate"], 1.0);
        let r = stats(&app, &admin, "idea-categories?limit=1").await;
        assert_eq!(r["data"].as_array().map(Vec::len), Some(1));
    }

    async fn stats_are_admin_only_and_check_days_and_limit(app: TestApp) {
        let student = app.register("nosy@example.com").await;
        let admin = app.admin().await;
        for path in STATS {
            let url = format!("/api/admin/stats/{path}");
            app.get(&url, None).await.assert_error(StatusCode::UNAUTHORIZED);
            app.get(&url, student.token()).await.assert_error(StatusCode::FORBIDDEN);
            let r = stats(&app, &admin, path).await;
            assert_eq!(r["days"], 30, "{path}");
            for bad in ["0", "366", "-1", "abc", "1.5"] {
                let r = app.get(&format!("{url}?days={bad}"), admin.token()).await;
                r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
                assert_eq!(r.body["details"]["field"], "days", "{path} days={bad}");
            }
            assert_eq!(stats(&app, &admin, &format!("{path}?days=365")).await["days"], 365);
            assert_eq!(stats(&app, &admin, &format!("{path}?days=1")).await["days"], 1);
            if path != "chatbot-daily" {
                assert_eq!(r["limit"], 10, "{path}");
                for bad in ["0", "101", "ten"] {
                    let r = app.get(&format!("{url}?limit={bad}"), admin.token()).await;
                    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
                    assert_eq!(r.body["details"]["field"], "limit", "{path} limit={bad}");
                }
                assert_eq!(stats(&app, &admin, &format!("{path}?limit=100")).await["limit"], 100);
            }
        }
    }
}
