//! Subscriptions: a student's subscriptions to services (`user_services`). A student
//! requests one; an admin activates and completes it; either side can cancel an open
//! one. One open (not cancelled) subscription per user and service.

use std::collections::HashMap;

use dbkit::Writer;
use dbkit::list::{ListParams, ListSpec, Page, Search, SortOrder};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::{self, Changes, Stateful};
use crate::domain::{self, Transitions};
use crate::entity::services;
use crate::entity::user_services::{self, Column, Entity, Model};
use crate::error::AppError;
use crate::resources::{Caller, catalog};

/// Subscription statuses, in the order a subscription usually moves through them.
pub const STATUSES: &[&str] = &["requested", "active", "completed", "cancelled"];

/// Requested → active → completed; an open subscription can be cancelled.
pub static TRANSITIONS: Transitions = Transitions {
    noun: "subscription",
    moves: &[
        ("requested", &["active", "cancelled"]),
        ("active", &["completed", "cancelled"]),
    ],
};

impl Stateful for Entity {
    fn status() -> Column {
        Column::Status
    }
    const TRANSITIONS: &'static Transitions = &TRANSITIONS;
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSubscriptionIn {
    /// A live, active service.
    service_id: Uuid,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionStatusIn {
    status: String,
}

/// Filters only subscription lists have.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubscriptionFilters {
    /// Only subscriptions to this service.
    service_id: Option<Uuid>,
}

pub const SUBSCRIPTION_LIST: ListSpec<Entity> = ListSpec {
    sort_fields: &[
        ("created_at", Column::CreatedAt),
        ("updated_at", Column::UpdatedAt),
        ("status", Column::Status),
    ],
    default_order: SortOrder::Desc,
    // Nothing textual of its own: a `search` matches no subscription.
    search: Search::Like(&[]),
    status: Some((Column::Status, STATUSES)),
    created_at: Column::CreatedAt,
    id: Column::Id,
};

/// A subscription with its service, as it is now: what every operation answers.
pub type Subscribed = (Model, services::Model);

/// Subscribes the caller to a live, active service; the subscription starts as
/// `requested`, and its log row notes the service.
pub async fn create(
    db: &DatabaseConnection,
    (user, actor): Caller<'_>,
    input: CreateSubscriptionIn,
) -> Result<Subscribed, AppError> {
    let writer = Writer::begin(db, actor).await?;
    let service = catalog::one_on_sale::<services::Entity>(writer.tx(), input.service_id).await?;
    let subscription = user_services::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        service_id: Set(service.id),
        status: Set(STATUSES[0].to_owned()),
        ..Default::default()
    };
    let subscription = access::create_noting::<Entity>(writer, subscription, |row, event| {
        event.details(json!({ "service_id": row.service_id }))
    })
    .await?;
    Ok((subscription, service))
}

/// The caller's subscriptions (an admin sees everyone's).
pub async fn list(
    db: &DatabaseConnection,
    (user, _): Caller<'_>,
    params: &ListParams,
    filters: SubscriptionFilters,
) -> Result<Page<Subscribed>, AppError> {
    let mut query = access::visible::<Entity>(user);
    if let Some(service_id) = filters.service_id {
        query = query.filter(Column::ServiceId.eq(service_id));
    }
    let page = SUBSCRIPTION_LIST.fetch(db, query, params).await?;
    Ok(Page {
        data: with_services(db, page.data).await?,
        meta: page.meta,
    })
}

/// One subscription the caller may see.
pub async fn get(
    db: &DatabaseConnection,
    (user, _): Caller<'_>,
    id: Uuid,
) -> Result<Subscribed, AppError> {
    let row = access::find_visible::<Entity>(db, user, id).await?;
    with_service(db, row).await
}

/// Cancels one of the caller's subscriptions while it is requested or active.
pub async fn cancel(
    db: &DatabaseConnection,
    caller: Caller<'_>,
    id: Uuid,
) -> Result<Subscribed, AppError> {
    let to = ("cancelled", Changes::default());
    let row = access::move_owned::<Entity>(db, caller, (id, "cancel"), to).await?;
    with_service(db, row).await
}

/// Moves a subscription to another status (an admin's move), following its transitions.
pub async fn set_status(
    db: &DatabaseConnection,
    caller: Caller<'_>,
    id: Uuid,
    input: SubscriptionStatusIn,
) -> Result<Subscribed, AppError> {
    let to = (
        domain::one_of("status", &input.status, STATUSES)?,
        Changes::default(),
    );
    let row = access::move_visible::<Entity>(db, caller, (id, "status"), to).await?;
    with_service(db, row).await
}

/// Subscriptions with their services, loaded in one query whatever their number. A
/// deleted or inactive service still names the subscriptions made to it.
async fn with_services(
    conn: &impl ConnectionTrait,
    rows: Vec<Model>,
) -> Result<Vec<Subscribed>, AppError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids: Vec<Uuid> = rows.iter().map(|r| r.service_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let found: HashMap<Uuid, services::Model> = services::Entity::find()
        .filter(services::Column::Id.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    rows.into_iter()
        .map(|row| {
            let service = found.get(&row.service_id).cloned().ok_or_else(|| {
                AppError::Internal(format!("subscription {} has no service row", row.id))
            })?;
            Ok((row, service))
        })
        .collect()
}

/// One subscription with its service.
async fn with_service(conn: &impl ConnectionTrait, row: Model) -> Result<Subscribed, AppError> {
    with_services(conn, vec![row])
        .await?
        .pop()
        .ok_or_else(|| AppError::Internal("subscription vanished".into()))
}
