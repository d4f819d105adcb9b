//! Files: a project's uploads (project files and the blackbook; a synopsis's file comes
//! with its synopsis), each owned by its uploader. Their bytes are in [`Storage`]; a row
//! is written only with its bytes in place.

use dbkit::list::{ListParams, ListSpec, Page, Search, SortOrder};
use dbkit::{Actor, Writer};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, PaginatorTrait, QueryFilter, Set,
};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::access;
use crate::domain;
use crate::entity::files::{self, Column, Entity, Model};
use crate::entity::{projects, synopsis};
use crate::error::AppError;
use crate::resources::Caller;
use crate::storage::{Form, Upload};

/// Every kind of file.
pub const KINDS: &[&str] = &["synopsis", "project", "blackbook"];

/// The kinds uploaded through `/api/projects/{id}/files`.
pub const UPLOAD_KINDS: &[&str] = &["project", "blackbook"];

/// Filters only file lists have.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileFilters {
    kind: Option<String>,
}

pub const FILE_LIST: ListSpec<files::Entity> = ListSpec {
    sort_fields: &[
        ("created_at", files::Column::CreatedAt),
        ("original_name", files::Column::OriginalNameFold),
        ("size_bytes", files::Column::SizeBytes),
        ("kind", files::Column::Kind),
    ],
    default_order: SortOrder::Desc,
    search: Search::Like(&[files::Column::OriginalNameFold]),
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

/// Uploads the form's file (`kind` and `file`) to one of the caller's projects: the row
/// and its log row commit only once the bytes are in place, and the bytes stay only if
/// they commit.
pub async fn upload(
    db: &DatabaseConnection,
    (user, actor): Caller<'_>,
    project_id: Uuid,
    mut form: Form,
) -> Result<Model, AppError> {
    let kind = domain::one_of("kind", form.text("kind")?, UPLOAD_KINDS)?;
    let upload = form.take_file()?;
    let writer = Writer::begin(db, actor).await?;
    access::find_owned::<projects::Entity>(writer.tx(), user, project_id).await?;
    let file = new_row(&upload, user.id, project_id, kind)
        .insert(writer.tx())
        .await?;
    let event = access::event::<Entity>("upload", file.id).details(json!({
        "project_id": project_id,
        "kind": kind,
        "size_bytes": file.size_bytes,
        "content_type": file.content_type,
    }));
    upload.store_with(writer.commit(event)).await?;
    Ok(file)
}

/// A project's files (its owner's, or any project's for an admin).
pub async fn list(
    db: &DatabaseConnection,
    (user, _): Caller<'_>,
    project_id: Uuid,
    params: &ListParams,
    filters: FileFilters,
) -> Result<Page<Model>, AppError> {
    access::find_visible::<projects::Entity>(db, user, project_id).await?;
    let mut query = access::visible::<Entity>(user).filter(Column::ProjectId.eq(project_id));
    if let Some(kind) = &filters.kind {
        query = query.filter(Column::Kind.eq(domain::one_of("kind", kind, KINDS)?));
    }
    Ok(FILE_LIST.fetch(db, query, params).await?)
}

/// Logs a download of `file` (who fetched whose file).
pub async fn downloaded(
    db: &DatabaseConnection,
    actor: &Actor,
    file: &Model,
) -> Result<(), AppError> {
    let event =
        access::event::<Entity>("download", file.id).details(json!({ "owner_id": file.owner_id }));
    Ok(dbkit::write::record(db, actor, event).await?)
}

/// Moves one of the caller's files to the trash; a synopsis's file goes only with its
/// synopsis (409).
pub async fn delete(db: &DatabaseConnection, caller: Caller<'_>, id: Uuid) -> Result<(), AppError> {
    let user = caller.0;
    access::find_owned::<Entity>(db, user, id).await?;
    let in_use = access::visible::<synopsis::Entity>(user)
        .filter(synopsis::Column::FileId.eq(id))
        .count(db)
        .await?;
    if in_use > 0 {
        return Err(AppError::conflict(
            "this file belongs to a synopsis; delete the synopsis instead",
        ));
    }
    access::delete_owned::<Entity>(db, caller, id).await
}
