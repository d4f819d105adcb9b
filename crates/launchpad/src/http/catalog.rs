//! `/api/plans` and `/api/services`: the public catalogue (active rows only), and the
//! admin catalogue under `/api/admin/plans` and `/api/admin/services`: every live row,
//! inactive ones too, with create, update, delete and restore.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use dbkit::Writer;
use dbkit::audit::Event;
use dbkit::list::{ListParams, ListSpec, Page, Search, SortOrder};
use dbkit::soft_delete::SoftDeletable;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Select, Set};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::access;
use crate::domain::{self, Text, Whole};
use crate::entity::{plans, services};
use crate::http::error::{AppError, ErrorResponse};
use crate::http::extract::{AdminUser, Json, Path, Query, nullable};
use crate::state::AppState;
use crate::tables::{PLANS, SERVICES};

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

/// Support levels a plan can offer.
pub const SUPPORT_LEVELS: &[&str] = &["Basic", "Standard", "Premium"];

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

pub(crate) const PLAN_LIST: ListSpec<plans::Entity> = ListSpec {
    sort_fields: &[
        ("price", plans::Column::Price),
        ("created_at", plans::Column::CreatedAt),
        ("name", plans::Column::Name),
    ],
    default_order: SortOrder::Asc,
    search: Search::Like(&[plans::Column::Name, plans::Column::Description]),
    status: None,
    created_at: plans::Column::CreatedAt,
    id: plans::Column::Id,
};

pub(crate) const SERVICE_LIST: ListSpec<services::Entity> = ListSpec {
    sort_fields: &[
        ("name", services::Column::Name),
        ("price", services::Column::Price),
        ("created_at", services::Column::CreatedAt),
    ],
    default_order: SortOrder::Asc,
    search: Search::Like(&[services::Column::Name, services::Column::Description]),
    status: None,
    created_at: services::Column::CreatedAt,
    id: services::Column::Id,
};

/// Active plans: what a student can buy.
#[utoipa::path(get, path = "/plans", tag = "catalog", params(ListParams), responses(
    (status = 200, body = Page<PlanOut>),
))]
async fn list_plans(
    State(state): State<AppState>,
    Query(params): Query<ListParams>,
) -> Result<axum::Json<Page<PlanOut>>, AppError> {
    let query = plans::Entity::find_live().filter(plans::Column::IsActive.eq(true));
    Ok(axum::Json(
        PLAN_LIST
            .fetch(&state.db, query, &params)
            .await?
            .map(PlanOut::from),
    ))
}

/// One active plan.
#[utoipa::path(get, path = "/plans/{id}", tag = "catalog", params(("id" = Uuid, Path)), responses(
    (status = 200, body = PlanOut),
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
))]
async fn list_services(
    State(state): State<AppState>,
    Query(params): Query<ListParams>,
) -> Result<axum::Json<Page<ServiceOut>>, AppError> {
    let query = services::Entity::find_live().filter(services::Column::IsActive.eq(true));
    Ok(axum::Json(
        SERVICE_LIST
            .fetch(&state.db, query, &params)
            .await?
            .map(ServiceOut::from),
    ))
}

/// One active service.
#[utoipa::path(get, path = "/services/{id}", tag = "catalog", params(("id" = Uuid, Path)), responses(
    (status = 200, body = ServiceOut),
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
))]
async fn delete_plan(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, AppError> {
    access::delete_unowned(&state.db, admin.caller(), &PLANS, ("plan", id)).await?;
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
    crate::http::trash::restore(&state, &admin, &PLANS, id).await?;
    let plan = plans::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("plan"))?;
    Ok(axum::Json(plan.into()))
}

// ---------------------------------------------------------------------------------
// The admin catalogue.

fn yes() -> bool {
    true
}

/// A new plan.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CreatePlanIn {
    /// 2–100 characters, unique among live plans.
    name: String,
    description: Option<String>,
    /// Minor units, at least 0.
    price: i64,
    /// Up to 20 labels of 1–50 characters.
    #[serde(default)]
    features: Vec<String>,
    #[serde(default)]
    blog_included: bool,
    /// 1–1000.
    max_projects: i64,
    support_level: String,
    #[serde(default = "yes")]
    #[schema(default = true)]
    is_active: bool,
}

/// Changes to a plan; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct UpdatePlanIn {
    name: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    description: Option<Option<String>>,
    price: Option<i64>,
    features: Option<Vec<String>>,
    blog_included: Option<bool>,
    max_projects: Option<i64>,
    support_level: Option<String>,
    is_active: Option<bool>,
}

/// A new service.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateServiceIn {
    /// 2–100 characters, unique among live services.
    name: String,
    description: Option<String>,
    /// Minor units, at least 0.
    price: i64,
    #[serde(default = "yes")]
    #[schema(default = true)]
    is_active: bool,
}

/// Changes to a service; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct UpdateServiceIn {
    name: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    description: Option<Option<String>>,
    price: Option<i64>,
    is_active: Option<bool>,
}

/// Filters of the admin catalogue lists.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ActiveFilter {
    /// Only active (`true`) or inactive (`false`) rows; both when absent.
    is_active: Option<bool>,
}

pub(crate) const NAME: Text = Text::line("name", 2, 100);
pub(crate) const DESCRIPTION: Text = Text::lines("description", 0, 10_000);
pub(crate) const FEATURES: Text = Text::line("features", 1, 50);

pub(crate) const PRICE: Whole = Whole {
    field: "price",
    min: 0,
    max: i64::MAX,
};
/// How many projects a plan may allow.
pub(crate) const MAX_PROJECTS: Whole = Whole {
    field: "max_projects",
    min: 1,
    max: 1000,
};

fn max_projects(value: i64) -> Result<i32, AppError> {
    let value = MAX_PROJECTS.check(value)?;
    Ok(i32::try_from(value).expect("MAX_PROJECTS fits an i32"))
}

fn support_level(raw: &str) -> Result<String, AppError> {
    domain::one_of("support_level", raw, SUPPORT_LEVELS).map(str::to_owned)
}

fn features(raw: &[String]) -> Result<serde_json::Value, AppError> {
    Ok(json!(domain::tags(&FEATURES, raw)?))
}

fn with_active<E: EntityTrait>(
    query: Select<E>,
    column: E::Column,
    filter: &ActiveFilter,
) -> Select<E>
where
    E::Column: ColumnTrait,
{
    match filter.is_active {
        Some(active) => query.filter(column.eq(active)),
        None => query,
    }
}

/// Every live plan, inactive ones too (admin).
#[utoipa::path(get, path = "/admin/plans", tag = "admin", security(("bearer" = [])), params(ListParams, ActiveFilter),
    responses(
        (status = 200, body = Page<PlanOut>),
    ))]
async fn list_admin_plans(
    State(state): State<AppState>,
    _: AdminUser,
    Query(params): Query<ListParams>,
    Query(filter): Query<ActiveFilter>,
) -> Result<axum::Json<Page<PlanOut>>, AppError> {
    let query = with_active(plans::Entity::find_live(), plans::Column::IsActive, &filter);
    Ok(axum::Json(
        PLAN_LIST
            .fetch(&state.db, query, &params)
            .await?
            .map(PlanOut::from),
    ))
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
    let plan = plans::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(NAME.check(&body.name)?),
        description: Set(body
            .description
            .as_deref()
            .map(|d| DESCRIPTION.check(d))
            .transpose()?),
        price: Set(PRICE.check(body.price)?),
        features: Set(features(&body.features)?),
        blog_included: Set(body.blog_included),
        max_projects: Set(max_projects(body.max_projects)?),
        support_level: Set(support_level(&body.support_level)?),
        is_active: Set(body.is_active),
        ..Default::default()
    };
    let writer = Writer::begin(&state.db, &admin.actor).await?;
    let plan = plan.insert(writer.tx()).await?;
    let event = Event::new("plan.create", "plan", plan.id)
        .details(json!({ "name": plan.name, "price": plan.price }));
    writer.commit(event).await?;
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
    let writer = Writer::begin(&state.db, &admin.actor).await?;
    let plan = plans::Entity::find_live()
        .filter(plans::Column::Id.eq(id))
        .one(writer.tx())
        .await?
        .ok_or(AppError::NotFound("plan"))?;
    let mut model: plans::ActiveModel = plan.into();
    let mut changed = Vec::new();
    if let Some(n) = &body.name {
        model.name = Set(NAME.check(n)?);
        changed.push("name");
    }
    if let Some(d) = &body.description {
        model.description = Set(d.as_deref().map(|d| DESCRIPTION.check(d)).transpose()?);
        changed.push("description");
    }
    if let Some(p) = body.price {
        model.price = Set(PRICE.check(p)?);
        changed.push("price");
    }
    if let Some(f) = &body.features {
        model.features = Set(features(f)?);
        changed.push("features");
    }
    if let Some(b) = body.blog_included {
        model.blog_included = Set(b);
        changed.push("blog_included");
    }
    if let Some(m) = body.max_projects {
        model.max_projects = Set(max_projects(m)?);
        changed.push("max_projects");
    }
    if let Some(s) = &body.support_level {
        model.support_level = Set(support_level(s)?);
        changed.push("support_level");
    }
    if let Some(a) = body.is_active {
        model.is_active = Set(a);
        changed.push("is_active");
    }
    model.updated_at = Set(dbkit::time::now());
    let plan = model.update(writer.tx()).await?;
    writer
        .commit(Event::new("plan.update", "plan", id).details(json!({ "fields": changed })))
        .await?;
    Ok(axum::Json(plan.into()))
}

/// Every live service, inactive ones too (admin).
#[utoipa::path(get, path = "/admin/services", tag = "admin", security(("bearer" = [])), params(ListParams, ActiveFilter),
    responses(
        (status = 200, body = Page<ServiceOut>),
    ))]
async fn list_admin_services(
    State(state): State<AppState>,
    _: AdminUser,
    Query(params): Query<ListParams>,
    Query(filter): Query<ActiveFilter>,
) -> Result<axum::Json<Page<ServiceOut>>, AppError> {
    let query = with_active(
        services::Entity::find_live(),
        services::Column::IsActive,
        &filter,
    );
    Ok(axum::Json(
        SERVICE_LIST
            .fetch(&state.db, query, &params)
            .await?
            .map(ServiceOut::from),
    ))
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
    let service = services::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(NAME.check(&body.name)?),
        description: Set(body
            .description
            .as_deref()
            .map(|d| DESCRIPTION.check(d))
            .transpose()?),
        price: Set(PRICE.check(body.price)?),
        is_active: Set(body.is_active),
        ..Default::default()
    };
    let writer = Writer::begin(&state.db, &admin.actor).await?;
    let service = service.insert(writer.tx()).await?;
    let event = Event::new("service.create", "service", service.id)
        .details(json!({ "name": service.name, "price": service.price }));
    writer.commit(event).await?;
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
    let writer = Writer::begin(&state.db, &admin.actor).await?;
    let service = services::Entity::find_live()
        .filter(services::Column::Id.eq(id))
        .one(writer.tx())
        .await?
        .ok_or(AppError::NotFound("service"))?;
    let mut model: services::ActiveModel = service.into();
    let mut changed = Vec::new();
    if let Some(n) = &body.name {
        model.name = Set(NAME.check(n)?);
        changed.push("name");
    }
    if let Some(d) = &body.description {
        model.description = Set(d.as_deref().map(|d| DESCRIPTION.check(d)).transpose()?);
        changed.push("description");
    }
    if let Some(p) = body.price {
        model.price = Set(PRICE.check(p)?);
        changed.push("price");
    }
    if let Some(a) = body.is_active {
        model.is_active = Set(a);
        changed.push("is_active");
    }
    model.updated_at = Set(dbkit::time::now());
    let service = model.update(writer.tx()).await?;
    writer
        .commit(Event::new("service.update", "service", id).details(json!({ "fields": changed })))
        .await?;
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
    access::delete_unowned(&state.db, admin.caller(), &SERVICES, ("service", id)).await?;
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
    crate::http::trash::restore(&state, &admin, &SERVICES, id).await?;
    let service = services::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("service"))?;
    Ok(axum::Json(service.into()))
}
