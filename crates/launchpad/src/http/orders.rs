//! `/api/orders`: a student orders a plan; the amount and currency come from the plan
//! at that moment and never change afterwards. An admin moves an order pending → paid
//! (recording the payment reference) → completed, or cancels it; its owner can cancel
//! it while it is pending. Orders are financial records: there is no delete route
//! (they leave only with their owner's account).

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use dbkit::Writer;
use dbkit::list::{ListParams, ListSpec, Page, Search, SortOrder};
use dbkit::soft_delete::SoftDeletable;
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{ActiveModelTrait, ColumnTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::access::{self, Stateful};
use crate::domain::{self, Text, Transitions};
use crate::entity::{orders, plans};
use crate::http::error::{AppError, ErrorResponse};
use crate::http::extract::{AdminUser, CurrentUser, Json, Path, Query};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_order, list_orders))
        .routes(routes!(get_order))
        .routes(routes!(cancel_order))
        .routes(routes!(set_order_status))
}

/// Order statuses, in the order an order usually moves through them.
pub const STATUSES: &[&str] = &["pending", "paid", "completed", "cancelled"];

/// The currency every order is placed in (plan prices are in its minor units).
pub const CURRENCY: &str = "INR";

/// Pending → paid → completed; an order not yet completed can be cancelled.
pub static TRANSITIONS: Transitions = Transitions {
    noun: "order",
    moves: &[
        ("pending", &["paid", "cancelled"]),
        ("paid", &["completed", "cancelled"]),
    ],
};

impl Stateful for orders::Entity {
    fn status() -> orders::Column {
        orders::Column::Status
    }
    const TRANSITIONS: &'static Transitions = &TRANSITIONS;
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

impl From<orders::Model> for OrderOut {
    fn from(o: orders::Model) -> Self {
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

/// An order for a plan. Amount and currency are not the client's to say.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateOrderIn {
    /// A live, active, paid plan.
    plan_id: Uuid,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct OrderStatusIn {
    status: String,
    /// The payment's reference, 1–100 characters, unique among orders; only when
    /// moving to `paid`.
    payment_reference: Option<String>,
}

/// Filters only order lists have.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct OrderFilters {
    /// Only orders of this plan.
    plan_id: Option<Uuid>,
}

pub(crate) const ORDER_LIST: ListSpec<orders::Entity> = ListSpec {
    sort_fields: &[
        ("created_at", orders::Column::CreatedAt),
        ("amount", orders::Column::Amount),
        ("status", orders::Column::Status),
    ],
    default_order: SortOrder::Desc,
    search: Search::Like(&[orders::Column::PaymentReference]),
    status: Some((orders::Column::Status, STATUSES)),
    created_at: orders::Column::CreatedAt,
    id: orders::Column::Id,
};

pub(crate) const PAYMENT_REFERENCE: Text = Text::line("payment_reference", 1, 100);
/// The status a payment reference is recorded with.
pub(crate) const RECORDS_PAYMENT: &str = "paid";

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
    CurrentUser { user, actor }: CurrentUser,
    Json(body): Json<CreateOrderIn>,
) -> Result<(StatusCode, axum::Json<OrderOut>), AppError> {
    let writer = Writer::begin(&state.db, &actor).await?;
    let plan = plans::Entity::find_live()
        .filter(plans::Column::Id.eq(body.plan_id))
        .filter(plans::Column::IsActive.eq(true))
        .one(writer.tx())
        .await?
        .ok_or(AppError::NotFound("plan"))?;
    if plan.price <= 0 {
        // The request is well formed; the plan it names is what makes it impossible.
        return Err(AppError::Conflict {
            message: "this plan is free: there is nothing to order".into(),
            details: json!({ "field": "plan_id" }),
        });
    }
    let order = orders::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        plan_id: Set(plan.id),
        amount: Set(plan.price),
        currency: Set(CURRENCY.to_owned()),
        status: Set(STATUSES[0].to_owned()),
        payment_reference: Set(None),
        ..Default::default()
    }
    .insert(writer.tx())
    .await?;
    let event = access::event::<orders::Entity>("create", order.id).details(json!({
        "plan_id": plan.id,
        "amount": order.amount,
        "currency": order.currency,
    }));
    writer.commit(event).await?;
    Ok((StatusCode::CREATED, axum::Json(order.into())))
}

/// The caller's orders (an admin sees everyone's). `search` matches payment references.
#[utoipa::path(get, path = "/orders", tag = "orders", security(("bearer" = [])), params(ListParams, OrderFilters),
    responses(
        (status = 200, body = Page<OrderOut>),
    ))]
async fn list_orders(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(params): Query<ListParams>,
    Query(filters): Query<OrderFilters>,
) -> Result<axum::Json<Page<OrderOut>>, AppError> {
    let mut query = access::visible::<orders::Entity>(&current.user);
    if let Some(plan_id) = filters.plan_id {
        query = query.filter(orders::Column::PlanId.eq(plan_id));
    }
    Ok(axum::Json(
        ORDER_LIST
            .fetch(&state.db, query, &params)
            .await?
            .map(OrderOut::from),
    ))
}

/// One order.
#[utoipa::path(get, path = "/orders/{id}", tag = "orders", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = OrderOut),
        (status = 404, description = "No such order, or not yours", body = ErrorResponse),
    ))]
async fn get_order(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<OrderOut>, AppError> {
    let order = access::find_visible::<orders::Entity>(&state.db, &current.user, id).await?;
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
    CurrentUser { user, actor }: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<OrderOut>, AppError> {
    let writer = Writer::begin(&state.db, &actor).await?;
    let order = access::find_owned::<orders::Entity>(writer.tx(), &user, id).await?;
    if order.status != "pending" {
        return Err(AppError::Conflict {
            message: format!(
                "only a pending order can be cancelled by its owner; this one is {}",
                order.status
            ),
            details: json!({ "from": order.status, "to": "cancelled", "allowed": [] }),
        });
    }
    let event = access::move_status::<orders::Entity>(
        writer.tx(),
        (id, "cancel"),
        "pending",
        "cancelled",
        vec![],
    )
    .await?;
    let order = access::find_visible::<orders::Entity>(writer.tx(), &user, id).await?;
    writer.commit(event).await?;
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
    let to = domain::one_of("status", &body.status, STATUSES)?;
    let reference = body
        .payment_reference
        .as_deref()
        .map(|r| PAYMENT_REFERENCE.check(r))
        .transpose()?;
    if reference.is_some() && to != RECORDS_PAYMENT {
        return Err(AppError::invalid(
            "payment_reference",
            "payment_reference is only recorded when an order becomes paid",
        ));
    }
    let writer = Writer::begin(&state.db, &admin.actor).await?;
    let order = access::find_visible::<orders::Entity>(writer.tx(), &admin.user, id).await?;
    let mut changes: Vec<(orders::Column, SimpleExpr)> = Vec::new();
    if let Some(reference) = &reference {
        changes.push((
            orders::Column::PaymentReference,
            Expr::value(reference.as_str()),
        ));
    }
    let event = access::move_status::<orders::Entity>(
        writer.tx(),
        (id, "status"),
        &order.status,
        to,
        changes,
    )
    .await?;
    let moved = access::find_visible::<orders::Entity>(writer.tx(), &admin.user, id).await?;
    writer
        .commit(event.with("payment_reference", reference))
        .await?;
    Ok(axum::Json(moved.into()))
}
