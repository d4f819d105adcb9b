//! Synopses waiting for review: download the file, approve, or reject with a comment.

use axum::Router;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use uuid::Uuid;
use webkit::AppError;
use webkit::extract::{Path, Query};
use webkit::pages::Form;
use webkit::pages::guard::CsrfToken;

use super::view::{self, Action, Cell, Field, Listing, Queue, Row};
use super::{Act, SignedInAdmin, lookup};
use crate::entity::synopsis::Model;
use crate::resources::synopsis::{self, ReviewIn, STATUSES};
use crate::state::AppState;

const QUEUE: Queue = Queue {
    section: "Synopses",
    path: "/admin/synopses",
    intro: "Synopses the students submitted; approving one starts its project.",
    queue: Some("Pending"),
    statuses: STATUSES,
    search: Some("Title"),
    columns: &["Title", "Student", "Project", "Submitted", "File", "Status"],
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/synopses", get(list))
        .route("/synopses/{id}/review", post(review))
        .route("/files/{id}", get(download))
}

async fn list(
    State(state): State<AppState>,
    SignedInAdmin(admin): SignedInAdmin,
    csrf: CsrfToken,
    Query(listing): Query<Listing>,
) -> Result<Response, AppError> {
    let params = QUEUE.params(&listing);
    let page = synopsis::list(&state.db, admin.caller(), &params, Default::default()).await?;
    let rows = rows(&state, &page.data).await?;
    Ok(QUEUE.page(&admin, csrf, &listing, rows, &page.meta))
}

async fn review(
    State(state): State<AppState>,
    act: Act,
    Path(id): Path<Uuid>,
    form: Result<Form<ReviewIn>, AppError>,
) -> Response {
    let done = async {
        let reviewed = synopsis::review(&state.db, act.caller(), id, form?.0).await?;
        view::only(rows(&state, &[reviewed]).await?, "synopsis")
    };
    act.answer(id, done.await, QUEUE.path)
}

/// The file of a synopsis (or any file), as the API's download serves it to an admin.
async fn download(
    State(state): State<AppState>,
    SignedInAdmin(admin): SignedInAdmin,
    Path(id): Path<Uuid>,
    request: Request,
) -> Response {
    crate::http::files::serve(&state, admin.caller(), id, request)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn rows(state: &AppState, synopses: &[Model]) -> Result<Vec<Row>, AppError> {
    let emails = lookup::emails(&state.db, synopses.iter().map(|s| s.user_id)).await?;
    let projects = lookup::projects(&state.db, synopses.iter().map(|s| s.project_id)).await?;
    Ok(synopses
        .iter()
        .map(|s| {
            let project = projects
                .get(&s.project_id)
                .map_or("—".to_owned(), |(title, status)| {
                    format!("{title} ({status})")
                });
            let file = s.file_id.map_or(Cell::text("—"), |f| {
                Cell::Download(format!("/admin/files/{f}"), "Download".into())
            });
            let cells = vec![
                Cell::text(&s.title),
                Cell::text(lookup::email(&emails, s.user_id)),
                Cell::Text(project),
                Cell::time(&s.created_at),
                file,
                Cell::Status(s.status.clone()),
            ];
            let row = Row::new(s.id, cells);
            if s.status != "Pending" {
                return row;
            }
            let url = format!("{}/{}/review", QUEUE.path, s.id);
            row.action(Action::new("Approve", url.clone()).fixed("decision", "Approved"))
                .action(
                    Action::new("Reject", url)
                        .fixed("decision", "Rejected")
                        .field(Field::text("comment", "Comment").required()),
                )
        })
        .collect())
}
