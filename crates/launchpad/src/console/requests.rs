//! Requests to the admins: resolve each with a note for the student.

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use uuid::Uuid;
use webkit::AppError;
use webkit::extract::{Path, Query};
use webkit::pages::Form;
use webkit::pages::guard::CsrfToken;

use super::view::{self, Action, Cell, Field, Frame, Listing, Row, TablePage};
use super::{SignedInAdmin, lookup};
use crate::entity::admin_requests::Model;
use crate::resources::admin_requests::{self, RESOLUTIONS, ResolveIn, STATUSES};
use crate::state::AppState;

const PAGE: &str = "/admin/requests";
const QUEUE: Option<&str> = Some("pending");

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
    let page = admin_requests::list(&state.db, admin.caller(), &listing.params(QUEUE)).await?;
    Ok(view::render(&TablePage {
        frame: Frame::new("Requests", &admin, csrf),
        intro: Some("What students asked the admins for.".into()),
        filters: vec![listing.status_filter(QUEUE, STATUSES)],
        columns: vec!["Type", "Message", "Student", "Filed", "Note", "Status"],
        rows: rows(&state, &page.data).await?,
        next: listing.next(PAGE, QUEUE, &page.meta),
    }))
}

async fn resolve(
    State(state): State<AppState>,
    SignedInAdmin(admin): SignedInAdmin,
    csrf: CsrfToken,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    form: Result<Form<ResolveIn>, AppError>,
) -> Response {
    let done = async {
        let Form(input) = form?;
        let request = admin_requests::resolve(&state.db, admin.caller(), id, input).await?;
        rows(&state, std::slice::from_ref(&request))
            .await?
            .pop()
            .ok_or(AppError::NotFound("request"))
    };
    view::answer(&headers, &csrf, id, done.await, PAGE)
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
                Action::new("Resolve", format!("{PAGE}/{}/resolve", r.id))
                    .field(Field::text("status", "Outcome").choices(RESOLUTIONS))
                    .field(Field::text("note", "Note")),
            )
        })
        .collect())
}
