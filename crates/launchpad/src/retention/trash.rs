//! Trash retention: rows soft-deleted longer ago than `SOFT_DELETE_RETENTION_DAYS` are
//! deleted for good, with what they own and their stored files.
//!
//! Tables are emptied children first ([`ORDER`]), each with one `DELETE … WHERE id IN
//! (expired rows, and rows an expired row owns)`: the count per table is exact, and what
//! the foreign keys would cascade is counted where it goes. A row a RESTRICT foreign key
//! still needs (a plan with an order) stays, and is reported. Stored bytes are removed by
//! `files.remove` jobs queued in the same transaction, so they go only once their rows
//! have. One activity-log row records each run that deleted something; a dry run does
//! the same work in a transaction it rolls back.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use dbkit::audit::Event;
use dbkit::soft_delete::SoftDeleteTable;
use dbkit::{Actor, DbFailure, Writer};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, TransactionTrait};
use serde::Serialize;
use uuid::Uuid;

use crate::jobs::{erase_archived, remove_files};
use crate::tables::{
    ADMIN_REQUESTS, CHAT_MESSAGES, FILES, IDEAS, MEETINGS, ORDERS, PLANS, PROJECTS, REGISTRY,
    SERVICES, SYNOPSIS, USER_SERVICES, USERS,
};

/// Every soft-deletable table, each before the tables its rows reference: owned rows
/// before their owners, orders and subscriptions before the plans and services they
/// RESTRICT.
pub static ORDER: [&SoftDeleteTable; 12] = [
    &FILES,
    &SYNOPSIS,
    &MEETINGS,
    &IDEAS,
    &CHAT_MESSAGES,
    &ADMIN_REQUESTS,
    &USER_SERVICES,
    &ORDERS,
    &PROJECTS,
    &USERS,
    &PLANS,
    &SERVICES,
];

/// What a purge deleted (or, dry, would delete).
#[derive(Debug, Serialize)]
pub struct Report {
    /// Rows deleted before this time went.
    pub cutoff: DateTime<Utc>,
    /// Rows per table (tables with none left out).
    pub deleted: BTreeMap<&'static str, u64>,
    /// Stored files queued for removal.
    pub stored_files: usize,
    /// Expired rows that had to stay.
    pub kept: Vec<Kept>,
    pub dry_run: bool,
}

/// An expired row a RESTRICT foreign key keeps.
#[derive(Debug, Serialize)]
pub struct Kept {
    pub entity_type: &'static str,
    pub id: Uuid,
    pub reason: String,
}

/// Deletes for good what has been in the trash more than `retention_days`; with
/// `dry_run`, reports the same and changes nothing.
pub async fn purge(
    db: &DatabaseConnection,
    retention_days: u64,
    dry_run: bool,
) -> Result<Report, DbErr> {
    let days = i64::try_from(retention_days).unwrap_or(i64::MAX);
    let now = dbkit::time::now();
    let cutoff = chrono::Duration::try_days(days)
        .and_then(|d| now.checked_sub_signed(d))
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let mut report = Report {
        cutoff,
        deleted: BTreeMap::new(),
        stored_files: 0,
        kept: Vec::new(),
        dry_run,
    };
    let writer = Writer::begin(db, &Actor::system()).await?;
    let tx = writer.tx();
    // The chain's head first, as every writer of the log takes it: an archive run holds
    // it while it deletes log rows.
    dbkit::chain::head(tx, true).await?;
    // File rows are referenced only by SET NULL keys: every expired one goes.
    let keys = storage_keys(tx, REGISTRY.expired(&FILES, cutoff)).await?;
    let users = ids(tx, &REGISTRY.expired(&USERS, cutoff)).await?;
    for table in ORDER {
        delete_expired(tx, table, cutoff, &mut report).await?;
    }
    forget_in_log(tx, &users, &report.kept).await?;
    for chunk in keys.chunks(remove_files::KEYS_PER_JOB) {
        dbkit::jobs::enqueue(tx, remove_files::job(chunk)).await?;
    }
    report.stored_files = keys.len();
    // A run that deletes nothing changes nothing, its log included: a second run does
    // nothing at all.
    if dry_run || report.deleted.is_empty() {
        // Dropping the writer rolls everything back.
        return Ok(report);
    }
    let details = serde_json::json!({ "retention_days": retention_days, "report": report });
    writer
        .commit(Event::action("trash.purge").details(details))
        .await?;
    Ok(report)
}

/// The activity log's rows about purged users lose their `user_id` (SET NULL): blank
/// their personal part and record a `user.purge` event per user, so that the hash chain
/// still verifies (the contract of `dbkit::chain::erase_subject`); their archived rows
/// follow by `activity_log.erase` jobs.
async fn forget_in_log(
    tx: &DatabaseTransaction,
    users: &[Uuid],
    kept: &[Kept],
) -> Result<(), DbErr> {
    let purged = users.iter().filter(|id| {
        !kept
            .iter()
            .any(|k| k.entity_type == USERS.entity_type && k.id == **id)
    });
    let purged: Vec<Uuid> = purged.copied().collect();
    for &user in &purged {
        dbkit::chain::erase_subject(tx, user).await?;
        dbkit::audit::insert(tx, &Actor::system(), Event::new("user.purge", "user", user)).await?;
    }
    for chunk in purged.chunks(erase_archived::USERS_PER_JOB) {
        dbkit::jobs::enqueue(tx, erase_archived::job(chunk)).await?;
    }
    Ok(())
}

fn col(name: &str) -> Expr {
    Expr::col(Alias::new(name))
}

async fn storage_keys(
    tx: &DatabaseTransaction,
    ids: SelectStatement,
) -> Result<Vec<String>, DbErr> {
    let select = Query::select()
        .column(Alias::new("storage_key"))
        .from(Alias::new(FILES.table))
        .and_where(col("id").in_subquery(ids))
        .to_owned();
    tx.query_all(&select)
        .await?
        .iter()
        .map(|row| row.try_get("", "storage_key"))
        .collect()
}

/// Deletes the expired rows of `table` in one statement; if a foreign key refuses, row by
/// row, keeping those it refuses.
async fn delete_expired(
    tx: &DatabaseTransaction,
    table: &'static SoftDeleteTable,
    cutoff: DateTime<Utc>,
    report: &mut Report,
) -> Result<(), DbErr> {
    let expired = REGISTRY.expired(table, cutoff);
    let all = Query::delete()
        .from_table(Alias::new(table.table))
        .and_where(col("id").in_subquery(expired.clone()))
        .to_owned();
    let deleted = match in_savepoint(tx, &all).await? {
        Ok(n) => n,
        Err(_still_referenced) => {
            let mut n = 0;
            for id in ids(tx, &expired).await? {
                let one = Query::delete()
                    .from_table(Alias::new(table.table))
                    .and_where(col("id").eq(id))
                    .to_owned();
                match in_savepoint(tx, &one).await? {
                    Ok(deleted) => n += deleted,
                    Err(reason) => report.kept.push(Kept {
                        entity_type: table.entity_type,
                        id,
                        reason,
                    }),
                }
            }
            n
        }
    };
    if deleted > 0 {
        report.deleted.insert(table.table, deleted);
    }
    Ok(())
}

/// Runs `delete` in a savepoint: rows deleted, or why a foreign key refused (the
/// savepoint rolled back, the transaction still usable). Other errors end the purge.
async fn in_savepoint(
    tx: &DatabaseTransaction,
    delete: &sea_orm::sea_query::DeleteStatement,
) -> Result<Result<u64, String>, DbErr> {
    let savepoint = tx.begin().await?;
    match savepoint.execute(delete).await {
        Ok(result) => {
            savepoint.commit().await?;
            Ok(Ok(result.rows_affected()))
        }
        Err(e) => match dbkit::classify(&e) {
            DbFailure::ForeignKey(violated) => {
                savepoint.rollback().await?;
                let by = violated
                    .constraint
                    .unwrap_or_else(|| "another row".to_owned());
                Ok(Err(format!("still referenced ({by})")))
            }
            _ => Err(e),
        },
    }
}

async fn ids(tx: &DatabaseTransaction, select: &SelectStatement) -> Result<Vec<Uuid>, DbErr> {
    tx.query_all(select)
        .await?
        .iter()
        .map(|row| row.try_get("", "id"))
        .collect()
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = if self.dry_run {
            "would delete (dry run, nothing changed)"
        } else {
            "deleted"
        };
        writeln!(
            f,
            "trash purge: {verb}: rows deleted before {}",
            self.cutoff
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )?;
        for (table, n) in &self.deleted {
            writeln!(f, "  {table}: {n}")?;
        }
        writeln!(f, "  stored files: {}", self.stored_files)?;
        for kept in &self.kept {
            writeln!(f, "kept {} {}: {}", kept.entity_type, kept.id, kept.reason)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_is_purged_once_and_after_the_tables_it_owns() {
        let mut names: Vec<&str> = ORDER.iter().map(|t| t.table).collect();
        names.sort_unstable();
        let mut all: Vec<&str> = REGISTRY.0.iter().map(|t| t.table).collect();
        all.sort_unstable();
        assert_eq!(names, all);
        let position = |t: &SoftDeleteTable| ORDER.iter().position(|o| o.table == t.table);
        for owner in ORDER {
            for edge in owner.owns {
                assert!(
                    position(edge.table) < position(owner),
                    "{} must go before its owner {}",
                    edge.table.table,
                    owner.table
                );
            }
        }
    }
}
