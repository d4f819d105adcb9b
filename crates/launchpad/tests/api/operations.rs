//! Operations must not lie or silently destroy guarantees: health is unhealthy until the
//! schema is in place; destructive migration commands say what they drop, refuse while a
//! server uses the database and wait for a yes; no migration cycle launders the activity
//! log or revives ended sessions; operational details can be kept behind a token.

use migration::{Migrator, MigratorTrait};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

use crate::both_backends;
use crate::helpers::{Backend, CliRun, TestApp, cli};
use crate::process::Server;

fn all_migrations() -> Vec<String> {
    Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect()
}

async fn execute(app: &TestApp, sql: &str) {
    app.db
        .execute_raw(Statement::from_string(app.db.get_database_backend(), sql))
        .await
        .expect(sql);
}

fn assert_refused(run: &CliRun, reason: &str) {
    assert_eq!(run.code, Some(2), "{run}");
    assert!(run.stderr.contains(reason), "expected «{reason}»: {run}");
}

both_backends! {
    async fn health_and_readiness_are_unhealthy_until_every_migration_is_applied(testdb: TestDb) {
        let url = testdb.url.clone();
        let app = TestApp::spawn_on(testdb, backend_of(&url), &["--auto-migrate", "false"]).await;
        let all = all_migrations();

        let health = app.get("/health", None).await;
        assert_eq!(health.status, StatusCode::SERVICE_UNAVAILABLE, "{}", health.body);
        assert_eq!(health.body["status"], "migrations_pending");
        assert_eq!(health.body["migrations"]["pending"], json!(all));
        let ready = app.get("/health/ready", None).await;
        assert_eq!((ready.status, ready.body["status"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("migrations_pending")));
        assert_eq!(app.get("/health/live", None).await.status, StatusCode::OK);
        // The API says so too, instead of a 500 per missing table.
        app.get("/api/plans", None).await.assert_error(StatusCode::SERVICE_UNAVAILABLE);

        let up = cli(&url, &["migrate", "up", &(all.len() - 1).to_string()]).await;
        assert_eq!(up.code, Some(0), "{up}");
        let health = app.get("/health", None).await;
        assert_eq!(health.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(health.body["migrations"]["pending"], json!([all.last()]));

        assert_eq!(cli(&url, &["migrate", "up"]).await.code, Some(0));
        let health = app.get("/health", None).await;
        assert_eq!((health.status, health.body["status"].as_str()), (StatusCode::OK, Some("ok")));
        assert_eq!(app.get("/health/ready", None).await.status, StatusCode::OK);
        assert_eq!(app.get("/api/plans", None).await.status, StatusCode::OK);
    }

    async fn with_an_ops_token_metrics_and_health_details_need_it_and_probes_stay_public(backend: Backend) {
        let token = "ops-token-0123456789abcdef";
        let app = TestApp::spawn_with(backend, &["--ops-token", token]).await;
        app.get("/metrics", None).await.assert_error(StatusCode::UNAUTHORIZED);
        assert_eq!(app.get("/metrics", Some("wrong-token-0123456789")).await.status, StatusCode::UNAUTHORIZED);
        let metrics = app.client.get(format!("{}/metrics", app.address)).bearer_auth(token).send().await.expect("metrics");
        assert_eq!(metrics.status(), StatusCode::OK);
        assert!(metrics.text().await.expect("text").contains("launchpad_"));

        let public = app.get("/health", None).await;
        assert_eq!(public.status, StatusCode::OK);
        assert_eq!(public.body, json!({"status": "ok"}), "no details without the token");
        let detailed = app.get("/health", Some(token)).await;
        assert_eq!(detailed.body["database"], "ok");
        assert!(detailed.body["migrations"]["current"].is_string());
        assert!(detailed.body["version"].is_string());
        assert_eq!(app.get("/health/live", None).await.status, StatusCode::OK);
        assert_eq!(app.get("/health/ready", None).await.status, StatusCode::OK);
    }

    async fn migrate_down_refuses_while_a_server_uses_the_database_and_asks_before_dropping(testdb: TestDb) {
        let url = testdb.url.clone();
        let server = Server::start(&url, &["--auto-migrate", "true"]).await;
        let down = cli(&url, &["migrate", "down", "--yes"]).await;
        assert_refused(&down, "is using this database");
        let last = all_migrations().pop().expect("a migration");
        let current = cli(&url, &["migrate", "current"]).await;
        assert_eq!(current.stdout.trim(), last, "nothing rolled back: {current}");

        // The kernel lets go of a dead server's locks (and PostgreSQL of its sessions).
        server.kill().await;
        let unasked = cli(&url, &["migrate", "down", "5"]).await;
        assert_refused(&unasked, "refusing without --yes");
        let last_five: Vec<String> = all_migrations().into_iter().rev().take(5).collect();
        assert!(unasked.stdout.contains(&format!("rolls back 5: {}", last_five.join(", "))), "{unasked}");
        assert!(unasked.stdout.contains("drops column projects.title_fold"), "{unasked}");
        assert!(unasked.stdout.contains("drops table write_marks ("), "{unasked}");
        assert!(unasked.stdout.contains("drops table attempt_budgets ("), "{unasked}");
        assert!(unasked.stdout.contains("drops index ux_ideas_selected_per_project"), "{unasked}");
        if testdb.backend == Backend::Postgres {
            assert!(unasked.stdout.contains("drops trigger tr_users_changed"), "{unasked}");
        }
        assert_eq!(cli(&url, &["migrate", "current"]).await.stdout.trim(), last);

        let confirmed = cli(&url, &["migrate", "down", "--yes"]).await;
        assert_eq!(confirmed.code, Some(0), "{confirmed}");
        assert!(confirmed.stdout.contains(&format!("rolled back  {last}")), "{confirmed}");
        let reset = cli(&url, &["migrate", "reset"]).await;
        assert_refused(&reset, "refusing without --yes");
        assert!(reset.stdout.contains("drops table users ("), "{reset}");
    }

    async fn rolling_back_and_forward_does_not_launder_the_log_or_revive_ended_sessions(app: TestApp) {
        let student = app.register("cycle@example.com").await;
        let logout = app.post("/api/auth/logout", student.token(), json!({"refresh_token": student.refresh})).await;
        assert!(logout.status.is_success(), "{}", logout.body);
        let url = app.database_url().to_owned();
        let steps = (all_migrations().len() - 10).to_string();
        let server_lock = |run: &CliRun| run.stderr.contains("is using this database");
        // Past migrations 012 (the chain) and 011 (token versions), on a database the
        // server still uses: the first refusal is the in-use one; the test server keeps
        // running, so the rollback goes through the library like a stopped one would.
        assert!(server_lock(&cli(&url, &["migrate", "down", &steps, "--yes"]).await));
        app.seal().await;
        let down = dbkit::migrate::down::<Migrator>(&app.db, steps.parse().expect("steps")).await;
        let refusal = down.expect_err("the chain's migration refuses to roll back").to_string();
        assert!(refusal.contains("refusing to roll back") && refusal.contains("chained"), "{refusal}");

        // Edit a row, migrate up again: the edit is still found, the old token still dead.
        execute(&app, "UPDATE activity_logs SET action = 'user.edited' WHERE seq = 2").await;
        assert_eq!(cli(&url, &["migrate", "up"]).await.code, Some(0));
        let verify = cli(&url, &["verify"]).await;
        assert_eq!(verify.code, Some(1), "the edit must not verify: {verify}");
        app.get("/api/users/me", student.token()).await.assert_error(StatusCode::UNAUTHORIZED);
    }

    async fn token_versions_refuse_to_roll_back_once_a_session_was_ended(testdb: TestDb) {
        let db = testdb.connect().await;
        let at_011 = all_migrations().iter().position(|m| m.ends_with("token_version")).expect("011") + 1;
        dbkit::migrate::up::<Migrator>(&db, Some(at_011 as u32)).await.expect("up to 011");
        let insert = "INSERT INTO users (id, email, name, password_hash, is_admin, is_active, signup_step, \
                      created_at, updated_at, token_version) VALUES \
                      ('0190a0a0-0000-7000-8000-000000000001', 'x@example.com', 'Ex', 'h', FALSE, TRUE, \
                      'basic_info', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 3)";
        let backend = db.get_database_backend();
        let sql = if backend == sea_orm::DbBackend::Sqlite {
            insert.replace("'0190a0a0-0000-7000-8000-000000000001'", "X'0190a0a0000070008000000000000001'")
        } else {
            insert.to_owned()
        };
        db.execute_raw(Statement::from_string(backend, sql)).await.expect("insert a user");
        let down = dbkit::migrate::down::<Migrator>(&db, 1).await;
        let refusal = down.expect_err("011 refuses").to_string();
        assert!(refusal.contains("1 accounts have ended sessions"), "{refusal}");
        db.close().await.expect("close");
    }
}

fn backend_of(url: &str) -> crate::helpers::Backend {
    if url.starts_with("sqlite") {
        crate::helpers::Backend::Sqlite
    } else {
        crate::helpers::Backend::Postgres
    }
}

/// `serve` (migrating, so it connects at once) and `migrate up` against `url`: both
/// fail, naming `cause`, and neither calls a refusal an outage.
async fn assert_start_up_names(url: &str, cause: &str) {
    for args in [&["--auto-migrate", "true", "serve"][..], &["migrate", "up"]] {
        let run = tokio::time::timeout(std::time::Duration::from_secs(30), cli(url, args))
            .await
            .unwrap_or_else(|_| panic!("{args:?} on {url} did not stop"));
        assert_ne!(run.code, Some(0), "{args:?} on {url}: {run}");
        assert!(
            run.stderr.contains(cause),
            "{args:?} on {url}: expected «{cause}»: {run}"
        );
        assert!(
            !run.stderr.contains("is it running"),
            "{args:?} on {url}: {run}"
        );
    }
}

async fn start_up_errors_name_the_real_cause(backend: crate::helpers::Backend) {
    match backend {
        crate::helpers::Backend::Sqlite => {
            let dir = std::env::temp_dir().join(format!("no-such-dir-{}", uuid::Uuid::now_v7()));
            let url = format!("sqlite://{}/launchpad.db", dir.join("deeper").display());
            assert_start_up_names(&url, "cannot be opened or created").await;
        }
        crate::helpers::Backend::Postgres => {
            let base = crate::helpers::postgres_base_url();
            let (server, _) = base.rsplit_once('/').expect("a database in the URL");
            let no_db = format!(
                "{server}/no_such_database_{}",
                uuid::Uuid::now_v7().simple()
            );
            assert_start_up_names(&no_db, "does not exist").await;
            let no_role = base.replacen("postgres@", "no_such_role@", 1);
            assert_start_up_names(&no_role, "refused the user").await;
            let pg = crate::private_pg::PrivatePg::start_new_with_password("right-password").await;
            let wrong = pg
                .url()
                .replacen("postgres@", "postgres:wrong-password@", 1);
            assert_start_up_names(&wrong, "refused the password").await;
            let right = pg
                .url()
                .replacen("postgres@", "postgres:right-password@", 1);
            let run = cli(&right, &["migrate", "status"]).await;
            assert_eq!(run.code, Some(0), "the right password is let in: {run}");
        }
    }
}

both_backends! {
    start_up_errors_name_the_real_cause => super::start_up_errors_name_the_real_cause,
}

/// SIGTERM while `serve` is still starting (its database holds it up) is kept and acted on
/// once start-up ends: the process exits with a code of its own, never killed by the
/// signal's default action half-way through.
async fn a_signal_during_start_up_never_kills_the_process(backend: crate::helpers::Backend) {
    use crate::helpers::Backend;
    use crate::process::{TempDir, bare, signal};
    let dir = TempDir::new();
    // What holds start-up: SQLite locked by another connection; PostgreSQL not answering.
    let (url, _hold) = match backend {
        Backend::Sqlite => {
            let testdb = crate::helpers::TestDb::new(backend).await;
            let db = testdb.connect().await;
            db.execute_unprepared("CREATE TABLE hold (x INTEGER)")
                .await
                .expect("create");
            let lock = sea_orm::TransactionTrait::begin(&db).await.expect("begin");
            lock.execute_unprepared("INSERT INTO hold VALUES (1)")
                .await
                .expect("take the write lock");
            (testdb.url.clone(), Some((testdb, db, lock)))
        }
        Backend::Postgres => {
            // A stopped cluster: nothing answers on its port.
            let mut pg = crate::private_pg::PrivatePg::start_new().await;
            pg.stop(crate::private_pg::StopMode::Fast).await;
            (pg.url(), None)
        }
    };
    let mut child = bare(dir.path())
        .args([
            "--jwt-secret",
            crate::helpers::JWT_SECRET,
            "--database-url",
            &url,
        ])
        .args([
            "--auto-migrate",
            "true",
            "--db-pool-timeout",
            "3",
            "--api-port",
            "0",
            "serve",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("serve starts");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    signal(child.id().expect("running"), "TERM").await;
    let status = tokio::time::timeout(std::time::Duration::from_secs(20), child.wait())
        .await
        .expect("serve ends within 20 s")
        .expect("wait");
    assert!(status.code().is_some(), "killed by the signal: {status}");
}

both_backends! {
    a_signal_during_start_up_never_kills_the_process => super::a_signal_during_start_up_never_kills_the_process,
}
