//! `/api/plans` and `/api/services`: the public catalogue (active rows only), and the
//! admin catalogue under `/api/admin/plans` and `/api/admin/services`: every live row,
//! inactive ones too, with create, update, delete and restore
//! ([`crate::resources::catalog`]).

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
use crate::entity::{plans, services};
use crate::http::error::{AppError, ErrorResponse};
use crate::http::extract::{AdminUser, Json, Path, Query, Reading};
use crate::resources::catalog::{
    self, ActiveFilter, CreatePlanIn, CreateServiceIn, UpdatePlanIn, UpdateServiceIn,
};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_plans))
        .routes(routes!(get_plan))
        .routes(routes!(list_services))
        .routes(routes!(get_service))
        .routes(routes!(create_plan, list_admin_plans))
        .routes(routes!(update_plan, delete_plan))
        .routes(routes!(restore_plan))
        .routes(routes!(create_service, list_admin_services))
        .routes(routes!(update_service, delete_service))
        .routes(routes!(restore_service))
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

/// Active plans: what a student can buy.
#[utoipa::path(get, path = "/plans", tag = "catalog", params(ListParams), responses(
    (status = 200, body = Page<PlanOut>),
))]
async fn list_plans(
    State(state): State<AppState>,
    Query(params): Query<ListParams>,
) -> Result<axum::Json<Page<PlanOut>>, AppError> {
    let page = catalog::on_sale::<plans::Entity>(&state.db, &params).await?;
    Ok(axum::Json(page.map(PlanOut::from)))
}

/// One active plan.
#[utoipa::path(get, path = "/plans/{id}", tag = "catalog", params(("id" = Uuid, Path)), responses(
    (status = 200, body = PlanOut),
))]
async fn get_plan(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<PlanOut>, AppError> {
    let plan = catalog::one_on_sale::<plans::Entity>(&state.db, id).await?;
    Ok(axum::Json(plan.into()))
}

/// Active services.
#[utoipa::path(get, path = "/services", tag = "catalog", params(ListParams), responses(
    (status = 200, body = Page<ServiceOut>),
))]
async fn list_services(
    State(state): State<AppState>,
    Query(params): Query<ListParams>,
) -> Result<axum::Json<Page<ServiceOut>>, AppError> {
    let page = catalog::on_sale::<services::Entity>(&state.db, &params).await?;
    Ok(axum::Json(page.map(ServiceOut::from)))
}

/// One active service.
#[utoipa::path(get, path = "/services/{id}", tag = "catalog", params(("id" = Uuid, Path)), responses(
    (status = 200, body = ServiceOut),
))]
async fn get_service(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<ServiceOut>, AppError> {
    let service = catalog::one_on_sale::<services::Entity>(&state.db, id).await?;
    Ok(axum::Json(service.into()))
}

/// Move a plan to the trash (admin).
#[utoipa::path(delete, path = "/admin/plans/{id}", tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 204, description = "Deleted"),
))]
async fn delete_plan(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, AppError> {
    access::delete_live::<plans::Entity>(&state.db, admin.caller(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Bring a plan back from the trash (admin).
#[utoipa::path(post, path = "/admin/plans/{id}/restore", tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = PlanOut),
    (status = 404, description = "No such plan", body = ErrorResponse),
    (status = 409, description = "It is not in the trash, or its name is taken by a live plan", body = ErrorResponse),
))]
async fn restore_plan(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<PlanOut>, AppError> {
    let plan = catalog::restore::<plans::Entity>(&state.db, admin.caller(), id).await?;
    Ok(axum::Json(plan.into()))
}

/// Every live plan, inactive ones too (admin).
#[utoipa::path(get, path = "/admin/plans", tag = "admin", security(("bearer" = [])), params(ListParams, ActiveFilter),
    responses(
        (status = 200, body = Page<PlanOut>),
    ))]
async fn list_admin_plans(
    Reading { db, .. }: Reading<AdminUser>,
    Query(params): Query<ListParams>,
    Query(filter): Query<ActiveFilter>,
) -> Result<axum::Json<Page<PlanOut>>, AppError> {
    let page = catalog::every::<plans::Entity>(&db, &params, filter).await?;
    Ok(axum::Json(page.map(PlanOut::from)))
}

/// Add a plan (admin).
#[utoipa::path(post, path = "/admin/plans", tag = "admin", security(("bearer" = [])), request_body = CreatePlanIn,
    responses(
        (status = 201, body = PlanOut),
        (status = 409, description = "A live plan has this name", body = ErrorResponse),
    ))]
async fn create_plan(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Json(body): Json<CreatePlanIn>,
) -> Result<(StatusCode, axum::Json<PlanOut>), AppError> {
    let plan = catalog::create_plan(&state.db, admin.caller(), body).await?;
    Ok((StatusCode::CREATED, axum::Json(plan.into())))
}

/// Change a plan (admin). Orders already placed keep the amount they were placed at.
#[utoipa::path(patch, path = "/admin/plans/{id}", tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = UpdatePlanIn, responses(
        (status = 200, body = PlanOut),
        (status = 409, description = "A live plan has this name", body = ErrorResponse),
    ))]
async fn update_plan(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<Uuid>,
    Json(body): Json<UpdatePlanIn>,
) -> Result<axum::Json<PlanOut>, AppError> {
    let plan = catalog::update_plan(&state.db, admin.caller(), id, body).await?;
    Ok(axum::Json(plan.into()))
}

/// Every live service, inactive ones too (admin).
#[utoipa::path(get, path = "/admin/services", tag = "admin", security(("bearer" = [])), params(ListParams, ActiveFilter),
    responses(
        (status = 200, body = Page<ServiceOut>),
    ))]
async fn list_admin_services(
    Reading { db, .. }: Reading<AdminUser>,
    Query(params): Query<ListParams>,
    Query(filter): Query<ActiveFilter>,
) -> Result<axum::Json<Page<ServiceOut>>, AppError> {
    let page = catalog::every::<services::Entity>(&db, &params, filter).await?;
    Ok(axum::Json(page.map(ServiceOut::from)))
}

/// Add a service (admin).
#[utoipa::path(post, path = "/admin/services", tag = "admin", security(("bearer" = [])), request_body = CreateServiceIn,
    responses(
        (status = 201, body = ServiceOut),
        (status = 409, description = "A live service has this name", body = ErrorResponse),
    ))]
async fn create_service(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Json(body): Json<CreateServiceIn>,
) -> Result<(StatusCode, axum::Json<ServiceOut>), AppError> {
    let service = catalog::create_service(&state.db, admin.caller(), body).await?;
    Ok((StatusCode::CREATED, axum::Json(service.into())))
}

/// Change a service (admin).
#[utoipa::path(patch, path = "/admin/services/{id}", tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = UpdateServiceIn, responses(
        (status = 200, body = ServiceOut),
        (status = 409, description = "A live service has this name", body = ErrorResponse),
    ))]
async fn update_service(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<Uuid>,
    Json(body): Json<UpdateServiceIn>,
) -> Result<axum::Json<ServiceOut>, AppError> {
    let service = catalog::update_service(&state.db, admin.caller(), id, body).await?;
    Ok(axum::Json(service.into()))
}

/// Move a service to the trash (admin). Subscriptions to it are kept.
#[utoipa::path(delete, path = "/admin/services/{id}", tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 204, description = "Deleted"),
))]
async fn delete_service(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, AppError> {
    access::delete_live::<services::Entity>(&state.db, admin.caller(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Bring a service back from the trash (admin).
#[utoipa::path(post, path = "/admin/services/{id}/restore", tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = ServiceOut),
    (status = 404, description = "No such service", body = ErrorResponse),
    (status = 409, description = "It is not in the trash, or its name is taken by a live service", body = ErrorResponse),
))]
async fn restore_service(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<ServiceOut>, AppError> {
    let service = catalog::restore::<services::Entity>(&state.db, admin.caller(), id).await?;
    Ok(axum::Json(service.into()))
}
