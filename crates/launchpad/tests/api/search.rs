//! Full-text `search` on projects and ideas: every word of the search must start a word
//! of the title or description; the same rows on SQLite (FTS5) and PostgreSQL (tsvector),
//! whatever the text holds.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Session, TestApp};

/// Percent-encodes every byte but ASCII letters and digits.
pub(crate) fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn titles(body: &Value) -> BTreeSet<String> {
    body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("data: {body}"))
        .iter()
        .map(|r| r["title"].as_str().expect("title").to_owned())
        .collect()
}

/// A description of about 10 kB ending with a word found nowhere else.
fn long_description() -> String {
    let mut text = "lorem ipsum dolor sit amet ".repeat(370);
    text.push_str("zeppelin");
    assert!(text.len() > 9_900 && text.chars().count() <= 10_000);
    text
}

/// (title, description) of the rows every search below runs against.
fn rows() -> Vec<(&'static str, Option<String>)> {
    vec![
        ("Rust-Lang Compiler", Some("A C++ & Rust tool".into())),
        (
            "Machine Learning 101",
            Some("Neural networks, 50% off".into()),
        ),
        ("Quote's \"Test\"", Some("it's a 'quoted' thing".into())),
        ("Under_score names", Some("snake_case_value here".into())),
        (
            "DROP TABLE projects; --",
            Some("an SQL injection attempt".into()),
        ),
        ("Long Read", Some(long_description())),
        ("Plain Title", None),
    ]
}

/// (search, titles expected): the same on both backends.
fn cases() -> Vec<(String, Vec<&'static str>)> {
    let s = |t: &str| t.to_owned();
    vec![
        (s("rust"), vec!["Rust-Lang Compiler"]),
        (s("RUST lang"), vec!["Rust-Lang Compiler"]),
        (s("rust-lang"), vec!["Rust-Lang Compiler"]),
        (s("comp"), vec!["Rust-Lang Compiler"]),
        (s("piler"), vec![]),
        (s("c++"), vec!["Rust-Lang Compiler", "Under_score names"]),
        (s("mAcHiNe lEaRn"), vec!["Machine Learning 101"]),
        (s("neural 101"), vec!["Machine Learning 101"]),
        (s("50%"), vec!["Machine Learning 101"]),
        (s("rust neural"), vec![]),
        (s("%"), vec![]),
        (s("_"), vec![]),
        (s("%_%"), vec![]),
        (s("'"), vec![]),
        (s("\""), vec![]),
        (s("\"quoted\""), vec!["Quote's \"Test\""]),
        (s("quote test"), vec!["Quote's \"Test\""]),
        (s("it's"), vec!["Quote's \"Test\""]),
        (s("under_score"), vec!["Under_score names"]),
        (s("snake case value"), vec!["Under_score names"]),
        (
            s("DROP TABLE projects; --"),
            vec!["DROP TABLE projects; --"],
        ),
        (
            s("'; DROP TABLE projects; --"),
            vec!["DROP TABLE projects; --"],
        ),
        (s("injection\" OR 1=1 --"), vec![]),
        (s("x* OR y NEAR(z) AND NOT w"), vec![]),
        (s("title:plain"), vec!["Plain Title"]),
        (s("plain"), vec!["Plain Title"]),
        (s("zeppelin"), vec!["Long Read"]),
        (s("lorem zepp"), vec!["Long Read"]),
        (s("ipsum"), vec!["Long Read"]),
        (s("an"), vec!["DROP TABLE projects; --"]),
        (
            s("a"),
            vec![
                "Rust-Lang Compiler",
                "Quote's \"Test\"",
                "DROP TABLE projects; --",
                "Long Read",
            ],
        ),
        (
            s("t"),
            vec![
                "Rust-Lang Compiler",
                "Quote's \"Test\"",
                "DROP TABLE projects; --",
                "Plain Title",
            ],
        ),
    ]
}

async fn create(
    app: &TestApp,
    who: &Session,
    path: &str,
    title: &str,
    description: &Option<String>,
) -> String {
    let mut body = json!({"title": title, "description": description});
    if path == "/api/ideas" {
        body["complexity"] = json!("beginner");
        body["tech_stack"] = json!([]);
    }
    let r = app.post(path, who.token(), body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{title}: {}", r.body);
    r.body["id"].as_str().expect("id").to_owned()
}

async fn search(app: &TestApp, who: &Session, path: &str, text: &str) -> BTreeSet<String> {
    let r = app
        .get(
            &format!("{path}?per_page=100&search={}", urlencode(text)),
            who.token(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{path} {text:?}: {}", r.body);
    titles(&r.body)
}

fn set(titles: &[&str]) -> BTreeSet<String> {
    titles.iter().map(|t| (*t).to_owned()).collect()
}

both_backends! {
    async fn full_text_search_finds_the_same_rows_on_both_backends(app: TestApp) {
        let s = app.register("searcher@example.com").await;
        let other = app.register("nosy@example.com").await;
        for path in ["/api/projects", "/api/ideas"] {
            for (title, description) in rows() {
                create(&app, &s, path, title, &description).await;
            }
            // Someone else's matching row never shows.
            create(&app, &other, path, "Rust elsewhere", &None).await;
            for (text, expected) in cases() {
                assert_eq!(search(&app, &s, path, &text).await, set(&expected), "{path} search {text:?}");
            }
            // The table is still there after the "injection" searches.
            assert_eq!(app.get(&format!("{path}?per_page=1"), s.token()).await.body["data"].as_array().map(Vec::len), Some(1));
            // Cursor paging over a search.
            let r = app.get(&format!("{path}?search=a&per_page=2&cursor="), s.token()).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            assert!(r.body["meta"]["next_cursor"].is_string());
        }
        // Like the LIKE search before it: too long or NUL is a 422 naming `search`.
        for text in ["a\u{0}b".to_owned(), "x".repeat(10_000)] {
            for path in ["/api/projects", "/api/ideas"] {
                let r = app.get(&format!("{path}?search={}", urlencode(&text)), s.token()).await;
                r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
                assert_eq!(r.body["details"]["field"], "search");
            }
        }
        // Whitespace only is no search at all.
        let r = app.get("/api/projects?search=%20%20", s.token()).await;
        assert_eq!(r.body["meta"]["total"], rows().len());
    }

    async fn the_index_follows_updates_and_deletes(app: TestApp) {
        let s = app.register("editor@example.com").await;
        for path in ["/api/projects", "/api/ideas"] {
            let id = create(&app, &s, path, "Original Heading", &Some("first words".into())).await;
            create(&app, &s, path, "Bystander", &Some("unrelated".into())).await;
            assert_eq!(search(&app, &s, path, "original").await, set(&["Original Heading"]));
            if path == "/api/projects" {
                let r = app.patch(&format!("{path}/{id}"), s.token(), json!({"title": "Renamed Heading", "description": null})).await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.body);
                assert_eq!(search(&app, &s, path, "original").await, set(&[]));
                assert_eq!(search(&app, &s, path, "first").await, set(&[]));
                assert_eq!(search(&app, &s, path, "renamed heading").await, set(&["Renamed Heading"]));
                let r = app.patch(&format!("{path}/{id}"), s.token(), json!({"description": "second words"})).await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.body);
                assert_eq!(search(&app, &s, path, "second").await, set(&["Renamed Heading"]));
            }
            // Soft-deleted rows are out of every list, searched or not; restored, back in.
            assert_eq!(app.delete(&format!("{path}/{id}"), s.token()).await.status, StatusCode::NO_CONTENT);
            assert_eq!(search(&app, &s, path, "heading").await, set(&[]));
            assert_eq!(search(&app, &s, path, "bystander").await, set(&["Bystander"]));
        }
    }
}
