//! `users`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub phone: Option<String>,
    pub is_admin: bool,
    pub is_active: bool,
    pub signup_step: String,
    pub last_login_at: Option<DateTimeUtc>,
    /// Bumped by logout and password changes; access tokens of an older version are refused.
    pub token_version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
    pub deleted_by: Option<Uuid>,
    pub delete_batch_id: Option<Uuid>,
    /// Twins of the free-text columns lists search and sort by (`dbkit::fold`), filled
    /// on every write.
    pub email_fold: String,
    pub name_fold: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

/// What a new account needs; everything else starts at its default.
pub struct NewAccount {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub phone: Option<String>,
    pub is_admin: bool,
    pub signup_step: &'static str,
}

impl From<NewAccount> for ActiveModel {
    fn from(a: NewAccount) -> Self {
        use sea_orm::Set;
        ActiveModel {
            id: Set(a.id),
            email: Set(a.email),
            name: Set(a.name),
            password_hash: Set(a.password_hash),
            phone: Set(a.phone),
            is_admin: Set(a.is_admin),
            is_active: Set(true),
            signup_step: Set(a.signup_step.to_owned()),
            last_login_at: Set(None),
            token_version: Set(0),
            ..Default::default()
        }
    }
}
