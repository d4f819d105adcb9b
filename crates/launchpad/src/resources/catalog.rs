//! The catalogue: plans and services. Students see the active ones; admins see every
//! live row, inactive ones too, and create, change, delete and restore them. Plans and
//! services are one kind of row ([`Catalogue`]) with different fields.

use dbkit::Writer;
use dbkit::list::{ListParams, ListSpec, Page, Search, SortOrder};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::{self, Changes, Row};
use crate::domain::{self, Text, Whole, nullable};
use crate::entity::{plans, services};
use crate::error::AppError;
use crate::resources::Caller;
use crate::tables::REGISTRY;

/// Support levels a plan can offer.
pub const SUPPORT_LEVELS: &[&str] = &["Basic", "Standard", "Premium"];

pub const PLAN_LIST: ListSpec<plans::Entity> = ListSpec {
    sort_fields: &[
        ("price", plans::Column::Price),
        ("created_at", plans::Column::CreatedAt),
        ("name", plans::Column::NameFold),
    ],
    default_order: SortOrder::Asc,
    search: Search::Like(&[plans::Column::NameFold, plans::Column::DescriptionFold]),
    status: None,
    created_at: plans::Column::CreatedAt,
    id: plans::Column::Id,
};

pub const SERVICE_LIST: ListSpec<services::Entity> = ListSpec {
    sort_fields: &[
        ("name", services::Column::NameFold),
        ("price", services::Column::Price),
        ("created_at", services::Column::CreatedAt),
    ],
    default_order: SortOrder::Asc,
    search: Search::Like(&[
        services::Column::NameFold,
        services::Column::DescriptionFold,
    ]),
    status: None,
    created_at: services::Column::CreatedAt,
    id: services::Column::Id,
};

fn yes() -> bool {
    true
}

/// A new plan.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePlanIn {
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
pub struct UpdatePlanIn {
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
pub struct CreateServiceIn {
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
pub struct UpdateServiceIn {
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
pub struct ActiveFilter {
    /// Only active (`true`) or inactive (`false`) rows; both when absent.
    is_active: Option<bool>,
}

pub const NAME: Text = Text::line("name", 2, 100);
pub const DESCRIPTION: Text = Text::lines("description", 0, 10_000);
pub const FEATURES: Text = Text::line("features", 1, 50);

pub const PRICE: Whole = Whole {
    field: "price",
    min: 0,
    max: i64::MAX,
};
/// How many projects a plan may allow.
pub const MAX_PROJECTS: Whole = Whole {
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

/// A catalogue table: its rows are on sale while active.
pub trait Catalogue: Row + EntityTrait<Model: Sync> {
    /// `is_active`.
    fn is_active() -> Self::Column;
    /// How its lists sort and search.
    const LIST: ListSpec<Self>;
}

impl Catalogue for plans::Entity {
    fn is_active() -> plans::Column {
        plans::Column::IsActive
    }
    const LIST: ListSpec<Self> = PLAN_LIST;
}

impl Catalogue for services::Entity {
    fn is_active() -> services::Column {
        services::Column::IsActive
    }
    const LIST: ListSpec<Self> = SERVICE_LIST;
}

/// The active rows: what a student can buy.
pub async fn on_sale<E: Catalogue>(
    db: &DatabaseConnection,
    params: &ListParams,
) -> Result<Page<E::Model>, AppError> {
    let query = E::find_live().filter(E::is_active().eq(true));
    Ok(E::LIST.fetch(db, query, params).await?)
}

/// One active row (in a writer, for what is bought from it).
pub async fn one_on_sale<E: Catalogue>(
    conn: &impl ConnectionTrait,
    id: Uuid,
) -> Result<E::Model, AppError> {
    E::find_live()
        .filter(E::id().eq(id))
        .filter(E::is_active().eq(true))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound(E::NOUN))
}

/// Every live row, inactive ones too unless `filter` says (an admin's list).
pub async fn every<E: Catalogue>(
    db: &DatabaseConnection,
    params: &ListParams,
    filter: ActiveFilter,
) -> Result<Page<E::Model>, AppError> {
    let mut query = E::find_live();
    if let Some(active) = filter.is_active {
        query = query.filter(E::is_active().eq(active));
    }
    Ok(E::LIST.fetch(db, query, params).await?)
}

/// Brings a row back from the trash (an admin's restore); the row as it now is.
pub async fn restore<E: Catalogue>(
    db: &DatabaseConnection,
    (_, actor): Caller<'_>,
    id: Uuid,
) -> Result<E::Model, AppError> {
    webkit::trash::restore(db, (&REGISTRY, actor), E::table(), id).await?;
    access::reload::<E>(db, id).await
}

/// Adds a plan; its log row notes its name and price.
pub async fn create_plan(
    db: &DatabaseConnection,
    (_, actor): Caller<'_>,
    input: CreatePlanIn,
) -> Result<plans::Model, AppError> {
    let plan = plans::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(NAME.check(&input.name)?),
        description: Set(DESCRIPTION.optional(input.description.as_deref())?),
        price: Set(PRICE.check(input.price)?),
        features: Set(features(&input.features)?),
        blog_included: Set(input.blog_included),
        max_projects: Set(max_projects(input.max_projects)?),
        support_level: Set(support_level(&input.support_level)?),
        is_active: Set(input.is_active),
        ..Default::default()
    };
    let writer = Writer::begin(db, actor).await?;
    access::create_noting::<plans::Entity>(writer, plan, |plan, event| {
        event.details(json!({ "name": plan.name, "price": plan.price }))
    })
    .await
}

/// Changes a plan. Orders already placed keep the amount they were placed at.
pub async fn update_plan(
    db: &DatabaseConnection,
    (_, actor): Caller<'_>,
    id: Uuid,
    input: UpdatePlanIn,
) -> Result<plans::Model, AppError> {
    use plans::Column;
    let changes = Changes::default()
        .set(
            Column::Name,
            input.name.as_deref().map(|n| NAME.check(n)).transpose()?,
        )
        .set(Column::Description, description(input.description)?)
        .set(
            Column::Price,
            input.price.map(|p| PRICE.check(p)).transpose()?,
        )
        .set(
            Column::Features,
            input.features.as_deref().map(features).transpose()?,
        )
        .set(Column::BlogIncluded, input.blog_included)
        .set(
            Column::MaxProjects,
            input.max_projects.map(max_projects).transpose()?,
        )
        .set(
            Column::SupportLevel,
            input
                .support_level
                .as_deref()
                .map(support_level)
                .transpose()?,
        )
        .set(Column::IsActive, input.is_active);
    access::update_live::<plans::Entity>(db, actor, id, changes).await
}

/// Adds a service; its log row notes its name and price.
pub async fn create_service(
    db: &DatabaseConnection,
    (_, actor): Caller<'_>,
    input: CreateServiceIn,
) -> Result<services::Model, AppError> {
    let service = services::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(NAME.check(&input.name)?),
        description: Set(DESCRIPTION.optional(input.description.as_deref())?),
        price: Set(PRICE.check(input.price)?),
        is_active: Set(input.is_active),
        ..Default::default()
    };
    let writer = Writer::begin(db, actor).await?;
    access::create_noting::<services::Entity>(writer, service, |service, event| {
        event.details(json!({ "name": service.name, "price": service.price }))
    })
    .await
}

/// Changes a service.
pub async fn update_service(
    db: &DatabaseConnection,
    (_, actor): Caller<'_>,
    id: Uuid,
    input: UpdateServiceIn,
) -> Result<services::Model, AppError> {
    use services::Column;
    let changes = Changes::default()
        .set(
            Column::Name,
            input.name.as_deref().map(|n| NAME.check(n)).transpose()?,
        )
        .set(Column::Description, description(input.description)?)
        .set(
            Column::Price,
            input.price.map(|p| PRICE.check(p)).transpose()?,
        )
        .set(Column::IsActive, input.is_active);
    access::update_live::<services::Entity>(db, actor, id, changes).await
}

/// A PATCH's description: absent, `null` (cleared) or a new one.
fn description(patch: Option<Option<String>>) -> Result<Option<Option<String>>, AppError> {
    patch
        .map(|d| DESCRIPTION.optional(d.as_deref()))
        .transpose()
}
