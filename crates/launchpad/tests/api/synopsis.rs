//! Synopsis: submission (file, synopsis and the project's move in one transaction),
//! admin review, withdrawal, lists, and the project's trash taking them along.

use launchpad::entity::synopsis;
use reqwest::StatusCode;
use reqwest::multipart::Form;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::both_backends;
use crate::files::{
    PDF_TYPE, download, exe, file_part, file_rows, pdf, png, project, send_form, sha256, stored,
};
use crate::helpers::{Response, TestApp};

/// Submits `bytes` as the synopsis of `project`.
async fn submit_file(
    app: &TestApp,
    token: Option<&str>,
    project: &str,
    title: &str,
    bytes: Vec<u8>,
) -> Response {
    let form = Form::new()
        .text("project_id", project.to_owned())
        .text("title", title.to_owned())
        .part("file", file_part(bytes, "synopsis.pdf", PDF_TYPE));
    send_form(app, "/api/synopsis", token, form).await
}

async fn submit(app: &TestApp, token: Option<&str>, project: &str, title: &str) -> Response {
    submit_file(app, token, project, title, pdf()).await
}

async fn review(
    app: &TestApp,
    token: Option<&str>,
    id: &str,
    decision: &str,
    comment: &str,
) -> Response {
    app.post(
        &format!("/api/admin/synopsis/{id}/review"),
        token,
        json!({"decision": decision, "comment": comment}),
    )
    .await
}

async fn project_status(app: &TestApp, token: Option<&str>, id: &str) -> Value {
    let r = app.get(&format!("/api/projects/{id}"), token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["status"].clone()
}

fn id_of(r: &Response) -> String {
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().expect("id").to_owned()
}

async fn synopsis_rows(app: &TestApp) -> u64 {
    synopsis::Entity::find()
        .count(&app.db)
        .await
        .expect("count synopsis")
}

both_backends! {
    async fn submitting_a_synopsis_stores_its_file_and_moves_the_project_to_synopsis_pending(app: TestApp) {
        let s = app.register("syn@example.com").await;
        let p = project(&app, s.token(), "Smart campus").await;
        let r = submit(&app, s.token(), &p, "  Smart campus synopsis ").await;
        let id = id_of(&r);
        assert_eq!(r.body["title"], "Smart campus synopsis");
        assert_eq!(r.body["status"], "Pending");
        assert_eq!(r.body["project_id"], p.as_str());
        assert_eq!(r.body["user_id"], json!(s.user_id));
        assert_eq!(r.body["reviewer_id"], Value::Null);
        let file_id = r.body["file_id"].as_str().expect("file_id").to_owned();

        let project = app.get(&format!("/api/projects/{p}"), s.token()).await.body;
        assert_eq!(project["status"], "synopsis_pending");
        assert_eq!(project["synopsis_submitted"], true);
        // The file is one of the project's files, of kind synopsis, and downloads.
        let files = app.get(&format!("/api/projects/{p}/files?kind=synopsis"), s.token()).await.body;
        assert_eq!(files["data"][0]["id"], file_id.as_str());
        assert_eq!(files["data"][0]["sha256"], sha256(&pdf()));
        assert_eq!(download(&app, s.token(), &file_id).await.2, pdf());
        let r = app.get(&format!("/api/synopsis/{id}"), s.token()).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["file_id"], file_id.as_str());
        let logged = app.activity("synopsis.submit").await;
        assert_eq!(logged.len(), 1);
        assert_eq!(logged[0].details["project_id"], p.as_str());
        assert_eq!(logged[0].details["file_id"], file_id.as_str());
        // A synopsis file is withdrawn with its synopsis, not on its own.
        app.delete(&format!("/api/files/{file_id}"), s.token()).await.assert_error(StatusCode::CONFLICT);
    }

    async fn a_second_submission_while_one_is_pending_is_409_and_leaves_nothing_behind(app: TestApp) {
        let s = app.register("twice@example.com").await;
        let p = project(&app, s.token(), "Twice").await;
        id_of(&submit(&app, s.token(), &p, "First try").await);
        let before = (stored(&app), file_rows(&app).await, synopsis_rows(&app).await);
        let r = submit(&app, s.token(), &p, "Second try").await;
        r.assert_error(StatusCode::CONFLICT);
        assert_eq!(r.body["details"]["field"], "project_id", "{}", r.body);
        assert_eq!((stored(&app), file_rows(&app).await, synopsis_rows(&app).await), before);
        assert_eq!(app.activity("synopsis.submit").await.len(), 1);
    }

    async fn approval_moves_the_project_to_in_progress_and_a_second_review_is_409(app: TestApp) {
        let s = app.register("approve@example.com").await;
        let p = project(&app, s.token(), "Approved one").await;
        let id = id_of(&submit(&app, s.token(), &p, "Worth approving").await);
        let admin = app.admin().await;
        let r = review(&app, admin.token(), &id, "Approved", "Good scope").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["status"], "Approved");
        assert_eq!(r.body["review_comment"], "Good scope");
        assert!(r.body["reviewer_id"].is_string());
        assert!(r.body["reviewed_at"].is_string());
        assert_eq!(project_status(&app, s.token(), &p).await, "in_progress");
        let logged = app.activity("synopsis.review").await;
        assert_eq!(logged.len(), 1);
        assert_eq!(logged[0].details["decision"], "Approved");
        assert_eq!(logged[0].details["project_status"], "in_progress");

        // Reviewed once: nothing is allowed any more, and nothing changes.
        let r = review(&app, admin.token(), &id, "Rejected", "Changed my mind").await;
        r.assert_error(StatusCode::CONFLICT);
        assert_eq!(r.body["details"]["allowed"], json!([]));
        let r = app.get(&format!("/api/synopsis/{id}"), s.token()).await;
        assert_eq!(r.body["status"], "Approved");
        assert_eq!(r.body["review_comment"], "Good scope");
        assert_eq!(project_status(&app, s.token(), &p).await, "in_progress");
        assert_eq!(app.activity("synopsis.review").await.len(), 1);
        // An approved project takes no new synopsis.
        submit(&app, s.token(), &p, "Another one").await.assert_error(StatusCode::CONFLICT);
        assert_eq!(project_status(&app, s.token(), &p).await, "in_progress");
    }

    async fn rejection_sends_the_project_back_to_idea_pending_and_a_new_submission_works(app: TestApp) {
        let s = app.register("reject@example.com").await;
        let p = project(&app, s.token(), "Rejected one").await;
        let first = id_of(&submit(&app, s.token(), &p, "Too broad").await);
        let admin = app.admin().await;
        let r = review(&app, admin.token(), &first, "Rejected", "Narrow it down").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["status"], "Rejected");
        assert_eq!(project_status(&app, s.token(), &p).await, "idea_pending");

        let second = id_of(&submit(&app, s.token(), &p, "Narrower").await);
        assert_ne!(first, second);
        assert_eq!(project_status(&app, s.token(), &p).await, "synopsis_pending");
        let r = review(&app, admin.token(), &second, "Approved", "").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["review_comment"], Value::Null);
        assert_eq!(project_status(&app, s.token(), &p).await, "in_progress");
        let decisions: Vec<Value> = app.activity("synopsis.review").await.iter().map(|l| l.details["decision"].clone()).collect();
        assert_eq!(decisions, [json!("Rejected"), json!("Approved")]);
    }

    async fn reviews_are_validated_and_only_for_admins(app: TestApp) {
        let s = app.register("validate@example.com").await;
        let p = project(&app, s.token(), "Validated").await;
        let id = id_of(&submit(&app, s.token(), &p, "Under review").await);
        let admin = app.admin().await;
        let path = format!("/api/admin/synopsis/{id}/review");
        let r = app.post(&path, admin.token(), json!({"decision": "Maybe"})).await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.body["details"]["allowed"], json!(["Approved", "Rejected"]));
        let r = app.post(&path, admin.token(), json!({"decision": "Rejected"})).await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.body["details"]["field"], "comment");
        app.post(&path, admin.token(), json!({"decision": "Approved", "status": "Approved"})).await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        app.post(&path, s.token(), json!({"decision": "Approved"})).await.assert_error(StatusCode::FORBIDDEN);
        app.post(&path, None, json!({"decision": "Approved"})).await.assert_error(StatusCode::UNAUTHORIZED);
        let missing = uuid::Uuid::now_v7();
        review(&app, admin.token(), &missing.to_string(), "Approved", "ok").await.assert_error(StatusCode::NOT_FOUND);
        assert_eq!(app.get(&format!("/api/synopsis/{id}"), s.token()).await.body["status"], "Pending");
        assert!(app.activity("synopsis.review").await.is_empty());
    }

    async fn bad_submissions_are_refused_and_change_nothing(app: TestApp) {
        let s = app.register("badsyn@example.com").await;
        let p = project(&app, s.token(), "Careful").await;
        submit_file(&app, s.token(), &p, "Disguised", exe()).await.assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE);
        submit_file(&app, s.token(), &p, "Empty", Vec::new()).await.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        let r = submit(&app, s.token(), &p, "ab").await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.body["details"]["field"], "title");
        let r = submit(&app, s.token(), "not-a-uuid", "Fine title").await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.body["details"]["field"], "project_id");
        let form = Form::new().text("project_id", p.clone()).part("file", file_part(pdf(), "s.pdf", PDF_TYPE));
        let r = send_form(&app, "/api/synopsis", s.token(), form).await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.body["details"]["field"], "title");
        let form = Form::new().text("project_id", p.clone()).text("title", "No file");
        let r = send_form(&app, "/api/synopsis", s.token(), form).await;
        assert_eq!(r.body["details"]["field"], "file", "{}", r.body);
        submit(&app, s.token(), &uuid::Uuid::now_v7().to_string(), "Nowhere").await.assert_error(StatusCode::NOT_FOUND);

        assert_eq!(project_status(&app, s.token(), &p).await, "idea_pending");
        assert_eq!(stored(&app), Vec::<String>::new());
        assert_eq!((file_rows(&app).await, synopsis_rows(&app).await), (0, 0));
    }

    async fn another_students_project_and_synopsis_answer_404(app: TestApp) {
        let owner = app.register("synowner@example.com").await;
        let other = app.register("synother@example.com").await;
        let p = project(&app, owner.token(), "Private").await;
        submit(&app, other.token(), &p, "Not mine").await.assert_error(StatusCode::NOT_FOUND);
        let id = id_of(&submit(&app, owner.token(), &p, "Mine").await);
        app.get(&format!("/api/synopsis/{id}"), other.token()).await.assert_error(StatusCode::NOT_FOUND);
        app.delete(&format!("/api/synopsis/{id}"), other.token()).await.assert_error(StatusCode::NOT_FOUND);
        assert_eq!(app.get("/api/synopsis", other.token()).await.body["meta"]["total"], 0);
        assert_eq!(stored(&app).len(), 1);
        // An admin reads it, but withdraws nobody's synopsis.
        let admin = app.admin().await;
        assert_eq!(app.get(&format!("/api/synopsis/{id}"), admin.token()).await.status, StatusCode::OK);
        app.delete(&format!("/api/synopsis/{id}"), admin.token()).await.assert_error(StatusCode::FORBIDDEN);
    }

    async fn withdrawing_a_pending_synopsis_lets_the_student_submit_again(app: TestApp) {
        let s = app.register("withdraw@example.com").await;
        let p = project(&app, s.token(), "Second thoughts").await;
        let id = id_of(&submit(&app, s.token(), &p, "Hasty").await);
        let r = app.delete(&format!("/api/synopsis/{id}"), s.token()).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        app.get(&format!("/api/synopsis/{id}"), s.token()).await.assert_error(StatusCode::NOT_FOUND);
        assert_eq!(project_status(&app, s.token(), &p).await, "idea_pending");
        let logged = app.activity("synopsis.delete").await;
        assert_eq!(logged.len(), 1);
        assert_eq!(logged[0].details["project_status"], "idea_pending");
        id_of(&submit(&app, s.token(), &p, "Considered").await);
        assert_eq!(app.get("/api/synopsis", s.token()).await.body["meta"]["total"], 1);
    }

    async fn deleting_a_project_takes_its_synopsis_and_files_and_restoring_it_brings_them_back(app: TestApp) {
        let s = app.register("trash@example.com").await;
        let p = project(&app, s.token(), "Binned").await;
        let syn = id_of(&submit(&app, s.token(), &p, "Binned synopsis").await);
        let r = crate::files::upload(&app, s.token(), &p, "project", png(), "pic.png").await;
        let file = id_of(&r);
        let r = app.delete(&format!("/api/projects/{p}"), s.token()).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);

        assert_eq!(app.get("/api/synopsis", s.token()).await.body["meta"]["total"], 0);
        app.get(&format!("/api/synopsis/{syn}"), s.token()).await.assert_error(StatusCode::NOT_FOUND);
        app.get(&format!("/api/projects/{p}/files"), s.token()).await.assert_error(StatusCode::NOT_FOUND);
        assert_eq!(download(&app, s.token(), &file).await.0, StatusCode::NOT_FOUND);
        let admin = app.admin().await;
        assert_eq!(app.get("/api/synopsis", admin.token()).await.body["meta"]["total"], 0);
        // The bytes stay on disk while the rows are in the trash.
        assert_eq!(stored(&app).len(), 2);

        let r = app.post(&format!("/api/admin/trash/project/{p}/restore"), admin.token(), json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["restored"]["synopsis"], 1);
        assert_eq!(r.body["restored"]["files"], 2);
        let r = app.get(&format!("/api/synopsis/{syn}"), s.token()).await;
        assert_eq!(r.body["status"], "Pending");
        assert_eq!(app.get(&format!("/api/projects/{p}/files"), s.token()).await.body["meta"]["total"], 2);
        assert_eq!(download(&app, s.token(), &file).await.2, png());
        // Still pending: the admin can review it as before.
        assert_eq!(review(&app, admin.token(), &syn, "Approved", "Welcome back").await.status, StatusCode::OK);
        assert_eq!(project_status(&app, s.token(), &p).await, "in_progress");
    }

    async fn the_synopsis_list_filters_sorts_searches_and_pages(app: TestApp) {
        let s = app.register("many@example.com").await;
        let other = app.register("someone@example.com").await;
        let admin = app.admin().await;
        let mut ids = Vec::new();
        for title in ["Beta drone", "Alpha robot", "Gamma drone"] {
            let p = project(&app, s.token(), title).await;
            ids.push(id_of(&submit(&app, s.token(), &p, title).await));
        }
        let p = project(&app, other.token(), "Elsewhere").await;
        id_of(&submit(&app, other.token(), &p, "Delta drone").await);
        review(&app, admin.token(), &ids[0], "Approved", "ok").await;
        review(&app, admin.token(), &ids[1], "Rejected", "no").await;

        let titles = |r: &Response| -> Vec<String> {
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            r.body["data"].as_array().expect("data").iter().map(|x| x["title"].as_str().expect("title").to_owned()).collect()
        };
        let list = async |q: &str, token: Option<&str>| app.get(&format!("/api/synopsis{q}"), token).await;
        let r = list("", s.token()).await;
        assert_eq!(r.body["meta"], json!({"total": 3, "page": 1, "per_page": 20, "total_pages": 1}));
        assert_eq!(titles(&r), ["Gamma drone", "Alpha robot", "Beta drone"]);
        assert_eq!(titles(&list("?status=Pending", s.token()).await), ["Gamma drone"]);
        assert_eq!(titles(&list("?status=Approved", s.token()).await), ["Beta drone"]);
        assert_eq!(titles(&list("?search=DRONE&sort_by=title&sort_order=asc", s.token()).await), ["Beta drone", "Gamma drone"]);
        assert_eq!(titles(&list("?sort_by=status&sort_order=asc", s.token()).await), ["Beta drone", "Gamma drone", "Alpha robot"]);
        let r = list("?sort_by=title&sort_order=asc&per_page=2&page=2", s.token()).await;
        assert_eq!(titles(&r), ["Gamma drone"]);
        assert_eq!(r.body["meta"]["total_pages"], 2);
        // The most recently updated: the two reviewed ones, last review first.
        assert_eq!(titles(&list("?sort_by=updated_at&per_page=2", s.token()).await), ["Alpha robot", "Beta drone"]);
        let r = list(&format!("?project_id={p}"), admin.token()).await;
        assert_eq!(titles(&r), ["Delta drone"]);
        assert_eq!(list("?status=Pending", admin.token()).await.body["meta"]["total"], 2);
        assert_eq!(list("", admin.token()).await.body["meta"]["total"], 4);

        let r = list("?status=pending", s.token()).await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.body["details"]["allowed"], json!(["Pending", "Approved", "Rejected"]));
        let r = list("?sort_by=file_id", s.token()).await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.body["details"]["allowed"], json!(["created_at", "updated_at", "status", "title"]));
        list("?per_page=101", s.token()).await.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        list("", None).await.assert_error(StatusCode::UNAUTHORIZED);
    }
}
