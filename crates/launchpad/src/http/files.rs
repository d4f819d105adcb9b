//! `/api/projects/{id}/files` and `/api/files/{id}`: a project's uploads (project files
//! and the blackbook), their download and deletion. Synopsis files are uploaded through
//! `/api/synopsis` and listed and downloaded here.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use dbkit::Writer;
use dbkit::list::{ListParams, ListSpec, Page, Search, SortOrder};
use sea_orm::{ActiveModelTrait, ColumnTrait, PaginatorTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tower::ServiceExt;
use tower_http::services::ServeFile;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::access;
use crate::domain;
use crate::entity::{files, projects, synopsis};
use crate::http::error::{AppError, ErrorResponse};
use crate::http::extract::{CurrentUser, Path, Query};
use crate::state::AppState;
use crate::storage::{self, Storage, Upload};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_file, list_files))
        .routes(routes!(download_file, delete_file))
}

/// Every kind of file.
pub const KINDS: &[&str] = &["synopsis", "project", "blackbook"];

/// Launchpad's own counter: a file row whose bytes are missing, found while serving it.
pub const INTEGRITY_PROBLEMS: webkit::metrics::CounterSpec = (
    "integrity_problems",
    "Stored data found inconsistent while serving it (a file row whose bytes are missing); each is logged at ERROR",
);
/// The kinds uploaded through `/api/projects/{id}/files`.
pub const UPLOAD_KINDS: &[&str] = &["project", "blackbook"];

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

impl From<files::Model> for FileOut {
    fn from(f: files::Model) -> Self {
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

/// Filters only file lists have.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct FileFilters {
    kind: Option<String>,
}

pub(crate) const FILE_LIST: ListSpec<files::Entity> = ListSpec {
    sort_fields: &[
        ("created_at", files::Column::CreatedAt),
        ("original_name", files::Column::OriginalName),
        ("size_bytes", files::Column::SizeBytes),
        ("kind", files::Column::Kind),
    ],
    default_order: SortOrder::Desc,
    search: Search::Like(&[files::Column::OriginalName]),
    status: None,
    created_at: files::Column::CreatedAt,
    id: files::Column::Id,
};

/// The `files` row of an upload, not yet inserted.
pub fn new_row(
    upload: &Upload,
    owner_id: Uuid,
    project_id: Uuid,
    kind: &str,
) -> files::ActiveModel {
    files::ActiveModel {
        id: Set(Uuid::now_v7()),
        owner_id: Set(owner_id),
        project_id: Set(Some(project_id)),
        kind: Set(kind.to_owned()),
        original_name: Set(upload.original_name.clone()),
        content_type: Set(upload.content_type.to_owned()),
        size_bytes: Set(upload.size_bytes),
        sha256: Set(upload.sha256.clone()),
        storage_key: Set(upload.key.clone()),
        ..Default::default()
    }
}

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
    CurrentUser { user, actor }: CurrentUser,
    Path(project_id): Path<Uuid>,
    request: Request,
) -> Result<(StatusCode, axum::Json<FileOut>), AppError> {
    // Checked before the body is read, so nobody uploads megabytes to learn it is a 404.
    access::find_owned::<projects::Entity>(&state.db, &user, project_id).await?;
    let storage = Storage::from_settings(&state.settings);
    let mut form = storage.read_form(request, &["kind"]).await?;
    let kind = domain::one_of("kind", form.text("kind")?, UPLOAD_KINDS)?;
    let mut upload = form.take_file()?;

    let writer = Writer::begin(&state.db, &actor).await?;
    access::find_owned::<projects::Entity>(writer.tx(), &user, project_id).await?;
    let file = new_row(&upload, user.id, project_id, kind)
        .insert(writer.tx())
        .await?;
    let event = access::event::<files::Entity>("upload", file.id).details(json!({
        "project_id": project_id,
        "kind": kind,
        "size_bytes": file.size_bytes,
        "content_type": file.content_type,
    }));
    upload.place().await?;
    writer.commit(event).await?;
    upload.keep();
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
    State(state): State<AppState>,
    current: CurrentUser,
    Path(project_id): Path<Uuid>,
    Query(params): Query<ListParams>,
    Query(filters): Query<FileFilters>,
) -> Result<axum::Json<Page<FileOut>>, AppError> {
    access::find_visible::<projects::Entity>(&state.db, &current.user, project_id).await?;
    let mut query = access::visible::<files::Entity>(&current.user)
        .filter(files::Column::ProjectId.eq(project_id));
    if let Some(kind) = &filters.kind {
        query = query.filter(files::Column::Kind.eq(domain::one_of("kind", kind, KINDS)?));
    }
    Ok(axum::Json(
        FILE_LIST
            .fetch(&state.db, query, &params)
            .await?
            .map(FileOut::from),
    ))
}

/// Download a file (its owner, or an admin). Answers its bytes with the detected
/// Content-Type and `Content-Disposition: attachment`; supports `Range`.
#[utoipa::path(get, path = "/files/{id}", tag = "files", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The file's bytes, with the Content-Type detected at upload (the document lists each)", content_type = "application/octet-stream", body = FileBytes),
        (status = 404, description = "No such file, or not yours", body = ErrorResponse),
        (status = 410, description = "The file's bytes are missing from storage: an integrity problem, logged and counted in `launchpad_integrity_problems_total`", body = ErrorResponse),
    ))]
async fn download_file(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
    request: Request,
) -> Result<Response, AppError> {
    let file = access::find_visible::<files::Entity>(&state.db, &current.user, id).await?;
    let path = Storage::from_settings(&state.settings).path(&file.storage_key)?;
    // Streams from disk, with Content-Length, HEAD and single ranges; a multi-range
    // request gets the whole file.
    let Ok(mut response) = ServeFile::new(path)
        .ignore_multi_range_requests(true)
        .oneshot(request)
        .await;
    if response.status() == StatusCode::NOT_FOUND {
        state.metrics.count(INTEGRITY_PROBLEMS.0);
        tracing::error!(
            file = %id,
            storage_key = %file.storage_key,
            "integrity problem: a file's row has no bytes in storage"
        );
        return Err(AppError::Gone(
            "this file's content is missing from storage; the operators have been alerted",
        ));
    }
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
        dbkit::write::record(
            &state.db,
            &current.actor,
            access::event::<files::Entity>("download", id)
                .details(json!({ "owner_id": file.owner_id })),
        )
        .await?;
    }
    Ok(response.map(Body::new))
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
    access::find_owned::<files::Entity>(&state.db, &current.user, id).await?;
    let in_use = access::visible::<synopsis::Entity>(&current.user)
        .filter(synopsis::Column::FileId.eq(id))
        .count(&state.db)
        .await?;
    if in_use > 0 {
        return Err(AppError::conflict(
            "this file belongs to a synopsis; delete the synopsis instead",
        ));
    }
    access::delete_owned::<files::Entity>(&state.db, current.caller(), id).await?;
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
