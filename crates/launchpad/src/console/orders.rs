//! Orders: pending → paid (with the payment's reference) → completed, or cancelled.

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
use crate::entity::orders::Model;
use crate::resources::orders::{self, OrderStatusIn, STATUSES, TRANSITIONS};
use crate::state::AppState;

const PAGE: &str = "/admin/orders";
const QUEUE: Option<&str> = Some("pending");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orders", get(list))
        .route("/orders/{id}/status", post(set_status))
}

async fn list(
    State(state): State<AppState>,
    SignedInAdmin(admin): SignedInAdmin,
    csrf: CsrfToken,
    Query(listing): Query<Listing>,
) -> Result<Response, AppError> {
    let page = orders::list(
        &state.db,
        admin.caller(),
        &listing.params(QUEUE),
        Default::default(),
    )
    .await?;
    Ok(view::render(&TablePage {
        frame: Frame::new("Orders", &admin, csrf),
        intro: Some("Orders of plans, moved as payments arrive.".into()),
        filters: vec![listing.status_filter(QUEUE, STATUSES)],
        columns: vec![
            "Student",
            "Amount",
            "Payment reference",
            "Ordered",
            "Status",
        ],
        rows: rows(&state, &page.data).await?,
        next: listing.next(PAGE, QUEUE, &page.meta),
    }))
}

async fn set_status(
    State(state): State<AppState>,
    SignedInAdmin(admin): SignedInAdmin,
    csrf: CsrfToken,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    form: Result<Form<OrderStatusIn>, AppError>,
) -> Response {
    let done = async {
        let Form(input) = form?;
        let order = orders::set_status(&state.db, admin.caller(), id, input).await?;
        rows(&state, std::slice::from_ref(&order))
            .await?
            .pop()
            .ok_or(AppError::NotFound("order"))
    };
    view::answer(&headers, &csrf, id, done.await, PAGE)
}

async fn rows(state: &AppState, orders: &[Model]) -> Result<Vec<Row>, AppError> {
    let emails = lookup::emails(&state.db, orders.iter().map(|o| o.user_id)).await?;
    Ok(orders
        .iter()
        .map(|o| row(o, lookup::email(&emails, o.user_id)))
        .collect())
}

fn row(o: &Model, student: String) -> Row {
    let cells = vec![
        Cell::Text(student),
        Cell::Text(format!(
            "{}.{:02} {}",
            o.amount / 100,
            o.amount % 100,
            o.currency
        )),
        Cell::maybe(o.payment_reference.as_deref()),
        Cell::time(&o.created_at),
        Cell::Status(o.status.clone()),
    ];
    let url = format!("{PAGE}/{}/status", o.id);
    TRANSITIONS
        .allowed(&o.status)
        .iter()
        .fold(Row::new(o.id, cells), |row, to| {
            let action = match *to {
                "paid" => Action::new("Mark paid", url.clone())
                    .field(Field::text("payment_reference", "Payment reference")),
                "completed" => Action::new("Complete", url.clone()),
                _ => Action::new("Cancel", url.clone()),
            };
            row.action(action.fixed("status", to))
        })
}
