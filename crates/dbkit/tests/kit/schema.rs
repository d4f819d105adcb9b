//! The test app's schema: its own tables, built from the kit's blocks, and the kit's own.

use dbkit::migrations::{
    self, ActivityLog, AttemptBudgets, Jobs, check, id, soft_delete, timestamps,
};
use sea_orm_migration::prelude::*;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(Users),
            Box::new(ActivityLog::named("m1_000002_activity_log").users("users")),
            Box::new(Jobs::named("m1_000003_jobs")),
            Box::new(Tree),
            Box::new(AttemptBudgets::named("m1_000005_attempt_budgets")),
        ]
    }
}

struct Users;

impl MigrationName for Users {
    fn name(&self) -> &str {
        "m1_000001_users"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Users {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut users = Table::create();
        users
            .table("users")
            .col(id())
            .col(ColumnDef::new("email").string_len(255).not_null())
            .check(check("ck_users_email", "email <> ''"));
        timestamps(&mut users);
        manager.create_table(users).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        migrations::drop_tables(manager, &["users"]).await
    }
}

/// `sd_tree` owns `sd_branch`, which owns `sd_leaf`; each soft-deletable.
struct Tree;

impl MigrationName for Tree {
    fn name(&self) -> &str {
        "m1_000004_tree"
    }
}

const TREE: [(&str, Option<(&str, &str)>); 3] = [
    ("sd_tree", None),
    ("sd_branch", Some(("tree_id", "sd_tree"))),
    ("sd_leaf", Some(("branch_id", "sd_branch"))),
];

#[async_trait::async_trait]
impl MigrationTrait for Tree {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, parent) in TREE {
            let mut table = Table::create();
            table.table(name).col(id());
            if let Some((fk, to)) = parent {
                table
                    .col(ColumnDef::new(fk).uuid().not_null())
                    .foreign_key(&mut migrations::fk(name, fk, to, ForeignKeyAction::Cascade));
            }
            soft_delete(&mut table, name, "users");
            manager.create_table(table).await?;
            migrations::run(manager, migrations::trash_indexes(name)).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        migrations::drop_tables(manager, &["sd_leaf", "sd_branch", "sd_tree"]).await
    }
}
