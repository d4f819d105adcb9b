//! `/api/activity-logs`: the admin's filtered view of the log, and each user's own.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use launchpad::entity::activity_logs;
use reqwest::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::both_backends;
use crate::helpers::TestApp;

/// Moves one log row `days` days into the past (the API cannot backdate).
pub async fn backdate_log(app: &TestApp, id: Uuid, days: i64) {
    let when = dbkit::time::now() - Duration::days(days);
    let updated = activity_logs::Entity::update_many()
        .col_expr(activity_logs::Column::CreatedAt, Expr::value(when))
        .filter(activity_logs::Column::Id.eq(id))
        .exec(&app.db)
        .await
        .expect("backdate");
    assert_eq!(updated.rows_affected, 1);
}

/// An instant for a query string.
fn param(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// `(action, user_id)` of each row of a page.
fn rows(page: &Value) -> Vec<(String, Option<String>)> {
    page["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data: {page}"))
        .iter()
        .map(|r| {
            (
                r["action"].as_str().expect("action").to_owned(),
                r["user_id"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

fn row(action: &str, user: Option<Uuid>) -> (String, Option<String>) {
    (action.to_owned(), user.map(|u| u.to_string()))
}

both_backends! {
    async fn admins_filter_the_log_by_action_user_status_entity_and_date(app: TestApp) {
        let a = app.register("a@example.com").await;
        let b = app.register("b@example.com").await;
        let (a_id, b_id) = (a.user_id.expect("a"), b.user_id.expect("b"));
        for who in [&a, &b] {
            let r = app.post("/api/ideas", who.token(), json!({"title": "An idea", "complexity": "beginner", "tech_stack": []})).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        }
        let r = app.post("/api/auth/login", None, json!({"email": "a@example.com", "password": "wrong password"})).await;
        r.assert_error(StatusCode::UNAUTHORIZED);
        let admin = app.admin().await;
        let get = |query: String| {
            let app = &app;
            let token = admin.access.clone();
            async move {
                let r = app.get(&format!("/api/activity-logs?{query}"), Some(&token)).await;
                assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.body);
                r.body
            }
        };

        // Newest first.
        let by_action = get("action=idea.create".into()).await;
        assert_eq!(rows(&by_action), [row("idea.create", Some(b_id)), row("idea.create", Some(a_id))]);
        assert_eq!(by_action["meta"]["total"], 2);
        let first = &by_action["data"][0];
        assert_eq!(first["entity_type"], "idea");
        assert_eq!(first["status"], "success");
        assert_eq!(first["ip_address"], "127.0.0.1");
        assert!(first["duration_ms"].is_i64(), "{first}");
        assert!(first["details"].is_object(), "{first}");
        assert!(first["created_at"].is_string() && first["id"].is_string());

        assert_eq!(rows(&get(format!("user_id={a_id}")).await), [row("idea.create", Some(a_id)), row("user.register", Some(a_id))]);
        assert_eq!(rows(&get(format!("user_id={a_id}&sort_order=asc")).await), [row("user.register", Some(a_id)), row("idea.create", Some(a_id))]);

        let failed = get("status=failed".into()).await;
        assert_eq!(rows(&failed), [row("auth.login_failed", None)]);
        assert_eq!(failed["data"][0]["entity_id"], a_id.to_string());
        assert_eq!(get("status=error".into()).await["meta"]["total"], 0);

        let about_a = get(format!("entity_type=user&entity_id={a_id}")).await;
        assert_eq!(rows(&about_a), [row("auth.login_failed", None), row("user.register", Some(a_id))]);

        // Dates are inclusive bounds on created_at.
        let registered = activity_logs::Entity::find()
            .filter(activity_logs::Column::Action.eq("user.register"))
            .filter(activity_logs::Column::UserId.eq(a_id))
            .one(&app.db).await.expect("query").expect("a's registration");
        backdate_log(&app, registered.id, 40).await;
        let cutoff = param(Utc::now() - Duration::days(30));
        assert_eq!(rows(&get(format!("created_before={cutoff}")).await), [row("user.register", Some(a_id))]);
        assert_eq!(rows(&get(format!("created_after={cutoff}&user_id={a_id}")).await), [row("idea.create", Some(a_id))]);
        let exact = param(dbkit::time::now() - Duration::days(50));
        let r = get(format!("created_after={exact}&created_before={cutoff}&action=user.register")).await;
        assert_eq!(r["meta"]["total"], 1);

        let paged = get("action=idea.create&per_page=1&page=2".into()).await;
        assert_eq!(rows(&paged), [row("idea.create", Some(a_id))]);
        assert_eq!(paged["meta"], json!({"total": 2, "page": 2, "per_page": 1, "total_pages": 2}));
        assert_eq!(get("search=LOGIN_FAILED".into()).await["meta"]["total"], 1);

        for (query, field) in [
            ("status=bogus".to_owned(), "status"),
            ("user_id=nope".to_owned(), "user_id"),
            ("entity_id=123".to_owned(), "entity_id"),
            ("sort_by=action".to_owned(), "sort_by"),
            ("per_page=0".to_owned(), "per_page"),
            (format!("created_after={cutoff}&created_before={exact}"), "created_after"),
        ] {
            let r = app.get(&format!("/api/activity-logs?{query}"), admin.token()).await;
            r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(r.body["details"]["field"], field, "{query}");
        }
        let r = app.get("/api/activity-logs?status=bogus", admin.token()).await;
        assert_eq!(r.body["details"]["allowed"], json!(["success", "failed", "error"]));
    }

    async fn me_shows_only_the_callers_own_rows(app: TestApp) {
        let a = app.register("mine@example.com").await;
        let b = app.register("theirs@example.com").await;
        let a_id = a.user_id.expect("a");
        let b_id = b.user_id.expect("b");
        let r = app.post("/api/chatbot/messages", a.token(), json!({"message_type": "user", "message": "hi"})).await;
        assert_eq!(r.status, StatusCode::CREATED);
        app.post("/api/chatbot/messages", b.token(), json!({"message_type": "user", "message": "hey"})).await;
        app.login("theirs@example.com", "Passw0rd!").await;

        let r = app.get("/api/activity-logs/me", a.token()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(rows(&r.body), [row("chat.message", Some(a_id)), row("user.register", Some(a_id))]);
        assert_eq!(r.body["meta"]["total"], 2);
        // Naming someone else is refused by name, not silently ignored.
        let r = app.get(&format!("/api/activity-logs/me?user_id={b_id}"), a.token()).await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.body["details"]["field"], "user_id");
        let r = app.get("/api/activity-logs/me?action=user.register", a.token()).await;
        assert_eq!(rows(&r.body), [row("user.register", Some(a_id))]);
        let r = app.get("/api/activity-logs/me?sort_order=asc", b.token()).await;
        assert_eq!(rows(&r.body), [row("user.register", Some(b_id)), row("chat.message", Some(b_id)), row("auth.login", Some(b_id))]);
        let r = app.get("/api/activity-logs/me?status=failed", b.token()).await;
        assert_eq!(r.body["meta"]["total"], 0);
        app.get("/api/activity-logs/me?status=nope", b.token()).await.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        app.get("/api/activity-logs/me", None).await.assert_error(StatusCode::UNAUTHORIZED);
    }

    async fn students_get_403_and_anonymous_callers_401_on_the_admin_log(app: TestApp) {
        let student = app.register("student@example.com").await;
        app.get("/api/activity-logs", student.token()).await.assert_error(StatusCode::FORBIDDEN);
        app.get(&format!("/api/activity-logs?user_id={}", student.user_id.expect("id")), student.token()).await
            .assert_error(StatusCode::FORBIDDEN);
        app.get("/api/activity-logs", None).await.assert_error(StatusCode::UNAUTHORIZED);
        let admin = app.admin().await;
        let r = app.get("/api/activity-logs?action=seed.run", admin.token()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body["data"].as_array().is_some_and(|rows| rows.iter().all(|r| r["user_id"].is_null())));
    }
}
