//! Database failures become precise client errors, the same on both backends.

use launchpad::entity::plans;
use launchpad::http::error::AppError;
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set, TransactionTrait};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{Backend, TestApp};

fn plan(name: &str, price: i64, support_level: &str) -> plans::ActiveModel {
    let now = dbkit::time::now();
    plans::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name.into()),
        description: Set(None),
        price: Set(price),
        features: Set(json!([])),
        blog_included: Set(false),
        max_projects: Set(1),
        support_level: Set(support_level.into()),
        is_active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
        deleted_by: Set(None),
        delete_batch_id: Set(None),
        // Filled from the name and description before the insert.
        ..Default::default()
    }
}

crate::both_backends! {
    async fn constraint_violations_map_by_name_to_409_and_422(app: TestApp) {
        let unique = plan("Basic", 1, "Basic").insert(&app.db).await.expect_err("duplicate live name");
        let err = AppError::from(unique);
        assert_eq!(err.status(), StatusCode::CONFLICT);
        assert!(matches!(&err, AppError::Conflict { details, .. } if details["field"] == "name"), "{err:?}");

        let check = plan("Cheap", -1, "Basic").insert(&app.db).await.expect_err("negative price");
        let err = AppError::from(check);
        assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(matches!(&err, AppError::Validation { details, .. } if details["field"] == "price"), "{err:?}");

        let level = plan("Odd", 1, "Gold").insert(&app.db).await.expect_err("unknown support level");
        assert!(matches!(AppError::from(level), AppError::Validation { details, .. } if details["field"] == "support_level"));

        // A row pointing at a user that does not exist.
        let sql = if app.backend == Backend::Postgres {
            "INSERT INTO activity_logs (id, user_id, action, details, status, created_at) \
             VALUES (gen_random_uuid(), gen_random_uuid(), 'x', '{}', 'success', now())"
        } else {
            "INSERT INTO activity_logs (id, user_id, action, details, status, created_at) \
             VALUES (randomblob(16), randomblob(16), 'x', '{}', 'success', '2026-01-01T00:00:00+00:00')"
        };
        let fk = app.db.execute_unprepared(sql).await.expect_err("dangling foreign key");
        assert_eq!(AppError::from(fk).status(), StatusCode::CONFLICT);
    }

    async fn a_deleted_plans_name_can_be_reused(app: TestApp) {
        let admin = app.admin().await;
        let basic = app.get("/api/plans?search=basic", None).await.body["data"][0]["id"].as_str().map(str::to_owned);
        app.delete(&format!("/api/admin/plans/{}", basic.expect("id")), admin.token()).await;
        plan("Basic", 100, "Basic").insert(&app.db).await.expect("unique among live rows only");
    }
}

mod pool_exhaustion {
    use super::*;

    async fn body(backend: Backend) {
        let app = TestApp::spawn_with(
            backend,
            &[
                "--db-pool-size",
                "1",
                "--db-max-overflow",
                "0",
                "--db-pool-timeout",
                "1",
            ],
        )
        .await;
        // Hold the only connection.
        let held = app.db.begin().await.expect("begin");
        let started = std::time::Instant::now();
        let r = app.get("/api/plans", None).await;
        r.assert_error(StatusCode::SERVICE_UNAVAILABLE);
        assert!(r.headers.contains_key("retry-after"));
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "answered within the acquire timeout"
        );
        held.rollback().await.expect("rollback");
        assert_eq!(
            app.get("/api/plans", None).await.status,
            StatusCode::OK,
            "recovers when a connection frees"
        );
    }

    crate::both_backends!(@tests body);
}
