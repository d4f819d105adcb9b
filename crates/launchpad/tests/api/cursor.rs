//! Keyset (`cursor`) paging on list endpoints: the same rows in the same order as offset
//! pages, across ties and NULLs, and 422 `cursor` for anything that is not a cursor of
//! the request's order.

use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Session, TestApp};
use dbkit::list::{FullText, ListParams, ListSpec, Search, SortOrder};
use launchpad::entity::ideas;
use sea_orm::EntityTrait;

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect()
}

/// Creates 25 ideas with repeated titles and ratings, a third of them unrated.
async fn ideas(app: &TestApp, who: &Session) {
    for i in 0..25 {
        let title = format!("idea {}", ["alpha", "bravo", "charlie", "delta"][i % 4]);
        let r = app
            .post(
                "/api/ideas",
                who.token(),
                json!({"title": title, "complexity": "beginner", "tech_stack": []}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        if i % 3 != 0 {
            let id = r.body["id"].as_str().expect("id");
            let rating = 1 + (i % 5);
            let r = app
                .post(
                    &format!("/api/ideas/{id}/rate"),
                    who.token(),
                    json!({"rating": rating}),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        }
    }
}

/// Every id of `path?query` by offset pages of `per_page`.
async fn by_offset(
    app: &TestApp,
    who: &Session,
    path: &str,
    query: &str,
    per_page: u64,
) -> Vec<String> {
    let mut all = Vec::new();
    for page in 1.. {
        let r = app
            .get(
                &format!("{path}?{query}&per_page={per_page}&page={page}"),
                who.token(),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let rows = ids(&r.body);
        if rows.is_empty() {
            break;
        }
        all.extend(rows);
    }
    all
}

/// Every id of `path?query` by following `next_cursor` from `cursor=`; checks the meta.
async fn by_cursor(
    app: &TestApp,
    who: &Session,
    path: &str,
    query: &str,
    per_page: u64,
) -> Vec<String> {
    let mut all = Vec::new();
    let mut cursor = String::new();
    loop {
        let r = app
            .get(
                &format!("{path}?{query}&per_page={per_page}&cursor={cursor}"),
                who.token(),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.body);
        let meta = r.body["meta"].as_object().expect("meta");
        assert_eq!(
            meta.len(),
            2,
            "cursor pages answer per_page and next_cursor only: {meta:?}"
        );
        assert_eq!(meta["per_page"], per_page);
        let rows = ids(&r.body);
        match meta["next_cursor"].as_str() {
            Some(next) => {
                assert_eq!(rows.len() as u64, per_page, "only the last page is short");
                cursor = next.to_owned();
            }
            None => {
                assert!(
                    !rows.is_empty() || all.is_empty(),
                    "no empty last page after a full one"
                );
                all.extend(rows);
                return all;
            }
        }
        all.extend(rows);
        assert!(all.len() < 1000, "the cursor walk does not end");
    }
}

fn decode(cursor: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(cursor).expect("base64url")).expect("json")
}

fn encode(cursor: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(cursor).expect("json"))
}

both_backends! {
    async fn cursor_pages_walk_the_same_rows_as_offset_pages(app: TestApp) {
        let s = app.register("walker@example.com").await;
        ideas(&app, &s).await;
        for query in [
            "",
            "sort_order=asc",
            "sort_by=title&sort_order=asc",
            "sort_by=title&sort_order=desc",
            // Nullable: unrated ideas last in both directions, pages cross the boundary.
            "sort_by=rating&sort_order=desc",
            "sort_by=rating&sort_order=asc",
        ] {
            let offset = by_offset(&app, &s, "/api/ideas", query, 10).await;
            assert_eq!(offset.len(), 25, "{query}");
            for per_page in [10, 3, 25, 100] {
                assert_eq!(by_cursor(&app, &s, "/api/ideas", query, per_page).await, offset, "{query} per_page={per_page}");
            }
        }
        // Filters and search apply to cursor pages too.
        let offset = by_offset(&app, &s, "/api/ideas", "search=charlie&sort_by=rating", 10).await;
        assert_eq!(offset.len(), 6);
        assert_eq!(by_cursor(&app, &s, "/api/ideas", "search=charlie&sort_by=rating", 4).await, offset);
        // Another resource, through the same code.
        for i in 0..12 {
            let r = app.post("/api/projects", s.token(), json!({"title": format!("Project {}", i % 5)})).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        }
        for query in ["sort_by=title&sort_order=asc", "sort_by=updated_at", ""] {
            let offset = by_offset(&app, &s, "/api/projects", query, 5).await;
            assert_eq!(offset.len(), 12);
            assert_eq!(by_cursor(&app, &s, "/api/projects", query, 5).await, offset, "{query}");
        }
        // An empty list: one empty page, no next cursor.
        let other = app.register("empty@example.com").await;
        assert_eq!(by_cursor(&app, &other, "/api/ideas", "", 10).await, Vec::<String>::new());
        // Offset pages keep their meta.
        let r = app.get("/api/ideas?per_page=10&page=3", s.token()).await;
        assert_eq!(r.body["meta"], json!({"total": 25, "page": 3, "per_page": 10, "total_pages": 3}));
    }

    async fn a_cursor_that_is_not_one_of_this_order_is_refused(app: TestApp) {
        let s = app.register("tamper@example.com").await;
        ideas(&app, &s).await;
        let r = app.get("/api/ideas?sort_by=title&sort_order=asc&per_page=5&cursor=", s.token()).await;
        let good = r.body["meta"]["next_cursor"].as_str().expect("a next page").to_owned();
        let ok = app.get(&format!("/api/ideas?sort_by=title&sort_order=asc&per_page=5&cursor={good}"), s.token()).await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
        let rated = app.get("/api/ideas?sort_by=rating&per_page=5&cursor=", s.token()).await;
        let rated = rated.body["meta"]["next_cursor"].as_str().expect("a next page").to_owned();

        let content = decode(&good);
        let with = |key: &str, value: Value| {
            let mut c = content.clone();
            c[key] = value;
            encode(&c)
        };
        let mut extra = content.clone();
        extra["x"] = json!(1);
        let bad = [
            ("sort_by=title&sort_order=asc", "garbage!".to_owned()),
            ("sort_by=title&sort_order=asc", "bm90IGpzb24".to_owned()),
            ("sort_by=title&sort_order=asc", format!("{good}A")),
            ("sort_by=title&sort_order=asc", "A".repeat(5000)),
            // Made for another order.
            ("sort_by=title&sort_order=desc", good.clone()),
            ("sort_by=created_at&sort_order=asc", good.clone()),
            ("sort_by=title&sort_order=asc", rated.clone()),
            // Tampered fields: wrong types, a NULL for a NOT NULL column, not a UUID.
            ("sort_by=title&sort_order=asc", with("v", json!(42))),
            ("sort_by=title&sort_order=asc", with("v", Value::Null)),
            ("sort_by=title&sort_order=asc", with("v", json!("a\u{0}b"))),
            ("sort_by=title&sort_order=asc", with("id", json!("not-a-uuid"))),
            ("sort_by=title&sort_order=asc", with("id", json!(7))),
            ("sort_by=title&sort_order=asc", with("s", json!("rating"))),
            ("sort_by=title&sort_order=asc", with("o", json!("sideways"))),
            ("sort_by=title&sort_order=asc", encode(&extra)),
            ("sort_by=rating&sort_order=desc", {
                let mut c = decode(&rated);
                c["v"] = json!(1e100);
                encode(&c)
            }),
            ("sort_by=rating&sort_order=desc", {
                let mut c = decode(&rated);
                c["v"] = json!("5");
                encode(&c)
            }),
        ];
        for (query, cursor) in bad {
            let r = app.get(&format!("/api/ideas?{query}&per_page=5&cursor={cursor}"), s.token()).await;
            r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(r.body["details"]["field"], "cursor", "{query} {cursor}: {}", r.body);
        }
        // page and cursor together.
        let r = app.get("/api/ideas?page=1&cursor=", s.token()).await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.body["details"]["field"], "cursor");
        // A well-formed cursor with another position is just a position: a NULL rating
        // is a valid place to resume a rating order.
        let mut c = decode(&rated);
        c["v"] = Value::Null;
        let r = app.get(&format!("/api/ideas?sort_by=rating&per_page=5&cursor={}", encode(&c)), s.token()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        // Another user's list with my cursor still shows only their rows.
        let other = app.register("other-tamper@example.com").await;
        let r = app.get(&format!("/api/ideas?sort_by=title&sort_order=asc&per_page=5&cursor={good}"), other.token()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["data"], json!([]));
        // per_page rules hold in cursor mode.
        let r = app.get("/api/ideas?per_page=101&cursor=", s.token()).await;
        assert_eq!(r.body["details"]["field"], "per_page");
    }

    async fn a_cursor_page_is_one_query_and_makes_no_count(app: TestApp) {
        let s = app.register("counter@example.com").await;
        ideas(&app, &s).await;
        // The same kind of spec as the ideas list, run straight on a connection that
        // records every statement.
        const SPEC: ListSpec<ideas::Entity> = ListSpec {
            sort_fields: &[("created_at", ideas::Column::CreatedAt), ("rating", ideas::Column::Rating)],
            default_order: SortOrder::Desc,
            search: Search::FullText(FullText {
                table: "idea_generation_history",
                fts_table: "ideas_fts",
                vector_column: "search_vector",
            }),
            status: None,
            created_at: ideas::Column::CreatedAt,
            id: ideas::Column::Id,
        };
        let seen = Arc::new(Mutex::new(Vec::<String>::new()));
        let mut db = app.db.clone();
        let log = seen.clone();
        db.set_metric_callback(move |info| log.lock().expect("lock").push(info.statement.sql.clone()));
        let params = |cursor: &str, page: Option<u64>| ListParams {
            cursor: page.is_none().then(|| cursor.to_owned()),
            page,
            per_page: Some(10),
            sort_by: Some("rating".into()),
            search: Some("idea".into()),
            ..Default::default()
        };
        let first = SPEC.fetch(&db, ideas::Entity::find(), &params("", None)).await.expect("first page");
        let next = first.meta.cursor.clone().flatten().expect("a next page");
        let second = SPEC.fetch(&db, ideas::Entity::find(), &params(&next, None)).await.expect("second page");
        assert_eq!((first.data.len(), second.data.len()), (10, 10));
        let statements = std::mem::take(&mut *seen.lock().expect("lock"));
        assert_eq!(statements.len(), 2, "one query per cursor page: {statements:#?}");
        for sql in &statements {
            assert!(!sql.to_uppercase().contains("COUNT("), "a cursor page counted: {sql}");
            assert!(sql.contains("LIMIT"), "{sql}");
        }
        // Offset pages still count.
        SPEC.fetch(&db, ideas::Entity::find(), &params("", Some(2))).await.expect("offset page");
        let statements = std::mem::take(&mut *seen.lock().expect("lock"));
        assert!(statements.iter().any(|sql| sql.to_uppercase().contains("COUNT(")), "{statements:#?}");
    }

    async fn the_cursor_is_in_the_api_document(app: TestApp) {
        let doc = app.get("/openapi.json", None).await.body;
        let (_, ideas) = doc["paths"].as_object().expect("paths").iter()
            .find(|(path, _)| path.ends_with("/ideas"))
            .expect("the ideas list");
        let params = ideas["get"]["parameters"].as_array().expect("parameters");
        assert!(params.iter().any(|p| p["name"] == "cursor" && p["in"] == "query"), "{params:#?}");
        // Every list (every GET answering a Page) takes a cursor.
        let lists = crate::helpers::list_operations(&doc);
        for (path, get) in &lists {
            let params = get["parameters"].as_array().expect("parameters");
            assert!(params.iter().any(|p| p["name"] == "cursor" && p["in"] == "query"), "{path} takes no cursor");
        }
        assert!(lists.len() >= 18, "only {} lists", lists.len());
        let meta = &doc["components"]["schemas"]["PageMeta"];
        assert!(meta["properties"].get("next_cursor").is_some(), "{meta:#}");
        assert!(meta["properties"].get("cursor").is_none(), "{meta:#}");
        assert_eq!(meta["required"], json!(["per_page"]), "{meta:#}");
    }

    async fn a_sessions_messages_page_by_cursor_too(app: TestApp) {
        let s = app.register("chatter@example.com").await;
        let mut session = String::new();
        for i in 0..7 {
            let mut body = json!({"message_type": "user", "message": format!("m{i}")});
            if !session.is_empty() {
                body["session_id"] = json!(session);
            }
            let r = app.post("/api/chatbot/messages", s.token(), body).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            session = r.body["session_id"].as_str().expect("session").to_owned();
        }
        let path = format!("/api/chatbot/sessions/{session}/messages");
        let offset = by_offset(&app, &s, &path, "", 3).await;
        assert_eq!(offset.len(), 7);
        assert_eq!(by_cursor(&app, &s, &path, "", 3).await, offset);
        // Someone else's (or a missing) session is a 404 in cursor mode as well.
        let other = app.register("chat-intruder@example.com").await;
        app.get(&format!("{path}?cursor="), other.token()).await.assert_error(StatusCode::NOT_FOUND);
        app.get(&format!("{path}?cursor=&page=1"), s.token()).await.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
    }

    async fn the_trash_pages_by_cursor_across_a_cascade_of_equal_timestamps(app: TestApp) {
        let s = app.register("trashy@example.com").await;
        let admin = app.admin().await;
        let mut projects = Vec::new();
        for i in 0..11 {
            let r = app.post("/api/projects", s.token(), json!({"title": format!("Trashed {i}")})).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            projects.push(r.body["id"].as_str().expect("id").to_owned());
        }
        for id in &projects[..4] {
            let r = app.delete(&format!("/api/projects/{id}"), s.token()).await;
            assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        }
        // The account's deletion trashes the other 7 in one batch, with one timestamp:
        // only the id orders them.
        assert_eq!(app.delete("/api/users/me", s.token()).await.status, StatusCode::NO_CONTENT);
        let path = "/api/admin/trash";
        let query = "entity_type=project";
        let offset = by_offset(&app, &admin, path, query, 4).await;
        assert_eq!(offset.len(), 11);
        for per_page in [1, 3, 4, 7, 100] {
            assert_eq!(by_cursor(&app, &admin, path, query, per_page).await, offset, "per_page={per_page}");
        }
        // A cursor of another list, garbage, or with page: 422 `cursor`.
        let ideas = app.get("/api/ideas?per_page=1&cursor=", admin.token()).await;
        assert_eq!(ideas.status, StatusCode::OK, "{}", ideas.body);
        let trash = app.get(&format!("{path}?{query}&per_page=2&cursor="), admin.token()).await;
        let good = trash.body["meta"]["next_cursor"].as_str().expect("a next page").to_owned();
        let mut wrong_id = decode(&good);
        wrong_id["id"] = json!("nope");
        let mut wrong_at = decode(&good);
        wrong_at["v"] = json!(17);
        for cursor in ["garbage!".to_owned(), encode(&wrong_id), encode(&wrong_at), encode(&json!({"s": "created_at", "o": "desc", "v": decode(&good)["v"], "id": decode(&good)["id"]}))] {
            let r = app.get(&format!("{path}?{query}&cursor={cursor}"), admin.token()).await;
            r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(r.body["details"]["field"], "cursor", "{cursor}: {}", r.body);
        }
        let r = app.get(&format!("{path}?{query}&page=1&cursor="), admin.token()).await;
        assert_eq!(r.body["details"]["field"], "cursor", "{}", r.body);
    }

    async fn chat_sessions_page_by_cursor_most_recently_active_first(app: TestApp) {
        let s = app.register("sessions@example.com").await;
        let mut sessions = Vec::new();
        for i in 0..6 {
            let r = app.post("/api/chatbot/messages", s.token(), json!({"message_type": "user", "message": format!("s{i}")})).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            sessions.push(r.body["session_id"].as_str().expect("session").to_owned());
        }
        // A later message moves an older session to the front.
        let r = app.post("/api/chatbot/messages", s.token(), json!({"message_type": "user", "message": "again", "session_id": sessions[1]})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let path = "/api/chatbot/sessions";
        let session_ids = |page: &Value| -> Vec<String> {
            page["data"].as_array().expect("data").iter()
                .map(|r| r["session_id"].as_str().expect("session_id").to_owned())
                .collect()
        };
        let first = app.get(&format!("{path}?per_page=100"), s.token()).await;
        let offset = session_ids(&first.body);
        assert_eq!(offset.len(), 6);
        assert_eq!(offset[0], sessions[1]);
        for per_page in [1, 2, 4, 6] {
            let mut walked = Vec::new();
            let mut cursor = String::new();
            loop {
                let r = app.get(&format!("{path}?per_page={per_page}&cursor={cursor}"), s.token()).await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.body);
                walked.extend(session_ids(&r.body));
                match r.body["meta"]["next_cursor"].as_str() {
                    Some(next) => cursor = next.to_owned(),
                    None => break,
                }
                assert!(walked.len() <= 6, "the walk does not end");
            }
            assert_eq!(walked, offset, "per_page={per_page}");
        }
        // A trash cursor is not a sessions cursor.
        let admin = app.admin().await;
        app.delete(&format!("/api/chatbot/sessions/{}", sessions[0]), s.token()).await;
        app.delete(&format!("/api/chatbot/sessions/{}", sessions[2]), s.token()).await;
        let trash = app.get("/api/admin/trash?entity_type=chat_message&per_page=1&cursor=", admin.token()).await;
        let other = trash.body["meta"]["next_cursor"].as_str().expect("a next page").to_owned();
        let r = app.get(&format!("{path}?cursor={other}"), s.token()).await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.body["details"]["field"], "cursor");
    }
}
