//! `/api/ideas`: generated ideas — create, list, select, rate, refine, delete, isolation.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Session, TestApp};

/// Creates an idea from `body` (title and complexity defaulted); returns it.
async fn idea(app: &TestApp, who: &Session, body: Value) -> Value {
    let mut full = json!({"title": "An idea", "complexity": "beginner", "tech_stack": []});
    for (k, v) in body.as_object().expect("object") {
        full[k] = v.clone();
    }
    let r = app.post("/api/ideas", who.token(), full).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

async fn project(app: &TestApp, who: &Session, title: &str) -> String {
    let r = app
        .post("/api/projects", who.token(), json!({"title": title}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    id(&r.body)
}

fn titles(page: &Value) -> Vec<&str> {
    page["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|i| i["title"].as_str())
        .collect()
}

both_backends! {
    async fn creating_an_idea_answers_201_and_logs_it(app: TestApp) {
        let s = app.register("idea@example.com").await;
        let p = project(&app, &s, "Farm project").await;
        let r = app.post("/api/ideas", s.token(), json!({
            "title": "  Smart Agriculture System ",
            "description": "IoT-based crop monitoring.\nWith sensors.",
            "category": "iot",
            "tech_stack": ["Python", "Arduino"],
            "complexity": "intermediate",
            "project_id": p,
        })).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.body["title"], "Smart Agriculture System");
        assert_eq!(r.body["description"], "IoT-based crop monitoring.\nWith sensors.");
        assert_eq!(r.body["tech_stack"], json!(["Python", "Arduino"]));
        assert_eq!(r.body["complexity"], "intermediate");
        assert_eq!(r.body["project_id"], p);
        assert_eq!(r.body["user_selected"], false);
        assert_eq!(r.body["rating"], Value::Null);
        assert_eq!(r.body["refinement_of"], Value::Null);
        let got = app.get(&format!("/api/ideas/{}", id(&r.body)), s.token()).await;
        assert_eq!(got.status, StatusCode::OK);
        assert_eq!(got.body, r.body);
        let logged = app.activity("idea.create").await;
        assert_eq!(logged.len(), 1);
        assert_eq!(logged[0].entity_id.map(|i| i.to_string()), Some(id(&r.body)));
        assert_eq!(logged[0].user_id, s.user_id);
    }

    async fn invalid_ideas_are_422_naming_the_field_and_write_nothing(app: TestApp) {
        let s = app.register("bad@example.com").await;
        let other = app.register("other@example.com").await;
        let theirs = project(&app, &other, "Not yours").await;
        let ok = json!({"title": "Fine title", "complexity": "advanced", "tech_stack": ["Rust"]});
        let with = |key: &str, value: Value| {
            let mut body = ok.clone();
            body[key] = value;
            body
        };
        for (body, field) in [
            (with("title", json!("ab")), "title"),
            (with("title", json!("t".repeat(201))), "title"),
            (with("complexity", json!("expert")), "complexity"),
            (with("tech_stack", json!(vec!["x"; 21])), "tech_stack"),
            (with("tech_stack", json!([""])), "tech_stack"),
            (with("category", json!("")), "category"),
            (with("project_id", json!("nope")), "project_id"),
        ] {
            let r = app.post("/api/ideas", s.token(), body.clone()).await;
            r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(r.body["details"]["field"], field, "{body}");
        }
        let r = app.post("/api/ideas", s.token(), with("complexity", json!("expert"))).await;
        assert_eq!(r.body["details"]["allowed"], json!(["beginner", "intermediate", "advanced"]));
        app.post("/api/ideas", s.token(), with("rating", json!(5))).await.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        app.post("/api/ideas", s.token(), json!({"title": "No stack", "complexity": "beginner"})).await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        // Someone else's project is as missing as one that does not exist.
        app.post("/api/ideas", s.token(), with("project_id", json!(theirs))).await.assert_error(StatusCode::NOT_FOUND);
        app.post("/api/ideas", s.token(), with("project_id", json!(uuid::Uuid::now_v7()))).await
            .assert_error(StatusCode::NOT_FOUND);
        app.post("/api/ideas", None, ok.clone()).await.assert_error(StatusCode::UNAUTHORIZED);
        assert!(app.activity("idea.create").await.is_empty());
        assert_eq!(app.get("/api/ideas", s.token()).await.body["meta"]["total"], 0);
    }

    async fn the_idea_list_filters_searches_sorts_and_pages(app: TestApp) {
        let s = app.register("lister@example.com").await;
        let other = app.register("someone@example.com").await;
        let p = project(&app, &s, "Project P").await;
        let delta = idea(&app, &s, json!({"title": "delta drone", "category": "iot", "project_id": p})).await;
        let alpha = idea(&app, &s, json!({"title": "alpha app", "category": "web", "description": "A 100% offline app"})).await;
        let charlie = idea(&app, &s, json!({"title": "charlie chatbot", "category": "ml"})).await;
        idea(&app, &s, json!({"title": "bravo bot", "category": "ml", "project_id": p})).await;
        idea(&app, &other, json!({"title": "echo elsewhere", "category": "ml"})).await;
        for (i, rating) in [(&alpha, 2), (&charlie, 5), (&delta, 4)] {
            let r = app.post(&format!("/api/ideas/{}/rate", id(i)), s.token(), json!({"rating": rating})).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        }
        app.post(&format!("/api/ideas/{}/select", id(&charlie)), s.token(), json!({})).await;

        let list = |query: &'static str| {
            let token = s.access.clone();
            let app = &app;
            async move { app.get(&format!("/api/ideas?{query}"), Some(&token)).await }
        };
        // Newest first by default; only the caller's own.
        let r = list("").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(titles(&r.body), ["bravo bot", "charlie chatbot", "alpha app", "delta drone"]);
        assert_eq!(titles(&list("sort_by=title&sort_order=asc").await.body), ["alpha app", "bravo bot", "charlie chatbot", "delta drone"]);
        // Unrated ideas sort last in both directions, on both backends.
        assert_eq!(titles(&list("sort_by=rating&sort_order=desc").await.body), ["charlie chatbot", "delta drone", "alpha app", "bravo bot"]);
        assert_eq!(titles(&list("sort_by=rating&sort_order=asc").await.body), ["alpha app", "delta drone", "charlie chatbot", "bravo bot"]);
        assert_eq!(titles(&list("category=ml&sort_by=title&sort_order=asc").await.body), ["bravo bot", "charlie chatbot"]);
        assert_eq!(titles(&list("user_selected=true").await.body), ["charlie chatbot"]);
        assert_eq!(titles(&list("user_selected=false&sort_by=title&sort_order=asc").await.body), ["alpha app", "bravo bot", "delta drone"]);
        let r = app.get(&format!("/api/ideas?project_id={p}&sort_by=title&sort_order=asc"), s.token()).await;
        assert_eq!(titles(&r.body), ["bravo bot", "delta drone"]);
        // Search is full text: case-insensitive, in title and description, each word a
        // prefix of a word (so "bot" no longer finds "chatbot"; "chat" does).
        assert_eq!(titles(&list("search=BOT&sort_by=title&sort_order=asc").await.body), ["bravo bot"]);
        assert_eq!(titles(&list("search=CHAT&sort_by=title&sort_order=asc").await.body), ["charlie chatbot"]);
        assert_eq!(titles(&list("search=100%25").await.body), ["alpha app"]);
        assert_eq!(titles(&list("search=_").await.body), Vec::<&str>::new());
        let r = list("sort_by=title&sort_order=asc&per_page=3&page=2").await;
        assert_eq!(titles(&r.body), ["delta drone"]);
        assert_eq!(r.body["meta"], json!({"total": 4, "page": 2, "per_page": 3, "total_pages": 2}));

        for (query, field) in [
            ("sort_by=complexity", "sort_by"),
            ("sort_order=sideways", ""),
            ("user_selected=maybe", "user_selected"),
            ("project_id=123", "project_id"),
            ("per_page=101", "per_page"),
            ("status=open", "status"),
        ] {
            let r = list(query).await;
            r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
            if !field.is_empty() {
                assert_eq!(r.body["details"]["field"], field, "{query}");
            }
        }
        // An admin sees everyone's.
        let admin = app.admin().await;
        assert_eq!(app.get("/api/ideas", admin.token()).await.body["meta"]["total"], 5);
    }

    async fn selecting_an_idea_unselects_the_other_ideas_of_its_project(app: TestApp) {
        let s = app.register("chooser@example.com").await;
        let p = project(&app, &s, "Project P").await;
        let q = project(&app, &s, "Project Q").await;
        let first = id(&idea(&app, &s, json!({"title": "first for P", "project_id": p})).await);
        let second = id(&idea(&app, &s, json!({"title": "second for P", "project_id": p})).await);
        let for_q = id(&idea(&app, &s, json!({"title": "one for Q", "project_id": q})).await);
        let loose = id(&idea(&app, &s, json!({"title": "no project"})).await);
        let select = |idea: String| {
            let app = &app;
            let token = s.access.clone();
            async move { app.post(&format!("/api/ideas/{idea}/select"), Some(&token), json!({})).await }
        };
        let selected = |idea: &String| {
            let app = &app;
            let url = format!("/api/ideas/{idea}");
            let token = s.access.clone();
            async move { app.get(&url, Some(&token)).await.body["user_selected"].clone() }
        };
        for i in [&first, &for_q, &loose] {
            let r = select(i.clone()).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            assert_eq!(r.body["user_selected"], true);
        }
        let r = select(second.clone()).await;
        assert_eq!(r.body["user_selected"], true);
        assert_eq!(selected(&first).await, false);
        assert_eq!(selected(&second).await, true);
        assert_eq!(selected(&for_q).await, true);
        assert_eq!(selected(&loose).await, true);
        // Selecting twice changes nothing more.
        assert_eq!(select(second.clone()).await.body["user_selected"], true);
        let logged = app.activity("idea.select").await;
        assert_eq!(logged.len(), 5);
        assert_eq!(logged[3].details["unselected"], 1);
        assert_eq!(logged[4].details["unselected"], 0);
        let r = app.get(&format!("/api/ideas?project_id={p}&user_selected=true"), s.token()).await;
        assert_eq!(titles(&r.body), ["second for P"]);
    }

    async fn ratings_must_be_whole_numbers_from_1_to_5(app: TestApp) {
        let s = app.register("rater@example.com").await;
        let i = id(&idea(&app, &s, json!({})).await);
        let url = format!("/api/ideas/{i}/rate");
        for bad in [json!(0), json!(6), json!(-1), json!(2.5), json!("3"), json!(null)] {
            let r = app.post(&url, s.token(), json!({"rating": bad})).await;
            r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(r.body["details"]["field"], "rating", "{bad}");
        }
        app.post(&url, s.token(), json!({})).await.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(app.activity("idea.rate").await.is_empty());
        for good in [1, 5, 3] {
            let r = app.post(&url, s.token(), json!({"rating": good})).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            assert_eq!(r.body["rating"], good);
        }
        assert_eq!(app.get(&format!("/api/ideas/{i}"), s.token()).await.body["rating"], 3);
        let logged = app.activity("idea.rate").await;
        assert_eq!(logged.len(), 3);
        assert_eq!(logged[2].details["rating"], 3);
    }

    async fn refining_makes_a_chain_of_new_ideas_copying_what_is_not_given(app: TestApp) {
        let s = app.register("refiner@example.com").await;
        let p = project(&app, &s, "Project P").await;
        let original = idea(&app, &s, json!({
            "title": "Crop monitor", "description": "Sensors in fields", "category": "iot",
            "tech_stack": ["Python"], "complexity": "beginner", "project_id": p,
        })).await;
        app.post(&format!("/api/ideas/{}/rate", id(&original)), s.token(), json!({"rating": 4})).await;
        let r = app.post(&format!("/api/ideas/{}/refine", id(&original)), s.token(), json!({
            "title": "Crop monitor with drones", "tech_stack": ["Python", "ROS"],
        })).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let refined = r.body;
        assert_ne!(refined["id"], original["id"]);
        assert_eq!(refined["refinement_of"], original["id"]);
        assert_eq!(refined["title"], "Crop monitor with drones");
        assert_eq!(refined["tech_stack"], json!(["Python", "ROS"]));
        assert_eq!(refined["description"], "Sensors in fields");
        assert_eq!(refined["category"], "iot");
        assert_eq!(refined["complexity"], "beginner");
        assert_eq!(refined["project_id"], p);
        assert_eq!(refined["rating"], Value::Null);
        assert_eq!(refined["user_selected"], false);

        let r = app.post(&format!("/api/ideas/{}/refine", id(&refined)), s.token(), json!({
            "title": "Crop monitor, advanced", "complexity": "advanced", "category": "robotics",
            "description": "Drones and sensors",
        })).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.body["refinement_of"], refined["id"]);
        assert_eq!(r.body["complexity"], "advanced");
        assert_eq!(r.body["category"], "robotics");
        assert_eq!(r.body["description"], "Drones and sensors");
        assert_eq!(r.body["tech_stack"], json!(["Python", "ROS"]));
        // The original is unchanged.
        let o = app.get(&format!("/api/ideas/{}", id(&original)), s.token()).await.body;
        assert_eq!(o["title"], "Crop monitor");
        assert_eq!(o["rating"], 4);
        assert_eq!(app.activity("idea.refine").await.len(), 2);

        let url = format!("/api/ideas/{}/refine", id(&original));
        for (body, field) in [
            (json!({"title": "no"}), "title"),
            (json!({"title": "Fine", "complexity": "hard"}), "complexity"),
            (json!({"title": "Fine", "tech_stack": vec!["x"; 21]}), "tech_stack"),
        ] {
            let r = app.post(&url, s.token(), body).await;
            r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(r.body["details"]["field"], field);
        }
        app.post(&url, s.token(), json!({})).await.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        app.post(&url, s.token(), json!({"title": "Fine", "project_id": p})).await.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.activity("idea.refine").await.len(), 2);
        assert_eq!(app.get("/api/ideas", s.token()).await.body["meta"]["total"], 3);
    }

    async fn a_deleted_idea_is_invisible_everywhere(app: TestApp) {
        let s = app.register("deleter@example.com").await;
        let gone = id(&idea(&app, &s, json!({"title": "to be deleted"})).await);
        idea(&app, &s, json!({"title": "to be kept"})).await;
        let r = app.delete(&format!("/api/ideas/{gone}"), s.token()).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        app.get(&format!("/api/ideas/{gone}"), s.token()).await.assert_error(StatusCode::NOT_FOUND);
        assert_eq!(titles(&app.get("/api/ideas", s.token()).await.body), ["to be kept"]);
        app.post(&format!("/api/ideas/{gone}/select"), s.token(), json!({})).await.assert_error(StatusCode::NOT_FOUND);
        app.post(&format!("/api/ideas/{gone}/rate"), s.token(), json!({"rating": 3})).await.assert_error(StatusCode::NOT_FOUND);
        app.post(&format!("/api/ideas/{gone}/refine"), s.token(), json!({"title": "revived"})).await
            .assert_error(StatusCode::NOT_FOUND);
        app.delete(&format!("/api/ideas/{gone}"), s.token()).await.assert_error(StatusCode::NOT_FOUND);
        let admin = app.admin().await;
        app.get(&format!("/api/ideas/{gone}"), admin.token()).await.assert_error(StatusCode::NOT_FOUND);
        let logged = app.activity("idea.delete").await;
        assert_eq!(logged.len(), 1);
        assert_eq!(logged[0].details["affected"]["idea_generation_history"], 1);
        // It is in the trash, and comes back from there.
        let trash = app.get("/api/admin/trash?entity_type=idea", admin.token()).await;
        assert_eq!(trash.body["data"][0]["id"], gone);
        let r = app.post(&format!("/api/admin/trash/idea/{gone}/restore"), admin.token(), json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(app.get(&format!("/api/ideas/{gone}"), s.token()).await.status, StatusCode::OK);
    }

    async fn another_students_idea_is_404_and_an_admin_only_reads_it(app: TestApp) {
        let owner = app.register("owner@example.com").await;
        let intruder = app.register("intruder@example.com").await;
        let i = id(&idea(&app, &owner, json!({"title": "mine alone"})).await);
        app.get(&format!("/api/ideas/{i}"), intruder.token()).await.assert_error(StatusCode::NOT_FOUND);
        app.post(&format!("/api/ideas/{i}/select"), intruder.token(), json!({})).await.assert_error(StatusCode::NOT_FOUND);
        app.post(&format!("/api/ideas/{i}/rate"), intruder.token(), json!({"rating": 1})).await.assert_error(StatusCode::NOT_FOUND);
        app.post(&format!("/api/ideas/{i}/refine"), intruder.token(), json!({"title": "stolen"})).await
            .assert_error(StatusCode::NOT_FOUND);
        app.delete(&format!("/api/ideas/{i}"), intruder.token()).await.assert_error(StatusCode::NOT_FOUND);
        assert_eq!(app.get("/api/ideas", intruder.token()).await.body["meta"]["total"], 0);
        app.get("/api/ideas/not-a-uuid", owner.token()).await.assert_error(StatusCode::UNPROCESSABLE_ENTITY);

        let admin = app.admin().await;
        assert_eq!(app.get(&format!("/api/ideas/{i}"), admin.token()).await.status, StatusCode::OK);
        app.post(&format!("/api/ideas/{i}/select"), admin.token(), json!({})).await.assert_error(StatusCode::FORBIDDEN);
        app.delete(&format!("/api/ideas/{i}"), admin.token()).await.assert_error(StatusCode::FORBIDDEN);

        let r = app.get(&format!("/api/ideas/{i}"), owner.token()).await;
        assert_eq!(r.body["user_selected"], false);
        assert_eq!(r.body["rating"], Value::Null);
        for action in ["idea.select", "idea.rate", "idea.refine", "idea.delete"] {
            assert!(app.activity(action).await.is_empty(), "{action}");
        }
    }
}
