//! Credentials and sessions hold at the edges: a deleted account's tokens stay dead after
//! a restore, one visible email is one account, the last active admin cannot leave (not
//! even two admins leaving at once), and an admin on a student route meets the same 403
//! whichever way the route names the project.

use reqwest::StatusCode;
use reqwest::multipart::Form;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use launchpad::entity::{chatbot_history, files, ideas, meetings, synopsis, users};

use crate::files::{file_part, pdf, png, send_form};
use crate::helpers::{Backend, TestApp};

/// Makes the account `email` an admin.
async fn promote(app: &TestApp, email: &str) {
    users::Entity::update_many()
        .col_expr(users::Column::IsAdmin, Expr::value(true))
        .filter(users::Column::Email.eq(email))
        .exec(&app.db)
        .await
        .expect("promote");
}

/// Live, active admins.
async fn active_admins(app: &TestApp) -> u64 {
    users::Entity::find()
        .filter(users::Column::IsAdmin.eq(true))
        .filter(users::Column::IsActive.eq(true))
        .filter(users::Column::DeletedAt.is_null())
        .count(&app.db)
        .await
        .expect("count admins")
}

/// Two admins leave at the same moment, the seeded one having gone first: one may go,
/// the other is the last and must stay.
async fn two_admins_leaving_at_once_leave_one(backend: Backend) {
    for trial in 0..4 {
        let app = TestApp::spawn(backend).await;
        let (a, b) = (format!("a{trial}@test.com"), format!("b{trial}@test.com"));
        app.register(&a).await;
        app.register(&b).await;
        promote(&app, &a).await;
        promote(&app, &b).await;
        let seeded = app.admin().await;
        let r = app.delete("/api/users/me", seeded.token()).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        let a = app.login(&a, "Passw0rd!").await;
        let b = app.login(&b, "Passw0rd!").await;
        let (ra, rb) = tokio::join!(
            app.delete("/api/users/me", a.token()),
            app.delete("/api/users/me", b.token())
        );
        let mut statuses = [ra.status, rb.status];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::NO_CONTENT, StatusCode::CONFLICT],
            "trial {trial}: {} / {}",
            ra.body,
            rb.body
        );
        assert_eq!(active_admins(&app).await, 1, "trial {trial}");
    }
}

crate::both_backends! {
    two_admins_leaving_at_once_leave_one => super::two_admins_leaving_at_once_leave_one,
}

crate::both_backends! {
    async fn a_deleted_accounts_tokens_stay_dead_after_a_restore(app: TestApp) {
        let student = app.register("leaver@test.com").await;
        let me = app.get("/api/users/me", student.token()).await;
        assert_eq!(me.status, StatusCode::OK);
        let r = app.delete("/api/users/me", student.token()).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        let admin = app.admin().await;
        let id = student.user_id.expect("id");
        let r = app
            .post(&format!("/api/admin/users/{id}/restore"), admin.token(), json!({}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        app.get("/api/users/me", student.token())
            .await
            .assert_error(StatusCode::UNAUTHORIZED);
        let r = app
            .post("/api/auth/refresh", None, json!({"refresh_token": student.refresh}))
            .await;
        r.assert_error(StatusCode::UNAUTHORIZED);
        // Signing in again works: the account is back, its old sessions are not.
        let again = app.login("leaver@test.com", "Passw0rd!").await;
        assert_eq!(app.get("/api/users/me", again.token()).await.status, StatusCode::OK);
    }

    async fn one_visible_email_is_one_account(app: TestApp) {
        app.register("student2@test.com").await;
        for lookalike in [
            "ſtudent2@test.com",
            "ｓｔｕｄｅｎｔ２@ｔｅｓｔ.ｃｏｍ",
            "STUDENT2@Test.Com",
        ] {
            let body = json!({"email": lookalike, "password": "Passw0rd!", "name": "Twin"});
            let r = app.post("/api/auth/register", None, body).await;
            r.assert_error(StatusCode::CONFLICT);
        }
        for hidden in [
            "student2@test.com\u{200B}",
            "stu\u{200D}dent3@test.com",
            "student3\u{202E}@test.com",
        ] {
            let body = json!({"email": hidden, "password": "Passw0rd!", "name": "Ghost"});
            let r = app.post("/api/auth/register", None, body).await;
            r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(r.body["details"]["field"], "email", "{}", r.body);
        }
        let count = users::Entity::find()
            .filter(users::Column::Email.like("%dent%"))
            .count(&app.db)
            .await
            .expect("count");
        // The seeded student@test.com and student2@test.com.
        assert_eq!(count, 2);
        // A lookalike signs in to the one account.
        let r = app
            .post("/api/auth/login", None, json!({"email": "ｓｔｕｄｅｎｔ２@test.com", "password": "Passw0rd!"}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }

    async fn the_only_active_admin_cannot_delete_itself(app: TestApp) {
        let admin = app.admin().await;
        let r = app.delete("/api/users/me", admin.token()).await;
        r.assert_error(StatusCode::CONFLICT);
        assert!(r.body["error"].as_str().unwrap_or_default().contains("only active admin"), "{}", r.body);
        assert_eq!(app.get("/api/users/me", admin.token()).await.status, StatusCode::OK);
        assert_eq!(active_admins(&app).await, 1);
        assert!(app.activity("user.delete").await.is_empty());
    }

    async fn an_admin_on_a_student_route_gets_403_however_the_project_is_named(app: TestApp) {
        let student = app.register("owner@test.com").await;
        let r = app
            .post("/api/projects", student.token(), json!({"title": "Owned project"}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        let project = r.body["id"].as_str().expect("id").to_owned();
        let admin = app.admin().await;
        let token = admin.token();
        let mut answers = Vec::new();
        let in_body = [
            ("/api/chatbot/messages", json!({"message_type": "user", "message": "hi", "project_id": project})),
            ("/api/ideas", json!({"title": "An idea", "complexity": "beginner", "tech_stack": [], "project_id": project})),
            ("/api/meetings", json!({"topic": "A meeting", "project_id": project})),
        ];
        for (path, body) in in_body {
            answers.push((path.to_owned(), app.post(path, token, body).await.status));
        }
        let form = Form::new()
            .text("project_id", project.clone())
            .text("title", "A synopsis")
            .part("file", file_part(pdf(), "s.pdf", "application/pdf"));
        answers.push(("/api/synopsis".into(), send_form(&app, "/api/synopsis", token, form).await.status));
        let path = format!("/api/projects/{project}/files");
        let form = Form::new()
            .text("kind", "project")
            .part("file", file_part(png(), "p.png", "image/png"));
        answers.push((path.clone(), send_form(&app, &path, token, form).await.status));
        let path = format!("/api/projects/{project}");
        answers.push((path.clone(), app.patch(&path, token, json!({"title": "Taken over"})).await.status));
        let wrong: Vec<_> = answers.iter().filter(|(_, s)| *s != StatusCode::FORBIDDEN).collect();
        assert!(wrong.is_empty(), "not 403: {wrong:?}");

        let admin_id = users::Entity::find()
            .filter(users::Column::Email.eq("admin@test.com"))
            .one(&app.db)
            .await
            .expect("read")
            .expect("the seeded admin")
            .id;
        let written = [
            chatbot_history::Entity::find().filter(chatbot_history::Column::UserId.eq(admin_id)).count(&app.db).await,
            ideas::Entity::find().filter(ideas::Column::UserId.eq(admin_id)).count(&app.db).await,
            meetings::Entity::find().filter(meetings::Column::UserId.eq(admin_id)).count(&app.db).await,
            synopsis::Entity::find().filter(synopsis::Column::UserId.eq(admin_id)).count(&app.db).await,
            files::Entity::find().filter(files::Column::OwnerId.eq(admin_id)).count(&app.db).await,
        ];
        assert!(written.iter().all(|n| *n.as_ref().expect("count") == 0), "{written:?}");
    }
}
