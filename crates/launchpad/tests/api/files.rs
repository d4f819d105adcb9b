//! Project files: upload (type from the bytes, size limit, sha256, generated keys),
//! list, download and delete. The helpers here are shared with the synopsis tests.

use launchpad::entity::files;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use reqwest::multipart::{Form, Part};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::both_backends;
use crate::helpers::{Backend, Response, TestApp};

pub const PDF_TYPE: &str = "application/pdf";
pub const DOCX_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// A small but real PDF.
pub fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n\
2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
        .to_vec()
}

/// A 1×1 transparent PNG.
pub fn png() -> Vec<u8> {
    vec![
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F,
        0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00,
        0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49,
        0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ]
}

/// A Windows executable's first bytes: what a disguised upload looks like.
pub fn exe() -> Vec<u8> {
    let mut bytes = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".to_vec();
    bytes.resize(512, 0);
    bytes
}

/// A ZIP archive holding `entries`, stored uncompressed.
pub fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    let (mut out, mut central) = (Vec::new(), Vec::new());
    for (name, data) in entries {
        let offset = out.len() as u32;
        let (crc, size, name_len) = (crc32(data), data.len() as u32, name.len() as u16);
        let common = |v: &mut Vec<u8>| {
            v.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // version, flags, stored, time, date
            v.extend_from_slice(&crc.to_le_bytes());
            v.extend_from_slice(&size.to_le_bytes());
            v.extend_from_slice(&size.to_le_bytes());
            v.extend_from_slice(&name_len.to_le_bytes());
            v.extend_from_slice(&0u16.to_le_bytes()); // extra
        };
        out.extend_from_slice(b"PK\x03\x04");
        common(&mut out);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        central.extend_from_slice(b"PK\x01\x02\x14\x00");
        common(&mut central);
        central.extend_from_slice(&[0; 8]); // comment, disk, internal and…
        central.extend_from_slice(&[0; 4]); // …external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let (cd_offset, cd_size, n) = (out.len() as u32, central.len() as u32, entries.len() as u16);
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06\x00\x00\x00\x00");
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&cd_size.to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

/// A minimal Word document: a ZIP whose first entry is under `word/`.
pub fn docx() -> Vec<u8> {
    zip(&[
        ("word/document.xml", b"<w:document/>"),
        ("[Content_Types].xml", b"<Types/>"),
    ])
}

pub fn sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// A form part holding a file.
pub fn file_part(bytes: Vec<u8>, name: &str, mime: &str) -> Part {
    Part::bytes(bytes)
        .file_name(name.to_owned())
        .mime_str(mime)
        .expect("mime")
}

/// Sends a multipart form.
pub async fn send_form(app: &TestApp, path: &str, token: Option<&str>, form: Form) -> Response {
    let mut req = app
        .client
        .post(format!("{}{path}", app.address))
        .multipart(form);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    Response::read(req.send().await.expect("request sent")).await
}

/// Uploads `bytes` as a project file of `kind`; the response.
pub async fn upload(
    app: &TestApp,
    token: Option<&str>,
    project: &str,
    kind: &str,
    bytes: Vec<u8>,
    name: &str,
) -> Response {
    let form = Form::new()
        .text("kind", kind.to_owned())
        .part("file", file_part(bytes, name, "application/octet-stream"));
    send_form(app, &format!("/api/projects/{project}/files"), token, form).await
}

/// Uploads a PDF whose part header carries `file_name` exactly as given (no client-side
/// quoting or encoding).
async fn raw_name_upload(
    app: &TestApp,
    token: Option<&str>,
    project: &str,
    file_name: &[u8],
) -> Response {
    let boundary = "launchpad-raw-name";
    let mut body = format!(
        "--{boundary}\r\ncontent-disposition: form-data; name=\"kind\"\r\n\r\nproject\r\n\
         --{boundary}\r\ncontent-disposition: form-data; name=\"file\"; filename=\""
    )
    .into_bytes();
    body.extend_from_slice(file_name);
    body.extend_from_slice(b"\"\r\ncontent-type: application/pdf\r\n\r\n");
    body.extend_from_slice(&pdf());
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mut req = app
        .client
        .post(format!("{}/api/projects/{project}/files", app.address))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    Response::read(req.send().await.expect("request sent")).await
}

/// A downloaded file: status, headers and the raw bytes.
pub async fn download(
    app: &TestApp,
    token: Option<&str>,
    id: &str,
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = app.client.get(format!("{}/api/files/{id}", app.address));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let r = req.send().await.expect("request sent");
    let (status, headers) = (r.status(), r.headers().clone());
    (
        status,
        headers,
        r.bytes().await.expect("body read").to_vec(),
    )
}

/// Creates a project; its id.
pub async fn project(app: &TestApp, token: Option<&str>, title: &str) -> String {
    let r = app
        .post("/api/projects", token, json!({"title": title}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().expect("id").to_owned()
}

/// The names of everything in the server's upload directory, sorted.
pub fn stored(app: &TestApp) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(&app.upload_dir)
        .map(|dir| {
            dir.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Rows in `files`, deleted ones too.
pub async fn file_rows(app: &TestApp) -> u64 {
    files::Entity::find()
        .count(&app.db)
        .await
        .expect("count files")
}

fn ids(body: &Value) -> Vec<&str> {
    body["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect()
}

both_backends! {
    async fn pdf_png_zip_and_docx_uploads_record_their_detected_type_size_and_sha256(app: TestApp) {
        let s = app.register("up@example.com").await;
        let p = project(&app, s.token(), "Uploads").await;
        let cases = [
            (pdf(), "report.pdf", "project", PDF_TYPE),
            (png(), "diagram.png", "project", "image/png"),
            (zip(&[("src/main.rs", b"fn main() {}")]), "code.zip", "project", "application/zip"),
            (docx(), "blackbook.docx", "blackbook", DOCX_TYPE),
        ];
        let mut keys = Vec::new();
        for (bytes, name, kind, content_type) in cases {
            let r = upload(&app, s.token(), &p, kind, bytes.clone(), name).await;
            assert_eq!(r.status, StatusCode::CREATED, "{name}: {}", r.body);
            assert_eq!(r.body["project_id"], p.as_str());
            assert_eq!(r.body["kind"], kind);
            assert_eq!(r.body["original_name"], name);
            assert_eq!(r.body["content_type"], content_type, "{name}");
            assert_eq!(r.body["size_bytes"], bytes.len());
            assert_eq!(r.body["sha256"], sha256(&bytes));
            assert!(r.body["created_at"].is_string());
            let row = files::Entity::find_by_id(r.body["id"].as_str().expect("id").parse::<uuid::Uuid>().expect("uuid"))
                .one(&app.db).await.expect("read").expect("row");
            // Stored under a generated key, never the client's name; nothing temporary left.
            assert_eq!(std::fs::read(app.upload_dir.join(&row.storage_key)).expect("stored file"), bytes);
            keys.push(row.storage_key);
        }
        keys.sort();
        assert_eq!(stored(&app), keys);
        assert!(keys.iter().all(|k| k.len() == 32 && k.chars().all(|c| c.is_ascii_hexdigit())), "{keys:?}");
        let logged = app.activity("file.upload").await;
        assert_eq!(logged.len(), 4);
        assert_eq!(logged[0].details["kind"], "project");
    }

    async fn a_download_answers_the_same_bytes_with_type_length_and_attachment_name(app: TestApp) {
        let s = app.register("down@example.com").await;
        let p = project(&app, s.token(), "Downloads").await;
        let bytes = png();
        let r = upload(&app, s.token(), &p, "project", bytes.clone(), "Schéma \"final\".png").await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.body["original_name"], "Schéma final.png");
        let id = r.body["id"].as_str().expect("id");
        let (status, headers, body) = download(&app, s.token(), id).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, bytes);
        assert_eq!(headers["content-type"], "image/png");
        assert_eq!(headers["content-length"], bytes.len().to_string().as_str());
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(
            headers["content-disposition"],
            "attachment; filename=\"Sch_ma final.png\"; filename*=UTF-8''Sch%C3%A9ma%20final.png"
        );
        let logged = app.activity("file.download").await;
        assert_eq!(logged.len(), 1);
        assert_eq!(logged[0].entity_id.map(|u| u.to_string()).as_deref(), Some(id));
        assert_eq!(logged[0].user_id, s.user_id);
    }

    async fn bytes_that_are_not_what_the_name_and_content_type_claim_are_415_and_leave_nothing(app: TestApp) {
        let s = app.register("exe@example.com").await;
        let p = project(&app, s.token(), "Disguised").await;
        for (bytes, name, mime) in [
            (exe(), "report.pdf", PDF_TYPE),
            (b"just some text, honest".to_vec(), "notes.pdf", PDF_TYPE),
            (b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec(), "logo.png", "image/png"),
        ] {
            let form = Form::new().text("kind", "project").part("file", file_part(bytes, name, mime));
            send_form(&app, &format!("/api/projects/{p}/files"), s.token(), form).await
                .assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE);
        }
        assert_eq!(stored(&app), Vec::<String>::new());
        assert_eq!(file_rows(&app).await, 0);
        assert!(app.activity("file.upload").await.is_empty());
    }

    async fn empty_files_missing_fields_bad_kinds_and_unknown_fields_are_422(app: TestApp) {
        let s = app.register("bad@example.com").await;
        let p = project(&app, s.token(), "Bad input").await;
        let path = format!("/api/projects/{p}/files");
        let pdf_part = || file_part(pdf(), "a.pdf", PDF_TYPE);
        let cases = [
            (Form::new().text("kind", "project").part("file", file_part(Vec::new(), "empty.pdf", PDF_TYPE)), "file"),
            (Form::new().text("kind", "project"), "file"),
            (Form::new().part("file", pdf_part()), "kind"),
            (Form::new().text("kind", "synopsis").part("file", pdf_part()), "kind"),
            (Form::new().text("kind", "homework").part("file", pdf_part()), "kind"),
            (Form::new().text("kind", "project").text("owner_id", "x").part("file", pdf_part()), "owner_id"),
            (Form::new().text("kind", "project").part("file", pdf_part()).part("file", pdf_part()), "file"),
        ];
        for (form, field) in cases {
            let r = send_form(&app, &path, s.token(), form).await;
            r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(r.body["details"]["field"], field, "{}", r.body);
        }
        let r = upload(&app, s.token(), &p, "homework", pdf(), "a.pdf").await;
        assert_eq!(r.body["details"]["allowed"], json!(["project", "blackbook"]));
        // Not a form at all.
        app.post(&path, s.token(), json!({"kind": "project"})).await
            .assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(stored(&app), Vec::<String>::new());
        assert_eq!(file_rows(&app).await, 0);
    }

    async fn a_path_traversal_file_name_is_stored_as_a_harmless_base_name(app: TestApp) {
        let s = app.register("dots@example.com").await;
        let p = project(&app, s.token(), "Traversal").await;
        for (raw, stored_as) in [
            ("../../etc/passwd", "passwd"),
            ("..\\..\\windows\\win.ini", "win.ini"),
            ("/", "upload"),
        ] {
            let r = upload(&app, s.token(), &p, "project", pdf(), raw).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            assert_eq!(r.body["original_name"], stored_as);
            let (_, headers, _) = download(&app, s.token(), r.body["id"].as_str().expect("id")).await;
            assert_eq!(headers["content-disposition"], format!("attachment; filename=\"{stored_as}\"").as_str());
        }
        // Everything landed inside the upload directory, under generated keys.
        assert_eq!(stored(&app).len(), 3);
        assert!(stored(&app).iter().all(|k| k.len() == 32));
        // Names no well-behaved client sends, byte for byte: stored harmlessly or refused.
        for raw in [
            &b"/etc/passwd"[..],
            b"..\\x",
            b"C:\\Windows\\system.ini",
            b"a\0b.pdf",
            b"..\0/..\0/shadow",
            b"....//....//etc",
            b"%2e%2e%2fsecret",
        ] {
            let r = raw_name_upload(&app, s.token(), &p, raw).await;
            let shown = String::from_utf8_lossy(raw);
            if r.status.is_client_error() {
                r.assert_error(r.status);
                continue;
            }
            assert_eq!(r.status, StatusCode::CREATED, "{shown:?}: {}", r.body);
            let name = r.body["original_name"].as_str().expect("name");
            assert!(
                !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\', '\0']),
                "{shown:?} stored as {name:?}"
            );
        }
        assert!(stored(&app).iter().all(|k| k.len() == 32), "{:?}", stored(&app));
        let parent = app.upload_dir.parent().expect("a parent");
        for escaped in ["passwd", "x", "system.ini", "shadow", "etc", "secret"] {
            assert!(!parent.join(escaped).exists(), "{escaped} written outside UPLOAD_DIR");
        }
        let long = format!("{}.pdf", "a".repeat(400));
        let r = upload(&app, s.token(), &p, "project", pdf(), &long).await;
        let name = r.body["original_name"].as_str().expect("name");
        assert_eq!(name.chars().count(), 200);
        assert!(name.ends_with(".pdf"));
    }

    async fn another_students_project_and_files_answer_404(app: TestApp) {
        let owner = app.register("owner@example.com").await;
        let other = app.register("other@example.com").await;
        let p = project(&app, owner.token(), "Mine").await;
        let r = upload(&app, owner.token(), &p, "project", pdf(), "mine.pdf").await;
        let id = r.body["id"].as_str().expect("id").to_owned();

        upload(&app, other.token(), &p, "project", pdf(), "intruder.pdf").await.assert_error(StatusCode::NOT_FOUND);
        app.get(&format!("/api/projects/{p}/files"), other.token()).await.assert_error(StatusCode::NOT_FOUND);
        let (status, _, _) = download(&app, other.token(), &id).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        app.delete(&format!("/api/files/{id}"), other.token()).await.assert_error(StatusCode::NOT_FOUND);
        // Exactly like ids that do not exist.
        let missing = uuid::Uuid::now_v7();
        upload(&app, owner.token(), &missing.to_string(), "project", pdf(), "x.pdf").await.assert_error(StatusCode::NOT_FOUND);
        let (status, _, _) = download(&app, owner.token(), &missing.to_string()).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // And nobody without a token.
        upload(&app, None, &p, "project", pdf(), "anon.pdf").await.assert_error(StatusCode::UNAUTHORIZED);
        let (status, _, _) = download(&app, None, &id).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(stored(&app).len(), 1);
        assert_eq!(file_rows(&app).await, 1);
    }

    async fn an_admin_lists_and_downloads_any_students_files_but_deletes_none(app: TestApp) {
        let s = app.register("student@example.com").await;
        let p = project(&app, s.token(), "Checked").await;
        let r = upload(&app, s.token(), &p, "blackbook", pdf(), "bb.pdf").await;
        let id = r.body["id"].as_str().expect("id").to_owned();
        let admin = app.admin().await;
        let list = app.get(&format!("/api/projects/{p}/files"), admin.token()).await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.body);
        assert_eq!(ids(&list.body), [id.as_str()]);
        let (status, headers, body) = download(&app, admin.token(), &id).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers["content-type"], PDF_TYPE);
        assert_eq!(body, pdf());
        let logged = app.activity("file.download").await;
        assert_eq!(logged.len(), 1);
        assert_ne!(logged[0].user_id, s.user_id, "logged as the admin");
        assert_eq!(logged[0].details["owner_id"], json!(s.user_id));
        app.delete(&format!("/api/files/{id}"), admin.token()).await.assert_error(StatusCode::FORBIDDEN);
        // Admins upload to nobody's project through the student route.
        upload(&app, admin.token(), &p, "project", pdf(), "a.pdf").await.assert_error(StatusCode::FORBIDDEN);
    }

    async fn a_projects_files_are_filtered_by_kind_searched_sorted_and_paged(app: TestApp) {
        let s = app.register("lister@example.com").await;
        let p = project(&app, s.token(), "Listed").await;
        let other = project(&app, s.token(), "Other").await;
        for (kind, name, bytes) in [
            ("project", "b-small.png", png()),
            ("project", "a-report.pdf", pdf()),
            ("blackbook", "c-black.pdf", pdf()),
        ] {
            assert_eq!(upload(&app, s.token(), &p, kind, bytes, name).await.status, StatusCode::CREATED);
        }
        upload(&app, s.token(), &other, "project", pdf(), "elsewhere.pdf").await;
        let list = async |q: &str| app.get(&format!("/api/projects/{p}/files{q}"), s.token()).await;
        let r = list("").await;
        assert_eq!(r.body["meta"], json!({"total": 3, "page": 1, "per_page": 20, "total_pages": 1}));
        let names = |body: &Value| -> Vec<String> {
            body["data"].as_array().expect("data").iter().map(|f| f["original_name"].as_str().expect("name").to_owned()).collect()
        };
        // Newest first by default.
        assert_eq!(names(&r.body), ["c-black.pdf", "a-report.pdf", "b-small.png"]);
        let r = list("?kind=project&sort_by=original_name&sort_order=asc").await;
        assert_eq!(names(&r.body), ["a-report.pdf", "b-small.png"]);
        let r = list("?sort_by=size_bytes&sort_order=asc&per_page=1&page=1").await;
        assert_eq!(names(&r.body), ["b-small.png"]);
        assert_eq!(r.body["meta"]["total_pages"], 3);
        let r = list("?search=REPORT").await;
        assert_eq!(names(&r.body), ["a-report.pdf"]);
        let r = list("?kind=essay").await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.body["details"]["allowed"], json!(["synopsis", "project", "blackbook"]));
        list("?sort_by=storage_key").await.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
        list("?status=Pending").await.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
    }

    async fn a_deleted_file_leaves_the_list_and_cannot_be_downloaded(app: TestApp) {
        let s = app.register("deleter@example.com").await;
        let p = project(&app, s.token(), "Cleanup").await;
        let r = upload(&app, s.token(), &p, "project", pdf(), "old.pdf").await;
        let id = r.body["id"].as_str().expect("id").to_owned();
        let r = app.delete(&format!("/api/files/{id}"), s.token()).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        let list = app.get(&format!("/api/projects/{p}/files"), s.token()).await;
        assert_eq!(list.body["meta"]["total"], 0);
        let (status, _, _) = download(&app, s.token(), &id).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        app.delete(&format!("/api/files/{id}"), s.token()).await.assert_error(StatusCode::NOT_FOUND);
        assert_eq!(app.activity("file.delete").await.len(), 1);
        // In the trash, restorable by an admin.
        let admin = app.admin().await;
        let r = app.post(&format!("/api/admin/trash/file/{id}/restore"), admin.token(), json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(download(&app, s.token(), &id).await.2, pdf());
    }
}

/// Over `MAX_UPLOAD_MB` (1 here): 413, and neither a file nor a row is left.
mod an_upload_over_max_upload_mb_is_413_and_leaves_nothing_behind {
    use super::*;

    async fn body(backend: Backend) {
        let app = TestApp::spawn_with(backend, &["--max-upload-mb", "1"]).await;
        let s = app.register("big@example.com").await;
        let p = project(&app, s.token(), "Big").await;
        let mut big = pdf();
        big.resize(1024 * 1024 + 512 * 1024, b' ');
        upload(&app, s.token(), &p, "project", big, "big.pdf")
            .await
            .assert_error(StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(stored(&app), Vec::<String>::new());
        assert_eq!(file_rows(&app).await, 0);
        // Exactly the limit is fine.
        let mut max = pdf();
        max.resize(1024 * 1024, b' ');
        let r = upload(&app, s.token(), &p, "project", max, "max.pdf").await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.body["size_bytes"], 1024 * 1024);
    }

    crate::both_backends!(@tests body);
}
