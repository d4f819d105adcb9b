//! Subscriptions: a student's subscriptions to services (`user_services`). A student
//! requests one; an admin activates and completes it; either side can cancel an open
//! one. One open (not cancelled) subscription per user and service.

use dbkit::Writer;
use dbkit::list::{ListParams, ListSpec, Page, Search, SortOrder};
use dbkit::soft_delete::SoftDeletable;
use std::collections::HashMap;

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
use crate::resources::Caller;

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

impl Stateful for user_services::Entity {
    fn status() -> user_services::Column {
        user_services::Column::Status
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

pub const SUBSCRIPTION_LIST: ListSpec<user_services::Entity> = ListSpec {
    sort_fields: &[
        ("created_at", user_services::Column::CreatedAt),
        ("updated_at", user_services::Column::UpdatedAt),
        ("status", user_services::Column::Status),
    ],
    default_order: SortOrder::Desc,
    // Nothing textual of its own: a `search` matches no subscription.
    search: Search::Like(&[]),
    status: Some((user_services::Column::Status, STATUSES)),
    created_at: user_services::Column::CreatedAt,
    id: user_services::Column::Id,
};

/// Subscribes the caller to a live, active service; the subscription starts as
/// `requested`, and its log row notes the service. Returns it with its service.
pub async fn create(
    db: &DatabaseConnection,
    (user, actor): Caller<'_>,
    input: CreateSubscriptionIn,
) -> Result<(Model, services::Model), AppError> {
    let writer = Writer::begin(db, actor).await?;
    let service = services::Entity::find_live()
        .filter(services::Column::Id.eq(input.service_id))
        .filter(services::Column::IsActive.eq(true))
        .one(writer.tx())
        .await?
        .ok_or(AppError::NotFound("service"))?;
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
) -> Result<Page<Model>, AppError> {
    let mut query = access::visible::<Entity>(user);
    if let Some(service_id) = filters.service_id {
        query = query.filter(Column::ServiceId.eq(service_id));
    }
    Ok(SUBSCRIPTION_LIST.fetch(db, query, params).await?)
}

/// Cancels one of the caller's subscriptions while it is requested or active.
pub async fn cancel(
    db: &DatabaseConnection,
    caller: Caller<'_>,
    id: Uuid,
) -> Result<Model, AppError> {
    access::move_owned::<Entity>(
        db,
        caller,
        (id, "cancel"),
        ("cancelled", Changes::default()),
    )
    .await
}

/// Moves a subscription to another status (an admin's move), following its transitions.
pub async fn set_status(
    db: &DatabaseConnection,
    caller: Caller<'_>,
    id: Uuid,
    input: SubscriptionStatusIn,
) -> Result<Model, AppError> {
    let to = domain::one_of("status", &input.status, STATUSES)?;
    access::move_visible::<Entity>(db, caller, (id, "status"), (to, Changes::default())).await
}

/// Subscriptions with their services, loaded in one query whatever their number. A
/// deleted or inactive service still names the subscriptions made to it.
pub async fn with_services(
    conn: &impl ConnectionTrait,
    rows: Vec<Model>,
) -> Result<Vec<(Model, services::Model)>, AppError> {
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
pub async fn with_service(
    conn: &impl ConnectionTrait,
    row: Model,
) -> Result<(Model, services::Model), AppError> {
    with_services(conn, vec![row])
        .await?
        .pop()
        .ok_or_else(|| AppError::Internal("subscription vanished".into()))
}
