//! `/api/subscriptions` and `/api/admin/subscriptions`
//! ([`crate::resources::subscriptions`]): each answered with its service as it is now.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use dbkit::list::{ListParams, Page};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::http::error::{AppError, ErrorResponse};
use crate::http::extract::{AdminUser, CurrentUser, Json, Path, Query, Reading};
use crate::resources::subscriptions::{
    self, CreateSubscriptionIn, Subscribed, SubscriptionFilters, SubscriptionStatusIn,
};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_subscription, list_subscriptions))
        .routes(routes!(get_subscription))
        .routes(routes!(cancel_subscription))
        .routes(routes!(set_subscription_status))
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

impl From<Subscribed> for SubscriptionOut {
    fn from((s, service): Subscribed) -> Self {
        Self {
            id: s.id,
            user_id: s.user_id,
            service_id: s.service_id,
            service: SubscribedService {
                id: service.id,
                name: service.name,
                price: service.price,
            },
            status: s.status,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// Subscribe to a service; the subscription starts as `requested`.
#[utoipa::path(post, path = "/subscriptions", tag = "subscriptions", security(("bearer" = [])),
    request_body = CreateSubscriptionIn, responses(
        (status = 201, body = SubscriptionOut),
        (status = 404, description = "No such active service", body = ErrorResponse),
        (status = 409, description = "You already have an open subscription to it", body = ErrorResponse),
    ))]
async fn create_subscription(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(body): Json<CreateSubscriptionIn>,
) -> Result<(StatusCode, axum::Json<SubscriptionOut>), AppError> {
    let subscription = subscriptions::create(&state.db, current.caller(), body).await?;
    Ok((StatusCode::CREATED, axum::Json(subscription.into())))
}

/// The caller's subscriptions (an admin sees everyone's).
#[utoipa::path(get, path = "/subscriptions", tag = "subscriptions", security(("bearer" = [])),
    params(ListParams, SubscriptionFilters), responses(
        (status = 200, body = Page<SubscriptionOut>),
    ))]
async fn list_subscriptions(
    Reading { who: current, db }: Reading,
    Query(params): Query<ListParams>,
    Query(filters): Query<SubscriptionFilters>,
) -> Result<axum::Json<Page<SubscriptionOut>>, AppError> {
    let page = subscriptions::list(&db, current.caller(), &params, filters).await?;
    Ok(axum::Json(page.map(SubscriptionOut::from)))
}

/// One subscription.
#[utoipa::path(get, path = "/subscriptions/{id}", tag = "subscriptions", security(("bearer" = [])),
    params(("id" = Uuid, Path)), responses(
        (status = 200, body = SubscriptionOut),
        (status = 404, description = "No such subscription, or not yours", body = ErrorResponse),
    ))]
async fn get_subscription(
    Reading { who: current, db }: Reading,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<SubscriptionOut>, AppError> {
    let subscription = subscriptions::get(&db, current.caller(), id).await?;
    Ok(axum::Json(subscription.into()))
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
    current: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<SubscriptionOut>, AppError> {
    let subscription = subscriptions::cancel(&state.db, current.caller(), id).await?;
    Ok(axum::Json(subscription.into()))
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
    let subscription = subscriptions::set_status(&state.db, admin.caller(), id, body).await?;
    Ok(axum::Json(subscription.into()))
}
