//! Meetings: schedule a requested one (a time and a link), reschedule, complete, cancel.

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
use crate::entity::meetings::Model;
use crate::resources::meetings::{self, CompleteIn, STATUSES, ScheduleIn, TRANSITIONS};
use crate::state::AppState;

const PAGE: &str = "/admin/meetings";
const QUEUE: Option<&str> = Some("requested");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/meetings", get(list))
        .route("/meetings/{id}/schedule", post(schedule))
        .route("/meetings/{id}/complete", post(complete))
        .route("/meetings/{id}/cancel", post(cancel))
}

async fn list(
    State(state): State<AppState>,
    SignedInAdmin(admin): SignedInAdmin,
    csrf: CsrfToken,
    Query(listing): Query<Listing>,
) -> Result<Response, AppError> {
    let page = meetings::list(&state.db, admin.caller(), &listing.params(QUEUE)).await?;
    Ok(view::render(&TablePage {
        frame: Frame::new("Meetings", &admin, csrf),
        intro: Some("Mentoring meetings; times are UTC.".into()),
        filters: vec![listing.status_filter(QUEUE, STATUSES)],
        columns: vec![
            "Topic",
            "Student",
            "Preferred",
            "Scheduled",
            "Link",
            "Status",
        ],
        rows: rows(&state, &page.data).await?,
        next: listing.next(PAGE, QUEUE, &page.meta),
    }))
}

async fn schedule(
    State(state): State<AppState>,
    SignedInAdmin(admin): SignedInAdmin,
    csrf: CsrfToken,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    form: Result<Form<ScheduleIn>, AppError>,
) -> Response {
    let done = async {
        let Form(input) = form?;
        one(
            &state,
            meetings::schedule(&state.db, admin.caller(), id, input).await?,
        )
        .await
    };
    view::answer(&headers, &csrf, id, done.await, PAGE)
}

async fn complete(
    State(state): State<AppState>,
    SignedInAdmin(admin): SignedInAdmin,
    csrf: CsrfToken,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    form: Result<Form<CompleteIn>, AppError>,
) -> Response {
    let done = async {
        let Form(input) = form?;
        one(
            &state,
            meetings::complete(&state.db, admin.caller(), id, input).await?,
        )
        .await
    };
    view::answer(&headers, &csrf, id, done.await, PAGE)
}

async fn cancel(
    State(state): State<AppState>,
    SignedInAdmin(admin): SignedInAdmin,
    csrf: CsrfToken,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
) -> Response {
    let done = async {
        one(
            &state,
            meetings::cancel_any(&state.db, admin.caller(), id).await?,
        )
        .await
    };
    view::answer(&headers, &csrf, id, done.await, PAGE)
}

async fn one(state: &AppState, meeting: Model) -> Result<Row, AppError> {
    let mut rows = rows(state, std::slice::from_ref(&meeting)).await?;
    rows.pop().ok_or(AppError::NotFound("meeting"))
}

async fn rows(state: &AppState, meetings: &[Model]) -> Result<Vec<Row>, AppError> {
    let emails = lookup::emails(&state.db, meetings.iter().map(|m| m.user_id)).await?;
    Ok(meetings
        .iter()
        .map(|m| row(m, lookup::email(&emails, m.user_id)))
        .collect())
}

fn row(m: &Model, student: String) -> Row {
    let cells = vec![
        Cell::text(&m.topic),
        Cell::Text(student),
        Cell::maybe(m.preferred_time.map(|t| t.format("%Y-%m-%d %H:%M"))),
        Cell::maybe(m.scheduled_at.map(|t| t.format("%Y-%m-%d %H:%M"))),
        Cell::maybe(m.meeting_link.as_deref()),
        Cell::Status(m.status.clone()),
    ];
    let url = |verb: &str| format!("{PAGE}/{}/{verb}", m.id);
    TRANSITIONS
        .allowed(&m.status)
        .iter()
        .fold(Row::new(m.id, cells), |row, to| match *to {
            "scheduled" => row.action(
                Action::new(
                    if m.status == "scheduled" {
                        "Reschedule"
                    } else {
                        "Schedule"
                    },
                    url("schedule"),
                )
                .field(
                    Field::text("scheduled_at", "When (UTC)")
                        .kind("datetime-local")
                        .required(),
                )
                .field(Field::text("meeting_link", "Link").kind("url").required()),
            ),
            "completed" => row.action(
                Action::new("Complete", url("complete")).field(Field::text("notes", "Notes")),
            ),
            _ => row.action(Action::new("Cancel", url("cancel"))),
        })
}
