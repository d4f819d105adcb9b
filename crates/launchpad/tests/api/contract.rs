//! The document states every rule the server enforces on a request, and the server keeps
//! exactly the rules the document states: lengths, patterns, bounds, closed forms,
//! rules between fields, and what a generated client sends (whole numbers as `4.0`).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::TestApp;

/// Body fields any text may fill, each answered by a 401 or 403 when wrong, not a 422:
/// secrets checked against what is stored.
const OPAQUE: &[(&str, &str)] = &[
    ("LoginIn", "email"),
    ("LoginIn", "password"),
    ("RefreshIn", "refresh_token"),
    ("ChangePasswordIn", "current_password"),
];

/// Every schema that is some operation's request body.
fn body_schemas(doc: &Value) -> Vec<String> {
    let mut names = Vec::new();
    for item in doc["paths"].as_object().expect("paths").values() {
        for op in item.as_object().expect("item").values() {
            for media in op["requestBody"]["content"]
                .as_object()
                .into_iter()
                .flatten()
            {
                if let Some(name) = media.1["schema"]["$ref"].as_str() {
                    names.push(name.rsplit('/').next().expect("name").to_owned());
                }
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

fn has_type(schema: &Value, name: &str) -> bool {
    schema["type"] == name
        || schema["type"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t == name))
}

/// Whether a string schema says which strings it takes.
fn bounded_text(schema: &Value) -> bool {
    schema.get("enum").is_some()
        || schema.get("format").is_some()
        || schema.get("maxLength").is_some()
}

async fn document(app: &TestApp) -> Value {
    app.get("/openapi.json", None).await.body
}

/// Whether the document takes `text` for the string schema `schema`, by its own keywords.
fn takes(schema: &Value, text: &str) -> bool {
    let chars = text.chars().count() as u64;
    let pattern = schema["pattern"]
        .as_str()
        .map(|p| regex::Regex::new(p).expect("pattern"));
    schema["minLength"].as_u64().is_none_or(|min| chars >= min)
        && schema["maxLength"].as_u64().is_none_or(|max| chars <= max)
        && pattern.is_none_or(|p| p.is_match(text))
}

/// Texts on each edge of a text rule.
fn samples() -> Vec<String> {
    let mut samples: Vec<String> = [
        "",
        " ",
        "ab",
        "abc",
        " abc ",
        "  a  ",
        "a\u{0}bc",
        "a\u{7}bc",
        "line\nbreak",
        "tab\tbed",
        "\u{3000}wide\u{3000}",
        "\u{a0}ab\u{a0}",
        "zero\u{200b}width",
        "+1 (555) 010-2030",
        "12345",
        " 123456 ",
        "１２３４５６",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    samples.push("x".repeat(200));
    samples.push("x".repeat(201));
    samples.push(format!(" {} ", "x".repeat(199)));
    samples
}

both_backends! {
    async fn every_body_field_states_what_it_takes(app: TestApp) {
        let doc = document(&app).await;
        let schemas = &doc["components"]["schemas"];
        let mut unbounded = Vec::new();
        let mut fields = 0;
        for name in body_schemas(&doc) {
            for (field, schema) in schemas[&name]["properties"].as_object().into_iter().flatten() {
                fields += 1;
                let ok = if OPAQUE.contains(&(name.as_str(), field.as_str())) {
                    true
                } else if has_type(schema, "string") {
                    bounded_text(schema)
                } else if has_type(schema, "array") {
                    schema.get("maxItems").is_some() && bounded_text(&schema["items"])
                } else if has_type(schema, "integer") {
                    schema.get("minimum").is_some()
                } else {
                    true
                };
                if !ok {
                    unbounded.push(format!("{name}.{field}: {schema}"));
                }
            }
        }
        assert!(fields > 60, "only {fields} fields");
        assert!(unbounded.is_empty(), "fields that take any value: {unbounded:#?}");
    }

    async fn each_kind_of_text_rule_takes_exactly_what_the_server_takes(app: TestApp) {
        let doc = document(&app).await;
        let schemas = &doc["components"]["schemas"];
        let student = app.register("texts@test.com").await;
        let project = app.post("/api/projects", student.token(), json!({"title": "Texts"})).await;
        let project = project.body["id"].as_str().expect("id").to_owned();
        let path = format!("/api/projects/{project}");
        // One field of each kind: a line, lines, a phone number, a password.
        let cases = [
            ("UpdateProjectIn", "title", path.as_str()),
            ("UpdateProjectIn", "description", path.as_str()),
            ("UpdateMeIn", "phone", "/api/users/me"),
        ];
        let mut checked = 0;
        for (schema, field, path) in cases {
            let rule = &schemas[schema]["properties"][field];
            for text in samples() {
                let r = app.patch(path, student.token(), json!({ field: text })).await;
                let taken = r.status == StatusCode::OK;
                assert!(taken || r.status == StatusCode::UNPROCESSABLE_ENTITY, "{field} {text:?}: {}", r.body);
                assert_eq!(takes(rule, &text), taken, "{schema}.{field} = {text:?}: the server answered {}", r.body);
                checked += 1;
            }
        }
        let rule = &schemas["RegisterIn"]["properties"]["password"];
        for (n, password) in ["short", "exactly8", " spaced ", &"p".repeat(128), &"p".repeat(129)].into_iter().enumerate() {
            let body = json!({"email": format!("pw{n}@test.com"), "name": "Pass Word", "password": password});
            let r = app.post("/api/auth/register", None, body).await;
            assert_eq!(takes(rule, password), r.status == StatusCode::CREATED, "{password:?}: {}", r.body);
            checked += 1;
        }
        assert!(checked > 60, "{checked}");
        // An error names the field as the body does.
        let change = json!({"current_password": "whatever1", "new_password": "short"});
        let r = app.post("/api/users/me/password", student.token(), change).await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.body["details"]["field"], "new_password", "{}", r.body);
    }

    async fn rules_between_fields_forms_and_open_objects_are_stated(app: TestApp) {
        let doc = document(&app).await;
        let schemas = &doc["components"]["schemas"];
        // A rejection needs a comment; a payment reference only comes with `paid`.
        let review = &schemas["ReviewIn"];
        assert_eq!(review["if"]["properties"]["decision"]["const"], "Rejected", "{review}");
        assert_eq!(review["then"]["required"], json!(["comment"]), "{review}");
        let order = &schemas["OrderStatusIn"];
        assert_eq!(order["if"]["properties"]["status"]["const"], "paid", "{order}");
        assert_eq!(order["else"]["properties"]["payment_reference"]["type"], "null", "{order}");
        // Forms take only their fields, and say which files they take.
        for (path, schema) in [("/api/projects/{id}/files", "FileUpload"), ("/api/synopsis", "SynopsisUpload")] {
            assert_eq!(schemas[schema]["additionalProperties"], false, "{schema}");
            let form = &doc["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"];
            let types = form["encoding"]["file"]["contentType"].as_str().expect("file types");
            assert!(types.contains("application/pdf") && types.contains("image/png"), "{types}");
        }
        // Objects whose keys vary say what their values are.
        assert_eq!(schemas["ErrorResponse"]["properties"]["details"]["additionalProperties"], true);
        assert_eq!(schemas["RestoredOut"]["properties"]["restored"]["additionalProperties"]["type"], "integer");
        // A list of things without a status has no status filter, and refuses one.
        let plans = doc["paths"]["/api/plans"]["get"]["parameters"].as_array().expect("params");
        assert!(plans.iter().all(|p| p["name"] != "status"), "{plans:?}");
        let r = app.get("/api/plans?status=active", None).await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.body["details"]["field"], "status", "{}", r.body);
        // Path and query parameters of a closed set are enums too.
        let restore = doc["paths"]["/api/admin/trash/{entity_type}/{id}/restore"]["post"]["parameters"].as_array().expect("params");
        let kinds = &restore.iter().find(|p| p["name"] == "entity_type").expect("entity_type")["schema"]["enum"];
        assert!(kinds.as_array().is_some_and(|k| k.len() == 12 && k.contains(&json!("plan"))), "{kinds}");
        // Paging is bounded on both sides, as the document says.
        let projects = doc["paths"]["/api/projects"]["get"]["parameters"].as_array().expect("params");
        let page = projects.iter().find(|p| p["name"] == "page").expect("page");
        let last = page["schema"]["maximum"].as_u64().expect("a last page");
        assert_eq!(page["schema"]["minimum"], 1);
        let student = app.login("student@test.com", "Test@1234").await;
        for (page, status) in [(0, StatusCode::UNPROCESSABLE_ENTITY), (last, StatusCode::OK), (last + 1, StatusCode::UNPROCESSABLE_ENTITY)] {
            let r = app.get(&format!("/api/projects?page={page}&per_page=100"), student.token()).await;
            assert_eq!(r.status, status, "page {page}: {}", r.body);
        }
    }

    async fn whole_numbers_written_with_a_fraction_are_integers(app: TestApp) {
        let student = app.register("whole@test.com").await;
        let body = |time: Value| json!({"message_type": "user", "message": "hello", "response_time_ms": time});
        let r = app.post("/api/chatbot/messages", student.token(), body(json!(74.0))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.body["response_time_ms"], 74, "{}", r.body);
        let r = app.post("/api/chatbot/messages", student.token(), body(json!(74.5))).await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.body["details"]["field"], "response_time_ms", "{}", r.body);
        let idea = app.post("/api/ideas", student.token(), json!({"title": "Whole", "complexity": "beginner", "tech_stack": []})).await;
        let rate = format!("/api/ideas/{}/rate", idea.body["id"].as_str().expect("id"));
        let r = app.post(&rate, student.token(), json!({"rating": 4.0})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["rating"], 4);
        app.post(&rate, student.token(), json!({"rating": 4.5})).await.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        app.post(&rate, student.token(), json!({"rating": 6})).await.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
    }

    async fn restoring_what_is_not_in_the_trash_conflicts_and_what_is_not_there_is_not_found(app: TestApp) {
        let admin = app.admin().await;
        let plan = json!({"name": "Restorable", "price": 10, "max_projects": 1, "support_level": "Basic"});
        let r = app.post("/api/admin/plans", admin.token(), plan).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let id = r.body["id"].as_str().expect("id").to_owned();
        let restore = format!("/api/admin/plans/{id}/restore");
        app.post(&restore, admin.token(), json!({})).await.assert_error(StatusCode::CONFLICT);
        assert_eq!(app.delete(&format!("/api/admin/plans/{id}"), admin.token()).await.status, StatusCode::NO_CONTENT);
        assert_eq!(app.post(&restore, admin.token(), json!({})).await.status, StatusCode::OK);
        app.post(&restore, admin.token(), json!({})).await.assert_error(StatusCode::CONFLICT);
        let nowhere = format!("/api/admin/trash/plan/{}/restore", uuid::Uuid::now_v7());
        app.post(&nowhere, admin.token(), json!({})).await.assert_error(StatusCode::NOT_FOUND);
    }
}
