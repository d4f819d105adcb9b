//! Orders: a student orders a plan; the amount and currency come from the plan at that
//! moment and never change afterwards. An admin moves an order pending → paid
//! (recording the payment reference) → completed, or cancels it; its owner can cancel it
//! while it is pending. Orders are financial records: they are never deleted on their
//! own (they leave only with their owner's account).

use dbkit::Writer;
use dbkit::list::{ListParams, ListSpec, Page, Search, SortOrder};
use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter, Set};
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::{self, Changes, Stateful};
use crate::domain::{self, Text, Transitions};
use crate::entity::orders::{self, Column, Entity, Model};
use crate::entity::plans;
use crate::error::AppError;
use crate::resources::{Caller, catalog};

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

impl Stateful for Entity {
    fn status() -> Column {
        Column::Status
    }
    const TRANSITIONS: &'static Transitions = &TRANSITIONS;
}

/// An order for a plan. Amount and currency are not the client's to say.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrderIn {
    /// A live, active, paid plan.
    plan_id: Uuid,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderStatusIn {
    status: String,
    /// The payment's reference, 1–100 characters, unique among orders; only when
    /// moving to `paid`.
    payment_reference: Option<String>,
}

/// Filters only order lists have.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderFilters {
    /// Only orders of this plan.
    plan_id: Option<Uuid>,
}

pub const ORDER_LIST: ListSpec<Entity> = ListSpec {
    sort_fields: &[
        ("created_at", Column::CreatedAt),
        ("amount", Column::Amount),
        ("status", Column::Status),
    ],
    default_order: SortOrder::Desc,
    search: Search::Like(&[Column::PaymentReferenceFold]),
    status: Some((Column::Status, STATUSES)),
    created_at: Column::CreatedAt,
    id: Column::Id,
};

pub const PAYMENT_REFERENCE: Text = Text::line("payment_reference", 1, 100);
/// The status a payment reference is recorded with.
pub const RECORDS_PAYMENT: &str = "paid";

/// Orders a plan for the caller; the order starts as `pending`, and its log row notes
/// the plan, amount and currency.
pub async fn create(
    db: &DatabaseConnection,
    (user, actor): Caller<'_>,
    input: CreateOrderIn,
) -> Result<Model, AppError> {
    let writer = Writer::begin(db, actor).await?;
    let plan = catalog::one_on_sale::<plans::Entity>(writer.tx(), input.plan_id).await?;
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
    };
    access::create_noting::<Entity>(writer, order, |order, event| {
        event.details(json!({
            "plan_id": order.plan_id,
            "amount": order.amount,
            "currency": order.currency,
        }))
    })
    .await
}

/// The caller's orders (an admin sees everyone's).
pub async fn list(
    db: &DatabaseConnection,
    (user, _): Caller<'_>,
    params: &ListParams,
    filters: OrderFilters,
) -> Result<Page<Model>, AppError> {
    let mut query = access::visible::<Entity>(user);
    if let Some(plan_id) = filters.plan_id {
        query = query.filter(Column::PlanId.eq(plan_id));
    }
    Ok(ORDER_LIST.fetch(db, query, params).await?)
}

/// Cancels one of the caller's orders while it is still pending (a paid order is
/// cancelled by an admin). Not [`access::move_owned`]: the transitions would let an
/// owner cancel a paid order, and this refusal has its own message.
pub async fn cancel(
    db: &DatabaseConnection,
    (user, actor): Caller<'_>,
    id: Uuid,
) -> Result<Model, AppError> {
    let writer = Writer::begin(db, actor).await?;
    let order = access::find_owned::<Entity>(writer.tx(), user, id).await?;
    if order.status != "pending" {
        return Err(AppError::Conflict {
            message: format!(
                "only a pending order can be cancelled by its owner; this one is {}",
                order.status
            ),
            details: json!({ "from": order.status, "to": "cancelled", "allowed": [] }),
        });
    }
    let event =
        access::move_status::<Entity>(writer.tx(), (id, "cancel"), "pending", "cancelled", vec![])
            .await?;
    let order = access::reload::<Entity>(writer.tx(), id).await?;
    writer.commit(event).await?;
    Ok(order)
}

/// Moves an order to another status (an admin's move), following its transitions;
/// moving it to `paid` may record the payment reference, which its log row notes (so
/// the move is spelled out: [`access::move_visible`] logs only `{from, to}`).
pub async fn set_status(
    db: &DatabaseConnection,
    (admin, actor): Caller<'_>,
    id: Uuid,
    input: OrderStatusIn,
) -> Result<Model, AppError> {
    let to = domain::one_of("status", &input.status, STATUSES)?;
    let reference = PAYMENT_REFERENCE.optional(input.payment_reference.as_deref())?;
    if reference.is_some() && to != RECORDS_PAYMENT {
        return Err(AppError::invalid(
            "payment_reference",
            "payment_reference is only recorded when an order becomes paid",
        ));
    }
    let writer = Writer::begin(db, actor).await?;
    let order = access::find_visible::<Entity>(writer.tx(), admin, id).await?;
    let set = Changes::<Entity>::default().set(Column::PaymentReference, reference.clone());
    let event = access::move_status::<Entity>(
        writer.tx(),
        (id, "status"),
        &order.status,
        to,
        set.into_exprs(),
    )
    .await?;
    let moved = access::reload::<Entity>(writer.tx(), id).await?;
    writer
        .commit(event.with("payment_reference", reference))
        .await?;
    Ok(moved)
}
