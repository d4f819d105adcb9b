//! The one data-access path for owned resources: live rows only, scoped to their
//! owner (admins see every row), 404 for anything else, status moves guarded by the old
//! status, soft delete through the audit-committing writer — and the log event of each,
//! named by the resource (`<entity type>.<verb>`) with the same payload shape for every
//! resource (`{from, to}` for a move, `{affected}` for a delete).
//!
//! An app says what a caller is ([`Owner`]: an id, and whether it is an admin) and what
//! each of its tables is ([`Resource`], [`Stateful`]); the functions here do the rest, so
//! a new resource cannot forget ownership, soft delete, a guarded move or its log row.

use dbkit::audit::Event;
use dbkit::soft_delete::{self, SoftDeletable, SoftDeleteTable};
use dbkit::{Actor, Writer};
use sea_orm::sea_query::{Expr, SimpleExpr, ValueType};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbBackend, EntityTrait, IdenStatic, IntoActiveModel, ModelTrait,
    QueryFilter, QuerySelect, Select,
};
use serde_json::json;
use uuid::Uuid;

use crate::error::AppError;
use crate::rules::Transitions;

/// Who acts on resources.
pub trait Owner {
    /// The user's id: what a resource's owner column holds.
    fn id(&self) -> Uuid;
    /// An admin sees every row (and changes others' only through admin routes).
    fn is_admin(&self) -> bool;
}

/// A table of soft-deletable rows the resource layer writes: every change to one goes
/// through the functions here, which stamp `updated_at` and log it.
/// Its twins ([`dbkit::fold::Folded`]) are kept by every write here: inserts through the
/// entity's `ActiveModel` behaviour, updates by [`update`].
pub trait Row: SoftDeletable + dbkit::fold::Folded {
    /// What a missing row is called in a 404 (`project not found`).
    const NOUN: &'static str;
    /// The soft-delete table (and what deleting a row cascades to).
    fn table() -> &'static SoftDeleteTable;
    /// The primary key.
    fn id() -> Self::Column;
    /// `updated_at`.
    fn updated_at() -> Self::Column;
}

/// A table whose rows belong to a user.
pub trait Resource: Row {
    /// The owning user.
    fn owner() -> Self::Column;
}

/// Makes an entity a [`Row`] — and, given its owner column, a [`Resource`]:
/// `resource!(crate::entity::projects, "project", PROJECTS, UserId)` names its module
/// (with `Entity` and `Column::{Id, UpdatedAt}`), its noun, its [`SoftDeleteTable`] and
/// its owner column; `resource!(crate::entity::plans, "plan", PLANS)` a row nobody owns.
#[macro_export]
macro_rules! resource {
    ($($module:ident)::+, $noun:literal, $table:expr) => {
        impl $crate::resource::Row for $($module)::+::Entity {
            const NOUN: &'static str = $noun;
            fn table() -> &'static dbkit::soft_delete::SoftDeleteTable {
                &$table
            }
            fn id() -> $($module)::+::Column {
                $($module)::+::Column::Id
            }
            fn updated_at() -> $($module)::+::Column {
                $($module)::+::Column::UpdatedAt
            }
        }
    };
    ($($module:ident)::+, $noun:literal, $table:expr, $owner:ident) => {
        $crate::resource!($($module)::+, $noun, $table);
        impl $crate::resource::Resource for $($module)::+::Entity {
            fn owner() -> $($module)::+::Column {
                $($module)::+::Column::$owner
            }
        }
    };
}

/// A resource that moves through states.
pub trait Stateful: Row {
    /// The `status` column.
    fn status() -> Self::Column;
    /// Which moves are legal.
    const TRANSITIONS: &'static Transitions;
}

/// Live rows `user` may see: their own, or all of them for an admin.
pub fn visible<E: Resource>(user: &impl Owner) -> Select<E> {
    let live = E::find_live();
    if user.is_admin() {
        live
    } else {
        live.filter(E::owner().eq(user.id()))
    }
}

/// Where a row is read. A write transaction reads the row *and locks it* until it
/// commits (`FOR UPDATE` on PostgreSQL, which does not serialise writers; SQLite's
/// `BEGIN IMMEDIATE` already has): what it then changes is decided on the row as it is,
/// never on a copy a concurrent change has since made stale. A plain read locks nothing.
pub trait Reader: ConnectionTrait {
    /// Whether reads through this lock what they read.
    const LOCKS: bool;
}

impl Reader for DatabaseConnection {
    const LOCKS: bool = false;
}

impl Reader for DatabaseTransaction {
    const LOCKS: bool = true;
}

/// `select`, locking what it reads if `conn` locks.
fn locking<E: EntityTrait, C: Reader>(conn: &C, select: Select<E>) -> Select<E> {
    if C::LOCKS && conn.get_database_backend() == DbBackend::Postgres {
        select.lock_exclusive()
    } else {
        select
    }
}

/// The first row of `select` on `conn`, locked if `conn` locks.
async fn one<E: EntityTrait, C: Reader>(
    conn: &C,
    select: Select<E>,
) -> Result<Option<E::Model>, AppError> {
    Ok(locking(conn, select).one(conn).await?)
}

/// Every row of `select` on `conn`, locked if `conn` locks.
pub async fn all<E: EntityTrait, C: Reader>(
    conn: &C,
    select: Select<E>,
) -> Result<Vec<E::Model>, AppError> {
    Ok(locking(conn, select).all(conn).await?)
}

/// One live row `user` may see; anything else — missing, deleted or someone else's —
/// is the same 404.
pub async fn find_visible<E: Resource>(
    conn: &impl Reader,
    user: &impl Owner,
    id: Uuid,
) -> Result<E::Model, AppError> {
    one(conn, visible::<E>(user).filter(E::id().eq(id)))
        .await?
        .ok_or(AppError::NotFound(E::NOUN))
}

/// One live row the caller owns, to change through a student route. An admin reaching
/// someone else's row this way gets 403 (admins act through the admin routes); anyone
/// else gets the 404 of a missing row.
pub async fn find_owned<E: Resource>(
    conn: &impl Reader,
    user: &impl Owner,
    id: Uuid,
) -> Result<E::Model, AppError> {
    let own = one(
        conn,
        E::find_live()
            .filter(E::id().eq(id))
            .filter(E::owner().eq(user.id())),
    )
    .await?;
    match own {
        Some(row) => Ok(row),
        None if user.is_admin() && find_visible::<E>(conn, user, id).await.is_ok() => {
            Err(AppError::Forbidden)
        }
        None => Err(AppError::NotFound(E::NOUN)),
    }
}

/// A row read again after a change, whoever owns it.
pub async fn reload<E: Row>(conn: &impl ConnectionTrait, id: Uuid) -> Result<E::Model, AppError> {
    E::find()
        .filter(E::id().eq(id))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound(E::NOUN))
}

/// The log event of `verb` done to the row `id` of `E`: `<entity type>.<verb>`.
pub fn event<E: Row>(verb: &str, id: Uuid) -> Event {
    Event::on(E::table().entity_type, verb, id)
}

/// Soft-deletes a row the caller owns, with everything it owns; logs
/// `<entity type>.delete` with what the delete took (`affected`, per table).
pub async fn delete_owned<E: Resource>(
    db: &DatabaseConnection,
    (user, actor): (&impl Owner, &Actor),
    id: Uuid,
) -> Result<(), AppError> {
    let writer = Writer::begin(db, actor).await?;
    find_owned::<E>(writer.tx(), user, id).await?;
    let event = soft_delete_row(&writer, E::table(), (E::NOUN, id), user.id()).await?;
    Ok(writer.commit(event).await?)
}

/// Inserts `row` in the writer's transaction and commits it with its log row,
/// `<entity type>.create`: a new row cannot be written without it. Checks the create
/// depends on (the project an idea belongs to, say) go on the writer first.
pub async fn create<E: Row>(writer: Writer, row: E::ActiveModel) -> Result<E::Model, AppError>
where
    E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    create_noting::<E>(writer, row, |_, event| event).await
}

/// [`create`] for a row that depends on nothing else: its own transaction.
pub async fn insert<E: Row>(
    db: &DatabaseConnection,
    actor: &Actor,
    row: E::ActiveModel,
) -> Result<E::Model, AppError>
where
    E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    create::<E>(Writer::begin(db, actor).await?, row).await
}

/// [`create`], with what `note` adds to the log event from the new row (the plan an
/// order was placed for, say).
pub async fn create_noting<E: Row>(
    writer: Writer,
    row: E::ActiveModel,
    note: impl FnOnce(&E::Model, Event) -> Event,
) -> Result<E::Model, AppError>
where
    E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    create_as::<E>(writer, row, "create", note).await
}

/// [`create_noting`] for a row the domain brings about with a verb of its own (a request
/// is filed, an idea refined into a new one): logged `<entity type>.<verb>`.
pub async fn create_as<E: Row>(
    writer: Writer,
    row: E::ActiveModel,
    verb: &str,
    note: impl FnOnce(&E::Model, Event) -> Event,
) -> Result<E::Model, AppError>
where
    E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    let created = row.insert(writer.tx()).await?;
    let id = <Uuid as ValueType>::try_from(created.get(E::id()))
        .map_err(|_| AppError::Internal(format!("{} id is not a UUID", E::NOUN)))?;
    writer.commit(note(&created, event::<E>(verb, id))).await?;
    Ok(created)
}

/// What an update sets: columns and their new values, in the order the input named them.
/// The update's log event lists the columns (`fields`), so it cannot disagree with what
/// changed.
pub struct Changes<E: EntityTrait> {
    set: Vec<(E::Column, sea_orm::Value)>,
}

impl<E: EntityTrait> Default for Changes<E> {
    fn default() -> Self {
        Self { set: Vec::new() }
    }
}

impl<E: EntityTrait> Changes<E> {
    /// Sets `column` to `value` if the input gave one (a PATCH leaves out what it keeps).
    pub fn set<V: Into<sea_orm::Value>>(mut self, column: E::Column, value: Option<V>) -> Self {
        if let Some(value) = value {
            self.set.push((column, value.into()));
        }
        self
    }

    /// The names of the columns set.
    pub fn fields(&self) -> Vec<&'static str> {
        self.set.iter().map(|(column, _)| column.as_str()).collect()
    }

    /// The changes as [`move_status`] takes them, for a move that changes fields too:
    /// with the twins ([`dbkit::fold`]) of the free-text columns they set.
    pub fn into_exprs(self) -> Vec<(E::Column, SimpleExpr)>
    where
        E: dbkit::fold::Folded,
    {
        let mut exprs = Vec::with_capacity(self.set.len());
        for (column, value) in self.set {
            for (twin, folded) in dbkit::fold::twin_values::<E>(column, &value) {
                exprs.push((twin, Expr::value(folded)));
            }
            exprs.push((column, Expr::value(value)));
        }
        exprs
    }
}

/// Applies `changes` to the row `id` and stamps `updated_at`, in `conn`'s transaction;
/// the update's log event, `<entity type>.update` with the `fields` it set.
pub async fn update<E: Row>(
    conn: &impl ConnectionTrait,
    id: Uuid,
    changes: Changes<E>,
) -> Result<Event, AppError> {
    let fields = changes.fields();
    let mut update = E::update_many().col_expr(E::updated_at(), Expr::value(dbkit::time::now()));
    for (column, value) in changes.into_exprs() {
        update = update.col_expr(column, value);
    }
    update.filter(E::id().eq(id)).exec(conn).await?;
    Ok(event::<E>("update", id).with("fields", json!(fields)))
}

/// Updates a row the caller owns ([`find_owned`]'s 404 and 403) in one transaction with
/// its log row; the row as it now is.
pub async fn update_owned<E: Resource>(
    db: &DatabaseConnection,
    (user, actor): (&impl Owner, &Actor),
    id: Uuid,
    changes: Changes<E>,
) -> Result<E::Model, AppError> {
    let writer = Writer::begin(db, actor).await?;
    find_owned::<E>(writer.tx(), user, id).await?;
    commit_update(writer, id, changes).await
}

/// Updates a live row nobody owns (a plan, say: an admin's), like [`update_owned`].
pub async fn update_live<E: Row>(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    changes: Changes<E>,
) -> Result<E::Model, AppError> {
    let writer = Writer::begin(db, actor).await?;
    find_live::<E>(writer.tx(), id).await?;
    commit_update(writer, id, changes).await
}

async fn commit_update<E: Row>(
    writer: Writer,
    id: Uuid,
    changes: Changes<E>,
) -> Result<E::Model, AppError> {
    let event = update(writer.tx(), id, changes).await?;
    let row = reload::<E>(writer.tx(), id).await?;
    writer.commit(event).await?;
    Ok(row)
}

/// The live row `id`, whoever owns it (locked if `conn` locks); a 404 if there is none.
pub async fn find_live<E: Row>(conn: &impl Reader, id: Uuid) -> Result<E::Model, AppError> {
    one(conn, E::find_live().filter(E::id().eq(id)))
        .await?
        .ok_or(AppError::NotFound(E::NOUN))
}

/// The caller's soft-deleted rows of `E`: their trash.
pub fn trashed<E: Resource>(user: &impl Owner) -> Select<E> {
    E::find()
        .filter(E::deleted_at().is_not_null())
        .filter(E::owner().eq(user.id()))
}

/// Restores a row of the caller's trash with what its delete took; logs
/// `<entity type>.restore` with what came back (`restored`, per table). Anything else —
/// a live row, someone else's, none — is the same 404.
pub async fn restore_owned<E: Resource>(
    db: &DatabaseConnection,
    (user, actor): (&impl Owner, &Actor),
    id: Uuid,
) -> Result<E::Model, AppError> {
    let writer = Writer::begin(db, actor).await?;
    let restored = match one(writer.tx(), trashed::<E>(user).filter(E::id().eq(id))).await? {
        Some(_) => soft_delete::restore(writer.tx(), E::table(), id).await?,
        None => None,
    };
    let restored = restored.ok_or(AppError::NotFound(E::NOUN))?;
    let row = reload::<E>(writer.tx(), id).await?;
    writer
        .commit(event::<E>("restore", id).with("restored", json!(restored)))
        .await?;
    Ok(row)
}

/// Soft-deletes a live row nobody owns (a plan, a service), as an admin, with everything
/// it owns; logs `<entity type>.delete` with `affected`.
pub async fn delete_live<E: Row>(
    db: &DatabaseConnection,
    (admin, actor): (&impl Owner, &Actor),
    id: Uuid,
) -> Result<(), AppError> {
    let writer = Writer::begin(db, actor).await?;
    let event = soft_delete_row(&writer, E::table(), (E::NOUN, id), admin.id()).await?;
    Ok(writer.commit(event).await?)
}

/// Soft-deletes the live row `id` of `table` (a `noun` in the 404 if there is none) in
/// the writer's transaction; the delete's log event, with what it took (`affected`).
pub async fn soft_delete_row(
    writer: &Writer,
    table: &'static SoftDeleteTable,
    (noun, id): (&'static str, Uuid),
    by: Uuid,
) -> Result<Event, AppError> {
    let affected = soft_delete::soft_delete(writer.tx(), table, id, Some(by))
        .await?
        .ok_or(AppError::NotFound(noun))?;
    Ok(Event::on(table.entity_type, "delete", id).with("affected", json!(affected)))
}

/// Moves a row from `from` to `to` if the rules allow it, setting `changes` too. The
/// update is guarded by the old status, so of two concurrent moves only one wins; the
/// other gets the same 409 as an illegal move. Returns the move's log event,
/// `<entity type>.<verb>` with `{from, to}`; add what else the move recorded to it.
pub async fn move_status<E: Stateful>(
    conn: &impl ConnectionTrait,
    (id, verb): (Uuid, &str),
    from: &str,
    to: &'static str,
    changes: Vec<(E::Column, SimpleExpr)>,
) -> Result<Event, AppError> {
    E::TRANSITIONS.check(from, to)?;
    let mut update = E::update_many()
        .col_expr(E::status(), Expr::value(to))
        .col_expr(E::updated_at(), Expr::value(dbkit::time::now()));
    for (column, value) in changes {
        update = update.col_expr(column, value);
    }
    let moved = update
        .filter(E::id().eq(id))
        .filter(E::status().eq(from))
        .exec(conn)
        .await?
        .rows_affected;
    if moved == 0 {
        return Err(E::TRANSITIONS.conflict(from, to));
    }
    Ok(event::<E>(verb, id).with("from", from).with("to", to))
}

/// A move of the caller's own row (a student's route: [`find_owned`]'s 404 and 403) from
/// its current status to `to`, setting `set` too, as one transaction with its log row;
/// the row as it now is.
pub async fn move_owned<E: Resource + Stateful>(
    db: &DatabaseConnection,
    caller: (&impl Owner, &Actor),
    (id, verb): (Uuid, &str),
    to: (&'static str, Changes<E>),
) -> Result<E::Model, AppError> {
    moved::<E>(db, caller, (id, verb), to, Reach::Owned).await
}

/// [`move_owned`] of a row the caller may see ([`find_visible`]): an admin's move.
pub async fn move_visible<E: Resource + Stateful>(
    db: &DatabaseConnection,
    caller: (&impl Owner, &Actor),
    (id, verb): (Uuid, &str),
    to: (&'static str, Changes<E>),
) -> Result<E::Model, AppError> {
    moved::<E>(db, caller, (id, verb), to, Reach::Visible).await
}

/// Which rows a move may reach: the caller's own, or every row they may see.
enum Reach {
    Owned,
    Visible,
}

/// Reads the row (locked) in a writer, moves it and commits the move with its log row.
async fn moved<E: Resource + Stateful>(
    db: &DatabaseConnection,
    (user, actor): (&impl Owner, &Actor),
    (id, verb): (Uuid, &str),
    (to, set): (&'static str, Changes<E>),
    reach: Reach,
) -> Result<E::Model, AppError> {
    let writer = Writer::begin(db, actor).await?;
    let row = match reach {
        Reach::Owned => find_owned::<E>(writer.tx(), user, id).await?,
        Reach::Visible => find_visible::<E>(writer.tx(), user, id).await?,
    };
    let from = <String as ValueType>::try_from(row.get(E::status()))
        .map_err(|_| AppError::Internal(format!("{} status is not text", E::NOUN)))?;
    let event = move_status::<E>(writer.tx(), (id, verb), &from, to, set.into_exprs()).await?;
    let row = reload::<E>(writer.tx(), id).await?;
    writer.commit(event).await?;
    Ok(row)
}
