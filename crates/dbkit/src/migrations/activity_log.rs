//! The activity log and its hash chain's head, as one migration.

use sea_orm_migration::prelude::*;

use super::{check, id, refuse_down_while, run};
use crate::chain::hash::GENESIS;
use crate::names;

/// Creates the activity log ([`crate::Names::log_table`]), chain columns included, and
/// the head table ([`crate::Names::head_table`]) with its genesis row. Its down refuses
/// once the chain holds a row: a log that can be rolled away is not tamper-evident.
#[derive(Debug, Clone, Copy)]
pub struct ActivityLog {
    name: &'static str,
    users: Option<&'static str>,
}

impl ActivityLog {
    /// The migration, under the name the app lists it by.
    pub fn named(name: &'static str) -> Self {
        Self { name, users: None }
    }

    /// `user_id` references `users`.id (SET NULL when a user row really goes).
    pub fn users(self, users: &'static str) -> Self {
        Self {
            users: Some(users),
            ..self
        }
    }
}

impl MigrationName for ActivityLog {
    fn name(&self) -> &str {
        self.name
    }
}

fn log_table(users: Option<&'static str>) -> TableCreateStatement {
    let t = names().log_table;
    let digest = |name: &'static str| ColumnDef::new(name).string_len(64).null().to_owned();
    let mut table = Table::create();
    table
        .table(t)
        .col(id())
        .col(ColumnDef::new("user_id").uuid().null())
        .col(ColumnDef::new("action").string_len(100).not_null())
        .col(ColumnDef::new("entity_type").string_len(50).null())
        .col(ColumnDef::new("entity_id").uuid().null())
        .col(ColumnDef::new("details").json_binary().not_null())
        .col(ColumnDef::new("ip_address").string_len(45).null())
        .col(ColumnDef::new("user_agent").string_len(512).null())
        .col(ColumnDef::new("status").string_len(16).not_null())
        .col(ColumnDef::new("duration_ms").big_integer().null())
        // Append-only: a row is never updated, so it has no `updated_at`.
        .col(
            ColumnDef::new("created_at")
                .timestamp_with_time_zone()
                .not_null(),
        )
        // Nullable, so that `verify` can report a row inserted behind the chain's back.
        .col(ColumnDef::new("seq").big_integer().null())
        .col(digest("prev_hash"))
        .col(digest("hash"))
        .col(digest("subject"))
        .col(digest("personal_hash"))
        .check(check(
            &format!("ck_{t}_status"),
            "status IN ('success', 'failed', 'error')",
        ));
    if let Some(users) = users {
        table.foreign_key(
            ForeignKey::create()
                .name(format!("fk_{t}_user_id"))
                .from(t, "user_id")
                .to(users, "id")
                .on_delete(ForeignKeyAction::SetNull),
        );
    }
    table.to_owned()
}

fn head_table() -> TableCreateStatement {
    let h = names().head_table;
    Table::create()
        .table(h)
        .col(ColumnDef::new("id").integer().not_null().primary_key())
        .col(ColumnDef::new("head_seq").big_integer().not_null())
        .col(ColumnDef::new("head_hash").string_len(64).not_null())
        .col(ColumnDef::new("anchor_seq").big_integer().not_null())
        .col(ColumnDef::new("anchor_hash").string_len(64).not_null())
        .check(check(&format!("ck_{h}_one_row"), "id = 1"))
        .check(check(&format!("ck_{h}_anchor"), "anchor_seq <= head_seq"))
        .to_owned()
}

/// Creates the chain's head table with its genesis row: the chain starts empty.
pub async fn start_chain(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager.create_table(head_table()).await?;
    let genesis = Query::insert()
        .into_table(names().head_table)
        .columns(["id", "head_seq", "head_hash", "anchor_seq", "anchor_hash"])
        .values_panic([
            1.into(),
            0i64.into(),
            GENESIS.into(),
            0i64.into(),
            GENESIS.into(),
        ])
        .to_owned();
    manager.exec_stmt(genesis).await?;
    Ok(())
}

/// The indexes of the log's reads: per user, per entity, by time, by action, the chain.
fn log_indexes() -> Vec<String> {
    let t = names().log_table;
    [
        ("ix", "user_created", "user_id, created_at"),
        ("ix", "entity", "entity_type, entity_id"),
        ("ix", "created", "created_at"),
        ("ix", "action_created", "action, created_at"),
        ("ix", "status_action", "status, action"),
        ("ux", "seq", "seq"),
        ("ix", "subject", "subject"),
    ]
    .iter()
    .map(|(kind, name, columns)| {
        let unique = if *kind == "ux" { "UNIQUE " } else { "" };
        format!("CREATE {unique}INDEX {kind}_{t}_{name} ON {t} ({columns})")
    })
    .collect()
}

#[async_trait::async_trait]
impl MigrationTrait for ActivityLog {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(log_table(self.users)).await?;
        start_chain(manager).await?;
        run(manager, log_indexes()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let n = names();
        refuse_down_while(
            manager,
            // Rows still waiting for the sealer count too.
            &format!(
                "SELECT COALESCE(MAX(head_seq), 0) + \
                 (SELECT COUNT(*) FROM {} WHERE seq IS NULL) FROM {}",
                n.log_table, n.head_table
            ),
            "activity-log rows are written; rolling the log back would erase the record",
        )
        .await?;
        super::drop_tables(manager, &[n.head_table, n.log_table]).await
    }
}
