//! `/api/chatbot`: messages, sessions per user, paging, isolation and validation.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Session, TestApp};

/// Posts a message (in `session` if given); returns the created message.
async fn say(app: &TestApp, who: &Session, session: Option<&str>, text: &str) -> Value {
    let mut body = json!({"message_type": "user", "message": text});
    if let Some(session) = session {
        body["session_id"] = json!(session);
    }
    let r = app.post("/api/chatbot/messages", who.token(), body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body
}

fn texts(page: &Value) -> Vec<&str> {
    page["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|m| m["message"].as_str())
        .collect()
}

both_backends! {
    async fn a_message_without_a_session_starts_one_and_is_logged(app: TestApp) {
        let s = app.register("chat@example.com").await;
        let r = app.post("/api/chatbot/messages", s.token(), json!({
            "message_type": "assistant",
            "message": "  Here are three ideas:\n1. A\n2. B\n\tC  ",
            "intent": "idea_generation",
            "response_time_ms": 120,
        })).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let session = r.body["session_id"].as_str().expect("session_id");
        assert_eq!(uuid::Uuid::parse_str(session).expect("uuid").get_version_num(), 7);
        assert_eq!(r.body["message"], "Here are three ideas:\n1. A\n2. B\n\tC");
        assert_eq!(r.body["message_type"], "assistant");
        assert_eq!(r.body["intent"], "idea_generation");
        assert_eq!(r.body["response_time_ms"], 120);
        assert_eq!(r.body["project_id"], Value::Null);
        assert_eq!(r.body["user_id"], s.user_id.expect("id").to_string());
        let logged = app.activity("chat.message").await;
        assert_eq!(logged.len(), 1);
        assert_eq!(logged[0].entity_id.map(|id| id.to_string()).as_deref(), r.body["id"].as_str());
        assert_eq!(logged[0].details["session_id"], session);
        assert_eq!(logged[0].user_id, s.user_id);
    }

    async fn sessions_are_separated_per_user_newest_first_and_paged(app: TestApp) {
        let a = app.register("a@example.com").await;
        let b = app.register("b@example.com").await;
        let first = say(&app, &a, None, "first session, one").await;
        let s1 = first["session_id"].as_str().expect("s1").to_owned();
        say(&app, &a, Some(&s1), "first session, two").await;
        let s2 = say(&app, &a, None, "second session").await["session_id"].as_str().expect("s2").to_owned();
        let sb = say(&app, &b, None, "b's session").await["session_id"].as_str().expect("sb").to_owned();
        // A message in the older session makes it the most recent one.
        say(&app, &a, Some(&s1), "first session, three").await;

        let r = app.get("/api/chatbot/sessions", a.token()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["meta"], json!({"total": 2, "page": 1, "per_page": 20, "total_pages": 1}));
        let data = r.body["data"].as_array().expect("data");
        assert_eq!(data[0]["session_id"], s1);
        assert_eq!(data[0]["message_count"], 3);
        assert_eq!(data[0]["first_message_at"], first["created_at"]);
        assert!(data[0]["last_message_at"].as_str() > data[0]["first_message_at"].as_str());
        assert_eq!(data[1]["session_id"], s2);
        assert_eq!(data[1]["message_count"], 1);
        assert_eq!(data[1]["first_message_at"], data[1]["last_message_at"]);

        let r = app.get("/api/chatbot/sessions?per_page=1&page=2", a.token()).await;
        assert_eq!(r.body["meta"], json!({"total": 2, "page": 2, "per_page": 1, "total_pages": 2}));
        assert_eq!(r.body["data"].as_array().map(Vec::len), Some(1));
        assert_eq!(r.body["data"][0]["session_id"], s2);
        let r = app.get("/api/chatbot/sessions?per_page=1&page=3", a.token()).await;
        assert_eq!(r.body["data"], json!([]));

        let r = app.get("/api/chatbot/sessions", b.token()).await;
        assert_eq!(r.body["meta"]["total"], 1);
        assert_eq!(r.body["data"][0]["session_id"], sb);
        assert_eq!(r.body["data"][0]["message_count"], 1);

        for bad in ["page=0", "per_page=0", "per_page=101"] {
            let r = app.get(&format!("/api/chatbot/sessions?{bad}"), a.token()).await;
            r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(r.body["details"]["field"], bad.split('=').next().expect("field"));
        }
        app.get("/api/chatbot/sessions", None).await.assert_error(StatusCode::UNAUTHORIZED);
    }

    async fn a_sessions_messages_come_oldest_first_and_page(app: TestApp) {
        let s = app.register("pager@example.com").await;
        let session = say(&app, &s, None, "m1").await["session_id"].as_str().expect("session").to_owned();
        for text in ["m2", "m3", "m4", "m5"] {
            say(&app, &s, Some(&session), text).await;
        }
        let other = say(&app, &s, None, "elsewhere").await;
        assert_ne!(other["session_id"], session);

        let url = format!("/api/chatbot/sessions/{session}/messages");
        let r = app.get(&url, s.token()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(texts(&r.body), ["m1", "m2", "m3", "m4", "m5"]);
        assert_eq!(r.body["meta"]["total"], 5);
        let r = app.get(&format!("{url}?per_page=2&page=2"), s.token()).await;
        assert_eq!(texts(&r.body), ["m3", "m4"]);
        assert_eq!(r.body["meta"], json!({"total": 5, "page": 2, "per_page": 2, "total_pages": 3}));
        let r = app.get(&format!("{url}?per_page=2&page=3"), s.token()).await;
        assert_eq!(texts(&r.body), ["m5"]);
        app.get(&format!("{url}?per_page=500"), s.token()).await.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        let r = app.get("/api/chatbot/sessions/not-a-uuid/messages", s.token()).await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        let missing = uuid::Uuid::now_v7();
        app.get(&format!("/api/chatbot/sessions/{missing}/messages"), s.token()).await
            .assert_error(StatusCode::NOT_FOUND);
    }

    async fn another_users_session_is_404_to_read_write_or_delete(app: TestApp) {
        let owner = app.register("owner@example.com").await;
        let intruder = app.register("intruder@example.com").await;
        let session = say(&app, &owner, None, "private").await["session_id"].as_str().expect("session").to_owned();

        app.get(&format!("/api/chatbot/sessions/{session}/messages"), intruder.token()).await
            .assert_error(StatusCode::NOT_FOUND);
        let r = app.post("/api/chatbot/messages", intruder.token(), json!({
            "session_id": session, "message_type": "user", "message": "let me in",
        })).await;
        r.assert_error(StatusCode::NOT_FOUND);
        app.delete(&format!("/api/chatbot/sessions/{session}"), intruder.token()).await
            .assert_error(StatusCode::NOT_FOUND);
        let r = app.get("/api/chatbot/sessions", intruder.token()).await;
        assert_eq!(r.body["meta"]["total"], 0);

        // Admins may read every conversation, but not delete someone else's.
        let admin = app.admin().await;
        let r = app.get(&format!("/api/chatbot/sessions/{session}/messages"), admin.token()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(texts(&r.body), ["private"]);
        app.delete(&format!("/api/chatbot/sessions/{session}"), admin.token()).await
            .assert_error(StatusCode::FORBIDDEN);

        let r = app.get(&format!("/api/chatbot/sessions/{session}/messages"), owner.token()).await;
        assert_eq!(texts(&r.body), ["private"]);
        assert_eq!(app.activity("chat.message").await.len(), 1);
        assert!(app.activity("chat.session.delete").await.is_empty());
    }

    async fn invalid_messages_are_422_naming_the_field_and_write_nothing(app: TestApp) {
        let s = app.register("val@example.com").await;
        let ok = json!({"message_type": "user", "message": "hello"});
        let with = |key: &str, value: Value| {
            let mut body = ok.clone();
            body[key] = value;
            body
        };
        let cases = [
            (with("message", json!("")), "message"),
            (with("message", json!("   ")), "message"),
            (with("message", json!("x".repeat(10_001))), "message"),
            (with("message", json!("bell\u{7}")), "message"),
            (with("message_type", json!("robot")), "message_type"),
            (with("session_id", json!("not-a-uuid")), "session_id"),
            (with("project_id", json!("42")), "project_id"),
            (with("response_time_ms", json!(-1)), "response_time_ms"),
            (with("response_time_ms", json!(3_000_000_000_i64)), "response_time_ms"),
            (with("intent", json!("i".repeat(101))), "intent"),
        ];
        for (body, field) in cases {
            let r = app.post("/api/chatbot/messages", s.token(), body.clone()).await;
            r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(r.body["details"]["field"], field, "{body}");
        }
        let r = app.post("/api/chatbot/messages", s.token(), with("message_type", json!("robot"))).await;
        assert_eq!(r.body["details"]["allowed"], json!(["user", "assistant", "system"]));
        app.post("/api/chatbot/messages", s.token(), with("mood", json!("happy"))).await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        app.post("/api/chatbot/messages", s.token(), json!({"message": "no type"})).await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        app.post("/api/chatbot/messages", None, ok.clone()).await.assert_error(StatusCode::UNAUTHORIZED);
        // A session that does not exist is not started by naming it.
        app.post("/api/chatbot/messages", s.token(), with("session_id", json!(uuid::Uuid::now_v7()))).await
            .assert_error(StatusCode::NOT_FOUND);
        assert!(app.activity("chat.message").await.is_empty());
        assert_eq!(app.get("/api/chatbot/sessions", s.token()).await.body["meta"]["total"], 0);

        // The bounds themselves are fine.
        let r = app.post("/api/chatbot/messages", s.token(), with("message", json!("é".repeat(10_000)))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let r = app.post("/api/chatbot/messages", s.token(), with("response_time_ms", json!(0))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }

    async fn a_session_keeps_its_project_which_must_be_the_callers(app: TestApp) {
        let s = app.register("proj@example.com").await;
        let other = app.register("other@example.com").await;
        let mine = app.post("/api/projects", s.token(), json!({"title": "My project"})).await;
        assert_eq!(mine.status, StatusCode::CREATED, "{}", mine.body);
        let mine = mine.body["id"].as_str().expect("id").to_owned();
        let theirs = app.post("/api/projects", other.token(), json!({"title": "Their project"})).await.body["id"]
            .as_str().expect("id").to_owned();

        let r = app.post("/api/chatbot/messages", s.token(), json!({
            "project_id": theirs, "message_type": "user", "message": "about their project",
        })).await;
        r.assert_error(StatusCode::NOT_FOUND);
        assert!(app.activity("chat.message").await.is_empty());

        let r = app.post("/api/chatbot/messages", s.token(), json!({
            "project_id": mine, "message_type": "user", "message": "about my project",
        })).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.body["project_id"], mine);
        let session = r.body["session_id"].as_str().expect("session").to_owned();
        // Later messages inherit the project; another project is refused.
        let r = app.post("/api/chatbot/messages", s.token(), json!({
            "session_id": session, "message_type": "assistant", "message": "sure",
        })).await;
        assert_eq!(r.body["project_id"], mine);
        let second = app.post("/api/projects", s.token(), json!({"title": "Second project"})).await.body["id"]
            .as_str().expect("id").to_owned();
        let r = app.post("/api/chatbot/messages", s.token(), json!({
            "session_id": session, "project_id": second, "message_type": "user", "message": "switch",
        })).await;
        r.assert_error(StatusCode::CONFLICT);
        assert_eq!(r.body["details"]["field"], "project_id");
        assert_eq!(r.body["details"]["session_project"], mine);
        let r = app.get("/api/chatbot/sessions", s.token()).await;
        assert_eq!(r.body["data"][0]["project_id"], mine);
        assert_eq!(r.body["data"][0]["message_count"], 2);

        // An admin on this student route meets the 403 of every student route used on
        // someone else's project.
        let admin = app.admin().await;
        let r = app.post("/api/chatbot/messages", admin.token(), json!({
            "project_id": theirs, "message_type": "system", "message": "reviewing",
        })).await;
        r.assert_error(StatusCode::FORBIDDEN);
    }

    async fn deleting_a_session_hides_its_messages_and_is_logged(app: TestApp) {
        let s = app.register("del@example.com").await;
        let session = say(&app, &s, None, "one").await["session_id"].as_str().expect("session").to_owned();
        say(&app, &s, Some(&session), "two").await;
        let kept = say(&app, &s, None, "kept").await["session_id"].as_str().expect("kept").to_owned();

        let r = app.delete(&format!("/api/chatbot/sessions/{session}"), s.token()).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        let r = app.get("/api/chatbot/sessions", s.token()).await;
        assert_eq!(r.body["meta"]["total"], 1);
        assert_eq!(r.body["data"][0]["session_id"], kept);
        app.get(&format!("/api/chatbot/sessions/{session}/messages"), s.token()).await
            .assert_error(StatusCode::NOT_FOUND);
        app.post("/api/chatbot/messages", s.token(), json!({
            "session_id": session, "message_type": "user", "message": "three",
        })).await.assert_error(StatusCode::NOT_FOUND);
        app.delete(&format!("/api/chatbot/sessions/{session}"), s.token()).await
            .assert_error(StatusCode::NOT_FOUND);

        let logged = app.activity("chat.session.delete").await;
        assert_eq!(logged.len(), 1);
        assert_eq!(logged[0].entity_type.as_deref(), Some("chat_session"));
        assert_eq!(logged[0].entity_id.map(|id| id.to_string()), Some(session));
        assert_eq!(logged[0].details["affected"]["chatbot_history"], 2);
        // The messages are in the trash, not gone.
        let admin = app.admin().await;
        let r = app.get("/api/admin/trash?entity_type=chat_message", admin.token()).await;
        assert_eq!(r.body["meta"]["total"], 2, "{}", r.body);
    }
}
