use migration::MigratorTrait;
use reqwest::StatusCode;

use crate::both_backends;

both_backends! {
    async fn health_reports_database_pool_and_migrations(app: TestApp) {
        let r = app.get("/health", None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["status"], "ok");
        assert_eq!(r.body["database"], "ok");
        assert!(r.body["pool"]["max"].as_u64().unwrap_or(0) >= 1);
        assert_eq!(r.body["migrations"]["pending"], serde_json::json!([]));
        let last = migration::Migrator::migrations().last().map(|m| m.name().to_owned());
        assert_eq!(r.body["migrations"]["current"].as_str(), last.as_deref());
        assert!(r.headers.contains_key("x-request-id"));
    }

    async fn unknown_routes_answer_404_in_the_error_shape(app: TestApp) {
        let r = app.get("/api/nope", None).await;
        r.assert_error(StatusCode::NOT_FOUND);
        assert_eq!(r.body["path"], "/api/nope");
        assert_eq!(r.body["request_id"].as_str(), r.headers["x-request-id"].to_str().ok());
    }

    async fn wrong_methods_answer_405_in_the_error_shape(app: TestApp) {
        app.delete("/health", None).await.assert_error(StatusCode::METHOD_NOT_ALLOWED);
    }
}
