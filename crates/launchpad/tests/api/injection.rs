//! Hostile list parameters: SQL fragments, `LIKE` wildcards, NUL, 10 kB strings, huge
//! numbers. Every list endpoint in `/openapi.json` answers them with a 4xx or a 200 —
//! never a 5xx — and SQLite and PostgreSQL answer them alike. `search` matches `%`,
//! `_` and `\` literally.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Backend, Session, TestApp};
use crate::search::urlencode;

/// Values for any text parameter (`sort_by`, `status`, `search`, `cursor`, `kind`, …).
fn hostile_text() -> Vec<String> {
    let mut values: Vec<String> = [
        "",
        "' OR '1'='1",
        "1; DROP TABLE users; --",
        "title; DELETE FROM projects",
        "(SELECT password_hash FROM users LIMIT 1)",
        "created_at DESC, (SELECT 1)",
        "password_hash",
        "%",
        "_",
        "\\",
        "%' --",
        "a\0b",
        "\u{202e}ünï😀",
        "2026-02-30T25:61:00Z",
    ]
    .map(str::to_owned)
    .to_vec();
    values.push("x".repeat(10_000));
    values
}

/// Values for `page` and `per_page`.
fn hostile_numbers() -> Vec<String> {
    [
        "0",
        "-1",
        "1.5",
        "1e3",
        "101",
        "1000000000",
        "9223372036854775807",
        "18446744073709551615",
        "18446744073709551616",
        "1 OR 1=1",
        "",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// A list endpoint of the document, made concrete.
struct Endpoint {
    template: String,
    path: String,
    params: Vec<String>,
    admin: bool,
}

/// Every GET whose 200 answer is a `Page_…`, with its query parameters.
fn list_endpoints(doc: &Value, project: &str, session: &str) -> Vec<Endpoint> {
    let mut lists = Vec::new();
    for (template, get) in crate::helpers::list_operations(doc) {
        let params = get["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query")
            .filter_map(|p| p["name"].as_str().map(str::to_owned))
            .collect();
        let path = template
            .replace("{id}", project)
            .replace("{session_id}", session);
        lists.push(Endpoint {
            admin: path.starts_with("/api/admin/") || path == "/api/activity-logs",
            template: template.to_owned(),
            path,
            params,
        });
    }
    lists
}

/// A server with the same rows as every other one made by this function.
async fn populated(backend: Backend) -> (TestApp, Session, Session, Vec<Endpoint>) {
    let app = TestApp::spawn(backend).await;
    let s = app.register("hostile@example.com").await;
    let admin = app.admin().await;
    let (project, session) = crate::queries::populate(&app, &s).await;
    let doc = app.get("/openapi.json", None).await.body;
    let lists = list_endpoints(&doc, &project, &session);
    (app, s, admin, lists)
}

/// What an answer is reduced to for comparing backends: the status, and the total
/// (or the row count, for cursor pages) of a 200.
async fn outcome(
    app: &TestApp,
    token: Option<&str>,
    path: &str,
    query: &[(&str, &str)],
) -> (StatusCode, Value) {
    let query_string: Vec<String> = query
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect();
    let url = format!("{}{path}?{}", app.address, query_string.join("&"));
    let mut req = app.client.get(url);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let r = crate::helpers::Response::read(req.send().await.expect("sent")).await;
    assert!(
        !r.status.is_server_error(),
        "{path} {query:?} on {:?}: {} {}",
        app.backend,
        r.status,
        r.body
    );
    if r.status.is_client_error() {
        r.assert_error(r.status);
        return (r.status, Value::Null);
    }
    assert_eq!(r.status, StatusCode::OK, "{path} {query:?}: {}", r.body);
    let size = match &r.body["meta"]["total"] {
        Value::Null => json!(r.body["data"].as_array().map_or(0, Vec::len)),
        total => total.clone(),
    };
    (r.status, size)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_list_parameters_are_4xx_or_200_and_alike_on_both_backends() {
    let started = std::time::Instant::now();
    let ((lite, lite_s, lite_admin, lists), (pg, pg_s, pg_admin, pg_lists)) =
        tokio::join!(populated(Backend::Sqlite), populated(Backend::Postgres));
    assert_eq!(lists.len(), pg_lists.len());
    assert!(lists.len() >= 18, "only {} lists found", lists.len());
    let (text, numbers) = (hostile_text(), hostile_numbers());
    let mut requests = 0;
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for (list, pg_list) in lists.iter().zip(&pg_lists) {
        assert_eq!(list.template, pg_list.template);
        let trash = list.path.contains("/trash");
        for param in &list.params {
            let values = if param == "page" || param == "per_page" {
                &numbers
            } else {
                &text
            };
            for value in values {
                let mut query = vec![(param.as_str(), value.as_str())];
                if trash && param != "entity_type" {
                    query.push(("entity_type", "project"));
                }
                let (lt, pt) = if list.admin {
                    (lite_admin.token(), pg_admin.token())
                } else {
                    (lite_s.token(), pg_s.token())
                };
                let (a, b) = tokio::join!(
                    outcome(&lite, lt, &list.path, &query),
                    outcome(&pg, pt, &pg_list.path, &query)
                );
                assert_eq!(a, b, "{} {query:?}: SQLite vs PostgreSQL", list.template);
                *statuses.entry(a.0.as_u16()).or_default() += 1;
                requests += 1;
            }
        }
    }
    println!(
        "{} lists, {requests} hostile requests per backend, statuses {statuses:?}, in {:?}",
        lists.len(),
        started.elapsed()
    );
    // The users table is intact: the seeded accounts still sign in.
    lite.admin().await;
    pg.admin().await;
}

/// Topics of the meetings a search finds.
async fn found(app: &TestApp, s: &Session, search: &str) -> BTreeSet<String> {
    let r = app
        .client
        .get(format!(
            "{}/api/meetings?per_page=100&search={}",
            app.address,
            urlencode(search)
        ))
        .bearer_auth(&s.access)
        .send()
        .await
        .expect("sent");
    let r = crate::helpers::Response::read(r).await;
    assert_eq!(r.status, StatusCode::OK, "{search:?}: {}", r.body);
    r.body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|m| m["topic"].as_str().expect("topic").to_owned())
        .collect()
}

const TOPICS: [&str; 7] = [
    "100% done",
    "1000 done",
    "snake_case",
    "snakeXcase",
    r"back\slash",
    "backslash",
    "Percent%Upper",
];

async fn with_topics(backend: Backend) -> (TestApp, Session) {
    let app = TestApp::spawn(backend).await;
    let s = app.register("literal@example.com").await;
    for topic in TOPICS {
        let r = app
            .post("/api/meetings", s.token(), json!({"topic": topic}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{topic}: {}", r.body);
    }
    (app, s)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn like_wildcards_in_search_match_literally_on_both_backends() {
    let ((lite, lite_s), (pg, pg_s)) =
        tokio::join!(with_topics(Backend::Sqlite), with_topics(Backend::Postgres));
    for (search, expected) in [
        ("%", &["100% done", "Percent%Upper"][..]),
        ("0%", &["100% done"]),
        ("0% d", &["100% done"]),
        ("%%", &[]),
        ("_", &["snake_case"]),
        ("e_c", &["snake_case"]),
        ("\\", &[r"back\slash"]),
        (r"k\s", &[r"back\slash"]),
        (r"\%", &[]),
        ("T%U", &["Percent%Upper"]),
        ("' OR '1'='1", &[]),
        ("done", &["100% done", "1000 done"]),
    ] {
        let expected: BTreeSet<String> = expected.iter().map(|s| (*s).to_owned()).collect();
        let (a, b) = tokio::join!(found(&lite, &lite_s, search), found(&pg, &pg_s, search));
        assert_eq!(a, expected, "{search:?} on SQLite");
        assert_eq!(b, expected, "{search:?} on PostgreSQL");
    }
    assert_eq!(found(&lite, &lite_s, "").await.len(), TOPICS.len());
}
