//! Receiving uploads from `multipart/form-data` forms.
//!
//! An upload is streamed to a temporary file in `UPLOAD_DIR` while its SHA-256 and size
//! are computed, and its type is read from its first bytes — never from the client's
//! file name or Content-Type. It is stored under a generated key just before its
//! database row commits, and deleted if the row does not ([`Upload::store_with`]). An
//! upload dropped before that — a validation error, a client that went away — is
//! deleted too.

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::PathBuf;

use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request};
use axum::http::{StatusCode, header};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use tower::{Layer, ServiceExt, service_fn};
use uuid::Uuid;

use super::{Area, Storage};
use crate::domain;
use crate::error::AppError;

/// The types accepted, as `infer` names them. A DOCX is a ZIP that `infer` recognises
/// by the `word/` entries inside it.
pub const ALLOWED_TYPES: &[&str] = &[
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/zip",
    "image/png",
    "image/jpeg",
];

/// The form field that carries the file.
pub const FILE_FIELD: &str = "file";
/// Bytes kept to detect the type: enough for `infer` to look inside a DOCX.
const SNIFF_BYTES: usize = 8 * 1024;
/// Room in a form, beyond the file, for its other fields and part headers.
const FORM_OVERHEAD: u64 = 64 * 1024;
/// The longest text field read.
const MAX_TEXT_BYTES: usize = 4 * 1024;
/// The longest file name stored, in characters.
const MAX_NAME_CHARS: usize = 200;

impl Storage {
    /// Reads a `multipart/form-data` body: the file (streamed to disk) and the text
    /// fields named in `text_fields`. Any other field, or one sent twice, is a 422.
    pub async fn read_form(
        &self,
        request: Request,
        text_fields: &[&'static str],
    ) -> Result<Form, AppError> {
        let mut multipart = self.multipart(request).await?;
        let read = self.read_fields(&mut multipart, text_fields).await;
        if read.is_err() {
            drain(&mut multipart).await;
        }
        read
    }

    async fn read_fields(
        &self,
        multipart: &mut Multipart,
        text_fields: &[&'static str],
    ) -> Result<Form, AppError> {
        let mut form = Form::default();
        while let Some(field) = multipart.next_field().await.map_err(form_error)? {
            let name = field.name().unwrap_or_default().to_owned();
            let twice = || AppError::invalid(&name, format!("{name} is sent more than once"));
            if name == FILE_FIELD {
                if form.file.is_some() {
                    return Err(twice());
                }
                form.file = Some(self.receive(field).await?);
            } else if let Some(known) = text_fields.iter().copied().find(|f| *f == name) {
                if form.text.contains_key(known) {
                    return Err(twice());
                }
                form.text.insert(known, read_text(field, known).await?);
            } else {
                let mut allowed = vec![FILE_FIELD];
                allowed.extend_from_slice(text_fields);
                return Err(AppError::Validation {
                    message: format!("unknown field '{name}'"),
                    details: json!({ "field": name, "allowed": allowed }),
                });
            }
        }
        Ok(form)
    }

    /// The request's body as a form, limited to this server's upload size plus room for
    /// the other fields. (The global 1 MiB `DefaultBodyLimit` is a layer; running this
    /// one request through another sets the limit the body is read with.)
    async fn multipart(&self, request: Request) -> Result<Multipart, AppError> {
        let is_form = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("multipart/form-data")
            });
        if !is_form {
            return Err(AppError::UnsupportedMediaType(
                "expected Content-Type: multipart/form-data",
            ));
        }
        // Twice the upload size, so that a form refused part-way (a file over the limit)
        // can still be read to its end: see [`drain`].
        let limit = usize::try_from(
            self.max_bytes
                .saturating_mul(2)
                .saturating_add(FORM_OVERHEAD),
        )
        .unwrap_or(usize::MAX);
        let Ok(request) = DefaultBodyLimit::max(limit)
            .layer(service_fn(|r: Request| async { Ok::<_, Infallible>(r) }))
            .oneshot(request)
            .await;
        Multipart::from_request(request, &())
            .await
            .map_err(|e| AppError::BadRequest(e.body_text()))
    }

    /// Streams the file to a temporary file, hashing and counting as it goes, then
    /// checks its size and type.
    async fn receive(&self, mut field: Field<'_>) -> Result<Upload, AppError> {
        let original_name = safe_file_name(field.file_name().unwrap_or_default());
        tokio::fs::create_dir_all(&self.spool).await.map_err(io)?;
        let key = Uuid::now_v7().simple().to_string();
        let mut upload = Upload {
            temp: self.spool.join(format!("{key}.part")),
            area: self.uploads.clone(),
            key,
            original_name,
            content_type: "",
            size_bytes: 0,
            sha256: String::new(),
            placed: false,
            kept: false,
        };
        // From here on, an early return drops `upload`, which removes the temporary file.
        let mut out = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&upload.temp)
            .await
            .map_err(io)?;
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let mut head = Vec::with_capacity(SNIFF_BYTES);
        while let Some(chunk) = field.chunk().await.map_err(form_error)? {
            size += chunk.len() as u64;
            if size > self.max_bytes {
                return Err(AppError::PayloadTooLarge);
            }
            hasher.update(&chunk);
            let room = SNIFF_BYTES.saturating_sub(head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..room]);
            out.write_all(&chunk).await.map_err(io)?;
        }
        out.sync_all().await.map_err(io)?;
        if size == 0 {
            return Err(AppError::invalid(FILE_FIELD, "the file is empty"));
        }
        let content_type = infer::get(&head)
            .map(|t| t.mime_type())
            .filter(|t| ALLOWED_TYPES.contains(t))
            .ok_or(AppError::UnsupportedMediaType(
                "only PDF, DOCX, ZIP, PNG and JPEG files are accepted",
            ))?;
        upload.content_type = content_type;
        upload.size_bytes = i64::try_from(size).map_err(|_| AppError::PayloadTooLarge)?;
        upload.sha256 = format!("{:x}", hasher.finalize());
        Ok(upload)
    }
}

/// A form as read: its file, if one was sent, and its text fields.
#[derive(Debug, Default)]
pub struct Form {
    file: Option<Upload>,
    text: HashMap<&'static str, String>,
}

impl Form {
    /// The file; a 422 if none was sent.
    pub fn take_file(&mut self) -> Result<Upload, AppError> {
        self.file
            .take()
            .ok_or_else(|| AppError::invalid(FILE_FIELD, "file is required"))
    }

    /// A text field; a 422 if it was not sent.
    pub fn text(&self, name: &'static str) -> Result<&str, AppError> {
        self.text
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| AppError::invalid(name, format!("{name} is required")))
    }
}

/// A received file, not yet stored: [`Upload::store_with`] stores it with its row.
/// Dropped before that, it is deleted.
#[derive(Debug)]
pub struct Upload {
    /// The generated name it is stored under.
    pub key: String,
    /// The client's file name, made harmless ([`safe_file_name`]).
    pub original_name: String,
    /// Detected from the bytes; one of [`ALLOWED_TYPES`].
    pub content_type: &'static str,
    pub size_bytes: i64,
    /// Lower-case hex.
    pub sha256: String,
    temp: PathBuf,
    area: Area,
    placed: bool,
    kept: bool,
}

impl Upload {
    /// Stores the file under its key, then runs `commit` (the row's transaction): the
    /// file stays if the row commits, and is deleted before this returns if it does not.
    /// (Storing it after the commit could fail or be cancelled, leaving a row without its
    /// file; this way a failure leaves at worst, if the process dies right then, a file
    /// without a row.)
    pub async fn store_with<E: Into<AppError>>(
        mut self,
        commit: impl Future<Output = Result<(), E>>,
    ) -> Result<(), AppError> {
        // Marked first: a store that failed half-way may still hold the object.
        self.placed = true;
        let stored = self.area.put_file(&self.key, &self.temp).await;
        let _ = tokio::fs::remove_file(&self.temp).await;
        let committed = match stored {
            Ok(()) => commit.await.map_err(Into::into),
            Err(e) => Err(e.into()),
        };
        if committed.is_ok() {
            self.kept = true;
        } else {
            self.discard().await;
        }
        committed
    }

    /// Deletes what was stored, now.
    async fn discard(mut self) {
        self.kept = true;
        if let Err(e) = self.area.delete(&self.key).await {
            tracing::warn!(key = self.key, "an unwanted upload stays in storage: {e}");
        }
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.temp);
        if self.placed && !self.kept {
            // Deleting takes a request to the store: it finishes after the drop.
            let (area, key) = (self.area.clone(), std::mem::take(&mut self.key));
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move {
                    if let Err(e) = area.delete(&key).await {
                        tracing::warn!(key, "an unwanted upload stays in storage: {e}");
                    }
                });
            }
        }
    }
}

/// A client's file name reduced to a harmless base name: the last path segment, without
/// quotes, leading dots or invisible characters (controls, and direction overrides that
/// would show `evil\u{202E}gpj.exe` as `evilexe.jpg`), at most [`MAX_NAME_CHARS`]
/// characters (keeping a short extension). `../../etc/passwd` becomes `passwd`.
pub fn safe_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !domain::invisible(*c) && !matches!(c, '"' | '\''))
        .collect();
    let name = cleaned.trim().trim_start_matches('.').trim();
    if name.is_empty() {
        return "upload".to_owned();
    }
    if name.chars().count() <= MAX_NAME_CHARS {
        return name.to_owned();
    }
    match name.rsplit_once('.') {
        Some((stem, ext)) if !ext.is_empty() && ext.chars().count() <= 10 => {
            let keep = MAX_NAME_CHARS - ext.chars().count() - 1;
            format!("{}.{ext}", stem.chars().take(keep).collect::<String>())
        }
        _ => name.chars().take(MAX_NAME_CHARS).collect(),
    }
}

async fn read_text(mut field: Field<'_>, name: &str) -> Result<String, AppError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(form_error)? {
        if bytes.len() + chunk.len() > MAX_TEXT_BYTES {
            return Err(AppError::invalid(name, format!("{name} is too long")));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| AppError::invalid(name, format!("{name} is not UTF-8")))
}

/// Reads what is left of a refused form and drops it, up to the body limit. A server that
/// answers before the client has sent its whole body and then closes the connection
/// with bytes unread makes the kernel reset it, and the client may lose the answer (CI
/// once saw the 413 for a file half again over the limit arrive as "connection
/// closed"). Reading on — a lingering close — lets the answer arrive; beyond the limit
/// the server stops reading all the same.
async fn drain(multipart: &mut Multipart) {
    while let Ok(Some(mut field)) = multipart.next_field().await {
        while let Ok(Some(_)) = field.chunk().await {}
    }
}

/// A body over the limit is a 413; any other unreadable form a 400.
fn form_error(e: MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge
    } else {
        AppError::BadRequest(e.body_text())
    }
}

/// The upload directory refused a write: see [`super::Error`]'s answer.
fn io(e: std::io::Error) -> AppError {
    super::Error::from(e).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_their_path_quotes_and_invisible_characters() {
        assert_eq!(safe_file_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_file_name(r"C:\Users\ada\report.pdf"), "report.pdf");
        assert_eq!(safe_file_name("re\"port\r\n.pdf"), "report.pdf");
        assert_eq!(safe_file_name("..."), "upload");
        assert_eq!(safe_file_name(""), "upload");
        assert_eq!(safe_file_name(".hidden"), "hidden");
        assert_eq!(safe_file_name("Résumé.pdf"), "Résumé.pdf");
        assert_eq!(safe_file_name("evil\u{202E}gpj.exe"), "evilgpj.exe");
        assert_eq!(safe_file_name("a\u{200B}b\u{2066}c.pdf"), "abc.pdf");
        assert_eq!(safe_file_name("my report.pdf"), "my report.pdf");
    }

    #[test]
    fn long_file_names_are_cut_but_keep_their_extension() {
        let name = safe_file_name(&format!("{}.pdf", "é".repeat(500)));
        assert_eq!(name.chars().count(), MAX_NAME_CHARS);
        assert!(name.ends_with("é.pdf"), "{name}");
        assert_eq!(
            safe_file_name(&"x".repeat(300)).chars().count(),
            MAX_NAME_CHARS
        );
    }

    /// An upload received into `dir/spool`, stored (once placed) in `dir/store`.
    fn upload_in(dir: &std::path::Path) -> Upload {
        let key = Uuid::now_v7().simple().to_string();
        let temp = dir.join("spool").join(format!("{key}.part"));
        std::fs::create_dir_all(dir.join("spool")).expect("spool");
        std::fs::write(&temp, b"%PDF-1.4").expect("temp file");
        Upload {
            temp,
            area: Area::local(&dir.join("store")).expect("area"),
            key,
            original_name: "a.pdf".into(),
            content_type: "application/pdf",
            size_bytes: 8,
            sha256: String::new(),
            placed: false,
            kept: false,
        }
    }

    /// The files in `dir`'s spool and store: `expected` once the deletions a drop
    /// started have finished (at most 2 s), whatever is there otherwise.
    async fn files_left(dir: &std::path::Path, expected: &[String]) -> Vec<String> {
        let list = || {
            let mut names = Vec::new();
            for sub in ["spool", "store"] {
                if let Ok(entries) = std::fs::read_dir(dir.join(sub)) {
                    names.extend(
                        entries
                            .filter_map(Result::ok)
                            .map(|e| format!("{sub}/{}", e.file_name().to_string_lossy())),
                    );
                }
            }
            names
        };
        for _ in 0..100 {
            if list() == expected {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        list()
    }

    #[tokio::test]
    async fn an_upload_is_kept_only_if_its_row_commits() {
        let dir = std::env::temp_dir().join(format!("storage-test-{}", Uuid::now_v7().simple()));
        drop(upload_in(&dir));
        assert_eq!(
            files_left(&dir, &[]).await,
            [""; 0],
            "a dropped temporary file is removed"
        );
        let failed = upload_in(&dir)
            .store_with(async { Err(AppError::Internal("no row".into())) })
            .await;
        assert!(failed.is_err());
        assert_eq!(
            files_left(&dir, &[]).await,
            [""; 0],
            "a stored file whose row did not commit is removed"
        );
        let kept = upload_in(&dir);
        let stored = [format!("store/{}", kept.key)];
        kept.store_with(async { Ok::<_, AppError>(()) })
            .await
            .expect("stored");
        assert_eq!(
            files_left(&dir, &stored).await,
            stored,
            "a kept file stays under its key, and only it"
        );
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
