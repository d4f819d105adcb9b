//! Search and sort parity: one multilingual fixture (accents, case, Devanagari, digits,
//! punctuation, emoji) written to every resource, then every list's `search` and every
//! text `sort_by` run on SQLite, on PostgreSQL, and on a PostgreSQL database whose default
//! collation is ICU's `en-US`: the same rows in the same order on all three, and the
//! answers people expect (`cafe` finds "Café"; `apple, Banana, cherry, Éclair, éclat,
//! zebra, Zulu`).

use std::collections::{BTreeMap, HashMap};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    Backend, Session, TestApp, TestDb, list_operations, postgres_base_url, text_sorts,
};
use crate::search::urlencode;

/// The texts every resource gets one row of, in this order. At most 50 characters (the
/// shortest limit, a request's type); no two alike but for the last pair, which fold alike
/// (a tie the sort breaks by id).
const FIXTURE: &[&str] = &[
    "Café ordering app",
    "cafe billing system",
    "CAFÉ Noir",
    "Banana",
    "Zulu",
    "apple",
    "cherry",
    "zebra",
    "Éclair",
    "éclat",
    "स्मार्ट कृषि प्रणाली",
    "Straße 42 — ŁÓDŹ",
    "IoT v2.0 (beta) 🚀",
    "50% off_sale \"quoted\"",
    "ΟΔΟΣ Ῥόδος",
    "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ",
    "naïve résumé",
    "Naive Resume",
];

/// The words, in the order a person expects them sorted.
const EXPECTED_ORDER: &[&str] = &[
    "apple", "Banana", "cherry", "Éclair", "éclat", "zebra", "Zulu",
];

/// Searches every list is asked.
const SEARCHES: &[&str] = &[
    "cafe",
    "café",
    "CAFE",
    "Cafe\u{301}",
    "cafe billing",
    "eclair",
    "ÉCL",
    "स्मार्ट",
    "स्मा",
    "कृषि",
    "मार",
    "strasse",
    "straße",
    "lodz",
    "42",
    "v2",
    "2.0",
    "🚀",
    "%",
    "_",
    "\"quoted\"",
    "οδος",
    "ροδ",
    "naive resume",
    "fullwidth",
    "abc",
    "e",
    "zzz",
];

/// A PostgreSQL database of its own whose default collation is ICU's `en-US`, dropped
/// with this.
struct IcuDatabase(String);

impl IcuDatabase {
    async fn create() -> (Self, TestDb) {
        let name = format!("lp_icu_{}", uuid::Uuid::now_v7().simple());
        let admin = sea_orm::Database::connect(postgres_base_url())
            .await
            .expect("PostgreSQL");
        sea_orm::ConnectionTrait::execute_unprepared(
            &admin,
            &format!(
                "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' \
                 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"
            ),
        )
        .await
        .expect("an ICU database");
        admin.close().await.expect("close");
        let base = postgres_base_url();
        let (server, _) = base.rsplit_once('/').expect("a database in the URL");
        let url = format!("{server}/{name}");
        (Self(name), TestDb::existing(url))
    }
}

impl Drop for IcuDatabase {
    fn drop(&mut self) {
        dbkit::testing::on_postgres_now(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.0));
    }
}

/// What one server answered: per request, the rows in order (fixture rows by their
/// text, others by what they show).
type Answers = BTreeMap<String, Vec<String>>;

/// The id of a created row.
fn id(r: &crate::helpers::Response) -> String {
    assert!(r.status.is_success(), "{}", r.body);
    r.body["id"].as_str().expect("an id").to_owned()
}

/// Writes the fixture to every resource; the fixture text of each row by id.
async fn write_fixture(app: &TestApp, s: &Session, admin: &Session) -> HashMap<String, String> {
    let mut label = HashMap::new();
    let plans = app.get("/api/plans", None).await.body;
    let plan = plans["data"][0]["id"].clone();
    for (i, text) in FIXTURE.iter().enumerate() {
        let text = text.to_string();
        let project = id(&app
            .post(
                "/api/projects",
                s.token(),
                json!({"title": text, "description": format!("about {text}")}),
            )
            .await);
        label.insert(project.clone(), text.clone());
        let idea = json!({"title": text, "tech_stack": [], "complexity": "beginner", "project_id": project});
        label.insert(
            id(&app.post("/api/ideas", s.token(), idea).await),
            text.clone(),
        );
        let form = reqwest::multipart::Form::new()
            .text("project_id", project.clone())
            .text("title", text.clone())
            .part(
                "file",
                crate::files::file_part(crate::files::pdf(), "s.pdf", crate::files::PDF_TYPE),
            );
        let synopsis = crate::files::send_form(app, "/api/synopsis", s.token(), form).await;
        label.insert(id(&synopsis), text.clone());
        let meeting =
            json!({"topic": text, "project_id": project, "notes": format!("notes {text}")});
        label.insert(
            id(&app.post("/api/meetings", s.token(), meeting).await),
            text.clone(),
        );
        let request = json!({"request_type": text, "message": format!("please {text}")});
        label.insert(
            id(&app.post("/api/requests", s.token(), request).await),
            text.clone(),
        );
        let file = crate::files::upload(
            app,
            s.token(),
            &project,
            "project",
            crate::files::pdf(),
            &format!("{text}.pdf"),
        )
        .await;
        label.insert(id(&file), text.clone());
        let plan_body = json!({
            "name": text, "description": format!("plan {text}"), "price": 100 + i,
            "features": [], "blog_included": false, "max_projects": 1, "support_level": "Basic",
        });
        label.insert(
            id(&app.post("/api/admin/plans", admin.token(), plan_body).await),
            text.clone(),
        );
        let service = json!({"name": text, "description": format!("service {text}"), "price": 5});
        label.insert(
            id(&app
                .post("/api/admin/services", admin.token(), service)
                .await),
            text.clone(),
        );
        let user = json!({"email": format!("{}{i}@example.com", ["élodie", "Zoë", "bob"][i % 3]), "password": "Passw0rd!", "name": text});
        let r = app.post("/api/auth/register", None, user).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        label.insert(
            r.body["user"]["id"].as_str().expect("a user").to_owned(),
            text.clone(),
        );
        let order = id(&app
            .post("/api/orders", s.token(), json!({"plan_id": plan}))
            .await);
        let paid = json!({"status": "paid", "payment_reference": text});
        let r = app
            .post(
                &format!("/api/admin/orders/{order}/status"),
                admin.token(),
                paid,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        label.insert(order, text);
    }
    label
}

/// What a row of an answer is called: its fixture text, or else what it shows.
fn row_label(row: &Value, label: &HashMap<String, String>) -> String {
    if let Some(text) = row["id"].as_str().and_then(|id| label.get(id)) {
        return text.clone();
    }
    [
        "action",
        "name",
        "title",
        "original_name",
        "email",
        "status",
        "id",
        "session_id",
    ]
    .iter()
    .find_map(|field| row[*field].as_str())
    .map(|shown| format!("~{shown}"))
    .unwrap_or_else(|| format!("~{row}"))
}

fn takes(operation: &Value, parameter: &str) -> bool {
    operation["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|p| p["name"] == parameter)
}

/// Every list's rows for every search and every text sort (both ways, and walked by
/// cursor three rows at a time), as the student and as an admin.
async fn answers(app: &TestApp) -> Answers {
    let s = app.register("parity@example.com").await;
    let admin = app.admin().await;
    let label = write_fixture(app, &s, &admin).await;
    let project = app
        .get("/api/projects?per_page=1&sort_by=title", s.token())
        .await
        .body["data"][0]["id"]
        .as_str()
        .expect("a project")
        .to_owned();
    let chat = app
        .post(
            "/api/chatbot/messages",
            s.token(),
            json!({"message": "Café?", "project_id": project}),
        )
        .await;
    let session = chat.body["session_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let doc = app.get("/openapi.json", None).await.body;
    let mut answers = Answers::new();
    for (template, operation) in list_operations(&doc) {
        let path = template
            .replace("{id}", &project)
            .replace("{session_id}", &session);
        let base = if path.contains("/trash") {
            "entity_type=project&"
        } else {
            ""
        };
        let admin_only = path.starts_with("/api/admin/") || path == "/api/activity-logs";
        let mut queries: Vec<String> = Vec::new();
        if takes(operation, "search") {
            queries.extend(SEARCHES.iter().map(|q| format!("search={}", urlencode(q))));
        }
        let sorts = text_sorts(operation);
        for sort in &sorts {
            for order in ["asc", "desc"] {
                queries.push(format!("sort_by={sort}&sort_order={order}"));
            }
        }
        for (who, token) in [("student", s.token()), ("admin", admin.token())] {
            if admin_only && who == "student" {
                continue;
            }
            for query in &queries {
                let url = format!("{path}?{base}{query}&per_page=100");
                let r = app.get(&url, token).await;
                assert_eq!(r.status, StatusCode::OK, "{who} GET {url}: {}", r.body);
                let rows = r.body["data"].as_array().expect("data");
                let key = format!("{who} GET {template}?{query}");
                answers.insert(key, rows.iter().map(|row| row_label(row, &label)).collect());
            }
            for sort in &sorts {
                let walked = walk(
                    app,
                    token,
                    &format!("{path}?{base}sort_by={sort}&sort_order=asc"),
                    &label,
                )
                .await;
                answers.insert(
                    format!("{who} GET {template}?sort_by={sort} by cursor"),
                    walked,
                );
            }
        }
    }
    answers
}

/// A list walked by cursor, three rows a page.
async fn walk(
    app: &TestApp,
    token: Option<&str>,
    path_and_query: &str,
    label: &HashMap<String, String>,
) -> Vec<String> {
    let mut rows = Vec::new();
    let mut cursor = String::new();
    loop {
        let r = app
            .get(
                &format!("{path_and_query}&per_page=3&cursor={cursor}"),
                token,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{path_and_query}: {}", r.body);
        rows.extend(
            r.body["data"]
                .as_array()
                .expect("data")
                .iter()
                .map(|row| row_label(row, label)),
        );
        match r.body["meta"]["next_cursor"].as_str() {
            Some(next) => cursor = urlencode(next),
            None => return rows,
        }
    }
}

/// The answers that differ between two servers, one line each.
fn differences(a: &Answers, b: &Answers) -> Vec<String> {
    a.iter()
        .filter(|(key, rows)| b.get(*key) != Some(*rows))
        .map(|(key, rows)| format!("{key}\n    {rows:?}\n    {:?}", b.get(key)))
        .collect()
}

/// The answers people expect, on any backend.
fn assert_expected(backend: &str, answers: &Answers) {
    let get = |key: &str| {
        answers
            .get(key)
            .unwrap_or_else(|| panic!("{backend}: no answer for {key}"))
    };
    let cafes = ["Café ordering app", "cafe billing system", "CAFÉ Noir"];
    for search in ["cafe", "caf%C3%A9", "CAFE", "Cafe%CC%81"] {
        for list in [
            "/api/projects",
            "/api/ideas",
            "/api/synopsis",
            "/api/meetings",
            "/api/requests",
            "/api/orders",
        ] {
            let found = get(&format!("student GET {list}?search={search}"));
            for cafe in cafes {
                assert!(
                    found.iter().any(|r| r == cafe),
                    "{backend} {list}?search={search}: {found:?}"
                );
            }
        }
    }
    let devanagari = "स्मार्ट कृषि प्रणाली";
    for search in ["स्मार्ट", "स्मा", "कृषि"] {
        let key = format!("student GET /api/projects?search={}", urlencode(search));
        assert_eq!(get(&key), &[devanagari], "{backend} {key}");
    }
    for (list, sort) in [
        ("/api/projects", "title"),
        ("/api/ideas", "title"),
        ("/api/synopsis", "title"),
        ("/api/admin/users", "name"),
        ("/api/plans", "name"),
    ] {
        let who = if list.starts_with("/api/admin") {
            "admin"
        } else {
            "student"
        };
        let sorted = get(&format!("{who} GET {list}?sort_by={sort}&sort_order=asc"));
        let words: Vec<&str> = sorted
            .iter()
            .map(String::as_str)
            .filter(|r| EXPECTED_ORDER.contains(r))
            .collect();
        assert_eq!(words, EXPECTED_ORDER, "{backend} {list} by {sort}");
        let tie: Vec<&str> = sorted
            .iter()
            .map(String::as_str)
            .filter(|r| r.to_lowercase().starts_with("na"))
            .collect();
        assert_eq!(
            tie,
            ["naïve résumé", "Naive Resume"],
            "{backend} {list}: a tie goes by id"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_search_and_text_sort_answers_alike_on_sqlite_and_postgresql_whatever_its_collation()
{
    crate::helpers::configure_kits();
    let sqlite = answers(&TestApp::spawn(Backend::Sqlite).await).await;
    let postgres = answers(&TestApp::spawn(Backend::Postgres).await).await;
    let (_icu, icu_db) = IcuDatabase::create().await;
    let icu = answers(&TestApp::spawn_on(icu_db, Backend::Postgres, &[]).await).await;
    assert!(sqlite.len() >= 200, "only {} answers", sqlite.len());
    let pg_differs = differences(&sqlite, &postgres);
    let icu_differs = differences(&sqlite, &icu);
    println!(
        "{} answers; SQLite vs PostgreSQL: {} differ; SQLite vs PostgreSQL (ICU en-US): {} differ",
        sqlite.len(),
        pg_differs.len(),
        icu_differs.len()
    );
    let by_title = "student GET /api/projects?sort_by=title&sort_order=asc";
    println!("{by_title}: {:?}", sqlite.get(by_title));
    for line in pg_differs.iter().chain(&icu_differs) {
        println!("{line}");
    }
    let keys = |answers: &Answers| answers.keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&sqlite), keys(&postgres));
    assert_eq!(keys(&sqlite), keys(&icu));
    assert_expected("SQLite", &sqlite);
    assert_expected("PostgreSQL", &postgres);
    assert_expected("PostgreSQL (ICU)", &icu);
    assert!(
        pg_differs.is_empty() && icu_differs.is_empty(),
        "the backends answer differently"
    );
}

crate::both_backends! {
    async fn a_renamed_row_is_found_and_sorted_by_its_new_text_only(app: TestApp) {
        let s = app.register("rename@example.com").await;
        let titles = |body: &Value| -> Vec<String> {
            body["data"].as_array().expect("data").iter()
                .map(|r| r["title"].as_str().expect("title").to_owned()).collect()
        };
        let mut ids = Vec::new();
        for title in ["Alpha", "Café crème", "Omega"] {
            ids.push(id(&app.post("/api/projects", s.token(), json!({"title": title})).await));
        }
        let r = app.patch(&format!("/api/projects/{}", ids[1]), s.token(), json!({"title": "Zèbre rayé"})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        for (search, found) in [("creme", vec![]), ("ZEBRE", vec!["Zèbre rayé"]), ("raye", vec!["Zèbre rayé"])] {
            let r = app.get(&format!("/api/projects?search={search}"), s.token()).await;
            assert_eq!(titles(&r.body), found, "search={search}");
        }
        let r = app.get("/api/projects?sort_by=title&sort_order=asc", s.token()).await;
        assert_eq!(titles(&r.body), ["Alpha", "Omega", "Zèbre rayé"]);
        // A meeting's notes, replaced when an admin completes it (a move that sets
        // fields), are searched as they now are.
        let admin = app.admin().await;
        let meeting = id(&app.post("/api/meetings", s.token(), json!({"topic": "Kickoff", "project_id": ids[0], "notes": "Über alles"})).await);
        let at = (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339();
        let r = app.post(&format!("/api/admin/meetings/{meeting}/schedule"), admin.token(), json!({"scheduled_at": at, "meeting_link": "https://meet.example.com/x"})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = app.post(&format!("/api/admin/meetings/{meeting}/complete"), admin.token(), json!({"notes": "Ça va"})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let count = |search: &'static str| {
            let app = &app;
            let token = s.token();
            async move { app.get(&format!("/api/meetings?search={search}"), token).await.body["meta"]["total"].clone() }
        };
        assert_eq!(count("uber").await, 0);
        assert_eq!(count("CA%20VA").await, 1);
    }
}

crate::both_backends! {
    async fn verify_finds_twins_written_around_the_application_and_refold_sets_them_right(app: TestApp) {
        let s = app.register("refold@example.com").await;
        id(&app.post("/api/projects", s.token(), json!({"title": "Plain title"})).await);
        let found = |search: &'static str| {
            let (app, token) = (&app, s.token());
            async move { app.get(&format!("/api/projects?search={search}"), token).await.body["meta"]["total"].clone() }
        };
        // An operator's edit by hand: the text changes, its twins do not.
        let edit = "UPDATE projects SET title = 'Éclair au café' WHERE title = 'Plain title'";
        sea_orm::ConnectionTrait::execute_unprepared(&app.db, edit).await.expect("edit");
        app.seal().await;
        assert_eq!(found("eclair").await, 0);
        let verify = crate::helpers::cli(app.database_url(), &["verify"]).await;
        assert_eq!(verify.code, Some(1), "{verify}");
        assert!(verify.stdout.contains("twins: FAIL") && verify.stdout.contains("projects 1"), "{verify}");
        let refold = crate::helpers::cli(app.database_url(), &["verify", "--refold"]).await;
        assert_eq!(refold.code, Some(0), "{refold}");
        assert!(refold.stdout.contains("set right in rows of projects 1"), "{refold}");
        assert_eq!(found("eclair").await, 1);
        assert_eq!(found("plain").await, 0);
        let verify = crate::helpers::cli(app.database_url(), &["verify"]).await;
        assert_eq!(verify.code, Some(0), "{verify}");
        assert!(verify.stdout.contains("twins: ok, 10 tables"), "{verify}");
    }
}

crate::both_backends! {
    async fn the_migration_fills_the_twins_of_the_rows_already_there(app: TestApp) {
        let s = app.register("backfill@example.com").await;
        for title in ["Éclair au café", "Zèbre", "apple"] {
            id(&app.post("/api/projects", s.token(), json!({"title": title, "description": "Crème brûlée"})).await);
        }
        // Back to before the twins, and up again over the rows written meanwhile.
        app.seal().await;
        dbkit::migrate::down::<migration::Migrator>(&app.db, 1).await.expect("down");
        dbkit::migrate::up::<migration::Migrator>(&app.db, None).await.expect("up");
        let titles = |body: &Value| -> Vec<String> {
            body["data"].as_array().expect("data").iter()
                .map(|r| r["title"].as_str().expect("title").to_owned()).collect()
        };
        let r = app.get("/api/projects?search=CREME%20brulee&sort_by=title&sort_order=asc", s.token()).await;
        assert_eq!(titles(&r.body), ["apple", "Éclair au café", "Zèbre"]);
        let r = app.get("/api/projects?search=eclair", s.token()).await;
        assert_eq!(titles(&r.body), ["Éclair au café"]);
        let verify = crate::helpers::cli(app.database_url(), &["verify"]).await;
        assert_eq!(verify.code, Some(0), "{verify}");
    }
}

crate::both_backends! {
    async fn a_refold_does_not_undo_a_write_that_lands_while_it_runs(app: TestApp) {
        use sea_orm::{ConnectionTrait, TransactionTrait};
        let s = app.register("race@example.com").await;
        let project = id(&app.post("/api/projects", s.token(), json!({"title": "Old title"})).await);
        // A stale twin for the refold to set right, read while a write holds the row.
        app.db.execute_unprepared("UPDATE projects SET title_fold = 'stale'").await.expect("stale");
        let write = app.db.begin().await.expect("begin");
        write
            .execute_unprepared("UPDATE projects SET title = 'New title', title_fold = 'new title', title_words = 'new title'")
            .await
            .expect("the write");
        let db = app.db.clone();
        let refold = tokio::spawn(async move { launchpad::entity::refill_twins(&db, true).await });
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        write.commit().await.expect("commit");
        let refolded = refold.await.expect("joined").expect("refold");
        assert!(refolded.contains(&("projects", 1)), "{refolded:?}");
        let r = app.get("/api/projects?search=new&sort_by=title", s.token()).await;
        assert_eq!(r.body["data"][0]["id"], project.as_str(), "{}", r.body);
        let verify = crate::helpers::cli(app.database_url(), &["verify"]).await;
        assert_eq!(verify.code, Some(0), "the write's twins stand: {verify}");
    }
}
