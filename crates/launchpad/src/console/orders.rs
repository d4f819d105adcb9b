//! Orders: pending → paid (with the payment's reference) → completed, or cancelled.

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
use crate::entity::orders::Model;
use crate::resources::orders::{self, OrderStatusIn, STATUSES, TRANSITIONS};
use crate::state::AppState;

const QUEUE: Queue = Queue {
    section: "Orders",
    path: "/admin/orders",
    intro: "Orders of plans, moved as payments arrive.",
    queue: Some("pending"),
    statuses: STATUSES,
    search: None,
    columns: &[
        "Student",
        "Amount",
        "Payment reference",
        "Ordered",
        "Status",
    ],
};

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
    let params = QUEUE.params(&listing);
    let page = orders::list(&state.db, admin.caller(), &params, Default::default()).await?;
    let rows = rows(&state, &page.data).await?;
    Ok(QUEUE.page(&admin, csrf, &listing, rows, &page.meta))
}

async fn set_status(
    State(state): State<AppState>,
    act: Act,
    Path(id): Path<Uuid>,
    form: Result<Form<OrderStatusIn>, AppError>,
) -> Response {
    let done = async {
        let order = orders::set_status(&state.db, act.caller(), id, form?.0).await?;
        view::only(rows(&state, &[order]).await?, "order")
    };
    act.answer(id, done.await, QUEUE.path)
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
    let url = format!("{}/{}/status", QUEUE.path, o.id);
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
