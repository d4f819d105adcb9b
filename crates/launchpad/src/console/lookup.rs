//! What a row shows of the rows it points at, read for a whole page in one query each.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;
use webkit::AppError;

use crate::entity::{projects, users};

/// The email of each of `ids` (deleted accounts too: a row may outlive its owner's
/// account in the trash).
pub async fn emails(
    db: &DatabaseConnection,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<HashMap<Uuid, String>, AppError> {
    let rows: Vec<(Uuid, String)> = users::Entity::find()
        .select_only()
        .columns([users::Column::Id, users::Column::Email])
        .filter(users::Column::Id.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// The title and status of each of `ids`.
pub async fn projects(
    db: &DatabaseConnection,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<HashMap<Uuid, (String, String)>, AppError> {
    let rows: Vec<(Uuid, String, String)> = projects::Entity::find()
        .select_only()
        .columns([
            projects::Column::Id,
            projects::Column::Title,
            projects::Column::Status,
        ])
        .filter(projects::Column::Id.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(id, t, s)| (id, (t, s))).collect())
}

/// `who`'s email, or a stand-in for an account that is gone.
pub fn email(emails: &HashMap<Uuid, String>, who: Uuid) -> String {
    emails
        .get(&who)
        .cloned()
        .unwrap_or_else(|| "(erased)".to_owned())
}
