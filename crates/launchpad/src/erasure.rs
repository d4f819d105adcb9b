//! Erasing a user (the right to be forgotten). The account stays, anonymised, so what
//! must be kept (orders, for the accounts; statuses and dates, for statistics) still
//! points somewhere; what identifies the person or is free text they wrote (or that was
//! written about them) is replaced, in live and trashed rows alike; their files go; their
//! sessions end; the activity log's personal part about them is blanked without breaking
//! the hash chain (`dbkit::chain::erase_subject`). The database changes in one
//! transaction; the files' bytes and rows already archived follow by `files.remove` and
//! `activity_log.erase` jobs queued in it.

use std::collections::BTreeMap;

use dbkit::chain;
use dbkit::fold::{Folded, set_text};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::sessions::end_sessions;
use crate::entity::{files, users};
use crate::error::AppError;
use crate::jobs::{erase_archived, remove_files};

/// What replaces erased free text where the column may not be empty.
pub const ERASED: &str = "[erased]";

/// Replaces the free text of `user_id`'s rows of `E` (live and trashed, owned through
/// `owner`) — `Some` text where the column is required, `NULL` where it may be empty — and
/// the twins that hold it folded (`dbkit::fold`); the rows changed, under the table's name.
async fn replace_text<E: Folded>(
    tx: &impl ConnectionTrait,
    (owner, user_id): (E::Column, Uuid),
    columns: &[(E::Column, Option<&'static str>)],
) -> Result<(&'static str, u64), DbErr> {
    let mut update = E::update_many();
    for (column, text) in columns {
        update = set_text(update, *column, text.map(str::to_owned));
    }
    let changed = update
        .filter(owner.eq(user_id))
        .exec(tx)
        .await?
        .rows_affected;
    Ok((E::default().table_name(), changed))
}

/// The free text erased, table by table (all owned through `user_id`). Judged table by
/// table: titles, descriptions, messages, notes, links and review comments can say
/// anything about a person; statuses, dates, amounts, categories and tech-stack tags
/// stay. Orders keep their payment reference: it is an accounting record, not text the
/// user wrote.
async fn erase_free_text(
    tx: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<Vec<(&'static str, u64)>, DbErr> {
    use crate::entity::{
        admin_requests as requests, chatbot_history as chat, ideas, meetings, projects, synopsis,
    };
    Ok(vec![
        replace_text::<projects::Entity>(
            tx,
            (projects::Column::UserId, user_id),
            &[
                (projects::Column::Title, Some(ERASED)),
                (projects::Column::Description, None),
            ],
        )
        .await?,
        replace_text::<synopsis::Entity>(
            tx,
            (synopsis::Column::UserId, user_id),
            &[
                (synopsis::Column::Title, Some(ERASED)),
                (synopsis::Column::ReviewComment, None),
            ],
        )
        .await?,
        replace_text::<meetings::Entity>(
            tx,
            (meetings::Column::UserId, user_id),
            &[
                (meetings::Column::Topic, Some(ERASED)),
                (meetings::Column::Notes, None),
                (meetings::Column::MeetingLink, None),
            ],
        )
        .await?,
        replace_text::<requests::Entity>(
            tx,
            (requests::Column::UserId, user_id),
            &[
                (requests::Column::Message, Some(ERASED)),
                (requests::Column::ResolutionNote, None),
            ],
        )
        .await?,
        replace_text::<chat::Entity>(
            tx,
            (chat::Column::UserId, user_id),
            &[
                (chat::Column::Message, Some(ERASED)),
                (chat::Column::Intent, None),
            ],
        )
        .await?,
        replace_text::<ideas::Entity>(
            tx,
            (ideas::Column::UserId, user_id),
            &[
                (ideas::Column::Title, Some(ERASED)),
                (ideas::Column::Description, None),
            ],
        )
        .await?,
    ])
}

/// What an erasure changed.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ErasureReport {
    /// Rows whose free text was replaced, per table.
    #[schema(value_type = BTreeMap<String, u64>)]
    pub rows: BTreeMap<&'static str, u64>,
    /// Files removed (rows and bytes).
    pub files: u64,
    /// Refresh tokens revoked.
    pub sessions_revoked: u64,
    /// Activity-log rows whose personal part was blanked.
    pub log_rows: u64,
}

/// Erases `user_id` inside `tx` (the caller's [`dbkit::Writer`] transaction, which must
/// record a `user.erase` event). What lies outside the database — the files' bytes, rows
/// already archived — goes by jobs queued here, so only once the erasure has committed,
/// and not forgotten if the process dies right after.
pub async fn erase(tx: &impl ConnectionTrait, user_id: Uuid) -> Result<ErasureReport, AppError> {
    // The chain's head first: erasure updates log rows, and taking the head only at
    // commit (as other writers do) could deadlock with an archive run deleting them.
    chain::head(tx, true).await?;
    let mut report = ErasureReport::default();
    anonymise_account(tx, user_id).await?;
    report.sessions_revoked = end_sessions(tx, user_id).await?;
    report.rows.extend(erase_free_text(tx, user_id).await?);
    // The rows go with the bytes: a row whose file is gone could only answer 500.
    // A synopsis that pointed at one keeps its row (`file_id` is set to NULL).
    let storage_keys: Vec<String> = files::Entity::find()
        .select_only()
        .column(files::Column::StorageKey)
        .filter(files::Column::OwnerId.eq(user_id))
        .into_tuple()
        .all(tx)
        .await?;
    for chunk in storage_keys.chunks(remove_files::KEYS_PER_JOB) {
        dbkit::jobs::enqueue(tx, remove_files::job(chunk)).await?;
    }
    report.files = files::Entity::delete_many()
        .filter(files::Column::OwnerId.eq(user_id))
        .exec(tx)
        .await?
        .rows_affected;
    report.log_rows = chain::erase_subject(tx, user_id).await?;
    dbkit::jobs::enqueue(tx, erase_archived::job(&[user_id])).await?;
    Ok(report)
}

/// The account row: no name, email, phone or usable password; deactivated.
async fn anonymise_account(tx: &impl ConnectionTrait, user_id: Uuid) -> Result<(), AppError> {
    let now = dbkit::time::now();
    let update = users::Entity::update_many();
    // The email and name with their twins: the old ones must not stay findable.
    let email = format!("erased-{}@erased.invalid", user_id.simple());
    let update = set_text(update, users::Column::Email, email);
    set_text(update, users::Column::Name, "Erased user")
        .col_expr(users::Column::Phone, Expr::value(Option::<String>::None))
        // Not a PHC string: no password can ever match it.
        .col_expr(users::Column::PasswordHash, Expr::value("!erased"))
        .col_expr(users::Column::IsActive, Expr::value(false))
        .col_expr(
            users::Column::LastLoginAt,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .col_expr(users::Column::UpdatedAt, Expr::value(now))
        .filter(users::Column::Id.eq(user_id))
        .exec(tx)
        .await?;
    Ok(())
}
