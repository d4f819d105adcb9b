//! `plans` (what students buy) and `services` (extras they subscribe to).

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
        let mut plans = Table::create();
        plans
            .table("plans")
            .col(id())
            .col(ColumnDef::new("name").string_len(100).not_null())
            .col(ColumnDef::new("description").text().null())
            .col(ColumnDef::new("price").big_integer().not_null())
            .col(ColumnDef::new("features").json_binary().not_null())
            .col(
                ColumnDef::new("blog_included")
                    .boolean()
                    .not_null()
                    .default(false),
            )
            .col(
                ColumnDef::new("max_projects")
                    .integer()
                    .not_null()
                    .default(1),
            )
            .col(ColumnDef::new("support_level").string_len(16).not_null())
            .col(
                ColumnDef::new("is_active")
                    .boolean()
                    .not_null()
                    .default(true),
            )
            .check(check("ck_plans_price", "price >= 0"))
            .check(check("ck_plans_max_projects", "max_projects >= 1"))
            .check(check(
                "ck_plans_support_level",
                "support_level IN ('Basic', 'Standard', 'Premium')",
            ))
            .check(check("ck_plans_name_length", "length(name) >= 2"));
        timestamps(&mut plans);
        soft_delete(&mut plans, "plans");
        manager.create_table(plans).await?;

        let mut services = Table::create();
        services
            .table("services")
            .col(id())
            .col(ColumnDef::new("name").string_len(100).not_null())
            .col(ColumnDef::new("description").text().null())
            .col(ColumnDef::new("price").big_integer().not_null())
            .col(
                ColumnDef::new("is_active")
                    .boolean()
                    .not_null()
                    .default(true),
            )
            .check(check("ck_services_price", "price >= 0"))
            .check(check("ck_services_name_length", "length(name) >= 2"));
        timestamps(&mut services);
        soft_delete(&mut services, "services");
        manager.create_table(services).await?;

        common::run(
            manager,
            [
                "CREATE UNIQUE INDEX ux_plans_name_live ON plans (name) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_plans_active_price_live ON plans (is_active, price) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_plans_created_live ON plans (created_at) WHERE deleted_at IS NULL",
                "CREATE UNIQUE INDEX ux_services_name_live ON services (name) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_services_created_live ON services (created_at) WHERE deleted_at IS NULL",
            ],
        )
        .await?;
        common::run(manager, common::trash_indexes("plans")).await?;
        common::run(manager, common::trash_indexes("services")).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        common::drop_tables(manager, &["services", "plans"]).await
    }
}
