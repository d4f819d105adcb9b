use reqwest::StatusCode;
use serde_json::json;

use crate::both_backends;

both_backends! {
    async fn me_shows_and_updates_the_callers_own_account(app: TestApp) {
        let s = app.register("me@example.com").await;
        let r = app.get("/api/users/me", s.token()).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["email"], "me@example.com");
        let r = app.patch("/api/users/me", s.token(), json!({"name": "New Name", "signup_step": "plan_selection"})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["name"], "New Name");
        assert_eq!(r.body["signup_step"], "plan_selection");
        let logged = app.activity("user.update").await;
        assert_eq!(logged.len(), 1);
        assert_eq!(logged[0].details["fields"], json!(["name", "signup_step"]));
    }

    async fn invalid_updates_are_422_and_change_nothing(app: TestApp) {
        let s = app.register("inv@example.com").await;
        for body in [
            json!({"name": "x"}),
            json!({"name": "y".repeat(101)}),
            json!({"signup_step": "nonsense"}),
            json!({"phone": "call me maybe"}),
            json!({"name": 42}),
            json!({"is_admin": true}),
        ] {
            app.patch("/api/users/me", s.token(), body.clone()).await.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        }
        let r = app.get("/api/users/me", s.token()).await;
        assert_eq!(r.body["name"], "Student One");
        assert_eq!(r.body["is_admin"], false);
        assert!(app.activity("user.update").await.is_empty());
    }

    async fn deleting_my_account_locks_me_out_and_an_admin_can_restore_it(app: TestApp) {
        let s = app.register("gone@example.com").await;
        let id = s.user_id.expect("id");
        assert_eq!(app.delete("/api/users/me", s.token()).await.status, StatusCode::NO_CONTENT);
        // Access token, refresh token and password all stop working at once.
        app.get("/api/users/me", s.token()).await.assert_error(StatusCode::UNAUTHORIZED);
        app.post("/api/auth/refresh", None, json!({"refresh_token": s.refresh})).await.assert_error(StatusCode::UNAUTHORIZED);
        app.post("/api/auth/login", None, json!({"email": "gone@example.com", "password": "Passw0rd!"})).await
            .assert_error(StatusCode::UNAUTHORIZED);
        let deleted = app.activity("user.delete").await;
        assert_eq!(deleted.len(), 1);
        assert_eq!(deleted[0].details["sessions_revoked"], 1);

        let admin = app.admin().await;
        let trash = app.get("/api/admin/users?deleted=true", admin.token()).await;
        assert_eq!(trash.body["meta"]["total"], 1);
        assert_eq!(trash.body["data"][0]["id"], id.to_string());
        let r = app.post(&format!("/api/admin/users/{id}/restore"), admin.token(), json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        app.login("gone@example.com", "Passw0rd!").await;
        // Restoring twice: the account is live, not in the trash.
        app.post(&format!("/api/admin/users/{id}/restore"), admin.token(), json!({})).await
            .assert_error(StatusCode::CONFLICT);
        assert_eq!(app.activity("trash.restore").await.len(), 1);
    }

    async fn restoring_an_account_whose_email_was_taken_again_is_409(app: TestApp) {
        let s = app.register("taken@example.com").await;
        app.delete("/api/users/me", s.token()).await;
        app.register("taken@example.com").await;
        let admin = app.admin().await;
        let id = s.user_id.expect("id");
        let r = app.post(&format!("/api/admin/users/{id}/restore"), admin.token(), json!({})).await;
        r.assert_error(StatusCode::CONFLICT);
        assert_eq!(r.body["details"]["field"], "email");
        assert!(app.activity("trash.restore").await.is_empty());
    }

    async fn admin_routes_are_401_anonymous_and_403_for_students(app: TestApp) {
        let student = app.login("student@test.com", "Test@1234").await;
        let id = uuid::Uuid::now_v7();
        app.get("/api/admin/users", None).await.assert_error(StatusCode::UNAUTHORIZED);
        app.get("/api/admin/users", student.token()).await.assert_error(StatusCode::FORBIDDEN);
        app.post(&format!("/api/admin/users/{id}/restore"), student.token(), json!({})).await
            .assert_error(StatusCode::FORBIDDEN);
        app.delete(&format!("/api/admin/plans/{id}"), student.token()).await.assert_error(StatusCode::FORBIDDEN);
    }

    async fn the_admin_user_list_filters_searches_sorts_and_pages(app: TestApp) {
        for name in ["carol", "alice", "bob"] {
            app.register(&format!("{name}@example.com")).await;
        }
        let admin = app.admin().await;
        let r = app.get("/api/admin/users?is_admin=false&sort_by=email&sort_order=asc&per_page=2", admin.token()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        // Three registered students plus the seeded one.
        assert_eq!(r.body["meta"], json!({"total": 4, "page": 1, "per_page": 2, "total_pages": 2}));
        let emails: Vec<&str> = r.body["data"].as_array().expect("data").iter().filter_map(|u| u["email"].as_str()).collect();
        assert_eq!(emails, ["alice@example.com", "bob@example.com"]);
        let r = app.get("/api/admin/users?search=CAROL", admin.token()).await;
        assert_eq!(r.body["meta"]["total"], 1);
        assert_eq!(r.body["data"][0]["email"], "carol@example.com");
        let r = app.get("/api/admin/users?is_admin=true", admin.token()).await;
        assert_eq!(r.body["meta"]["total"], 1);
    }
}

both_backends! {
    async fn never_signed_in_users_sort_last_either_way_on_both_backends(app: TestApp) {
        app.register("never@example.com").await;
        let admin = app.admin().await;
        for order in ["asc", "desc"] {
            let r = app.get(&format!("/api/admin/users?sort_by=last_login_at&sort_order={order}"), admin.token()).await;
            let logins: Vec<bool> =
                r.body["data"].as_array().expect("data").iter().map(|u| u["last_login_at"].is_string()).collect();
            // The admin has signed in; the seeded student and `never` have not (registering
            // is not a login).
            assert_eq!(logins.first(), Some(&true), "{order}: {}", r.body);
            assert_eq!(logins.last(), Some(&false), "{order}: {}", r.body);
        }
    }
}
