//! `launchpad seed --demo`, run as the real binary on both backends with small sizes.

use launchpad::startup::Application;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::both_backends;
use crate::helpers::{cli, settings};

/// `launchpad <args>` on the database at `url`; asserts success and returns stdout.
async fn launchpad(args: &[&str], url: &str) -> String {
    let run = cli(url, args).await;
    assert_eq!(run.code, Some(0), "launchpad {args:?} failed: {run}");
    run.stdout
}

async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("query")
        .expect("a row")
        .try_get_by_index::<i64>(0)
        .expect("a number")
}

/// Row counts of every table the demo seed fills, demo rows only where that is visible.
async fn counts(db: &DatabaseConnection) -> Vec<(&'static str, i64)> {
    let mut out = Vec::new();
    for (name, sql) in [
        (
            "users",
            "SELECT COUNT(*) FROM users WHERE email LIKE '%@demo.launchpad'",
        ),
        ("orders", "SELECT COUNT(*) FROM orders"),
        ("projects", "SELECT COUNT(*) FROM projects"),
        ("synopsis", "SELECT COUNT(*) FROM synopsis"),
        ("meetings", "SELECT COUNT(*) FROM meetings"),
        ("chatbot_history", "SELECT COUNT(*) FROM chatbot_history"),
        ("ideas", "SELECT COUNT(*) FROM idea_generation_history"),
        ("activity_logs", "SELECT COUNT(*) FROM activity_logs"),
        (
            "seed.demo rows",
            "SELECT COUNT(*) FROM activity_logs WHERE action = 'seed.demo'",
        ),
    ] {
        out.push((name, scalar(db, sql).await));
    }
    out
}

fn get(counts: &[(&str, i64)], name: &str) -> i64 {
    counts
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| *v)
        .expect("a counted table")
}

/// Logs in as `email` and lists its in-progress projects through a real server.
async fn login_and_list(url: &str, email: &str) -> Value {
    let app = Application::build(settings(url, &["--auto-migrate", "false"]))
        .await
        .expect("app builds on the seeded database");
    let address = format!("http://127.0.0.1:{}", app.port());
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let login = client
        .post(format!("{address}/api/auth/login"))
        .json(&json!({"email": email, "password": "Demo@1234"}))
        .send()
        .await
        .expect("login sent");
    assert_eq!(login.status(), reqwest::StatusCode::OK);
    let tokens: Value = login.json().await.expect("tokens");
    let token = tokens["access_token"].as_str().expect("an access token");
    let list = client
        .get(format!(
            "{address}/api/projects?status=in_progress&sort_by=created_at&sort_order=desc&per_page=100"
        ))
        .bearer_auth(token)
        .send()
        .await
        .expect("list sent");
    assert_eq!(list.status(), reqwest::StatusCode::OK);
    let body: Value = list.json().await.expect("a page");
    let _ = stop.send(());
    let _ = server.await;
    body
}

both_backends! {
    async fn demo_seed_inserts_the_sizes_asked_once_and_tops_up(testdb: TestDb) {
        launchpad(&["migrate", "up"], &testdb.url).await;
        let out = launchpad(&["seed", "--demo", "--users", "20", "--projects", "200"], &testdb.url).await;
        assert!(out.contains("inserted 20 users"), "{out}");
        let db = testdb.connect().await;

        let first = counts(&db).await;
        assert_eq!(get(&first, "users"), 20, "{first:?}");
        assert_eq!(get(&first, "projects"), 200, "{first:?}");
        assert_eq!(get(&first, "orders"), 19, "one per student: {first:?}");
        assert_eq!(get(&first, "synopsis"), 50, "{first:?}");
        assert_eq!(get(&first, "meetings"), 20, "{first:?}");
        assert_eq!(get(&first, "chatbot_history"), 200, "{first:?}");
        assert_eq!(get(&first, "ideas"), 100, "{first:?}");
        assert_eq!(get(&first, "seed.demo rows"), 1, "{first:?}");
        // Statuses are spread over the legal values; dates over the past year.
        let statuses = scalar(&db, "SELECT COUNT(DISTINCT status) FROM projects").await;
        assert!(statuses >= 4, "only {statuses} project statuses");
        let old = scalar(
            &db,
            "SELECT COUNT(*) FROM users WHERE email LIKE '%@demo.launchpad' \
             AND created_at < (SELECT MAX(created_at) FROM users) ",
        )
        .await;
        assert!(old >= 10, "created_at is not spread: {old}");

        // The same sizes again: nothing added, not even a log row.
        let out = launchpad(&["seed", "--demo", "--users", "20", "--projects", "200"], &testdb.url).await;
        assert!(out.contains("inserted 0 users"), "{out}");
        assert_eq!(counts(&db).await, first);

        // Bigger sizes top up to exactly the new sizes.
        launchpad(&["seed", "--demo", "--users", "30", "--projects", "450"], &testdb.url).await;
        let topped = counts(&db).await;
        assert_eq!(get(&topped, "users"), 30, "{topped:?}");
        assert_eq!(get(&topped, "projects"), 450, "{topped:?}");
        assert_eq!(get(&topped, "orders"), 29, "{topped:?}");
        assert_eq!(get(&topped, "ideas"), 225, "{topped:?}");
        assert_eq!(get(&topped, "seed.demo rows"), 2, "{topped:?}");

        // The seeded database still matches the schema, and the API works on it.
        let check = launchpad(&["migrate", "check"], &testdb.url).await;
        assert!(check.contains("matches"), "{check}");
        // Bulk-inserted log rows are chained like the API's: every one of them verifies.
        let chain = dbkit::chain::verify(&db).await.expect("verify the chain");
        assert_eq!(chain.problem, None);
        assert_eq!(chain.rows as i64, get(&topped, "activity_logs"));
        db.close().await.expect("close");
        let page = login_and_list(&testdb.url, "demo1@demo.launchpad").await;
        // demo1 owns every hundredth project, all in progress: ceil(450 / 100).
        assert_eq!(page["meta"]["total"], 5, "{page}");
        assert_eq!(page["data"].as_array().map(Vec::len), Some(5), "{page}");
        assert!(
            page["data"].as_array().into_iter().flatten().all(|p| p["status"] == "in_progress"),
            "{page}"
        );
    }
}

/// The screen a terminal shows for `raw` output: `\r` returns to the line's start (what
/// follows overwrites it), `ESC [2K` clears the line, other escape sequences draw nothing.
fn screen(raw: &str) -> Vec<String> {
    let mut lines: Vec<Vec<char>> = vec![Vec::new()];
    let mut column = 0;
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        let line = lines.last_mut().expect("a line");
        match c {
            '\n' => {
                lines.push(Vec::new());
                column = 0;
            }
            '\r' => column = 0,
            '\u{1b}' => {
                let mut sequence = String::new();
                for next in chars.by_ref() {
                    sequence.push(next);
                    if next.is_ascii_alphabetic() {
                        break;
                    }
                }
                if sequence == "[2K" {
                    line.clear();
                }
            }
            c => {
                if column < line.len() {
                    line[column] = c;
                } else {
                    line.push(c);
                }
                column += 1;
            }
        }
    }
    lines.into_iter().map(|l| l.into_iter().collect()).collect()
}

/// At a terminal, each table's progress bar stays on its own line when it is done, and
/// the summary has a line of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_a_terminal_each_progress_bar_keeps_its_line_and_the_summary_its_own() {
    let testdb = crate::helpers::TestDb::new(crate::helpers::Backend::Sqlite).await;
    launchpad(&["migrate", "up"], &testdb.url).await;
    launchpad(&["seed"], &testdb.url).await;
    let command = format!(
        "{} --jwt-secret {} --app-env test --database-url '{}' seed --demo --users 40 --projects 120",
        env!("CARGO_BIN_EXE_launchpad"),
        crate::helpers::JWT_SECRET,
        testdb.url,
    );
    // `script` runs the command in a pseudo-terminal, as a person would.
    let run = tokio::process::Command::new("script")
        .args(["-qfec", &command, "/dev/null"])
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .expect("script runs");
    let raw = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{raw}");
    assert!(
        !raw.is_empty(),
        "no output; stderr: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let shown: Vec<String> = screen(&raw)
        .into_iter()
        .filter(|l| !l.trim().is_empty())
        .collect();
    let n = shown.len();
    assert!(n >= 3, "{shown:#?}");
    assert!(
        shown[n - 3].trim_start().starts_with("users") && shown[n - 3].contains("40/40"),
        "{shown:#?}"
    );
    assert!(
        shown[n - 2].trim_start().starts_with("projects") && shown[n - 2].contains("120/120"),
        "{shown:#?}"
    );
    assert!(
        shown[n - 1].starts_with("demo: inserted 40 users"),
        "{shown:#?}"
    );
}
