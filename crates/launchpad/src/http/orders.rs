//! `/api/orders` and `/api/admin/orders` ([`crate::resources::orders`]): there is no
//! delete route, orders being financial records.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use dbkit::list::{ListParams, Page};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::access;
use crate::entity::orders::{Entity, Model};
use crate::http::error::{AppError, ErrorResponse};
use crate::http::extract::{AdminUser, CurrentUser, Json, Path, Query, Reading};
use crate::resources::orders::{self, CreateOrderIn, OrderFilters, OrderStatusIn};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_order, list_orders))
        .routes(routes!(get_order))
        .routes(routes!(cancel_order))
        .routes(routes!(set_order_status))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderOut {
    id: Uuid,
    user_id: Uuid,
    plan_id: Uuid,
    /// Minor units, the plan's price when the order was placed.
    amount: i64,
    currency: String,
    status: String,
    payment_reference: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Model> for OrderOut {
    fn from(o: Model) -> Self {
        Self {
            id: o.id,
            user_id: o.user_id,
            plan_id: o.plan_id,
            amount: o.amount,
            currency: o.currency,
            status: o.status,
            payment_reference: o.payment_reference,
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

/// Order a plan; the order starts as `pending`.
#[utoipa::path(post, path = "/orders", tag = "orders", security(("bearer" = [])), request_body = CreateOrderIn,
    responses(
        (status = 201, body = OrderOut),
        (status = 404, description = "No such active plan", body = ErrorResponse),
        (status = 409, description = "The plan is free: there is nothing to order", body = ErrorResponse),
        (status = 422, description = "An unknown field such as `amount`", body = ErrorResponse),
    ))]
async fn create_order(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(body): Json<CreateOrderIn>,
) -> Result<(StatusCode, axum::Json<OrderOut>), AppError> {
    let order = orders::create(&state.db, current.caller(), body).await?;
    Ok((StatusCode::CREATED, axum::Json(order.into())))
}

/// The caller's orders (an admin sees everyone's). `search` matches payment references.
#[utoipa::path(get, path = "/orders", tag = "orders", security(("bearer" = [])), params(ListParams, OrderFilters),
    responses(
        (status = 200, body = Page<OrderOut>),
    ))]
async fn list_orders(
    Reading { who: current, db }: Reading,
    Query(params): Query<ListParams>,
    Query(filters): Query<OrderFilters>,
) -> Result<axum::Json<Page<OrderOut>>, AppError> {
    let page = orders::list(&db, current.caller(), &params, filters).await?;
    Ok(axum::Json(page.map(OrderOut::from)))
}

/// One order.
#[utoipa::path(get, path = "/orders/{id}", tag = "orders", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = OrderOut),
        (status = 404, description = "No such order, or not yours", body = ErrorResponse),
    ))]
async fn get_order(
    Reading { who: current, db }: Reading,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<OrderOut>, AppError> {
    let order = access::find_visible::<Entity>(&db, &current.user, id).await?;
    Ok(axum::Json(order.into()))
}

/// Cancel one of your orders while it is still pending (a paid order is cancelled by an
/// admin).
#[utoipa::path(post, path = "/orders/{id}/cancel", tag = "orders", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = OrderOut),
        (status = 403, description = "An admin cancelling someone else's order (use the admin route)", body = ErrorResponse),
        (status = 409, description = "Not pending any more", body = ErrorResponse),
    ))]
async fn cancel_order(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<OrderOut>, AppError> {
    let order = orders::cancel(&state.db, current.caller(), id).await?;
    Ok(axum::Json(order.into()))
}

/// Move an order to another status (admin), following its transitions. Moving it to
/// `paid` may record the payment reference.
#[utoipa::path(post, path = "/admin/orders/{id}/status", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = OrderStatusIn, responses(
        (status = 200, body = OrderOut),
        (status = 409, description = "Not allowed from the current status (`details.allowed` lists what is), or the payment reference is used by another order", body = ErrorResponse),
    ))]
async fn set_order_status(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<Uuid>,
    Json(body): Json<OrderStatusIn>,
) -> Result<axum::Json<OrderOut>, AppError> {
    let order = orders::set_status(&state.db, admin.caller(), id, body).await?;
    Ok(axum::Json(order.into()))
}
