//! `users`: accounts of students and admins.

use sea_orm_migration::prelude::*;

use crate::common::{self, check, id, soft_delete, timestamps};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create();
        table
            .table("users")
            .col(id())
            .col(ColumnDef::new("email").string_len(320).not_null())
            .col(ColumnDef::new("name").string_len(100).not_null())
            .col(ColumnDef::new("password_hash").string_len(255).not_null())
            .col(ColumnDef::new("phone").string_len(32).null())
            .col(ColumnDef::new("is_admin").boolean().not_null().default(false))
            .col(ColumnDef::new("is_active").boolean().not_null().default(true))
            .col(ColumnDef::new("signup_step").string_len(32).not_null().default("basic_info"))
            .col(ColumnDef::new("last_login_at").timestamp_with_time_zone().null())
            .check(check("ck_users_email_length", "length(email) >= 5"))
            .check(check("ck_users_name_length", "length(name) >= 2"))
            .check(check(
                "ck_users_signup_step",
                "signup_step IN ('basic_info', 'plan_selection', 'synopsis', 'idea_generation', 'completed')",
            ));
        timestamps(&mut table);
        soft_delete(&mut table, "users");
        manager.create_table(table).await?;
        common::run(
            manager,
            [
                "CREATE UNIQUE INDEX ux_users_email_live ON users (lower(email)) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_users_created_live ON users (created_at) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_users_admin_created_live ON users (is_admin, created_at) WHERE deleted_at IS NULL",
            ],
        )
        .await?;
        common::run(manager, common::trash_indexes("users")).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        common::drop_tables(manager, &["users"]).await
    }
}
