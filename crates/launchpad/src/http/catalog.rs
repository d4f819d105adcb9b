//! `/api/plans` and `/api/services`: the public catalogue, and admin delete/restore of plans.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use dbkit::Writer;
use dbkit::audit::Event;
use dbkit::list::{self, ListParams, ListSpec, Page, SortOrder};
use dbkit::soft_delete::{self, SoftDeletable};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::entity::{plans, services};
use crate::http::error::{AppError, ErrorResponse};
use crate::http::extract::{AdminUser, Path, Query};
use crate::state::AppState;
use crate::tables::PLANS;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_plans))
        .routes(routes!(get_plan))
        .routes(routes!(list_services))
        .routes(routes!(get_service))
        .routes(routes!(delete_plan))
        .routes(routes!(restore_plan))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanOut {
    id: Uuid,
    name: String,
    description: Option<String>,
    /// Minor units.
    price: i64,
    #[schema(value_type = Vec<String>)]
    features: serde_json::Value,
    blog_included: bool,
    max_projects: i32,
    support_level: String,
    is_active: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<plans::Model> for PlanOut {
    fn from(p: plans::Model) -> Self {
        Self {
            id: p.id,
            name: p.name,
            description: p.description,
            price: p.price,
            features: p.features,
            blog_included: p.blog_included,
            max_projects: p.max_projects,
            support_level: p.support_level,
            is_active: p.is_active,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceOut {
    id: Uuid,
    name: String,
    description: Option<String>,
    price: i64,
    is_active: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<services::Model> for ServiceOut {
    fn from(s: services::Model) -> Self {
        Self {
            id: s.id,
            name: s.name,
            description: s.description,
            price: s.price,
            is_active: s.is_active,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

const PLAN_LIST: ListSpec<plans::Entity> = ListSpec {
    sort_fields: &[
        ("price", plans::Column::Price),
        ("created_at", plans::Column::CreatedAt),
        ("name", plans::Column::Name),
    ],
    default_order: SortOrder::Asc,
    search: &[plans::Column::Name, plans::Column::Description],
    status: None,
    created_at: plans::Column::CreatedAt,
    id: plans::Column::Id,
};

const SERVICE_LIST: ListSpec<services::Entity> = ListSpec {
    sort_fields: &[
        ("name", services::Column::Name),
        ("price", services::Column::Price),
        ("created_at", services::Column::CreatedAt),
    ],
    default_order: SortOrder::Asc,
    search: &[services::Column::Name, services::Column::Description],
    status: None,
    created_at: services::Column::CreatedAt,
    id: services::Column::Id,
};

/// Active plans: what a student can buy.
#[utoipa::path(get, path = "/plans", tag = "catalog", params(ListParams), responses(
    (status = 200, body = Page<PlanOut>),
    (status = 422, body = ErrorResponse),
))]
async fn list_plans(
    State(state): State<AppState>,
    Query(params): Query<ListParams>,
) -> Result<axum::Json<Page<PlanOut>>, AppError> {
    let page = list::page_request(&params)?;
    let query = PLAN_LIST.apply(
        plans::Entity::find_live().filter(plans::Column::IsActive.eq(true)),
        &params,
    )?;
    Ok(axum::Json(
        list::fetch_page(&state.db, query, page)
            .await?
            .map(PlanOut::from),
    ))
}

/// One active plan.
#[utoipa::path(get, path = "/plans/{id}", tag = "catalog", params(("id" = Uuid, Path)), responses(
    (status = 200, body = PlanOut),
    (status = 404, body = ErrorResponse),
))]
async fn get_plan(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<PlanOut>, AppError> {
    let plan = plans::Entity::find_live()
        .filter(plans::Column::Id.eq(id))
        .filter(plans::Column::IsActive.eq(true))
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("plan"))?;
    Ok(axum::Json(plan.into()))
}

/// Active services.
#[utoipa::path(get, path = "/services", tag = "catalog", params(ListParams), responses(
    (status = 200, body = Page<ServiceOut>),
    (status = 422, body = ErrorResponse),
))]
async fn list_services(
    State(state): State<AppState>,
    Query(params): Query<ListParams>,
) -> Result<axum::Json<Page<ServiceOut>>, AppError> {
    let page = list::page_request(&params)?;
    let live = services::Entity::find_live().filter(services::Column::IsActive.eq(true));
    let query = SERVICE_LIST.apply(live, &params)?;
    Ok(axum::Json(
        list::fetch_page(&state.db, query, page)
            .await?
            .map(ServiceOut::from),
    ))
}

/// One active service.
#[utoipa::path(get, path = "/services/{id}", tag = "catalog", params(("id" = Uuid, Path)), responses(
    (status = 200, body = ServiceOut),
    (status = 404, body = ErrorResponse),
))]
async fn get_service(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<ServiceOut>, AppError> {
    let service = services::Entity::find_live()
        .filter(services::Column::Id.eq(id))
        .filter(services::Column::IsActive.eq(true))
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("service"))?;
    Ok(axum::Json(service.into()))
}

/// Move a plan to the trash (admin).
#[utoipa::path(delete, path = "/admin/plans/{id}", tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 204, description = "Deleted"),
    (status = 403, body = ErrorResponse),
    (status = 404, body = ErrorResponse),
))]
async fn delete_plan(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, AppError> {
    let writer = Writer::begin(&state.db, &admin.actor).await?;
    let affected = soft_delete::soft_delete(writer.tx(), &PLANS, id, Some(admin.user.id))
        .await?
        .ok_or(AppError::NotFound("plan"))?;
    writer
        .commit(Event::new("plan.delete", "plan", id).details(json!({ "affected": affected })))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Bring a plan back from the trash (admin).
#[utoipa::path(post, path = "/admin/plans/{id}/restore", tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = PlanOut),
    (status = 404, body = ErrorResponse),
    (status = 409, description = "Its name is taken by a live plan", body = ErrorResponse),
))]
async fn restore_plan(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<PlanOut>, AppError> {
    crate::http::trash::restore(&state, &admin, &PLANS, id).await?;
    let plan = plans::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("plan"))?;
    Ok(axum::Json(plan.into()))
}
