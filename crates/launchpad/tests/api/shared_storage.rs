//! Shared storage (`STORAGE_URL=s3://…`, against a real S3-compatible server): what one
//! node stores, every node serves — uploads, their removal, the activity log's archive —
//! and `launchpad storage copy` moves a local store's files into a bucket.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, ETAG, IF_NONE_MATCH, RANGE};
use sea_orm::ConnectionTrait;
use sea_orm::EntityTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use serde_json::json;
use uuid::Uuid;

use crate::archive::backdate;
use crate::audit_chain::log_rows;
use crate::both_backends;
use crate::erasure::active_student;
use crate::files::{download, pdf, png, project, sha256, upload};
use crate::helpers::{TestApp, cli};
use crate::jobs::{TempDir, jobs_done, kind};
use crate::s3;
use launchpad::entity::files;
use launchpad::jobs::erase_archived;
use launchpad::retention::audit_archive;

/// A PNG of about 6 MB: more than one part (5 MiB), so it is stored in parts.
fn large_png() -> Vec<u8> {
    let mut bytes = png();
    bytes.extend((0..6_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    bytes
}

/// Uploads `bytes` to `app` as `who`; the file's id and storage key.
async fn stored(
    app: &TestApp,
    token: Option<&str>,
    bytes: Vec<u8>,
    name: &str,
) -> (String, String) {
    let project = project(app, token, &format!("Storage of {name}")).await;
    let r = upload(app, token, &project, "project", bytes, name).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_str().expect("id").to_owned();
    let row = files::Entity::find_by_id(id.parse::<Uuid>().expect("uuid"))
        .one(&app.db)
        .await
        .expect("read")
        .expect("the row");
    (id, row.storage_key)
}

/// The names in a local directory.
fn entries(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

both_backends! {
    // Two nodes on one database and one bucket: a file uploaded through one downloads
    // byte for byte through the other — whole, by range, as HEAD and as 304 — and the
    // receiving node keeps nothing on its own disk.
    async fn a_file_uploaded_on_one_node_downloads_byte_for_byte_on_another(backend: Backend) {
        let url = s3::storage_url();
        let a = TestApp::spawn_with(backend, &["--storage-url", &url]).await;
        let b = a.another_node(&["--storage-url", &url]).await;
        let student = a.register("shared@test.com").await;
        let token = student.token();
        let large = large_png();
        let (id, key) = stored(&a, token, large.clone(), "large.png").await;
        assert_eq!(entries(&a.upload_dir), Vec::<String>::new(), "left on node A's disk");
        assert!(s3::area(&url, "uploads").exists(&key).await.expect("head"), "not in the bucket");

        let (status, headers, bytes) = download(&b, token, &id).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(bytes.len(), large.len());
        assert!(bytes == large, "node B served other bytes");
        assert_eq!(headers[ETAG], format!("\"{}\"", sha256(&large)).as_str());

        let file_url = format!("{}/api/files/{id}", b.address);
        let get = || b.client.get(&file_url).bearer_auth(token.expect("token"));
        let part = get().header(RANGE, "bytes=5242870-5242889").send().await.expect("range");
        assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(
            part.headers()[CONTENT_RANGE],
            format!("bytes 5242870-5242889/{}", large.len()).as_str()
        );
        assert_eq!(part.bytes().await.expect("body")[..], large[5_242_870..5_242_890]);
        let tail = get().header(RANGE, "bytes=-7").send().await.expect("suffix");
        assert_eq!(tail.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(tail.bytes().await.expect("body")[..], large[large.len() - 7..]);
        let outside = get().header(RANGE, format!("bytes={}-", large.len())).send().await.expect("416");
        assert_eq!(outside.status(), StatusCode::RANGE_NOT_SATISFIABLE);
        assert_eq!(outside.headers()[CONTENT_RANGE], format!("bytes */{}", large.len()).as_str());
        let head = b.client.head(&file_url).bearer_auth(token.expect("token")).send().await.expect("head");
        assert_eq!(head.status(), StatusCode::OK);
        assert_eq!(head.headers()[CONTENT_LENGTH], large.len().to_string().as_str());
        assert!(head.bytes().await.expect("body").is_empty());
        let again = get().header(IF_NONE_MATCH, format!("\"{}\"", sha256(&large))).send().await.expect("304");
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

        // The other way round, with a small file (stored in one request).
        let (id, _) = stored(&b, token, pdf(), "small.pdf").await;
        let (status, _, bytes) = download(&a, token, &id).await;
        assert_eq!((status, bytes), (StatusCode::OK, pdf()));
    }

    // A file deleted on one node is kept in the bucket while it is in the trash (it may
    // be restored), and leaves the bucket when the purge deletes its row for good.
    async fn a_purged_file_leaves_the_bucket(backend: Backend) {
        let url = s3::storage_url();
        let a = TestApp::spawn_with(backend, &["--storage-url", &url]).await;
        let b = a.another_node(&["--storage-url", &url]).await;
        let student = a.register("purged@test.com").await;
        let (id, key) = stored(&a, student.token(), pdf(), "gone.pdf").await;
        let (kept_id, kept_key) = stored(&a, student.token(), png(), "kept.png").await;
        assert_eq!(b.delete(&format!("/api/files/{id}"), student.token()).await.status, StatusCode::NO_CONTENT);
        let uploads = s3::area(&url, "uploads");
        assert!(uploads.exists(&key).await.expect("head"), "a trashed file's bytes went early");
        let long_ago = dbkit::time::now() - chrono::Duration::days(40);
        let expire = Query::update()
            .table(Alias::new("files"))
            .value(Alias::new("deleted_at"), long_ago)
            .and_where(Expr::col(Alias::new("id")).eq(id.parse::<Uuid>().expect("uuid")))
            .to_owned();
        a.db.execute(&expire).await.expect("expire");
        let purge = cli(a.database_url(), &["--storage-url", &url, "purge"]).await;
        assert_eq!(purge.code, Some(0), "{purge}");
        assert!(!uploads.exists(&key).await.expect("head"), "a purged file is still in the bucket");
        assert!(uploads.exists(&kept_key).await.expect("head"));
        assert_eq!(download(&b, student.token(), &kept_id).await.0, StatusCode::OK);
    }

    // The activity log's archive goes to the bucket: `verify --archive` from anywhere
    // that reaches it passes, catches a tampered file, and an erasure's job on a node
    // rewrites the archived rows in the bucket.
    async fn the_activity_log_archive_lives_in_the_bucket(backend: Backend) {
        let url = s3::storage_url();
        let app = TestApp::spawn_with(backend, &["--storage-url", &url, "--job-poll-interval-ms", "50"]).await;
        let admin = app.admin().await;
        let victim = active_student(&app, "qzvx").await;
        let seqs: Vec<i64> = log_rows(&app.db).await.iter().filter_map(|r| r.seq).collect();
        backdate(&app.db, &seqs).await;
        let purge = cli(app.database_url(), &["--storage-url", &url, "purge"]).await;
        assert_eq!(purge.code, Some(0), "{purge}");
        assert!(purge.stdout.contains("s3://launchpad/"), "{purge}");
        let archive = s3::area(&url, "archive");
        let names = audit_archive::files(&archive).await.expect("list");
        assert_eq!(names.len(), 1, "{names:?}");
        let verify = cli(app.database_url(), &["--storage-url", &url, "verify", "--archive"]).await;
        assert_eq!(verify.code, Some(0), "{verify}");
        assert!(verify.stdout.contains(&format!("archive: ok, {} rows", seqs.len())), "{verify}");
        // The same store with its options in AWS_* variables instead of the URL's query.
        let (bare, env) = s3::options_as_env(&url);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let args = ["--storage-url", &bare, "verify", "--archive"];
        let verify = crate::helpers::cli_with_env(app.database_url(), &args, &env).await;
        assert_eq!(verify.code, Some(0), "{verify}");

        let victim_id = victim.user_id.expect("id");
        let r = app.post(&format!("/api/admin/users/{victim_id}/erase"), admin.token(), json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(jobs_done(&app, kind(erase_archived::KIND)).await, 1);
        let rows = audit_archive::read_file(&archive, &names[0]).await.expect("read");
        assert!(!rows.iter().any(|r| serde_json::to_string(r).expect("json").contains("qzvx")), "the erased user is still in the bucket");
        let verify = cli(app.database_url(), &["--storage-url", &url, "verify", "--archive"]).await;
        assert_eq!(verify.code, Some(0), "{verify}");

        // Tampering with the archive in the bucket is found.
        let mut rows = rows;
        rows[1].action = "user.tampered".into();
        let mut lines = Vec::new();
        for row in &rows {
            serde_json::to_writer(&mut lines, row).expect("json");
            lines.push(b'\n');
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, &lines).expect("gzip");
        archive.put(&names[0], gz.finish().expect("gzip")).await.expect("put");
        let verify = cli(app.database_url(), &["--storage-url", &url, "verify", "--archive"]).await;
        assert_eq!(verify.code, Some(1), "{verify}");
        assert!(verify.stdout.contains("archive: FAIL"), "{verify}");
    }

    // `storage copy` moves a node's local files and archive into a bucket, checking each
    // against its row; a node on the bucket then serves them, a second run copies
    // nothing, and a damaged or missing source file is named and fails the copy.
    async fn storage_copy_moves_local_files_into_a_bucket(backend: Backend) {
        let archive_dir = TempDir::new("copy-archive");
        let archive_arg = archive_dir.0.display().to_string();
        let local = TestApp::spawn_with(backend, &["--archive-dir", &archive_arg]).await;
        let student = local.register("mover@test.com").await;
        let large = large_png();
        let (large_id, _) = stored(&local, student.token(), large.clone(), "large.png").await;
        let (small_id, small_key) = stored(&local, student.token(), pdf(), "small.pdf").await;
        let seqs: Vec<i64> = log_rows(&local.db).await.iter().filter_map(|r| r.seq).collect();
        backdate(&local.db, &seqs).await;
        let purge = cli(local.database_url(), &["--archive-dir", &archive_arg, "purge"]).await;
        assert_eq!(purge.code, Some(0), "{purge}");

        let url = s3::storage_url();
        let upload_arg = local.upload_dir.display().to_string();
        let from_local = ["--upload-dir", &upload_arg, "--archive-dir", &archive_arg];
        let copy = |to: String| {
            let mut args = from_local.to_vec();
            args.extend(["storage", "copy", "--to"]);
            let db = local.database_url().to_owned();
            async move {
                let args: Vec<&str> = args.iter().copied().chain([to.as_str()]).collect();
                cli(&db, &args).await
            }
        };
        let first = copy(url.clone()).await;
        assert_eq!(first.code, Some(0), "{first}");
        assert!(first.stdout.contains("uploads: 2 copied, 0 already there, 0 not copied"), "{first}");
        assert!(first.stdout.contains("archive: 1 copied, 0 already there, 0 not copied"), "{first}");
        let shared = local.another_node(&["--storage-url", &url]).await;
        for (id, bytes) in [(&large_id, &large), (&small_id, &pdf())] {
            let (status, _, got) = download(&shared, student.token(), id).await;
            assert_eq!(status, StatusCode::OK);
            assert!(&got == bytes, "the copy serves other bytes");
        }
        let verify = cli(local.database_url(), &["--storage-url", &url, "verify", "--archive"]).await;
        assert_eq!(verify.code, Some(0), "{verify}");
        let second = copy(url.clone()).await;
        assert_eq!(second.code, Some(0), "{second}");
        assert!(second.stdout.contains("uploads: 0 copied, 2 already there, 0 not copied"), "{second}");

        // A damaged and a missing source file, copied to a fresh bucket prefix.
        let mut damaged = std::fs::read(local.upload_dir.join(&small_key)).expect("read");
        damaged.push(b'!');
        std::fs::write(local.upload_dir.join(&small_key), damaged).expect("damage");
        let (_, lost_key) = stored(&local, student.token(), png(), "lost.png").await;
        std::fs::remove_file(local.upload_dir.join(&lost_key)).expect("lose");
        let bad = copy(s3::storage_url()).await;
        assert_eq!(bad.code, Some(1), "{bad}");
        assert!(bad.stdout.contains("uploads: 1 copied, 0 already there, 2 not copied"), "{bad}");
        assert!(bad.stderr.contains(&format!("{small_key}: damaged at the source")), "{bad}");
        assert!(bad.stderr.contains(&format!("{lost_key}: missing from the source")), "{bad}");
    }

    // A store that does not answer: an upload is a 503 and leaves no row and no file
    // behind; a download is a 503 too, not a 410 (the bytes are not known to be gone);
    // `/health` stays 200.
    async fn an_unreachable_store_is_a_503_and_loses_nothing(backend: Backend) {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("a port").local_addr().expect("addr").port();
        let dead = format!("s3://launchpad?endpoint=http://127.0.0.1:{port}&region=garage&allow_http=true&access_key_id=GKx&secret_access_key=x");
        let url = s3::storage_url();
        let app = TestApp::spawn_with(backend, &["--storage-url", &url]).await;
        let student = app.register("outage@test.com").await;
        let (id, _) = stored(&app, student.token(), pdf(), "before.pdf").await;
        let down = app.another_node(&["--storage-url", &dead]).await;
        let project = project(&down, student.token(), "During the outage").await;
        let r = upload(&down, student.token(), &project, "project", pdf(), "during.pdf").await;
        r.assert_error(StatusCode::SERVICE_UNAVAILABLE);
        assert!(!r.body.to_string().contains("127.0.0.1"), "internal details answered: {}", r.body);
        assert_eq!(crate::files::file_rows(&app).await, 1, "a row without its file");
        assert_eq!(entries(&down.upload_dir), Vec::<String>::new(), "left on the node's disk");
        let (status, _, _) = download(&down, student.token(), &id).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        // The database still serves everything else: the node stays in the rotation.
        let health = down.get("/health", None).await;
        assert_eq!(health.status, StatusCode::OK, "{}", health.body);
    }

    // An empty `STORAGE_URL` (a blank line of a copied `.env`) is the default: files
    // in `UPLOAD_DIR`, served back; not a start-up error.
    async fn an_empty_storage_url_keeps_files_in_the_upload_dir(backend: Backend) {
        let app = TestApp::spawn_with(backend, &["--storage-url", ""]).await;
        let student = app.register("blank@test.com").await;
        let (id, key) = stored(&app, student.token(), pdf(), "local.pdf").await;
        assert!(app.upload_dir.join(&key).is_file(), "{key} not in {}", app.upload_dir.display());
        let (status, _, bytes) = download(&app, student.token(), &id).await;
        assert_eq!((status, sha256(&bytes)), (StatusCode::OK, sha256(&pdf())));
    }
}
