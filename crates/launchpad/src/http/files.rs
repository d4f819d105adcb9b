//! `/api/projects/{id}/files` and `/api/files/{id}` ([`crate::resources::files`]): a
//! project's uploads, their download (streamed from storage) and deletion. Synopsis
//! files are uploaded through `/api/synopsis` and listed and downloaded here.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use dbkit::list::{ListParams, Page};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::access;
use crate::entity::files::{Entity, Model};
use crate::entity::{projects, users};
use crate::http::error::{AppError, ErrorResponse};
use crate::http::extract::{CurrentUser, Path, Query, Reading};
use crate::resources::files::{self, FileFilters};
use crate::state::AppState;
use crate::storage;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_file, list_files))
        .routes(routes!(download_file, delete_file))
}

/// Launchpad's own counter: a file row whose bytes are missing, found while serving it.
pub const INTEGRITY_PROBLEMS: webkit::metrics::CounterSpec = (
    "integrity_problems",
    "Stored data found inconsistent while serving it (a file row whose bytes are missing); each is logged at ERROR",
);
#[derive(Debug, Serialize, ToSchema)]
pub struct FileOut {
    id: Uuid,
    project_id: Option<Uuid>,
    kind: String,
    /// The client's file name, made harmless (no path, quotes or control characters).
    original_name: String,
    /// Detected from the bytes.
    content_type: String,
    size_bytes: i64,
    /// SHA-256 of the bytes, lower-case hex.
    sha256: String,
    created_at: DateTime<Utc>,
}

impl From<Model> for FileOut {
    fn from(f: Model) -> Self {
        Self {
            id: f.id,
            project_id: f.project_id,
            kind: f.kind,
            // Cleaned again on the way out: rows stored before names were cleaned of invisible
            // characters may hold them.
            original_name: storage::safe_file_name(&f.original_name),
            content_type: f.content_type,
            size_bytes: f.size_bytes,
            sha256: f.sha256,
            created_at: f.created_at,
        }
    }
}

/// The form of an upload.
#[derive(ToSchema)]
#[allow(dead_code)] // Documents the form; it is read field by field.
struct FileUpload {
    /// PDF, DOCX, ZIP, PNG or JPEG, at most `MAX_UPLOAD_MB`.
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    file: String,
    kind: String,
}

/// A file's raw bytes.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)] // Documents the download; the bytes are streamed from disk.
struct FileBytes(Vec<u8>);

/// Upload a file to one of your projects.
#[utoipa::path(post, path = "/projects/{id}/files", tag = "files", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The project")),
    request_body(content = FileUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, body = FileOut),
        (status = 400, description = "Not a readable multipart form", body = ErrorResponse),
        (status = 404, description = "No such project, or not yours", body = ErrorResponse),
        (status = 413, description = "Larger than MAX_UPLOAD_MB", body = ErrorResponse),
        (status = 415, description = "Not a PDF, DOCX, ZIP, PNG or JPEG (judged by the bytes)", body = ErrorResponse),
        (status = 422, description = "Empty file, missing field, unknown kind", body = ErrorResponse),
    ))]
async fn upload_file(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(project_id): Path<Uuid>,
    request: Request,
) -> Result<(StatusCode, axum::Json<FileOut>), AppError> {
    // Checked before the body is read, so nobody uploads megabytes to learn it is a 404.
    access::find_owned::<projects::Entity>(&state.db, &current.user, project_id).await?;
    let form = state.storage.read_form(request, &["kind"]).await?;
    let file = files::upload(&state.db, current.caller(), project_id, form).await?;
    Ok((StatusCode::CREATED, axum::Json(file.into())))
}

/// A project's files (its owner's, or any project's for an admin).
#[utoipa::path(get, path = "/projects/{id}/files", tag = "files", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The project"), ListParams, FileFilters),
    responses(
        (status = 200, body = Page<FileOut>),
        (status = 404, description = "No such project, or not yours", body = ErrorResponse),
    ))]
async fn list_files(
    Reading { who: current, db }: Reading,
    Path(project_id): Path<Uuid>,
    Query(params): Query<ListParams>,
    Query(filters): Query<FileFilters>,
) -> Result<axum::Json<Page<FileOut>>, AppError> {
    let page = files::list(&db, current.caller(), project_id, &params, filters).await?;
    Ok(axum::Json(page.map(FileOut::from)))
}

/// Download a file (its owner, or an admin). Answers its bytes with the detected
/// Content-Type and `Content-Disposition: attachment`; supports `Range`.
#[utoipa::path(get, path = "/files/{id}", tag = "files", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The file's bytes, with the Content-Type detected at upload (the document lists each), `ETag` (its SHA-256) and `Accept-Ranges: bytes`", content_type = "application/octet-stream", body = FileBytes),
        (status = 206, description = "The one range `Range` asks for (`Content-Range: bytes first-last/size`; several ranges get the whole file, 200)", content_type = "application/octet-stream", body = FileBytes),
        (status = 304, description = "`If-None-Match` names the file's ETag: not sent again"),
        (status = 404, description = "No such file, or not yours", body = ErrorResponse),
        (status = 416, description = "The range starts beyond the file's end (`Content-Range: bytes */size`)", body = ErrorResponse),
        (status = 503, description = "The database or the file store does not answer; nothing was sent", body = ErrorResponse),
        (status = 410, description = "The file's bytes are missing from storage: an integrity problem, logged and counted in `launchpad_integrity_problems_total`", body = ErrorResponse),
    ))]
async fn download_file(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
    request: Request,
) -> Result<Response, AppError> {
    serve(&state, current.caller(), id, request).await
}

/// The file `id`, if the caller may see it, answering `request` (with its range);
/// logged `file.download`. The API's download and the admin console's.
pub async fn serve(
    state: &AppState,
    (user, actor): (&users::Model, &dbkit::Actor),
    id: Uuid,
    request: Request,
) -> Result<Response, AppError> {
    let file = access::find_visible::<Entity>(&state.db, user, id).await?;
    let answer = super::stored_bytes::answer(
        &state.storage.uploads,
        storage::checked_key(&file.storage_key)?,
        u64::try_from(file.size_bytes).unwrap_or_default(),
        &file.sha256,
        request.method(),
        request.headers(),
    )
    .await?;
    let Some(mut response) = answer else {
        state.metrics.count(INTEGRITY_PROBLEMS.0);
        tracing::error!(
            file = %id,
            storage_key = %file.storage_key,
            "integrity problem: a file's row has no bytes in storage"
        );
        return Err(AppError::Gone(
            "this file's content is missing from storage; the operators have been alerted",
        ));
    };
    let headers = response.headers_mut();
    let content_type = HeaderValue::from_str(&file.content_type)
        .map_err(|_| AppError::Internal(format!("file {id} has a bad content type")))?;
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(
        header::CONTENT_DISPOSITION,
        content_disposition(&storage::safe_file_name(&file.original_name)),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if response.status().is_success() {
        files::downloaded(&state.db, actor, &file).await?;
    }
    Ok(response)
}

/// Move one of your files to the trash. A synopsis's file goes with its synopsis.
#[utoipa::path(delete, path = "/files/{id}", tag = "files", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "An admin deleting someone else's file", body = ErrorResponse),
        (status = 409, description = "The file of a synopsis", body = ErrorResponse),
    ))]
async fn delete_file(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, AppError> {
    files::delete(&state.db, current.caller(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `attachment; filename="…"` with an ASCII stand-in, and the exact name as
/// `filename*` (RFC 6266) when it is not plain ASCII.
fn content_disposition(name: &str) -> HeaderValue {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut value = format!("attachment; filename=\"{ascii}\"");
    if ascii != name {
        value.push_str("; filename*=UTF-8''");
        for byte in name.bytes() {
            if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
                value.push(char::from(byte));
            } else {
                value.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("attachment"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_disposition_is_always_a_valid_attachment() {
        assert_eq!(
            content_disposition("report v2.pdf"),
            "attachment; filename=\"report v2.pdf\""
        );
        assert_eq!(
            content_disposition("Résumé.pdf"),
            "attachment; filename=\"R_sum_.pdf\"; filename*=UTF-8''R%C3%A9sum%C3%A9.pdf"
        );
        assert_eq!(
            content_disposition("a\"b\\c"),
            "attachment; filename=\"a_b_c\"; filename*=UTF-8''a%22b%5Cc"
        );
    }
}
