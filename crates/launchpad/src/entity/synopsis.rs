//! `synopsis`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "synopsis")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub project_id: Uuid,
    pub title: String,
    pub file_id: Option<Uuid>,
    pub status: String,
    pub reviewer_id: Option<Uuid>,
    pub review_comment: Option<String>,
    pub reviewed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
    pub deleted_by: Option<Uuid>,
    pub delete_batch_id: Option<Uuid>,
    /// Twins of the free-text columns lists search and sort by (`dbkit::fold`), filled
    /// on every write.
    pub title_fold: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}
