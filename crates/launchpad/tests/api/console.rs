//! The admin console through HTTP, as a browser meets it: the cookie session (HttpOnly,
//! SameSite=Strict, refreshed once, a replayed refresh ending it), the CSRF token and
//! the Origin check on every form, admins only, and every move keeping the API's rules
//! — under concurrency too. (The whole console in a real browser: scripts/console.sh.)

use std::collections::HashMap;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, ORIGIN};
use serde_json::json;

use crate::both_backends;
use crate::helpers::TestApp;

/// A browser: its cookies, by name; no redirect followed. Its forms are htmx's (as the
/// console's row actions are) unless `htmx` is off.
struct Browser<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    cookies: HashMap<String, String>,
    htmx: bool,
}

/// A page's answer.
struct Page {
    status: StatusCode,
    headers: HeaderMap,
    html: String,
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self {
            app,
            client,
            cookies: HashMap::new(),
            htmx: true,
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
        let response = request
            .header("cookie", self.cookie_header())
            .send()
            .await
            .expect("sent");
        for set in response.headers().get_all("set-cookie") {
            let set = set.to_str().expect("ascii");
            let (pair, _) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').expect("name=value");
            if set.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        Page {
            status: response.status(),
            headers: response.headers().clone(),
            html: response.text().await.expect("body"),
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let request = self.client.get(format!("{}{path}", self.app.address));
        self.send(request).await
    }

    /// Posts a form as the page's own form would: with the browser's token and origin.
    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.cookies.get("csrf").cloned().unwrap_or_default();
        let mut form: Vec<(&str, &str)> = vec![("_csrf", &token)];
        form.extend_from_slice(fields);
        self.post_raw(path, &form, Some(&self.app.address.clone()))
            .await
    }

    async fn post_raw(&mut self, path: &str, form: &[(&str, &str)], origin: Option<&str>) -> Page {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let mut request = self
            .client
            .post(format!("{}{path}", self.app.address))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if self.htmx {
            request = request.header("hx-request", "true");
        }
        if let Some(origin) = origin {
            request = request.header(ORIGIN, origin);
        }
        self.send(request).await
    }

    /// Signs in through the login page's plain form.
    async fn sign_in(&mut self, email: &str, password: &str) -> Page {
        self.get("/admin/login").await;
        self.htmx = false;
        let page = self
            .post("/admin/login", &[("email", email), ("password", password)])
            .await;
        self.htmx = true;
        page
    }
}

/// A student's synopsis waiting for review: (synopsis id, project id, student token).
async fn pending_synopsis(app: &TestApp, email: &str) -> (String, String, String) {
    let s = app.register(email).await;
    let project = crate::files::project(app, s.token(), "Console project").await;
    let form = reqwest::multipart::Form::new()
        .text("project_id", project.clone())
        .text("title", "A synopsis")
        .part(
            "file",
            crate::files::file_part(crate::files::pdf(), "s.pdf", crate::files::PDF_TYPE),
        );
    let r = crate::files::send_form(app, "/api/synopsis", s.token(), form).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_str().expect("id").to_owned();
    (id, project, s.access)
}

both_backends! {
    async fn an_admin_signs_in_with_strict_httponly_cookies_and_a_student_is_refused(app: TestApp) {
        let student = app.register("console-student@example.com").await;
        let mut browser = Browser::new(&app);
        let page = browser.get("/admin").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(page.headers["location"], "/admin/login");

        let page = browser.sign_in("console-student@example.com", "Passw0rd!").await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert!(page.html.contains("This console is for admins"), "{}", page.html);
        assert!(!browser.cookies.contains_key("access"), "a refused student gets no session");
        // Their own sessions elsewhere are untouched, and the refusal is logged.
        assert_eq!(app.get("/api/users/me", student.token()).await.status, StatusCode::OK);
        assert_eq!(app.activity("auth.login_refused").await.len(), 1);
        assert!(app.activity("auth.login").await.iter().all(|l| l.user_id != student.user_id));

        let mut browser = Browser::new(&app);
        let page = browser.sign_in("admin@test.com", "Admin@1234").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.html);
        let cookies: Vec<&str> = page.headers.get_all("set-cookie").iter().map(|v| v.to_str().expect("ascii")).collect();
        for name in ["access=", "refresh="] {
            let cookie = cookies.iter().find(|c| c.starts_with(name)).expect("session cookie");
            for flag in ["HttpOnly", "SameSite=Strict", "Path=/admin"] {
                assert!(cookie.contains(flag), "{cookie} lacks {flag}");
            }
        }
        let page = browser.get("/admin").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.html.contains("Synopses pending review"));
        let csp = page.headers["content-security-policy"].to_str().expect("ascii");
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe"), "{csp}");
        assert_eq!(page.headers["cache-control"], "no-store");
    }

    async fn a_form_without_the_token_or_from_another_site_changes_nothing(app: TestApp) {
        let (id, _, student) = pending_synopsis(&app, "csrf@example.com").await;
        let mut browser = Browser::new(&app);
        browser.sign_in("admin@test.com", "Admin@1234").await;
        let path = format!("/admin/synopses/{id}/review");
        let origin = app.address.clone();
        let token = browser.cookies["csrf"].clone();
        // (the form, the Origin it comes from)
        type Forged<'a> = (Vec<(&'a str, &'a str)>, Option<&'a str>);
        let forged: [Forged; 3] = [
            (vec![("decision", "Approved")], Some(&origin)),
            (vec![("_csrf", "a-guessed-token"), ("decision", "Approved")], Some(&origin)),
            (vec![("_csrf", &token), ("decision", "Approved")], Some("http://evil.example")),
        ];
        for (form, from) in forged {
            let page = browser.post_raw(&path, &form, from).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.html);
        }
        let r = app.get(&format!("/api/synopsis/{id}"), Some(&student)).await;
        assert_eq!(r.body["status"], "Pending");
        assert!(app.activity("synopsis.review").await.is_empty());

        let page = browser.post(&path, &[("decision", "Approved")]).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.html);
        assert!(page.html.contains("Now Approved."), "{}", page.html);
    }

    async fn the_console_keeps_the_apis_rules_and_answers_its_errors_in_place(app: TestApp) {
        let (id, project, student) = pending_synopsis(&app, "rules@example.com").await;
        let mut browser = Browser::new(&app);
        browser.sign_in("admin@test.com", "Admin@1234").await;
        let path = format!("/admin/synopses/{id}/review");
        // A rejection needs a comment, as in the API: a 422 in the row's status line.
        let page = browser.post(&path, &[("decision", "Rejected")]).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.html.contains("a rejection needs a comment"), "{}", page.html);
        assert_eq!(page.headers["hx-retarget"], format!("#msg-{id}").as_str());
        let page = browser.post(&path, &[("decision", "Approved")]).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.html.contains("(in_progress)"), "the row shows the project moved: {}", page.html);
        // A second review is the API's 409, word for word.
        let api = app.post(&format!("/api/admin/synopsis/{id}/review"), Some(&app.admin().await.access), json!({"decision": "Approved"})).await;
        let page = browser.post(&path, &[("decision", "Approved")]).await;
        assert_eq!(page.status, StatusCode::CONFLICT);
        let message = api.body["error"].as_str().expect("message");
        assert!(page.html.contains(message), "{message} not in {}", page.html);
        let r = app.get(&format!("/api/projects/{project}"), Some(&student)).await;
        assert_eq!(r.body["status"], "in_progress");
        assert_eq!(app.activity("synopsis.review").await.len(), 1);
    }

    async fn two_admins_reviewing_one_synopsis_at_once_move_it_once(app: TestApp) {
        let (id, project, student) = pending_synopsis(&app, "race@example.com").await;
        let mut first = Browser::new(&app);
        let mut second = Browser::new(&app);
        first.sign_in("admin@test.com", "Admin@1234").await;
        second.sign_in("admin@test.com", "Admin@1234").await;
        let path = format!("/admin/synopses/{id}/review");
        let (a, b) = tokio::join!(
            first.post(&path, &[("decision", "Approved")]),
            second.post(&path, &[("decision", "Rejected"), ("comment", "Too thin")]),
        );
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT], "{} / {}", a.html, b.html);
        assert_eq!(app.activity("synopsis.review").await.len(), 1);
        let status = app.get(&format!("/api/projects/{project}"), Some(&student)).await.body["status"].clone();
        let expected = if a.status == StatusCode::OK { "in_progress" } else { "idea_pending" };
        assert_eq!(status, expected);
    }

    async fn an_expired_access_cookie_is_refreshed_and_a_replayed_refresh_ends_the_session(app: TestApp) {
        let mut browser = Browser::new(&app);
        browser.sign_in("admin@test.com", "Admin@1234").await;
        let old_refresh = browser.cookies["refresh"].clone();
        browser.cookies.insert("access".into(), "expired.or.forged".into());
        let page = browser.get("/admin/orders").await;
        assert_eq!(page.status, StatusCode::OK, "refreshed: {}", page.html);
        assert_ne!(browser.cookies["refresh"], old_refresh, "the refresh token rotated");
        let rows = app.activity("auth.refresh").await;
        assert_eq!(rows.len(), 1, "{rows:#?}");

        // The old refresh token again (a stolen copy): the whole session ends.
        let mut thief = Browser::new(&app);
        thief.cookies.insert("refresh".into(), old_refresh);
        let page = thief.get("/admin").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert!(!thief.cookies.contains_key("refresh"), "the thief's cookies are cleared");
        browser.cookies.insert("access".into(), "expired.or.forged".into());
        assert_eq!(browser.get("/admin").await.status, StatusCode::SEE_OTHER, "the family is revoked");
        // The thief's replay, then the owner's next refresh with a token of the revoked
        // family: both are reuse, both logged.
        assert_eq!(app.activity("auth.refresh_reuse").await.len(), 2);
    }

    async fn cookies_never_open_the_api_nor_bearer_tokens_the_console(app: TestApp) {
        let mut browser = Browser::new(&app);
        browser.sign_in("admin@test.com", "Admin@1234").await;
        let access = browser.cookies["access"].clone();
        let r = app.client.get(format!("{}/api/admin/users", app.address))
            .header("cookie", format!("access={access}")).send().await.expect("sent");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let r = Browser::new(&app).client.get(format!("{}/admin", app.address))
            .bearer_auth(&access).send().await.expect("sent");
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }

    async fn signing_out_ends_the_session(app: TestApp) {
        let mut browser = Browser::new(&app);
        browser.sign_in("admin@test.com", "Admin@1234").await;
        let stolen = browser.cookies.clone();
        let page = browser.post("/admin/logout", &[]).await;
        assert_eq!(page.headers["hx-redirect"], "/admin/login");
        assert!(!browser.cookies.contains_key("access"));
        let mut replay = Browser::new(&app);
        replay.cookies = stolen;
        assert_eq!(replay.get("/admin").await.status, StatusCode::SEE_OTHER);
        assert_eq!(app.activity("auth.logout").await.len(), 1);
    }

    async fn a_deactivated_user_loses_access_at_once_and_comes_back(app: TestApp) {
        let s = app.register("deactivate@example.com").await;
        let id = s.user_id.expect("id");
        let mut browser = Browser::new(&app);
        browser.sign_in("admin@test.com", "Admin@1234").await;
        let page = browser.post(&format!("/admin/users/{id}/deactivate"), &[]).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.html);
        assert_eq!(app.get("/api/users/me", s.token()).await.status, StatusCode::UNAUTHORIZED);
        let login = app.post("/api/auth/login", None, json!({"email": "deactivate@example.com", "password": "Passw0rd!"})).await;
        assert_eq!(login.status, StatusCode::UNAUTHORIZED);
        assert_eq!(browser.post(&format!("/admin/users/{id}/deactivate"), &[]).await.status, StatusCode::CONFLICT);
        // The API offers the same move, with the same rules.
        let admin = app.admin().await;
        app.post(&format!("/api/admin/users/{id}/activate"), admin.token(), json!({})).await;
        let me = app.get("/api/users/me", admin.token()).await.body["id"].as_str().expect("id").to_owned();
        app.post(&format!("/api/admin/users/{me}/deactivate"), admin.token(), json!({}))
            .await.assert_error(StatusCode::CONFLICT);
        app.login("deactivate@example.com", "Passw0rd!").await;
        assert_eq!(app.activity("user.deactivate").await.len(), 1);
        assert_eq!(app.activity("user.activate").await.len(), 1);
    }

    async fn a_trash_preview_changes_nothing_and_says_what_the_restore_brings(app: TestApp) {
        let s = app.register("trash-console@example.com").await;
        let project = crate::files::project(&app, s.token(), "To the trash").await;
        app.delete(&format!("/api/projects/{project}"), s.token()).await;
        let mut browser = Browser::new(&app);
        browser.sign_in("admin@test.com", "Admin@1234").await;
        let page = browser.get("/admin/trash?entity_type=project").await;
        assert!(page.html.contains(&project), "listed: {}", page.html);
        let page = browser.post(&format!("/admin/trash/project/{project}/preview"), &[]).await;
        assert!(page.html.contains("Restoring brings back projects 1."), "{}", page.html);
        assert_eq!(app.get(&format!("/api/projects/{project}"), s.token()).await.status, StatusCode::NOT_FOUND);
        assert!(app.activity("trash.restore").await.is_empty());
        let page = browser.post(&format!("/admin/trash/project/{project}/restore"), &[]).await;
        assert!(page.html.contains("Restored projects 1."), "{}", page.html);
        assert_eq!(app.get(&format!("/api/projects/{project}"), s.token()).await.status, StatusCode::OK);
        let page = browser.post(&format!("/admin/trash/project/{project}/restore"), &[]).await;
        assert_eq!(page.status, StatusCode::CONFLICT);
    }

    async fn a_dead_job_gets_another_attempt_once(app: TestApp) {
        let id = dbkit::jobs::enqueue(&app.db, dbkit::jobs::NewJob::new("test.never", json!({})))
            .await.expect("enqueue").expect("queued");
        let dead = sea_orm::sea_query::Query::update()
            .table(sea_orm::sea_query::Alias::new("jobs"))
            .value(sea_orm::sea_query::Alias::new("status"), "dead")
            .value(sea_orm::sea_query::Alias::new("attempts"), 5)
            .value(sea_orm::sea_query::Alias::new("last_error"), "boom")
            .to_owned();
        sea_orm::ConnectionTrait::execute(&app.db, &dead).await.expect("killed");
        let mut first = Browser::new(&app);
        let mut second = Browser::new(&app);
        first.sign_in("admin@test.com", "Admin@1234").await;
        second.sign_in("admin@test.com", "Admin@1234").await;
        assert!(first.get("/admin").await.html.contains("boom"));
        let path = format!("/admin/jobs/{id}/retry");
        let (a, b) = tokio::join!(first.post(&path, &[]), second.post(&path, &[]));
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT], "{} / {}", a.html, b.html);
        let job = dbkit::jobs::state(&app.db, id).await.expect("read").expect("job");
        assert_eq!((job.status.as_str(), job.max_attempts), ("pending", 6));
        assert_eq!(app.activity("job.retry").await.len(), 1);
    }

    async fn a_page_answers_errors_as_pages_not_json(app: TestApp) {
        let mut browser = Browser::new(&app);
        browser.sign_in("admin@test.com", "Admin@1234").await;
        let page = browser.get("/admin/orders?status=bogus").await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.headers["content-type"].to_str().expect("ascii").starts_with("text/html"), "{:?} {}", page.headers, page.html);
        assert!(page.html.contains("role=\"alert\""), "{}", page.html);
        assert!(page.html.contains("status"), "the API's message: {}", page.html);
        // A row's move from a browser without scripts, refused: a page with the API's words.
        let (id, _, _) = pending_synopsis(&app, "noscript@example.com").await;
        browser.htmx = false;
        let page = browser.post(&format!("/admin/synopses/{id}/review"), &[("decision", "Rejected")]).await;
        browser.htmx = true;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.html.contains("a rejection needs a comment"), "{}", page.html);
        assert!(page.headers["content-type"].to_str().expect("ascii").starts_with("text/html"));
        let page = browser.get("/admin/no-such-page").await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
        assert!(page.html.contains("page not found"), "{}", page.html);
        // The API keeps its JSON.
        app.get("/api/no-such-route", None).await.assert_error(StatusCode::NOT_FOUND);
    }

    async fn the_activity_page_names_the_first_broken_row_of_the_chain(app: TestApp) {
        let mut browser = Browser::new(&app);
        browser.sign_in("admin@test.com", "Admin@1234").await;
        let page = browser.get("/admin/activity/chain").await;
        assert!(page.html.contains("Intact."), "{}", page.html);
        app.seal().await;
        let tamper = sea_orm::sea_query::Query::update()
            .table(sea_orm::sea_query::Alias::new("activity_logs"))
            .value(sea_orm::sea_query::Alias::new("action"), "auth.edited")
            .and_where(sea_orm::sea_query::ExprTrait::eq(sea_orm::sea_query::Expr::col(sea_orm::sea_query::Alias::new("seq")), 2))
            .to_owned();
        sea_orm::ConnectionTrait::execute(&app.db, &tamper).await.expect("tampered");
        let page = browser.get("/admin/activity/chain").await;
        assert!(page.html.contains("Broken."), "{}", page.html);
        assert!(page.html.contains("seq 2"), "names the row: {}", page.html);
    }

    async fn two_admins_deactivating_each_other_at_once_leave_one_active(app: TestApp) {
        // Two active admins: the seeded one and a second, made one in the database.
        let second = app.register("second-admin@example.com").await;
        let second_id = second.user_id.expect("id");
        let promote = sea_orm::sea_query::Query::update()
            .table(sea_orm::sea_query::Alias::new("users"))
            .value(sea_orm::sea_query::Alias::new("is_admin"), true)
            .and_where(sea_orm::sea_query::ExprTrait::eq(
                sea_orm::sea_query::Expr::col(sea_orm::sea_query::Alias::new("id")),
                second_id,
            ))
            .to_owned();
        sea_orm::ConnectionTrait::execute(&app.db, &promote).await.expect("promoted");
        let first = app.admin().await;
        let first_id = app.get("/api/users/me", first.token()).await.body["id"].as_str().expect("id").to_owned();
        let second = app.login("second-admin@example.com", "Passw0rd!").await;
        let (to_second, to_first) = (
            format!("/api/admin/users/{second_id}/deactivate"),
            format!("/api/admin/users/{first_id}/deactivate"),
        );
        let (a, b) = tokio::join!(
            app.post(&to_second, first.token(), json!({})),
            app.post(&to_first, second.token(), json!({})),
        );
        let mut statuses = [a.status, b.status];
        statuses.sort();
        // One wins; the other is refused — as the last active admin, or because the
        // winner ended its session — never a deadlock, never both.
        assert_eq!(statuses[0], StatusCode::OK, "{} / {}", a.body, b.body);
        assert!(matches!(statuses[1], StatusCode::CONFLICT | StatusCode::UNAUTHORIZED), "{} / {}", a.body, b.body);
        // Taking turns, not deadlocking (which PostgreSQL breaks after a second, answering
        // the loser "collided with a concurrent change").
        for r in [&a, &b] {
            assert!(!r.body["error"].as_str().unwrap_or_default().contains("collided"), "{}", r.body);
        }
        assert_eq!(app.activity("user.deactivate").await.len(), 1);
    }

    async fn a_queue_pages_with_the_apis_cursor_keeping_its_filter(app: TestApp) {
        let s = app.register("pager@example.com").await;
        for n in 0..21 {
            let r = app.post("/api/meetings", s.token(), json!({"topic": format!("Topic {n:02}")})).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        }
        let mut browser = Browser::new(&app);
        browser.sign_in("admin@test.com", "Admin@1234").await;
        let first = browser.get("/admin/meetings").await;
        let next = regex::Regex::new(r#"href="([^"]+)" rel="next""#).expect("pattern");
        let href = next.captures(&first.html).expect("a next page")[1]
            .replace("&#38;", "&")
            .replace("&amp;", "&");
        assert!(href.starts_with("/admin/meetings?status=requested&cursor="), "{href}");
        let second = browser.get(&href).await;
        assert_eq!(second.status, StatusCode::OK);
        let topics = |html: &str| regex::Regex::new(r"Topic \d\d").expect("pattern").find_iter(html).count();
        assert_eq!((topics(&first.html), topics(&second.html)), (20, 1));
        assert!(!next.is_match(&second.html), "the last page has no next");
    }
}
