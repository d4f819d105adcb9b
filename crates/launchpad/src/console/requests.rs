//! Requests to the admins: resolve each with a note for the student.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use uuid::Uuid;
use webkit::AppError;
use webkit::extract::{Path, Query};
use webkit::pages::Form;
use webkit::pages::guard::CsrfToken;

use super::view::{self, Action, Cell, Field, Listing, Queue, Row};
use super::{Act, SignedInAdmin, lookup};
use crate::entity::admin_requests::Model;
use crate::resources::admin_requests::{self, RESOLUTIONS, ResolveIn, STATUSES};
use crate::state::AppState;

const QUEUE: Queue = Queue {
    section: "Requests",
    path: "/admin/requests",
    intro: "What students asked the admins for.",
    queue: Some("pending"),
    statuses: STATUSES,
    search: None,
    columns: &["Type", "Message", "Student", "Filed", "Note", "Status"],
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/requests", get(list))
        .route("/requests/{id}/resolve", post(resolve))
}

async fn list(
    State(state): State<AppState>,
    SignedInAdmin(admin): SignedInAdmin,
    csrf: CsrfToken,
    Query(listing): Query<Listing>,
) -> Result<Response, AppError> {
    let page = admin_requests::list(&state.db, admin.caller(), &QUEUE.params(&listing)).await?;
    let rows = rows(&state, &page.data).await?;
    Ok(QUEUE.page(&admin, csrf, &listing, rows, &page.meta))
}

async fn resolve(
    State(state): State<AppState>,
    act: Act,
    Path(id): Path<Uuid>,
    form: Result<Form<ResolveIn>, AppError>,
) -> Response {
    let done = async {
        let request = admin_requests::resolve(&state.db, act.caller(), id, form?.0).await?;
        view::only(rows(&state, &[request]).await?, "request")
    };
    act.answer(id, done.await, QUEUE.path)
}

async fn rows(state: &AppState, requests: &[Model]) -> Result<Vec<Row>, AppError> {
    let emails = lookup::emails(&state.db, requests.iter().map(|r| r.user_id)).await?;
    Ok(requests
        .iter()
        .map(|r| {
            let cells = vec![
                Cell::text(&r.request_type),
                Cell::text(&r.message),
                Cell::text(lookup::email(&emails, r.user_id)),
                Cell::time(&r.created_at),
                Cell::maybe(r.resolution_note.as_deref()),
                Cell::Status(r.status.clone()),
            ];
            let row = Row::new(r.id, cells);
            if r.status != "pending" {
                return row;
            }
            row.action(
                Action::new("Resolve", format!("{}/{}/resolve", QUEUE.path, r.id))
                    .field(Field::text("status", "Outcome").choices(RESOLUTIONS))
                    .field(Field::text("note", "Note")),
            )
        })
        .collect())
}
