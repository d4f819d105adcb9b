//! Reading the activity log: its rows as an entity (the table named by
//! [`crate::Names::log_table`]), and the list every app offers of them — newest first,
//! filtered by action, entity and outcome. Rows are only ever written by [`crate::write`].

use sea_orm::entity::prelude::*;
use sea_orm::{QueryFilter, Select};

use crate::list::{ListSpec, Search, SortOrder};

#[derive(Copy, Clone, Default, Debug, DeriveEntity)]
pub struct Entity;

impl EntityName for Entity {
    fn table_name(&self) -> &'static str {
        crate::names::names().log_table
    }
}

/// One logged action.
#[derive(Clone, Debug, PartialEq, Eq, DeriveModel, DeriveActiveModel)]
pub struct Model {
    pub id: Uuid,
    /// Who acted; `None` for anonymous callers and the system.
    pub user_id: Option<Uuid>,
    /// A dotted verb such as `task.create`.
    pub action: String,
    pub entity_type: Option<String>,
    pub entity_id: Option<Uuid>,
    pub details: Json,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    /// `success`, `failed` or `error`.
    pub status: String,
    pub duration_ms: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveColumn)]
pub enum Column {
    Id,
    UserId,
    Action,
    EntityType,
    EntityId,
    Details,
    IpAddress,
    UserAgent,
    Status,
    DurationMs,
    CreatedAt,
}

#[derive(Copy, Clone, Debug, EnumIter, DerivePrimaryKey)]
pub enum PrimaryKey {
    Id,
}

impl PrimaryKeyTrait for PrimaryKey {
    type ValueType = Uuid;
    fn auto_increment() -> bool {
        false
    }
}

impl ColumnTrait for Column {
    type EntityName = Entity;
    fn def(&self) -> ColumnDef {
        match self {
            Self::Id => ColumnType::Uuid.def(),
            Self::UserId | Self::EntityId => ColumnType::Uuid.def().null(),
            Self::Action | Self::Status => ColumnType::string(None).def(),
            Self::EntityType | Self::IpAddress | Self::UserAgent => {
                ColumnType::string(None).def().null()
            }
            Self::Details => ColumnType::JsonBinary.def(),
            Self::DurationMs => ColumnType::BigInteger.def().null(),
            Self::CreatedAt => ColumnType::TimestampWithTimeZone.def(),
        }
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The outcomes a row can record.
pub const STATUSES: &[&str] = &["success", "failed", "error"];

/// Newest first by default; `status` is `success|failed|error`; `search` looks in the
/// action and entity type — lowercase ASCII codes the code names (`project.create`),
/// which are their own fold, so they need no twins.
pub const LIST: ListSpec<Entity> = ListSpec {
    sort_fields: &[("created_at", Column::CreatedAt)],
    default_order: SortOrder::Desc,
    search: Search::Like(&[Column::Action, Column::EntityType]),
    status: Some((Column::Status, STATUSES)),
    created_at: Column::CreatedAt,
    id: Column::Id,
};

/// Narrows `rows` to an action, an entity type and an entity, each if given.
pub fn filtered(
    mut rows: Select<Entity>,
    action: Option<&str>,
    entity_type: Option<&str>,
    entity_id: Option<Uuid>,
) -> Select<Entity> {
    if let Some(action) = action {
        rows = rows.filter(Column::Action.eq(action));
    }
    if let Some(entity_type) = entity_type {
        rows = rows.filter(Column::EntityType.eq(entity_type));
    }
    if let Some(entity_id) = entity_id {
        rows = rows.filter(Column::EntityId.eq(entity_id));
    }
    rows
}
