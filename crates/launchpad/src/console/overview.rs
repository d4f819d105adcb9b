//! The overview: the service's health, the schema's migrations, the job queue (what
//! waits, what died — with another attempt), the work waiting for admins, and the
//! latest failed actions.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use dbkit::activity;
use dbkit::jobs::{self, JobState};
use dbkit::list::ListParams;
use dbkit::soft_delete::SoftDeletable;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;
use webkit::AppError;
use webkit::extract::Path;
use webkit::ops::Health;
use webkit::pages::guard::CsrfToken;

use super::view::{self, Action, Cell, Frame, Row};
use super::{Act, SignedInAdmin};
use crate::entity::{admin_requests, meetings, orders, synopsis};
use crate::resources::jobs as job_ops;
use crate::state::AppState;

const PAGE: &str = "/admin";
/// Jobs and failures listed.
const SHOWN: u64 = 10;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(overview))
        .route("/jobs/{id}/retry", post(retry))
}

#[derive(Template)]
#[template(path = "console/overview.html")]
struct Overview {
    frame: Frame,
    health: Health,
    waiting: Vec<(&'static str, u64, &'static str)>,
    job_counts: Vec<(String, i64)>,
    pending: Vec<JobState>,
    dead: Vec<Row>,
    failures: Vec<activity::Model>,
}

async fn overview(
    State(state): State<AppState>,
    SignedInAdmin(admin): SignedInAdmin,
    csrf: CsrfToken,
) -> Result<Response, AppError> {
    let (_, health) = state.ops.health(true).await;
    let db = &state.db;
    let failed = ListParams {
        status: Some("failed".into()),
        per_page: Some(SHOWN),
        cursor: Some(String::new()),
        ..Default::default()
    };
    Ok(view::render(&Overview {
        frame: Frame::new("Overview", &admin, csrf),
        health,
        waiting: waiting(db).await?,
        job_counts: jobs::counts(db).await?,
        pending: jobs::in_status(db, "pending", SHOWN).await?,
        dead: jobs::in_status(db, "dead", SHOWN)
            .await?
            .iter()
            .map(job_row)
            .collect(),
        failures: activity::LIST
            .fetch(db, activity::Entity::find(), &failed)
            .await?
            .data,
    }))
}

/// The work queues' lengths, each with its page.
async fn waiting(
    db: &DatabaseConnection,
) -> Result<Vec<(&'static str, u64, &'static str)>, AppError> {
    Ok(vec![
        (
            "Synopses pending review",
            synopsis::Entity::find_live()
                .filter(synopsis::Column::Status.eq("Pending"))
                .count(db)
                .await?,
            "/admin/synopses",
        ),
        (
            "Meetings requested",
            meetings::Entity::find_live()
                .filter(meetings::Column::Status.eq("requested"))
                .count(db)
                .await?,
            "/admin/meetings",
        ),
        (
            "Orders pending",
            orders::Entity::find_live()
                .filter(orders::Column::Status.eq("pending"))
                .count(db)
                .await?,
            "/admin/orders",
        ),
        (
            "Requests open",
            admin_requests::Entity::find_live()
                .filter(admin_requests::Column::Status.eq("pending"))
                .count(db)
                .await?,
            "/admin/requests",
        ),
    ])
}

async fn retry(State(state): State<AppState>, act: Act, Path(id): Path<Uuid>) -> Response {
    let done = job_ops::retry(&state.db, act.caller(), id)
        .await
        .map(|job| job_row(&job).said("Queued for another attempt."));
    act.answer(id, done, PAGE)
}

fn job_row(job: &JobState) -> Row {
    let cells = vec![
        Cell::text(&job.kind),
        Cell::text(format!("{} of {}", job.attempts, job.max_attempts)),
        Cell::maybe(job.last_error.as_deref()),
        Cell::time(&job.updated_at),
        Cell::Status(job.status.clone()),
    ];
    let row = Row::new(job.id, cells);
    if job.status == "dead" {
        row.action(Action::new(
            "Retry",
            format!("/admin/jobs/{}/retry", job.id),
        ))
    } else {
        row
    }
}
