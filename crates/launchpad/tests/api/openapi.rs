//! The OpenAPI document and the router describe the same API.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::both_backends;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Every documented operation, as (method, path with sample ids).
fn operations(doc: &Value) -> Vec<(String, String, String)> {
    let paths = doc["paths"].as_object().expect("paths");
    let mut ops = Vec::new();
    for (template, item) in paths {
        let concrete = fill(template);
        for method in METHODS {
            if item.get(method).is_some() {
                ops.push((method.to_owned(), template.clone(), concrete.clone()));
            }
        }
    }
    ops
}

/// `/api/things/{id}` → `/api/things/<a uuid>`.
fn fill(template: &str) -> String {
    template
        .split('/')
        .map(|part| {
            if part.starts_with('{') {
                uuid::Uuid::now_v7().to_string()
            } else {
                part.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

both_backends! {
    async fn every_documented_operation_is_routed_and_nothing_else_is(app: TestApp) {
        let r = app.get("/openapi.json", None).await;
        assert_eq!(r.status, StatusCode::OK);
        let doc = r.body;
        let ops = operations(&doc);
        assert!(ops.len() >= 16, "{} operations", ops.len());
        for (method, template, path) in &ops {
            let r = app.request(Method::from_bytes(method.to_uppercase().as_bytes()).expect("method"), path, None, None).await;
            let unrouted = r.body["error"] == "route not found" || r.status == StatusCode::METHOD_NOT_ALLOWED;
            assert!(!unrouted, "{method} {template} is documented but not routed: {}", r.body);
        }
        // On a documented path, every undocumented method is refused by the router.
        for (template, item) in doc["paths"].as_object().expect("paths") {
            for method in METHODS.iter().filter(|m| item.get(**m).is_none()) {
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
                let r = app.request(method.clone(), &fill(template), None, None).await;
                assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {template} is routed but not documented");
            }
        }
    }

    async fn the_document_names_its_schemas_and_security(app: TestApp) {
        let doc = app.get("/openapi.json", None).await.body;
        // Every resource module is mounted: a router left out of `api()` drops its tag.
        let mut tags = std::collections::BTreeSet::new();
        for item in doc["paths"].as_object().expect("paths").values() {
            for op in item.as_object().expect("item").values() {
                tags.extend(op["tags"].as_array().into_iter().flatten().filter_map(|t| t.as_str().map(str::to_owned)));
            }
        }
        let expected = [
            "admin", "auth", "catalog", "chatbot", "files", "ideas", "meetings", "operations", "orders", "projects",
            "requests", "subscriptions", "synopsis", "users",
        ];
        assert_eq!(tags.iter().map(String::as_str).collect::<Vec<_>>(), expected);
        assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
        for schema in ["ErrorResponse", "UserOut", "TokensOut", "PlanOut"] {
            assert!(doc["components"]["schemas"].get(schema).is_some(), "{schema} missing");
        }
        let me = &doc["paths"]["/api/users/me"]["get"];
        assert_eq!(me["security"][0]["bearer"], serde_json::json!([]));
    }

    async fn every_reference_in_the_document_resolves(app: TestApp) {
        let doc = app.get("/openapi.json", None).await.body;
        let mut refs = Vec::new();
        references(&doc, &mut refs);
        assert!(refs.len() > 50, "{} references", refs.len());
        let dangling: Vec<&String> = refs
            .iter()
            .filter(|r| r.strip_prefix('#').is_none_or(|pointer| doc.pointer(pointer).is_none()))
            .collect();
        assert!(dangling.is_empty(), "references to nothing: {dangling:?}");
        // Creates link to what they created (`id` of the 201 body → `{id}`).
        let links = &doc["paths"]["/api/projects"]["post"]["responses"]["201"]["links"];
        let link = &links["get_api_projects__id_"];
        assert_eq!(link["operationRef"], "#/paths/~1api~1projects~1{id}/get", "{links}");
        assert_eq!(link["parameters"]["id"], "$response.body#/id");
        assert!(links.as_object().is_some_and(|l| l.len() >= 5), "{links}");
        // Restoring is for deleted rows: no follow-up of a create.
        let plan_links = &doc["paths"]["/api/admin/plans"]["post"]["responses"]["201"]["links"];
        assert!(plan_links.get("patch_api_admin_plans__id_").is_some(), "{plan_links}");
        assert!(plan_links.get("post_api_admin_plans__id__restore").is_none(), "{plan_links}");
    }

    async fn the_errors_an_operation_gives_for_its_shape_are_documented(app: TestApp) {
        let doc = app.get("/openapi.json", None).await.body;
        let student = app.register("shape@example.com").await;
        let mut checked = 0;
        for (method, template, path) in operations(&doc) {
            let op = &doc["paths"][&template][&method];
            let documented = |status: StatusCode| op["responses"].get(status.as_str()).is_some();
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let mut answers = Vec::new();
            if op["security"].is_array() {
                answers.push(app.request(method.clone(), &path, None, None).await.status);
            }
            if template.contains('{') {
                let malformed = template.split('/').map(|p| if p.starts_with('{') { "not-an-id" } else { p }).collect::<Vec<_>>().join("/");
                answers.push(app.request(method.clone(), &malformed, student.token(), None).await.status);
            }
            if op.get("requestBody").is_some() {
                let url = format!("{}{path}", app.address);
                let r = app.client.request(method.clone(), &url).bearer_auth(&student.access)
                    .header("content-type", "application/json").body("{not json").send().await.expect("sent");
                answers.push(r.status());
            }
            for status in answers {
                assert!(documented(status), "{method} {template} answers {status}, which its document does not list");
                checked += 1;
            }
        }
        assert!(checked > 100, "only {checked} answers checked");
    }

    async fn the_docs_page_is_served_with_its_assets(app: TestApp) {
        let page = app.client.get(format!("{}/docs/", app.address)).send().await.expect("docs");
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.expect("html");
        assert!(html.contains("swagger-ui"), "{html}");
        assert!(html.contains("<title>Launchpad API — docs</title>"), "{html}");
        // Everything the page needs comes from this server, not a CDN.
        assert!(!html.contains("https://"), "the docs page loads something from the internet");
        let css = app.client.get(format!("{}/docs/swagger-ui.css", app.address)).send().await.expect("css");
        assert_eq!(css.status(), StatusCode::OK);
        // A token given to "Authorize" survives a reload.
        let init = app.client.get(format!("{}/docs/swagger-initializer.js", app.address)).send().await.expect("init");
        let init = init.text().await.expect("js");
        assert!(init.contains("\"persistAuthorization\": true") || init.contains("\"persistAuthorization\":true"), "{init}");
    }

    async fn every_list_states_its_sort_and_paging_rules_and_the_server_keeps_them(app: TestApp) {
        let doc = app.get("/openapi.json", None).await.body;
        let admin = app.admin().await;
        let student = app.login("student@test.com", "Test@1234").await;
        let mut checked = 0;
        for (method, template, _) in operations(&doc) {
            let params = doc["paths"][&template][&method]["parameters"].as_array().cloned().unwrap_or_default();
            let param = |name: &str| params.iter().find(|p| p["name"] == name).cloned();
            let Some(sort) = param("sort_by") else { continue };
            let values = sort["schema"]["enum"].as_array()
                .unwrap_or_else(|| panic!("{template}: sort_by is not an enum: {sort}")).clone();
            let per_page = param("per_page").unwrap_or_else(|| panic!("{template}: no per_page"));
            let max = per_page["schema"]["maximum"].as_u64()
                .unwrap_or_else(|| panic!("{template}: per_page has no maximum: {per_page}"));
            assert_eq!(per_page["schema"]["minimum"], 1, "{template}");
            if template.contains('{') {
                // Its rows hang off a parent the test would have to create; the enum is
                // still checked above.
                continue;
            }
            let token = if template.contains("/admin/") || template == "/api/activity-logs" {
                admin.token()
            } else {
                student.token()
            };
            for value in &values {
                let value = value.as_str().expect("a name");
                let r = app.get(&format!("{template}?sort_by={value}&per_page={max}"), token).await;
                assert_eq!(r.status, StatusCode::OK, "{template} sort_by={value}: {}", r.body);
            }
            let r = app.get(&format!("{template}?sort_by=nonsense"), token).await;
            r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
            let r = app.get(&format!("{template}?per_page={}", max + 1), token).await;
            r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
            checked += 1;
        }
        assert!(checked >= 10, "only {checked} lists checked");
    }

    async fn closed_sets_are_enums_whose_every_value_the_server_takes(app: TestApp) {
        let doc = app.get("/openapi.json", None).await.body;
        let schemas = &doc["components"]["schemas"];
        let values = |schema: &str, field: &str| -> Vec<String> {
            schemas[schema]["properties"][field]["enum"]
                .as_array()
                .unwrap_or_else(|| panic!("{schema}.{field} is not an enum"))
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        };
        // Two status bodies used to share one schema name, so one of them was wrong.
        assert_ne!(values("ProjectStatusIn", "status"), values("SubscriptionStatusIn", "status"));
        assert!(schemas.get("StatusIn").is_none());
        let student = app.register("enums@test.com").await;
        for message_type in values("MessageIn", "message_type") {
            let body = serde_json::json!({"message_type": message_type, "message": "hello"});
            let r = app.post("/api/chatbot/messages", student.token(), body).await;
            assert_eq!(r.status, StatusCode::CREATED, "{message_type}: {}", r.body);
        }
        for complexity in values("CreateIdeaIn", "complexity") {
            let body = serde_json::json!({"title": "An idea", "complexity": complexity, "tech_stack": []});
            let r = app.post("/api/ideas", student.token(), body).await;
            assert_eq!(r.status, StatusCode::CREATED, "{complexity}: {}", r.body);
        }
        let r = app.post("/api/projects", student.token(), serde_json::json!({"title": "Enum files"})).await;
        let project = r.body["id"].as_str().expect("id").to_owned();
        for kind in values("FileUpload", "kind") {
            let r = crate::files::upload(&app, student.token(), &project, &kind, crate::files::png(), "p.png").await;
            assert_eq!(r.status, StatusCode::CREATED, "{kind}: {}", r.body);
        }
        // A download's Content-Type is one the document lists for it.
        let r = crate::files::upload(&app, student.token(), &project, "project", crate::files::pdf(), "d.pdf").await;
        let id = r.body["id"].as_str().expect("id");
        let served = app.client.get(format!("{}/api/files/{id}", app.address))
            .bearer_auth(student.token().expect("token")).send().await.expect("download");
        let content_type = served.headers()["content-type"].to_str().expect("ascii").to_owned();
        let listed = &doc["paths"]["/api/files/{id}"]["get"]["responses"]["200"]["content"];
        assert!(listed.get(&content_type).is_some(), "{content_type} not in {listed}");
    }

    async fn the_document_reads_well_in_docs_and_generators(app: TestApp) {
        let doc = app.get("/openapi.json", None).await.body;
        let tags: Vec<&str> = doc["tags"].as_array().expect("tags").iter()
            .map(|t| t["name"].as_str().expect("name")).collect();
        assert_eq!(tags.first(), Some(&"auth"), "{tags:?}");
        assert_eq!(&tags[tags.len() - 2..], ["admin", "operations"], "{tags:?}");
        for (method, template, _) in operations(&doc) {
            let op = &doc["paths"][&template][&method];
            for tag in op["tags"].as_array().expect("tags") {
                assert!(tags.contains(&tag.as_str().expect("tag")), "{method} {template}: {tag} not listed");
            }
            let summary = op["summary"].as_str().unwrap_or_default();
            assert!(!summary.contains('`'), "{method} {template}: {summary}");
            for (status, response) in op["responses"].as_object().expect("responses") {
                let description = response["description"].as_str().unwrap_or_default();
                assert!(!description.is_empty(), "{method} {template} {status}: no description");
            }
        }
    }
}

/// Every `$ref` and link `operationRef` in `value`, recursively.
fn references(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for key in ["$ref", "operationRef"] {
                if let Some(Value::String(target)) = map.get(key) {
                    out.push(target.clone());
                }
            }
            map.values().for_each(|v| references(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, out)),
        _ => {}
    }
}

/// Routes may only be added through `routes!` (which documents them), never `.route(`.
#[test]
fn handlers_are_only_routed_through_the_documenting_macro() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/http");
    for entry in std::fs::read_dir(dir).expect("src/http") {
        let path = entry.expect("entry").path();
        let source = std::fs::read_to_string(&path).expect("source");
        // Unit tests may build throw-away routers.
        let product = source.split("#[cfg(test)]").next().unwrap_or_default();
        assert!(
            !product.contains(".route("),
            "{} adds an undocumented route",
            path.display()
        );
    }
}
