//! The one write path: a transaction that commits only together with its activity-log row.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, LockType, Query};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use std::sync::atomic::{AtomicU64, Ordering};

use uuid::Uuid;

use crate::audit::{self, Actor, Event};
use crate::writable;

/// A write transaction. Dropping it without [`Writer::commit`] rolls everything back,
/// so no change can land without its activity-log row.
pub struct Writer {
    tx: DatabaseTransaction,
    actor: Actor,
}

impl Writer {
    /// Begins a write transaction ([`begin_write`]).
    pub async fn begin(db: &DatabaseConnection, actor: &Actor) -> Result<Self, DbErr> {
        Ok(Self {
            tx: begin_write(db).await?,
            actor: actor.clone(),
        })
    }

    /// The transaction, for the change itself.
    pub fn tx(&self) -> &DatabaseTransaction {
        &self.tx
    }

    /// Who is acting.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Locks the row `id` of `table` until the commit, so that transactions changing
    /// what hangs off that row take turns: `SELECT … FOR UPDATE` on PostgreSQL, which does
    /// not serialise writers; nothing on SQLite, where `BEGIN IMMEDIATE` already has.
    /// What the transaction read before this may be stale: guard the writes after it.
    /// Lock a parent before its children, as deletes (which cascade downwards) do, so
    /// that two transactions never wait for each other.
    pub async fn lock(&self, table: &str, id: Uuid) -> Result<(), DbErr> {
        if self.tx.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let lock = Query::select()
            .expr(Expr::val(1))
            .from(Alias::new(table))
            .and_where(Expr::col(Alias::new("id")).eq(id))
            .lock(LockType::Update)
            .to_owned();
        self.tx.query_one(&lock).await?;
        Ok(())
    }

    /// Undoes the change: nothing is written, nothing logged (a dry run).
    pub async fn rollback(self) -> Result<(), DbErr> {
        self.tx.rollback().await
    }

    /// Writes the activity-log row and commits the change with it (the row is chained
    /// then, or right after by the sealer: see [`crate::chain::append`]).
    pub async fn commit(self, event: Event) -> Result<(), DbErr> {
        let about_users = event
            .entity_type
            .is_none_or(|entity| entity == crate::names().user_entity);
        audit::insert(&self.tx, &self.actor, event).await?;
        self.tx.commit().await?;
        if about_users {
            USER_WRITES.fetch_add(1, Ordering::Release);
        }
        crate::chain::seal::wake();
        writable::succeeded();
        Ok(())
    }
}

/// Writes this process has committed that may have changed a user.
static USER_WRITES: AtomicU64 = AtomicU64::new(0);

/// How many writes that may have changed a user this process has committed so far: those
/// whose event is about a user ([`crate::Names::user_entity`]: profile, sign-in and -out,
/// password, deactivation, erasure, deletion) or about no entity at all. A cache of users
/// compares it: what it read before it changed may be stale.
pub fn user_writes() -> u64 {
    USER_WRITES.load(Ordering::Acquire)
}

/// Records an event that changes nothing else (a failed login), in its own transaction.
pub async fn record(db: &DatabaseConnection, actor: &Actor, event: Event) -> Result<(), DbErr> {
    Writer::begin(db, actor).await?.commit(event).await
}

/// A transaction that will write: `BEGIN IMMEDIATE` on SQLite, so that it takes the write
/// lock up front (waiting on the busy timeout) instead of failing when a read upgrades.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    match db.get_database_backend() {
        DbBackend::Sqlite => {
            db.begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await
        }
        _ => db.begin().await,
    }
}
