//! Index proofs: the SQL every list endpoint runs is planned with an index on both
//! backends, and a cursor page starts at the cursor. PostgreSQL plans on demo volume with
//! sequential scans switched off, so a large table only gets scanned when no index can
//! serve the query; SQLite's plan must never `SCAN` a table without an index.

use dbkit::testing::plans::{large_tables, plan, touches, unserved, walks_from_start};
use reqwest::StatusCode;

use crate::helpers::{Backend, TestApp, cli, list_operations, text_sorts};

/// A status value each list with a status filter accepts.
fn status_for(path: &str) -> Option<&'static str> {
    [
        ("/api/projects", "idea_pending"),
        ("/api/orders", "pending"),
        ("/api/meetings", "requested"),
        ("/api/requests", "pending"),
        ("/api/subscriptions", "requested"),
        ("/api/synopsis", "Pending"),
    ]
    .iter()
    .find(|(p, _)| *p == path)
    .map(|(_, s)| *s)
}

/// SQLite plans without statistics as if every table were large, so its plans are
/// meaningful on test-sized data. PostgreSQL's are not: on a handful of rows it walks
/// any index it likes; its proof needs demo volume and `ANALYZE` (see the note in
/// docs/SCHEMA.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_list_query_is_served_by_an_index_on_sqlite() {
    every_list_query_is_served_by_an_index(TestApp::spawn(Backend::Sqlite).await).await
}

/// PostgreSQL plans by its statistics: on a handful of rows it sorts in memory rather than
/// walk an index. Its proof runs on demo volume (`seed --demo`: 300 users, 30,000
/// projects and what goes with them), analysed, and judges the tables that are large
/// there (1,000 rows or more): a catalog of a few plans is rightly sorted in memory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_list_query_is_served_by_an_index_on_postgres() {
    let app = TestApp::spawn(Backend::Postgres).await;
    let seed = ["seed", "--demo", "--users", "300", "--projects", "30000"];
    let seeded = cli(app.database_url(), &seed).await;
    assert_eq!(seeded.code, Some(0), "{seeded}");
    every_list_query_is_served_by_an_index(app).await
}

async fn every_list_query_is_served_by_an_index(app: TestApp) {
    let postgres = app.backend == Backend::Postgres;
    let large = if postgres {
        large_tables(&app.db).await
    } else {
        Vec::new()
    };
    assert!(
        !postgres || large.len() >= 6,
        "too few large tables: {large:?}"
    );
    let s = app.register("plans@example.com").await;
    let admin = app.admin().await;
    let (project, session) = crate::queries::populate(&app, &s).await;
    let doc = app.get("/openapi.json", None).await.body;
    let mut failures = Vec::new();
    let mut planned = 0;
    for (template, operation) in list_operations(&doc) {
        let path = template
            .replace("{id}", &project)
            .replace("{session_id}", &session);
        let admin_only = path.starts_with("/api/admin/") || path == "/api/activity-logs";
        let base = if path.contains("/trash") {
            "entity_type=project&"
        } else {
            ""
        };
        let mut queries = vec![format!("{base}per_page=10")];
        if let Some(status) = status_for(&path) {
            queries.push(format!("status={status}&per_page=10"));
        }
        // Text sorts walk a twin's (or a code's) index too, both ways.
        for sort in text_sorts(operation) {
            for order in ["asc", "desc"] {
                queries.push(format!(
                    "{base}sort_by={sort}&sort_order={order}&per_page=10"
                ));
            }
        }
        for (who, token) in [("student", s.token()), ("admin", admin.token())] {
            if admin_only && who == "student" {
                continue;
            }
            let mut queries = queries.clone();
            // A page after a cursor must start its index range at the cursor (SQLite
            // SEARCHes), not walk the index from its first entry.
            if let Some(next) = next_cursor(&app, &format!("{path}?{base}"), token).await {
                queries.push(format!("{base}per_page=10&cursor={next}"));
            }
            for query in &queries {
                app.metrics.capture();
                let r = app.get(&format!("{path}?{query}"), token).await;
                let statements = app.metrics.take_captured();
                assert_eq!(r.status, StatusCode::OK, "{path}?{query}: {}", r.body);
                for statement in statements
                    .iter()
                    .filter(|st| st.sql.trim_start().starts_with("SELECT"))
                {
                    let lines = plan(&app.db, statement).await;
                    planned += 1;
                    if std::env::var("SHOW_PLANS").is_ok() {
                        println!(
                            "{who} GET {template}?{query}\n  {}\n  {}",
                            statement.sql,
                            lines.join("\n  ")
                        );
                    }
                    let judged = !postgres || touches(&lines, &large);
                    let walks_from_start =
                        query.contains("cursor=") && walks_from_start(&lines, &statement.sql);
                    if judged && (unserved(&lines) || walks_from_start) {
                        failures.push(format!(
                            "{who} GET {template}?{query}\n  {}\n  {}",
                            statement.sql,
                            lines.join("\n  ")
                        ));
                    }
                }
            }
        }
    }
    println!("{:?}: {planned} statements planned", app.backend);
    assert!(planned >= 60, "only {planned} statements planned");
    assert!(
        failures.is_empty(),
        "{} statements scan a table without an index:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The `next_cursor` after the first row of the list at `path_and_base` (which ends in
/// `?` or `&`), if the list pages by cursor and has a second row.
async fn next_cursor(app: &TestApp, path_and_base: &str, token: Option<&str>) -> Option<String> {
    let r = app
        .get(&format!("{path_and_base}per_page=1&cursor="), token)
        .await;
    let next = r.body["meta"]["next_cursor"].as_str()?;
    Some(next.to_owned())
}
