//! The workflows between students and admins: `orders`, `synopsis`, `meetings` and
//! `admin_requests`.

use sea_orm_migration::prelude::*;

use crate::common::{self, check, fk, id, soft_delete, timestamps};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut orders = Table::create();
        orders
            .table("orders")
            .col(id())
            .col(ColumnDef::new("user_id").uuid().not_null())
            .col(ColumnDef::new("plan_id").uuid().not_null())
            .col(ColumnDef::new("amount").big_integer().not_null())
            .col(
                ColumnDef::new("currency")
                    .string_len(3)
                    .not_null()
                    .default("INR"),
            )
            .col(
                ColumnDef::new("status")
                    .string_len(16)
                    .not_null()
                    .default("pending"),
            )
            .col(ColumnDef::new("payment_reference").string_len(100).null())
            .check(check("ck_orders_amount", "amount > 0"))
            .check(check("ck_orders_currency", "length(currency) = 3"))
            .check(check(
                "ck_orders_status",
                "status IN ('pending', 'paid', 'completed', 'cancelled')",
            ))
            .foreign_key(&mut fk(
                "orders",
                "user_id",
                "users",
                ForeignKeyAction::Cascade,
            ))
            .foreign_key(&mut fk(
                "orders",
                "plan_id",
                "plans",
                ForeignKeyAction::Restrict,
            ));
        timestamps(&mut orders);
        soft_delete(&mut orders, "orders");
        manager.create_table(orders).await?;

        let mut synopsis = Table::create();
        synopsis
            .table("synopsis")
            .col(id())
            .col(ColumnDef::new("user_id").uuid().not_null())
            .col(ColumnDef::new("project_id").uuid().not_null())
            .col(ColumnDef::new("title").string_len(200).not_null())
            .col(ColumnDef::new("file_id").uuid().null())
            .col(
                ColumnDef::new("status")
                    .string_len(16)
                    .not_null()
                    .default("Pending"),
            )
            .col(ColumnDef::new("reviewer_id").uuid().null())
            .col(ColumnDef::new("review_comment").text().null())
            .col(
                ColumnDef::new("reviewed_at")
                    .timestamp_with_time_zone()
                    .null(),
            )
            .check(check(
                "ck_synopsis_status",
                "status IN ('Pending', 'Approved', 'Rejected')",
            ))
            .check(check("ck_synopsis_title_length", "length(title) >= 3"))
            .foreign_key(&mut fk(
                "synopsis",
                "user_id",
                "users",
                ForeignKeyAction::Cascade,
            ))
            .foreign_key(&mut fk(
                "synopsis",
                "project_id",
                "projects",
                ForeignKeyAction::Cascade,
            ))
            .foreign_key(&mut fk(
                "synopsis",
                "file_id",
                "files",
                ForeignKeyAction::SetNull,
            ))
            .foreign_key(&mut fk(
                "synopsis",
                "reviewer_id",
                "users",
                ForeignKeyAction::SetNull,
            ));
        timestamps(&mut synopsis);
        soft_delete(&mut synopsis, "synopsis");
        manager.create_table(synopsis).await?;

        let mut meetings = Table::create();
        meetings
            .table("meetings")
            .col(id())
            .col(ColumnDef::new("user_id").uuid().not_null())
            .col(ColumnDef::new("project_id").uuid().null())
            .col(ColumnDef::new("admin_id").uuid().null())
            .col(ColumnDef::new("topic").string_len(200).not_null())
            .col(
                ColumnDef::new("preferred_time")
                    .timestamp_with_time_zone()
                    .null(),
            )
            .col(
                ColumnDef::new("scheduled_at")
                    .timestamp_with_time_zone()
                    .null(),
            )
            .col(ColumnDef::new("meeting_link").string_len(500).null())
            .col(ColumnDef::new("notes").text().null())
            .col(
                ColumnDef::new("status")
                    .string_len(16)
                    .not_null()
                    .default("requested"),
            )
            .check(check(
                "ck_meetings_status",
                "status IN ('requested', 'scheduled', 'completed', 'cancelled')",
            ))
            .check(check("ck_meetings_topic_length", "length(topic) >= 3"))
            .check(check(
                "ck_meetings_scheduled_time",
                "status <> 'scheduled' OR scheduled_at IS NOT NULL",
            ))
            .foreign_key(&mut fk(
                "meetings",
                "user_id",
                "users",
                ForeignKeyAction::Cascade,
            ))
            .foreign_key(&mut fk(
                "meetings",
                "project_id",
                "projects",
                ForeignKeyAction::Cascade,
            ))
            .foreign_key(&mut fk(
                "meetings",
                "admin_id",
                "users",
                ForeignKeyAction::SetNull,
            ));
        timestamps(&mut meetings);
        soft_delete(&mut meetings, "meetings");
        manager.create_table(meetings).await?;

        let mut requests = Table::create();
        requests
            .table("admin_requests")
            .col(id())
            .col(ColumnDef::new("user_id").uuid().not_null())
            .col(ColumnDef::new("request_type").string_len(50).not_null())
            .col(ColumnDef::new("message").text().not_null())
            .col(
                ColumnDef::new("status")
                    .string_len(16)
                    .not_null()
                    .default("pending"),
            )
            .col(ColumnDef::new("resolved_by").uuid().null())
            .col(ColumnDef::new("resolution_note").text().null())
            .col(
                ColumnDef::new("resolved_at")
                    .timestamp_with_time_zone()
                    .null(),
            )
            .check(check(
                "ck_admin_requests_status",
                "status IN ('pending', 'approved', 'rejected', 'resolved')",
            ))
            .check(check(
                "ck_admin_requests_message_length",
                "length(message) >= 1",
            ))
            .foreign_key(&mut fk(
                "admin_requests",
                "user_id",
                "users",
                ForeignKeyAction::Cascade,
            ))
            .foreign_key(&mut fk(
                "admin_requests",
                "resolved_by",
                "users",
                ForeignKeyAction::SetNull,
            ));
        timestamps(&mut requests);
        soft_delete(&mut requests, "admin_requests");
        manager.create_table(requests).await?;

        let live = "WHERE deleted_at IS NULL";
        common::run(
            manager,
            [
                format!("CREATE INDEX ix_orders_user_status_created_live ON orders (user_id, status, created_at) {live}"),
                format!("CREATE INDEX ix_orders_user_created_live ON orders (user_id, created_at) {live}"),
                format!("CREATE INDEX ix_orders_status_created_live ON orders (status, created_at) {live}"),
                format!("CREATE INDEX ix_orders_plan_status_live ON orders (plan_id, status) {live}"),
                "CREATE UNIQUE INDEX ux_orders_payment_reference ON orders (payment_reference) \
                 WHERE payment_reference IS NOT NULL AND deleted_at IS NULL"
                    .to_owned(),
                format!("CREATE INDEX ix_synopsis_user_status_created_live ON synopsis (user_id, status, created_at) {live}"),
                format!("CREATE INDEX ix_synopsis_user_created_live ON synopsis (user_id, created_at) {live}"),
                format!("CREATE INDEX ix_synopsis_status_created_live ON synopsis (status, created_at) {live}"),
                format!("CREATE INDEX ix_synopsis_project_live ON synopsis (project_id) {live}"),
                // A project has at most one synopsis waiting for review.
                "CREATE UNIQUE INDEX ux_synopsis_project_pending ON synopsis (project_id) \
                 WHERE status = 'Pending' AND deleted_at IS NULL"
                    .to_owned(),
                format!("CREATE INDEX ix_meetings_user_status_created_live ON meetings (user_id, status, created_at) {live}"),
                format!("CREATE INDEX ix_meetings_user_created_live ON meetings (user_id, created_at) {live}"),
                format!("CREATE INDEX ix_meetings_status_created_live ON meetings (status, created_at) {live}"),
                format!("CREATE INDEX ix_meetings_status_scheduled_live ON meetings (status, scheduled_at) {live}"),
                format!("CREATE INDEX ix_meetings_project_live ON meetings (project_id) {live}"),
                format!(
                    "CREATE INDEX ix_admin_requests_user_status_created_live ON admin_requests \
                     (user_id, status, created_at) {live}"
                ),
                format!("CREATE INDEX ix_admin_requests_user_created_live ON admin_requests (user_id, created_at) {live}"),
                format!("CREATE INDEX ix_admin_requests_status_created_live ON admin_requests (status, created_at) {live}"),
            ],
        )
        .await?;
        for table in ["orders", "synopsis", "meetings", "admin_requests"] {
            common::run(manager, common::trash_indexes(table)).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        common::drop_tables(
            manager,
            &["admin_requests", "meetings", "synopsis", "orders"],
        )
        .await
    }
}
