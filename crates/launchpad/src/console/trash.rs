//! The trash, per entity type: what each delete took with it, who deleted it and when,
//! when it will be purged; a preview of what a restore brings back, and the restore.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use dbkit::soft_delete::{Affected, SoftDeleteTable, TrashEntry};
use serde::Deserialize;
use uuid::Uuid;
use webkit::AppError;
use webkit::extract::{Path, Query};
use webkit::pages::guard::CsrfToken;
use webkit::trash;

use super::view::{self, Action, Cell, Filter, Frame, Row, TablePage};
use super::{Act, SignedInAdmin, lookup};
use crate::state::AppState;
use crate::tables::REGISTRY;

const PAGE: &str = "/admin/trash";
/// The trash shown first.
const FIRST: &str = "project";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/trash", get(list))
        .route("/trash/{entity_type}/{id}/{verb}", post(change))
}

#[derive(Deserialize)]
struct TrashListing {
    entity_type: Option<String>,
    cursor: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    SignedInAdmin(admin): SignedInAdmin,
    csrf: CsrfToken,
    Query(listing): Query<TrashListing>,
) -> Result<Response, AppError> {
    let entity_type = listing.entity_type.unwrap_or_else(|| FIRST.to_owned());
    let table = trash::table_for(&REGISTRY, &entity_type)?;
    let params = dbkit::list::ListParams {
        cursor: Some(listing.cursor.unwrap_or_default()),
        per_page: Some(20),
        ..Default::default()
    };
    let page = trash::list(&state.db, table, &params).await?;
    let next = view::next_page(PAGE, &[("entity_type", &entity_type)], &page.meta);
    Ok(view::render(&TablePage {
        frame: Frame::new("Trash", &admin, csrf),
        intro: Some(format!(
            "Deleted rows stay {} days, then are purged for good. Restoring one brings back exactly what its delete took.",
            state.settings.soft_delete_retention_days
        )),
        filters: vec![Filter {
            name: "entity_type",
            label: "Type",
            kind: "text",
            value: entity_type.clone(),
            choices: REGISTRY.entity_types(),
        }],
        columns: vec!["Id", "Deleted", "By", "Took with it", "Purged after"],
        rows: rows(&state, table, &page.data).await?,
        next,
    }))
}

/// Previews or restores a row of the trash, as its row's button says.
async fn change(
    State(state): State<AppState>,
    act: Act,
    Path((entity_type, id, verb)): Path<(String, Uuid, String)>,
) -> Response {
    let done = async {
        let table = trash::table_for(&REGISTRY, &entity_type)?;
        let who = (&REGISTRY, act.caller().1);
        match verb.as_str() {
            "preview" => {
                let comes_back = trash::preview(&state.db, who, table, id).await?;
                let row = one(&state, table, id).await?;
                Ok(row.said(format!("Restoring brings back {}.", listed(&comes_back))))
            }
            "restore" => {
                let restored = trash::restore(&state.db, who, table, id).await?;
                let row = Row::new(id, vec![Cell::text(id)]);
                Ok(row.said(format!("Restored {}.", listed(&restored))))
            }
            _ => Err(AppError::NotFound("action")),
        }
    };
    act.answer(id, done.await, PAGE)
}

/// The row of `id` while it is in the trash.
async fn one(state: &AppState, table: &'static SoftDeleteTable, id: Uuid) -> Result<Row, AppError> {
    let entry = dbkit::soft_delete::trash_entry(&state.db, table, id)
        .await?
        .ok_or(AppError::NotFound("deleted row"))?;
    let mut rows = rows(state, table, std::slice::from_ref(&entry)).await?;
    rows.pop().ok_or(AppError::NotFound("deleted row"))
}

async fn rows(
    state: &AppState,
    table: &'static SoftDeleteTable,
    entries: &[TrashEntry],
) -> Result<Vec<Row>, AppError> {
    let batches: Vec<Uuid> = entries.iter().filter_map(|e| e.delete_batch_id).collect();
    let contents = REGISTRY.batch_contents(&state.db, &batches).await?;
    let emails = lookup::emails(&state.db, entries.iter().filter_map(|e| e.deleted_by)).await?;
    let retention = chrono::Duration::days(
        i64::try_from(state.settings.soft_delete_retention_days).unwrap_or(i64::MAX / 86_400_000),
    );
    Ok(entries
        .iter()
        .map(|e| {
            let took = e
                .delete_batch_id
                .and_then(|b| contents.get(&b))
                .map_or_else(|| "itself only".to_owned(), listed);
            let purge = e.deleted_at.checked_add_signed(retention);
            let cells = vec![
                Cell::text(e.id),
                Cell::time(&e.deleted_at),
                Cell::maybe(e.deleted_by.map(|who| lookup::email(&emails, who))),
                Cell::Text(took),
                Cell::maybe(purge.map(|at| at.format("%Y-%m-%d"))),
            ];
            let url = |verb: &str| format!("{PAGE}/{}/{}/{verb}", table.entity_type, e.id);
            Row::new(e.id, cells)
                .action(Action::new("Preview", url("preview")))
                .action(Action::new("Restore", url("restore")))
        })
        .collect())
}

/// `projects 1, files 2`.
fn listed(affected: &Affected) -> String {
    affected
        .iter()
        .map(|(table, n)| format!("{table} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}
