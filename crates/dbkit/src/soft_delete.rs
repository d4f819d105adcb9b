//! Soft delete that cascades through an ownership graph and restores exactly one batch.
//!
//! Every soft-deletable table has `deleted_at`, `deleted_by` and `delete_batch_id`.
//! Deleting a row stamps it and, in the same transaction, every live row it owns
//! (transitively) with one batch id. Restoring a row brings back the rows of its batch
//! that descend from it — nothing that was deleted separately, before or after.

use std::collections::BTreeMap;

use sea_orm::sea_query::{
    Alias, Condition, Expr, ExprTrait, Order, Query, SelectStatement, SimpleExpr,
};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, Select};
use uuid::Uuid;

use crate::list::{ListError, ListParams, Page};
use crate::newest_first::{NewestFirst, RawList};

/// A soft-deletable table and the tables whose rows it owns.
#[derive(Debug)]
pub struct SoftDeleteTable {
    /// The name clients and the trash use (`user`, `project`).
    pub entity_type: &'static str,
    /// The SQL table name.
    pub table: &'static str,
    /// Owned tables, deleted and restored with a row of this one.
    pub owns: &'static [Owned],
}

/// One ownership edge: rows of `table` whose `fk` points at the owner.
#[derive(Debug)]
pub struct Owned {
    /// The owned table.
    pub table: &'static SoftDeleteTable,
    /// Its column referencing the owner's `id`.
    pub fk: &'static str,
}

/// Rows changed per table by one delete or restore (tables with none left out), for
/// the activity log.
pub type Affected = BTreeMap<&'static str, u64>;

/// Implements [`SoftDeletable`] for the entity of a module whose `Column` has
/// `DeletedAt`: `dbkit::soft_deletable!(tasks);`.
#[macro_export]
macro_rules! soft_deletable {
    ($($module:ident)::+) => {
        impl $crate::soft_delete::SoftDeletable for $($module)::+::Entity {
            fn deleted_at() -> $($module)::+::Column {
                $($module)::+::Column::DeletedAt
            }
        }
    };
}

/// Makes the entities of these modules fill what a row derives, on every `ActiveModel`
/// insert and update: a new row's `created_at` and `updated_at` (one time for both)
/// unless the caller set them — so that a new row states only what is its own; the
/// soft-delete columns are left out of the insert and start `NULL` — and the twins of its
/// free-text columns ([`crate::fold`]), named in braces as `Twin = Form(Source)`:
///
/// ```ignore
/// dbkit::row_behaviour!(users, tasks { TitleFold = Fold(Title), NotesWords = Words(Notes) });
/// ```
///
/// It also defines `refill_twins(conn, repair)` beside them: the rows whose twins do not
/// match their sources, per table of these entities ([`crate::fold::refill`]), for a
/// `verify` command.
#[macro_export]
macro_rules! row_behaviour {
    ($($module:ident $({ $($twin:ident = $form:ident($source:ident)),* $(,)? })?),* $(,)?) => {
        /// The rows whose twins (`dbkit::fold`) do not hold what their sources fold to,
        /// per table with twins; with `repair`, set right.
        pub async fn refill_twins(
            conn: &impl sea_orm::ConnectionTrait,
            repair: bool,
        ) -> Result<Vec<(&'static str, u64)>, sea_orm::DbErr> {
            let mut differing = Vec::new();
            $(
                if !<$module::Entity as $crate::fold::Folded>::twins().is_empty() {
                    let table = sea_orm::EntityName::table_name(&$module::Entity);
                    differing.push((table, $crate::fold::refill::<$module::Entity>(conn, repair).await?));
                }
            )*
            Ok(differing)
        }

        $(
            impl $crate::fold::Folded for $module::Entity {
                fn twins() -> &'static [$crate::fold::Twin<$module::Column>] {
                    &[$($($crate::fold::Twin {
                        source: $module::Column::$source,
                        column: $module::Column::$twin,
                        form: $crate::fold::Form::$form,
                    }),*)?]
                }
            }

            #[sea_orm::prelude::async_trait::async_trait]
            impl sea_orm::ActiveModelBehavior for $module::ActiveModel {
                async fn before_save<C: sea_orm::ConnectionTrait>(
                    mut self,
                    _db: &C,
                    insert: bool,
                ) -> Result<Self, sea_orm::DbErr> {
                    if insert {
                        let now = $crate::time::now();
                        if self.created_at.is_not_set() {
                            self.created_at = sea_orm::ActiveValue::Set(now);
                        }
                        if self.updated_at.is_not_set() {
                            self.updated_at = sea_orm::ActiveValue::Set(now);
                        }
                    }
                    $crate::fold::fill(&mut self);
                    Ok(self)
                }
            }
        )*
    };
}

/// Entities whose rows are soft-deleted; gives every query a way to see live rows only.
pub trait SoftDeletable: EntityTrait {
    /// The `deleted_at` column.
    fn deleted_at() -> Self::Column;

    /// All live rows: the start of every normal query.
    fn find_live() -> Select<Self> {
        Self::find().filter(sea_orm::ColumnTrait::is_null(&Self::deleted_at()))
    }

    /// All soft-deleted rows: the trash.
    fn find_deleted() -> Select<Self> {
        Self::find().filter(sea_orm::ColumnTrait::is_not_null(&Self::deleted_at()))
    }
}

fn col(name: &str) -> Expr {
    Expr::col(Alias::new(name))
}

/// Soft-deletes the live row `id` of `table` and everything it owns, as one batch.
/// Returns `None` when there is no such live row.
pub async fn soft_delete(
    conn: &impl ConnectionTrait,
    table: &'static SoftDeleteTable,
    id: Uuid,
    by: Option<Uuid>,
) -> Result<Option<Affected>, DbErr> {
    soft_delete_where(conn, table, col("id").eq(id), by).await
}

/// Soft-deletes every live row of `table` that `scope` selects (a chat session's
/// messages, say) and everything they own, as one batch. Returns `None` when `scope`
/// selects no live row.
pub async fn soft_delete_where(
    conn: &impl ConnectionTrait,
    table: &'static SoftDeleteTable,
    scope: SimpleExpr,
    by: Option<Uuid>,
) -> Result<Option<Affected>, DbErr> {
    let batch = Uuid::now_v7();
    let now = crate::time::now();
    let stamp = |t: &SoftDeleteTable, scope: SimpleExpr| {
        Query::update()
            .table(Alias::new(t.table))
            .value(Alias::new("deleted_at"), now)
            .value(Alias::new("deleted_by"), by)
            .value(Alias::new("delete_batch_id"), batch)
            .and_where(col("deleted_at").is_null())
            .and_where(scope)
            .to_owned()
    };
    let root = conn.execute(&stamp(table, scope)).await?.rows_affected();
    if root == 0 {
        return Ok(None);
    }
    let mut affected = Affected::from([(table.table, root)]);
    let mut frontier = vec![table];
    while let Some(owner) = frontier.pop() {
        for edge in owner.owns {
            let owners_in_batch = in_batch(owner, batch);
            let n = conn
                .execute(&stamp(
                    edge.table,
                    col(edge.fk).in_subquery(owners_in_batch),
                ))
                .await?
                .rows_affected();
            if n > 0 {
                *affected.entry(edge.table.table).or_default() += n;
            }
            frontier.push(edge.table);
        }
    }
    Ok(Some(affected))
}

/// Whether `table` holds the row `id`, not deleted.
pub async fn is_live(
    conn: &impl ConnectionTrait,
    table: &'static SoftDeleteTable,
    id: Uuid,
) -> Result<bool, DbErr> {
    let q = Query::select()
        .expr(Expr::val(1))
        .from(Alias::new(table.table))
        .and_where(col("id").eq(id))
        .and_where(col("deleted_at").is_null())
        .to_owned();
    Ok(conn.query_one(&q).await?.is_some())
}

/// Restores the soft-deleted row `id` of `table` and the rows of its delete batch that
/// it owns. Returns `None` when there is no such deleted row.
pub async fn restore(
    conn: &impl ConnectionTrait,
    table: &'static SoftDeleteTable,
    id: Uuid,
) -> Result<Option<Affected>, DbErr> {
    let find_batch = Query::select()
        .column(Alias::new("delete_batch_id"))
        .from(Alias::new(table.table))
        .and_where(col("id").eq(id))
        .and_where(col("deleted_at").is_not_null())
        .to_owned();
    let Some(row) = conn.query_one(&find_batch).await? else {
        return Ok(None);
    };
    let batch: Option<Uuid> = row.try_get_by_index(0)?;
    let unstamp = |t: &SoftDeleteTable, scope: SimpleExpr| {
        let mut q = Query::update();
        q.table(Alias::new(t.table))
            .value(
                Alias::new("deleted_at"),
                Option::<chrono::DateTime<chrono::Utc>>::None,
            )
            .value(Alias::new("deleted_by"), Option::<Uuid>::None)
            .value(Alias::new("delete_batch_id"), Option::<Uuid>::None)
            .and_where(scope);
        if let Some(batch) = batch {
            q.and_where(col("delete_batch_id").eq(batch));
        }
        q
    };
    // Guarded by `deleted_at` again: of two concurrent restores, the second finds the
    // row restored when the first commits (PostgreSQL re-checks the condition), and
    // restores nothing.
    let root = conn
        .execute(&unstamp(
            table,
            col("id").eq(id).and(col("deleted_at").is_not_null()),
        ))
        .await?
        .rows_affected();
    if root == 0 {
        return Ok(None);
    }
    let mut affected = Affected::from([(table.table, root)]);
    let Some(_) = batch else {
        return Ok(Some(affected));
    };
    let mut frontier = vec![table];
    while let Some(owner) = frontier.pop() {
        for edge in owner.owns {
            // Rows of this batch whose owner is live again descend from the restored row.
            let live_owners = Query::select()
                .column(Alias::new("id"))
                .from(Alias::new(owner.table))
                .and_where(col("deleted_at").is_null())
                .to_owned();
            let n = conn
                .execute(&unstamp(edge.table, col(edge.fk).in_subquery(live_owners)))
                .await?
                .rows_affected();
            if n > 0 {
                *affected.entry(edge.table.table).or_default() += n;
            }
            frontier.push(edge.table);
        }
    }
    Ok(Some(affected))
}

fn in_batch(table: &SoftDeleteTable, batch: Uuid) -> SelectStatement {
    Query::select()
        .column(Alias::new("id"))
        .from(Alias::new(table.table))
        .and_where(col("delete_batch_id").eq(batch))
        .to_owned()
}

/// The tables of a service, for the trash and for restoring only under a live owner.
#[derive(Debug)]
pub struct Registry(pub &'static [&'static SoftDeleteTable]);

impl Registry {
    /// The table for an entity type named by a client.
    pub fn get(&self, entity_type: &str) -> Option<&'static SoftDeleteTable> {
        self.0
            .iter()
            .copied()
            .find(|t| t.entity_type == entity_type)
    }

    /// The entity types, for error messages.
    pub fn entity_types(&self) -> Vec<&'static str> {
        self.0.iter().map(|t| t.entity_type).collect()
    }

    /// Edges that point at `table` from its owners.
    pub fn owners_of(
        &self,
        table: &SoftDeleteTable,
    ) -> Vec<(&'static SoftDeleteTable, &'static str)> {
        self.0
            .iter()
            .flat_map(|owner| owner.owns.iter().map(move |e| (*owner, e)))
            .filter(|(_, e)| e.table.table == table.table)
            .map(|(owner, e)| (owner, e.fk))
            .collect()
    }

    /// The ids of the rows of `table` that go when trash older than `before` is purged:
    /// those deleted before it, and those owned (transitively) by such a row.
    pub fn expired(
        &self,
        table: &SoftDeleteTable,
        before: chrono::DateTime<chrono::Utc>,
    ) -> SelectStatement {
        let owned_by_expired = self
            .owners_of(table)
            .into_iter()
            .map(|(owner, fk)| col(fk).in_subquery(self.expired(owner, before)));
        let cond = owned_by_expired.fold(
            Condition::any().add(col("deleted_at").lt(before)),
            Condition::add,
        );
        Query::select()
            .column(Alias::new("id"))
            .from(Alias::new(table.table))
            .cond_where(cond)
            .to_owned()
    }

    /// What each of `batches` holds: its rows per table (what one delete took).
    pub async fn batch_contents(
        &self,
        conn: &impl ConnectionTrait,
        batches: &[Uuid],
    ) -> Result<BTreeMap<Uuid, Affected>, DbErr> {
        let mut contents: BTreeMap<Uuid, Affected> = BTreeMap::new();
        if batches.is_empty() {
            return Ok(contents);
        }
        for table in self.0 {
            let q = Query::select()
                .column(Alias::new("delete_batch_id"))
                .expr(Expr::col(Alias::new("id")).count())
                .from(Alias::new(table.table))
                .and_where(col("delete_batch_id").is_in(batches.iter().copied()))
                .group_by_col(Alias::new("delete_batch_id"))
                .to_owned();
            for row in conn.query_all(&q).await? {
                let batch: Uuid = row.try_get_by_index(0)?;
                let n: i64 = row.try_get_by_index(1)?;
                let n = u64::try_from(n).unwrap_or_default();
                contents.entry(batch).or_default().insert(table.table, n);
            }
        }
        Ok(contents)
    }

    /// Whether the row `id` of `table` has an owner that is itself in the trash;
    /// such a row can only come back with its owner.
    pub async fn owner_is_deleted(
        &self,
        conn: &impl ConnectionTrait,
        table: &'static SoftDeleteTable,
        id: Uuid,
    ) -> Result<bool, DbErr> {
        for (owner, fk) in self.owners_of(table) {
            let deleted_owners = Query::select()
                .column(Alias::new("id"))
                .from(Alias::new(owner.table))
                .and_where(col("deleted_at").is_not_null())
                .to_owned();
            let q = Query::select()
                .expr(Expr::val(1))
                .from(Alias::new(table.table))
                .and_where(col("id").eq(id))
                .and_where(col(fk).in_subquery(deleted_owners))
                .to_owned();
            if conn.query_one(&q).await?.is_some() {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// One row in the trash.
#[derive(Debug, Clone, serde::Serialize, FromQueryResult)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrashEntry {
    /// The row's id.
    pub id: Uuid,
    /// When it was deleted.
    pub deleted_at: chrono::DateTime<chrono::Utc>,
    /// Who deleted it, if known.
    pub deleted_by: Option<Uuid>,
    /// The delete it was part of; restoring any row restores what it owns from that batch.
    pub delete_batch_id: Option<Uuid>,
}

/// The trash's order, newest first, and its cursors.
const TRASH_ORDER: NewestFirst = NewestFirst { sort: "deleted_at" };

/// A page of the trash of one table, most recently deleted first, by offset or cursor
/// as `params` ask.
pub async fn trash(
    conn: &impl ConnectionTrait,
    table: &SoftDeleteTable,
    params: &ListParams,
) -> Result<Page<TrashEntry>, ListError> {
    let deleted = || {
        Query::select()
            .from(Alias::new(table.table))
            .and_where(col("deleted_at").is_not_null())
            .to_owned()
    };
    let list = RawList {
        rows: deleted()
            .columns(["id", "deleted_at", "deleted_by", "delete_batch_id"].map(Alias::new))
            .order_by(Alias::new("deleted_at"), Order::Desc)
            .order_by(Alias::new("id"), Order::Desc)
            .to_owned(),
        count: deleted()
            .expr_as(Expr::col(Alias::new("id")).count(), Alias::new("n"))
            .to_owned(),
        key: (col("deleted_at"), col("id")),
        aggregate: false,
    };
    TRASH_ORDER
        .fetch(conn, list, params, |e: &TrashEntry| (e.deleted_at, e.id))
        .await
}

/// The trash entry of the row `id` of `table`, if it is in the trash.
pub async fn trash_entry(
    conn: &impl ConnectionTrait,
    table: &SoftDeleteTable,
    id: Uuid,
) -> Result<Option<TrashEntry>, DbErr> {
    let q = Query::select()
        .columns(["id", "deleted_at", "deleted_by", "delete_batch_id"].map(Alias::new))
        .from(Alias::new(table.table))
        .and_where(col("id").eq(id))
        .and_where(col("deleted_at").is_not_null())
        .to_owned();
    let row = conn.query_one(&q).await?;
    row.map(|row| TrashEntry::from_query_result(&row, ""))
        .transpose()
}
