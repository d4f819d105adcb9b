//! Launchpad's schema, one migration per file, each reversible and transactional on
//! both backends. Constraint and index names are explicit: errors and `migrate check`
//! name them. Conventions: `docs/MIGRATIONS.md`.

pub use sea_orm_migration::prelude::*;

mod common;
mod m20261122_000001_create_users;
mod m20261122_000002_create_plans_and_services;
mod m20261122_000003_create_refresh_tokens;
mod m20261122_000004_create_activity_logs;
mod m20261122_000005_create_jobs;
mod m20261122_000006_create_projects_files_subscriptions;
mod m20261122_000007_create_workflow_tables;
mod m20261122_000008_create_assistant_history;
mod m20261122_000009_full_text_search;
mod m20261122_000010_list_order_indexes;
mod m20261122_000011_add_users_token_version;
mod m20261122_000012_activity_log_hash_chain;
mod m20261122_000013_add_jobs_dedupe_key;
mod m20261122_000014_trash_order_indexes;
mod m20261202_000015_one_selected_idea_per_project;
pub mod m20261204_000016_users_change_notifications;
mod m20261204_000017_create_attempt_budgets;
mod m20261204_000018_create_write_marks;
mod m20261205_000019_folded_text;

/// Every migration, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_users::Migration),
            Box::new(m20261122_000002_create_plans_and_services::Migration),
            Box::new(m20261122_000003_create_refresh_tokens::MIGRATION),
            Box::new(m20261122_000004_create_activity_logs::Migration),
            Box::new(m20261122_000005_create_jobs::Migration),
            Box::new(m20261122_000006_create_projects_files_subscriptions::Migration),
            Box::new(m20261122_000007_create_workflow_tables::Migration),
            Box::new(m20261122_000008_create_assistant_history::Migration),
            Box::new(m20261122_000009_full_text_search::Migration),
            Box::new(m20261122_000010_list_order_indexes::Migration),
            Box::new(m20261122_000011_add_users_token_version::Migration),
            Box::new(m20261122_000012_activity_log_hash_chain::Migration),
            Box::new(m20261122_000013_add_jobs_dedupe_key::Migration),
            Box::new(m20261122_000014_trash_order_indexes::Migration),
            Box::new(m20261202_000015_one_selected_idea_per_project::Migration),
            Box::new(m20261204_000016_users_change_notifications::Migration),
            Box::new(m20261204_000017_create_attempt_budgets::MIGRATION),
            Box::new(m20261204_000018_create_write_marks::MIGRATION),
            Box::new(m20261205_000019_folded_text::Migration),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_runs_in_a_transaction_on_every_backend() {
        for m in Migrator::migrations() {
            assert_eq!(
                m.use_transaction(),
                Some(true),
                "{} must force a transaction",
                m.name()
            );
        }
    }

    #[test]
    fn migration_names_are_unique_and_in_order() {
        let names: Vec<String> = Migrator::migrations()
            .iter()
            .map(|m| m.name().to_owned())
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(names, sorted);
    }
}
