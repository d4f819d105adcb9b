//! `/api/subscriptions`: a student's subscriptions to services (`user_services`). A
//! student requests one; an admin activates and completes it; either side can cancel
//! an open one. One open (not cancelled) subscription per user and service.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use dbkit::Writer;
use dbkit::list::{ListParams, ListSpec, Page, Search, SortOrder};
use dbkit::soft_delete::SoftDeletable;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::access::{self, Stateful};
use crate::domain::{self, Transitions};
use crate::entity::{services, user_services};
use crate::http::error::{AppError, ErrorResponse};
use crate::http::extract::{AdminUser, CurrentUser, Json, Path, Query};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_subscription, list_subscriptions))
        .routes(routes!(get_subscription))
        .routes(routes!(cancel_subscription))
        .routes(routes!(set_subscription_status))
}

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

/// The service a subscription is for, as it is now.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscribedService {
    id: Uuid,
    name: String,
    /// Minor units.
    price: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionOut {
    id: Uuid,
    user_id: Uuid,
    service_id: Uuid,
    service: SubscribedService,
    status: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl SubscriptionOut {
    fn new(s: user_services::Model, service: &services::Model) -> Self {
        Self {
            id: s.id,
            user_id: s.user_id,
            service_id: s.service_id,
            service: SubscribedService {
                id: service.id,
                name: service.name.clone(),
                price: service.price,
            },
            status: s.status,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// Subscriptions with their services, loaded in one query whatever their number. A
/// deleted or inactive service still names the subscriptions made to it.
async fn with_services(
    conn: &impl ConnectionTrait,
    rows: Vec<user_services::Model>,
) -> Result<Vec<SubscriptionOut>, AppError> {
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
            let service = found.get(&row.service_id).ok_or_else(|| {
                AppError::Internal(format!("subscription {} has no service row", row.id))
            })?;
            Ok(SubscriptionOut::new(row, service))
        })
        .collect()
}

async fn one_out(
    conn: &impl ConnectionTrait,
    row: user_services::Model,
) -> Result<SubscriptionOut, AppError> {
    with_services(conn, vec![row])
        .await?
        .pop()
        .ok_or_else(|| AppError::Internal("subscription vanished".into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateSubscriptionIn {
    /// A live, active service.
    service_id: Uuid,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SubscriptionStatusIn {
    status: String,
}

/// Filters only subscription lists have.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SubscriptionFilters {
    /// Only subscriptions to this service.
    service_id: Option<Uuid>,
}

pub(crate) const SUBSCRIPTION_LIST: ListSpec<user_services::Entity> = ListSpec {
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

/// Subscribe to a service; the subscription starts as `requested`.
#[utoipa::path(post, path = "/subscriptions", tag = "subscriptions", security(("bearer" = [])),
    request_body = CreateSubscriptionIn, responses(
        (status = 201, body = SubscriptionOut),
        (status = 404, description = "No such active service", body = ErrorResponse),
        (status = 409, description = "You already have an open subscription to it", body = ErrorResponse),
    ))]
async fn create_subscription(
    State(state): State<AppState>,
    CurrentUser { user, actor }: CurrentUser,
    Json(body): Json<CreateSubscriptionIn>,
) -> Result<(StatusCode, axum::Json<SubscriptionOut>), AppError> {
    let writer = Writer::begin(&state.db, &actor).await?;
    let service = services::Entity::find_live()
        .filter(services::Column::Id.eq(body.service_id))
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
    }
    .insert(writer.tx())
    .await?;
    let event = access::event::<user_services::Entity>("create", subscription.id)
        .details(json!({ "service_id": service.id }));
    writer.commit(event).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(SubscriptionOut::new(subscription, &service)),
    ))
}

/// The caller's subscriptions (an admin sees everyone's).
#[utoipa::path(get, path = "/subscriptions", tag = "subscriptions", security(("bearer" = [])),
    params(ListParams, SubscriptionFilters), responses(
        (status = 200, body = Page<SubscriptionOut>),
    ))]
async fn list_subscriptions(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(params): Query<ListParams>,
    Query(filters): Query<SubscriptionFilters>,
) -> Result<axum::Json<Page<SubscriptionOut>>, AppError> {
    let mut query = access::visible::<user_services::Entity>(&current.user);
    if let Some(service_id) = filters.service_id {
        query = query.filter(user_services::Column::ServiceId.eq(service_id));
    }
    let rows = SUBSCRIPTION_LIST.fetch(&state.db, query, &params).await?;
    Ok(axum::Json(Page {
        data: with_services(&state.db, rows.data).await?,
        meta: rows.meta,
    }))
}

/// One subscription.
#[utoipa::path(get, path = "/subscriptions/{id}", tag = "subscriptions", security(("bearer" = [])),
    params(("id" = Uuid, Path)), responses(
        (status = 200, body = SubscriptionOut),
        (status = 404, description = "No such subscription, or not yours", body = ErrorResponse),
    ))]
async fn get_subscription(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<SubscriptionOut>, AppError> {
    let row = access::find_visible::<user_services::Entity>(&state.db, &current.user, id).await?;
    Ok(axum::Json(one_out(&state.db, row).await?))
}

/// Cancel one of your subscriptions while it is requested or active.
#[utoipa::path(post, path = "/subscriptions/{id}/cancel", tag = "subscriptions", security(("bearer" = [])),
    params(("id" = Uuid, Path)), responses(
        (status = 200, body = SubscriptionOut),
        (status = 403, description = "An admin cancelling someone else's subscription (use the admin route)", body = ErrorResponse),
        (status = 409, description = "Already completed or cancelled; `details.allowed` lists what is allowed", body = ErrorResponse),
    ))]
async fn cancel_subscription(
    State(state): State<AppState>,
    CurrentUser { user, actor }: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<SubscriptionOut>, AppError> {
    let writer = Writer::begin(&state.db, &actor).await?;
    let row = access::find_owned::<user_services::Entity>(writer.tx(), &user, id).await?;
    let event = access::move_status::<user_services::Entity>(
        writer.tx(),
        (id, "cancel"),
        &row.status,
        "cancelled",
        vec![],
    )
    .await?;
    let row = access::find_visible::<user_services::Entity>(writer.tx(), &user, id).await?;
    let out = one_out(writer.tx(), row).await?;
    writer.commit(event).await?;
    Ok(axum::Json(out))
}

/// Move a subscription to another status (admin), following its transitions.
#[utoipa::path(post, path = "/admin/subscriptions/{id}/status", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = SubscriptionStatusIn, responses(
        (status = 200, body = SubscriptionOut),
        (status = 409, description = "Not allowed from the current status; `details.allowed` lists what is", body = ErrorResponse),
    ))]
async fn set_subscription_status(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<Uuid>,
    Json(body): Json<SubscriptionStatusIn>,
) -> Result<axum::Json<SubscriptionOut>, AppError> {
    let to = domain::one_of("status", &body.status, STATUSES)?;
    let writer = Writer::begin(&state.db, &admin.actor).await?;
    let row = access::find_visible::<user_services::Entity>(writer.tx(), &admin.user, id).await?;
    let event = access::move_status::<user_services::Entity>(
        writer.tx(),
        (id, "status"),
        &row.status,
        to,
        vec![],
    )
    .await?;
    let row = access::find_visible::<user_services::Entity>(writer.tx(), &admin.user, id).await?;
    let out = one_out(writer.tx(), row).await?;
    writer.commit(event).await?;
    Ok(axum::Json(out))
}
