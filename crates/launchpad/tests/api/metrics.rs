use reqwest::StatusCode;

use crate::both_backends;

both_backends! {
    async fn metrics_report_routes_pool_and_statements_in_prometheus_text(app: TestApp) {
        app.get("/api/plans", None).await;
        app.get(&format!("/api/plans/{}", uuid::Uuid::now_v7()), None).await;
        let r = app.client.get(format!("{}/metrics", app.address)).send().await.expect("metrics");
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers()["content-type"].to_str().is_ok_and(|c| c.starts_with("text/plain")));
        let text = r.text().await.expect("text");
        for needle in [
            r#"launchpad_http_requests_total{method="GET",route="/api/plans",status="200"} 1"#,
            r#"launchpad_http_requests_total{method="GET",route="/api/plans/{id}",status="404"} 1"#,
            r#"launchpad_http_request_duration_seconds_count{method="GET",route="/api/plans"} 1"#,
            r#"launchpad_db_pool_connections{state="max"} 5"#,
            "launchpad_db_statement_duration_seconds_bucket",
            "launchpad_db_slow_statements_total 0",
        ] {
            assert!(text.contains(needle), "missing {needle} in\n{text}");
        }
        let statements = text
            .lines()
            .find_map(|l| l.strip_prefix("launchpad_db_statements_total "))
            .and_then(|n| n.parse::<u64>().ok())
            .expect("statement count");
        assert!(statements > 0);
        // The list's own statements, by route: none of the sealer's or a probe's.
        let listed = app.metrics.route_statements("GET", "/api/plans");
        assert!(listed > 0 && listed < statements, "{listed} of {statements}");
        let needle = format!(r#"launchpad_http_request_db_statements_total{{method="GET",route="/api/plans"}} {listed}"#);
        assert!(text.contains(&needle), "missing {needle} in\n{text}");
    }
}
