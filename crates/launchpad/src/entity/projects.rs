//! `projects`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "projects")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub category: Option<String>,
    /// A JSON array of strings.
    #[sea_orm(column_type = "JsonBinary")]
    pub tech_stack: Json,
    pub status: String,
    pub synopsis_submitted: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
    pub deleted_by: Option<Uuid>,
    pub delete_batch_id: Option<Uuid>,
    /// Twins of the free-text columns lists search and sort by (`dbkit::fold`), filled
    /// on every write.
    pub title_fold: String,
    pub title_words: String,
    pub description_words: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}
