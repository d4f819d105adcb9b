//! Meetings: schedule a requested one (a time and a link), reschedule, complete, cancel.

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
use crate::entity::meetings::Model;
use crate::resources::meetings::{self, CompleteIn, STATUSES, ScheduleIn, TRANSITIONS};
use crate::state::AppState;

const QUEUE: Queue = Queue {
    section: "Meetings",
    path: "/admin/meetings",
    intro: "Mentoring meetings; times are UTC.",
    queue: Some("requested"),
    statuses: STATUSES,
    search: None,
    columns: &[
        "Topic",
        "Student",
        "Preferred",
        "Scheduled",
        "Link",
        "Status",
    ],
};

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
    let page = meetings::list(&state.db, admin.caller(), &QUEUE.params(&listing)).await?;
    let rows = rows(&state, &page.data).await?;
    Ok(QUEUE.page(&admin, csrf, &listing, rows, &page.meta))
}

async fn schedule(
    State(state): State<AppState>,
    act: Act,
    Path(id): Path<Uuid>,
    form: Result<Form<ScheduleIn>, AppError>,
) -> Response {
    let done = async {
        let meeting = meetings::schedule(&state.db, act.caller(), id, form?.0).await?;
        view::only(rows(&state, &[meeting]).await?, "meeting")
    };
    act.answer(id, done.await, QUEUE.path)
}

async fn complete(
    State(state): State<AppState>,
    act: Act,
    Path(id): Path<Uuid>,
    form: Result<Form<CompleteIn>, AppError>,
) -> Response {
    let done = async {
        let meeting = meetings::complete(&state.db, act.caller(), id, form?.0).await?;
        view::only(rows(&state, &[meeting]).await?, "meeting")
    };
    act.answer(id, done.await, QUEUE.path)
}

async fn cancel(State(state): State<AppState>, act: Act, Path(id): Path<Uuid>) -> Response {
    let done = async {
        let meeting = meetings::cancel_any(&state.db, act.caller(), id).await?;
        view::only(rows(&state, &[meeting]).await?, "meeting")
    };
    act.answer(id, done.await, QUEUE.path)
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
    let url = |verb: &str| format!("{}/{}/{verb}", QUEUE.path, m.id);
    let schedule = if m.status == "scheduled" {
        "Reschedule"
    } else {
        "Schedule"
    };
    TRANSITIONS
        .allowed(&m.status)
        .iter()
        .fold(Row::new(m.id, cells), |row, to| match *to {
            "scheduled" => row.action(
                Action::new(schedule, url("schedule"))
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
