//! `orders`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub plan_id: Uuid,
    /// Minor units, copied from the plan when ordered.
    pub amount: i64,
    pub currency: String,
    pub status: String,
    pub payment_reference: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
    pub deleted_by: Option<Uuid>,
    pub delete_batch_id: Option<Uuid>,
    /// Twins of the free-text columns lists search and sort by (`dbkit::fold`), filled
    /// on every write.
    pub payment_reference_fold: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}
