//! The activity log's hash chain: every row carries `seq` (its place), `prev_hash` and
//! `hash` (a SHA-256 over `prev_hash` and the row), so editing, deleting, reordering or
//! cutting rows in the database is detected by [`verify`].
//!
//! The head of the chain (last `seq` and hash) and its anchor (the last archived row)
//! live in a one-row table (`audit_chain` by default, see [`crate::Names`]). Chaining a
//! row locks that row (`FOR UPDATE` on PostgreSQL), so two transactions never chain onto
//! the same row. When a row is chained depends on the backend ([`append`]): on SQLite,
//! whose writers take turns anyway, in the transaction that writes it; on PostgreSQL,
//! right after that transaction commits, by the process's [`Sealer`] — so writers do not
//! queue behind one row until they commit. A row is open to undetected edits only until
//! it is sealed; [`verify`] reports any row left unsealed longer than [`SEAL_WINDOW`].
//!
//! Personal data stays erasable: the row hash commits to `personal_hash`, a digest of
//! `user_id`, `details`, `ip_address` and `user_agent`, stored in its own column. Erasing
//! a user ([`erase_subject`]) blanks those values in place; [`verify`] accepts the
//! blanked form only on rows whose subject a later chained erasure event names.

pub mod archive;
pub mod hash;
pub mod seal;
pub mod verify;

use std::collections::HashSet;

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, LockType, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

pub use seal::{SEAL_WINDOW, Sealer, seal_pending};
pub use verify::{Problem, Report, verify};

/// The log table ([`crate::Names::log_table`]).
pub fn table() -> Alias {
    Alias::new(crate::names().log_table)
}

/// The one-row table holding the head and the archive anchor.
pub(crate) fn head_table() -> Alias {
    Alias::new(crate::names().head_table)
}

/// Every column of a log row, in the order [`Row`] declares them.
pub const COLUMNS: [&str; 16] = [
    "seq",
    "id",
    "user_id",
    "action",
    "entity_type",
    "entity_id",
    "details",
    "ip_address",
    "user_agent",
    "status",
    "duration_ms",
    "created_at",
    "prev_hash",
    "hash",
    "subject",
    "personal_hash",
];

/// One activity-log row, every column. The chain columns (but `subject`) are `None` until
/// [`Row::seal`] (or on a row someone inserted behind the chain's back).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromQueryResult)]
pub struct Row {
    pub seq: Option<i64>,
    pub id: Uuid,
    pub user_id: Option<Uuid>,
    pub action: String,
    pub entity_type: Option<String>,
    pub entity_id: Option<Uuid>,
    pub details: Value,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub status: String,
    pub duration_ms: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
    pub subject: Option<String>,
    pub personal_hash: Option<String>,
}

impl Row {
    /// A successful, unchained row; set the other columns on the result.
    pub fn new(
        id: Uuid,
        action: &str,
        user_id: Option<Uuid>,
        details: Value,
        created_at: DateTime<Utc>,
    ) -> Self {
        Self {
            seq: None,
            id,
            user_id,
            action: action.to_owned(),
            entity_type: None,
            entity_id: None,
            details,
            ip_address: None,
            user_agent: None,
            status: "success".to_owned(),
            duration_ms: None,
            // What PostgreSQL keeps: the hash must be over the value read back.
            created_at: created_at.trunc_subsecs(6),
            prev_hash: None,
            hash: None,
            // Set now, not when sealed: erasure finds a user's rows by it, sealed or not.
            subject: user_id.map(hash::subject),
            personal_hash: None,
        }
    }

    /// Chains the row at `seq`, after the row whose hash is `prev`.
    pub fn seal(&mut self, seq: i64, prev: &str) {
        self.created_at = self.created_at.trunc_subsecs(6);
        self.seq = Some(seq);
        self.prev_hash = Some(prev.to_owned());
        self.subject = self.user_id.map(hash::subject);
        self.personal_hash = Some(hash::personal_hash(self));
        self.hash = Some(hash::row_hash(prev, self));
    }

    /// Whether the personal part is what erasure leaves of it.
    pub fn is_blanked(&self) -> bool {
        self.details.as_object().is_some_and(|m| m.is_empty())
            && self.ip_address.is_none()
            && self.user_agent.is_none()
    }

    fn values(self) -> [sea_orm::Value; 16] {
        [
            self.seq.into(),
            self.id.into(),
            self.user_id.into(),
            self.action.into(),
            self.entity_type.into(),
            self.entity_id.into(),
            self.details.into(),
            self.ip_address.into(),
            self.user_agent.into(),
            self.status.into(),
            self.duration_ms.into(),
            self.created_at.into(),
            self.prev_hash.into(),
            self.hash.into(),
            self.subject.into(),
            self.personal_hash.into(),
        ]
    }
}

/// The chain's head (its last row) and anchor (the last archived row; the genesis hash
/// at seq 0 while nothing is archived).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
    pub anchor_seq: i64,
    pub anchor_hash: String,
}

/// Reads the head; with `lock`, holds it until the transaction ends, so no other writer
/// can chain onto it meanwhile.
pub async fn head(conn: &impl ConnectionTrait, lock: bool) -> Result<Head, DbErr> {
    let mut select = Query::select();
    select
        .from(head_table())
        .columns(["head_seq", "head_hash", "anchor_seq", "anchor_hash"].map(Alias::new))
        .and_where(Expr::col(Alias::new("id")).eq(1));
    if lock {
        // Rendered on PostgreSQL only; SQLite has no row locks (and needs none).
        select.lock(LockType::Update);
    }
    let row = conn.query_one(&select).await?.ok_or_else(|| {
        DbErr::Custom("the audit chain has no head row (is migration 012 applied?)".into())
    })?;
    Ok(Head {
        seq: row.try_get("", "head_seq")?,
        hash: row.try_get("", "head_hash")?,
        anchor_seq: row.try_get("", "anchor_seq")?,
        anchor_hash: row.try_get("", "anchor_hash")?,
    })
}

pub(crate) async fn set_head(
    conn: &impl ConnectionTrait,
    seq: i64,
    hash: &str,
) -> Result<(), DbErr> {
    let update = Query::update()
        .table(head_table())
        .value(Alias::new("head_seq"), seq)
        .value(Alias::new("head_hash"), hash)
        .and_where(Expr::col(Alias::new("id")).eq(1))
        .to_owned();
    conn.execute(&update).await?;
    Ok(())
}

/// Rows per `INSERT`: 16 parameters each, well under both backends' limits.
const ROWS_PER_INSERT: usize = 1_000;

/// Writes `rows` to the log, in the transaction of the change they record. SQLite: chains
/// them here, after the head (call it last: it holds the head until commit, which costs
/// nothing there, where writers take turns anyway). PostgreSQL: inserts them unchained
/// and leaves them to the [`Sealer`], which [`seal::wake`] after the commit (as
/// [`crate::Writer`] does) — holding the head until commit would make every writer wait
/// for the one before it.
pub async fn append(conn: &impl ConnectionTrait, rows: Vec<Row>) -> Result<u64, DbErr> {
    if rows.is_empty() {
        return Ok(0);
    }
    match conn.get_database_backend() {
        sea_orm::DbBackend::Postgres => insert_sealed(conn, rows).await,
        _ => append_chained(conn, rows).await,
    }
}

/// Chains `rows` after the head and inserts them, holding the head until the transaction
/// ends: what [`append`] does on SQLite, and what a bulk writer (seeding) does on both —
/// sealing many rows afterwards costs a statement each.
pub async fn append_chained(conn: &impl ConnectionTrait, rows: Vec<Row>) -> Result<u64, DbErr> {
    let head = head(conn, true).await?;
    let sealed = chain_after(&head, rows);
    let Some(last) = sealed.last() else {
        return Ok(0);
    };
    let (seq, hash) = (
        last.seq.unwrap_or_default(),
        last.hash.clone().unwrap_or_default(),
    );
    let count = insert_sealed(conn, sealed).await?;
    set_head(conn, seq, &hash).await?;
    Ok(count)
}

/// `rows` sealed one after the other, the first after `head`.
fn chain_after(head: &Head, rows: Vec<Row>) -> Vec<Row> {
    let (mut seq, mut prev) = (head.seq, head.hash.clone());
    rows.into_iter()
        .map(|mut row| {
            seq += 1;
            row.seal(seq, &prev);
            prev = row.hash.clone().unwrap_or_default();
            row
        })
        .collect()
}

/// Inserts rows exactly as given, chain columns included (or not), leaving the head
/// alone. For [`append`]; and for putting back rows read earlier (restoring a backup, a
/// test undoing its own tampering).
pub async fn insert_sealed(conn: &impl ConnectionTrait, rows: Vec<Row>) -> Result<u64, DbErr> {
    let count = rows.len() as u64;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut insert = Query::insert();
        insert.into_table(table()).columns(COLUMNS.map(Alias::new));
        for row in rows.by_ref().take(ROWS_PER_INSERT) {
            insert.values_panic(row.values().map(Expr::val));
        }
        conn.execute(&insert).await?;
    }
    Ok(count)
}

/// A `SELECT` of every column of the log.
pub(crate) fn select_rows() -> SelectStatement {
    Query::select()
        .from(table())
        .columns(COLUMNS.map(Alias::new))
        .to_owned()
}

pub(crate) async fn fetch(
    conn: &impl ConnectionTrait,
    select: &SelectStatement,
) -> Result<Vec<Row>, DbErr> {
    let backend = conn.get_database_backend();
    let statement = backend.build(select);
    Row::find_by_statement(statement).all(conn).await
}

/// Erased users, to blank rows read back out of the database (an archive) exactly as
/// [`erase_subject`] blanks them in it.
#[derive(Debug, Clone, Default)]
pub struct ErasedUsers {
    ids: HashSet<Uuid>,
    subjects: HashSet<String>,
}

impl ErasedUsers {
    pub fn new(users: &[Uuid]) -> Self {
        Self {
            ids: users.iter().copied().collect(),
            subjects: users.iter().map(|&u| hash::subject(u)).collect(),
        }
    }

    /// Blanks `row`'s personal part if it is about one of the users (written by them, or
    /// about their account) and not blank yet; whether it changed.
    pub fn blank(&self, row: &mut Row) -> bool {
        let written_by = row
            .subject
            .as_ref()
            .is_some_and(|s| self.subjects.contains(s));
        let about = row.entity_type.as_deref() == Some(crate::names().user_entity)
            && row.entity_id.is_some_and(|id| self.ids.contains(&id));
        if !(written_by || about) || row.is_blanked() {
            return false;
        }
        row.details = Value::Object(Default::default());
        row.ip_address = None;
        row.user_agent = None;
        true
    }
}

/// Blanks the personal part (details, IP address, user agent) of every row about
/// `user_id`: those the user wrote and those whose entity is the user. `user_id` itself
/// stays (it names the now anonymous account, or is `NULL` once it is gone). Record an
/// [`crate::Names::erasing_actions`] event naming the user in the same transaction, or [`verify`]
/// reports the blanked rows as edited. Take the head (`head(tx, true)`) before the
/// transaction's first write: an archive run holds it while deleting log rows. Returns
/// the rows blanked.
pub async fn erase_subject(conn: &impl ConnectionTrait, user_id: Uuid) -> Result<u64, DbErr> {
    let about_user = Expr::col(Alias::new("subject"))
        .eq(hash::subject(user_id))
        .or(Expr::col(Alias::new("entity_type"))
            .eq(crate::names().user_entity)
            .and(Expr::col(Alias::new("entity_id")).eq(user_id)));
    let update = Query::update()
        .table(table())
        .value(Alias::new("details"), Value::Object(Default::default()))
        .value(Alias::new("ip_address"), Option::<String>::None)
        .value(Alias::new("user_agent"), Option::<String>::None)
        .and_where(about_user)
        .to_owned();
    Ok(conn.execute(&update).await?.rows_affected())
}
