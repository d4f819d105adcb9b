//! `projects` (a student's final-year project), `files` (uploads) and `user_services`
//! (a student's subscription to a service).

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
        let mut projects = Table::create();
        projects
            .table("projects")
            .col(id())
            .col(ColumnDef::new("user_id").uuid().not_null())
            .col(ColumnDef::new("title").string_len(200).not_null())
            .col(ColumnDef::new("description").text().null())
            .col(ColumnDef::new("category").string_len(100).null())
            .col(ColumnDef::new("tech_stack").json_binary().not_null())
            .col(ColumnDef::new("status").string_len(32).not_null().default("idea_pending"))
            .col(ColumnDef::new("synopsis_submitted").boolean().not_null().default(false))
            .check(check("ck_projects_title_length", "length(title) >= 3"))
            .check(check(
                "ck_projects_status",
                "status IN ('idea_pending', 'synopsis_pending', 'in_progress', 'completed', 'cancelled')",
            ))
            .foreign_key(&mut fk("projects", "user_id", "users", ForeignKeyAction::Cascade));
        timestamps(&mut projects);
        soft_delete(&mut projects, "projects");
        manager.create_table(projects).await?;

        let mut files = Table::create();
        files
            .table("files")
            .col(id())
            .col(ColumnDef::new("owner_id").uuid().not_null())
            .col(ColumnDef::new("project_id").uuid().null())
            .col(ColumnDef::new("kind").string_len(16).not_null())
            .col(ColumnDef::new("original_name").string_len(255).not_null())
            .col(ColumnDef::new("content_type").string_len(100).not_null())
            .col(ColumnDef::new("size_bytes").big_integer().not_null())
            .col(ColumnDef::new("sha256").string_len(64).not_null())
            .col(ColumnDef::new("storage_key").string_len(100).not_null())
            .check(check(
                "ck_files_kind",
                "kind IN ('synopsis', 'project', 'blackbook')",
            ))
            .check(check("ck_files_size", "size_bytes > 0"))
            .foreign_key(&mut fk(
                "files",
                "owner_id",
                "users",
                ForeignKeyAction::Cascade,
            ))
            .foreign_key(&mut fk(
                "files",
                "project_id",
                "projects",
                ForeignKeyAction::Cascade,
            ));
        timestamps(&mut files);
        soft_delete(&mut files, "files");
        manager.create_table(files).await?;

        let mut subscriptions = Table::create();
        subscriptions
            .table("user_services")
            .col(id())
            .col(ColumnDef::new("user_id").uuid().not_null())
            .col(ColumnDef::new("service_id").uuid().not_null())
            .col(
                ColumnDef::new("status")
                    .string_len(16)
                    .not_null()
                    .default("requested"),
            )
            .check(check(
                "ck_user_services_status",
                "status IN ('requested', 'active', 'completed', 'cancelled')",
            ))
            .foreign_key(&mut fk(
                "user_services",
                "user_id",
                "users",
                ForeignKeyAction::Cascade,
            ))
            .foreign_key(&mut fk(
                "user_services",
                "service_id",
                "services",
                ForeignKeyAction::Restrict,
            ));
        timestamps(&mut subscriptions);
        soft_delete(&mut subscriptions, "user_services");
        manager.create_table(subscriptions).await?;

        common::run(
            manager,
            [
                "CREATE INDEX ix_projects_user_status_created_live ON projects (user_id, status, created_at) \
                 WHERE deleted_at IS NULL",
                "CREATE INDEX ix_projects_user_created_live ON projects (user_id, created_at) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_projects_category_status_live ON projects (category, status) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_projects_status_created_live ON projects (status, created_at) WHERE deleted_at IS NULL",
                "CREATE UNIQUE INDEX ux_files_storage_key ON files (storage_key)",
                "CREATE INDEX ix_files_owner_created_live ON files (owner_id, created_at) WHERE deleted_at IS NULL",
                "CREATE INDEX ix_files_project_kind_live ON files (project_id, kind) WHERE deleted_at IS NULL",
                // One subscription per (user, service) that is not cancelled: a student can
                // subscribe again after cancelling, never twice at once.
                "CREATE UNIQUE INDEX ux_user_services_user_service_live ON user_services (user_id, service_id) \
                 WHERE deleted_at IS NULL AND status <> 'cancelled'",
                "CREATE INDEX ix_user_services_user_status_created_live ON user_services (user_id, status, created_at) \
                 WHERE deleted_at IS NULL",
                "CREATE INDEX ix_user_services_service ON user_services (service_id)",
            ],
        )
        .await?;
        for table in ["projects", "files", "user_services"] {
            common::run(manager, common::trash_indexes(table)).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        common::drop_tables(manager, &["user_services", "files", "projects"]).await
    }
}
