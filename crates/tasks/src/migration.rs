//! The schema: users, the kit's activity log and refresh tokens, and tasks with the
//! indexes the seed notes list (each serves a list the API offers).

use dbkit::fold::Form;
use dbkit::migrations::{
    self, ActivityLog, AttemptBudgets, RefreshTokens, TwinColumn, add_twins, byte_order, check,
    drop_twins, fk, id, soft_delete, timestamps,
};
use sea_orm_migration::prelude::*;

use crate::tasks::{PRIORITIES, STATUSES};

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(Users),
            Box::new(ActivityLog::named("m20261204_000002_activity_log").users("users")),
            Box::new(RefreshTokens::named(
                "m20261204_000003_refresh_tokens",
                "users",
            )),
            Box::new(Tasks),
            Box::new(AttemptBudgets::named("m20261204_000005_attempt_budgets")),
            Box::new(FoldedText),
        ]
    }
}

struct Users;

impl MigrationName for Users {
    fn name(&self) -> &str {
        "m20261204_000001_users"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Users {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut users = Table::create();
        users
            .table("users")
            .col(id())
            .col(ColumnDef::new("email").string_len(320).not_null())
            .col(ColumnDef::new("name").string_len(100).not_null())
            .col(ColumnDef::new("password_hash").string_len(255).not_null())
            .col(
                ColumnDef::new("token_version")
                    .integer()
                    .not_null()
                    .default(0),
            )
            .col(
                ColumnDef::new("is_active")
                    .boolean()
                    .not_null()
                    .default(true),
            )
            .col(
                ColumnDef::new("last_login_at")
                    .timestamp_with_time_zone()
                    .null(),
            )
            .check(check("ck_users_email", "email <> ''"));
        timestamps(&mut users);
        manager.create_table(users).await?;
        // Sign-in by email: one account per address.
        migrations::run(
            manager,
            ["CREATE UNIQUE INDEX ix_users_email ON users (email)"],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        migrations::drop_tables(manager, &["users"]).await
    }
}

struct Tasks;

impl MigrationName for Tasks {
    fn name(&self) -> &str {
        "m20261204_000004_tasks"
    }
}

/// `column IN ('a', 'b')`.
fn one_of(column: &str, values: &[&str]) -> String {
    let list: Vec<String> = values.iter().map(|v| format!("'{v}'")).collect();
    format!("{column} IN ({})", list.join(", "))
}

#[async_trait::async_trait]
impl MigrationTrait for Tasks {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut tasks = Table::create();
        tasks
            .table("tasks")
            .col(id())
            .col(ColumnDef::new("user_id").uuid().not_null())
            .col(ColumnDef::new("title").string_len(200).not_null())
            .col(ColumnDef::new("description").text().null())
            .col(ColumnDef::new("status").string_len(16).not_null())
            .col(ColumnDef::new("priority").string_len(8).not_null())
            .col(
                ColumnDef::new("completed_at")
                    .timestamp_with_time_zone()
                    .null(),
            )
            .foreign_key(&mut fk(
                "tasks",
                "user_id",
                "users",
                ForeignKeyAction::Cascade,
            ))
            .check(check("ck_tasks_status", &one_of("status", STATUSES)))
            .check(check("ck_tasks_priority", &one_of("priority", PRIORITIES)))
            // Stamped exactly when completed.
            .check(check(
                "ck_tasks_completed_at",
                "(status = 'Completed') = (completed_at IS NOT NULL)",
            ));
        timestamps(&mut tasks);
        soft_delete(&mut tasks, "tasks", "users");
        manager.create_table(tasks).await?;
        migrations::run(manager, migrations::trash_indexes("tasks")).await?;
        migrations::run(
            manager,
            [
                // A user's tasks, newest first (the default list).
                "CREATE INDEX ix_tasks_user_id ON tasks (user_id, created_at)",
                // A user's tasks in one status (the board).
                "CREATE INDEX ix_tasks_user_status ON tasks (user_id, status, created_at)",
                // A user's trash, most recently deleted first.
                "CREATE INDEX ix_tasks_user_trash ON tasks (user_id, deleted_at, id) \
                 WHERE deleted_at IS NOT NULL",
                "CREATE INDEX ix_tasks_title ON tasks (title)",
                "CREATE INDEX ix_tasks_status ON tasks (status)",
                "CREATE INDEX ix_tasks_created_at ON tasks (created_at)",
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        migrations::drop_tables(manager, &["tasks"]).await
    }
}

/// Search and sort that ignore accents and case, alike on both backends (`dbkit::fold`):
/// twins of the title and description, the status and priority in byte order on
/// PostgreSQL too, and an index for a user's tasks by title.
struct FoldedText;

impl MigrationName for FoldedText {
    fn name(&self) -> &str {
        "m20261205_000006_folded_text"
    }
}

const TWINS: &[TwinColumn] = &[
    TwinColumn {
        column: "title_fold",
        source: "title",
        form: Form::Fold,
        nullable: false,
    },
    TwinColumn {
        column: "description_fold",
        source: "description",
        form: Form::Fold,
        nullable: true,
    },
];

#[async_trait::async_trait]
impl MigrationTrait for FoldedText {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_twins(manager, "tasks", TWINS).await?;
        byte_order(manager, "tasks", "status", true).await?;
        byte_order(manager, "tasks", "priority", true).await?;
        migrations::run(
            manager,
            [
                "CREATE INDEX ix_tasks_user_title_fold ON tasks (user_id, title_fold, id) \
              WHERE deleted_at IS NULL",
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        migrations::run(manager, ["DROP INDEX ix_tasks_user_title_fold"]).await?;
        byte_order(manager, "tasks", "priority", false).await?;
        byte_order(manager, "tasks", "status", false).await?;
        drop_twins(manager, "tasks", TWINS).await
    }
}
