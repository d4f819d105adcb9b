//! Checking the chain: walks the rows in `seq` order from the anchor and names the first
//! row that breaks it, and why.

use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, IsolationLevel, Order,
    TransactionTrait,
};
use uuid::Uuid;

use super::hash::{self, subject};
use super::{Head, Row, SEAL_WINDOW, fetch, head, select_rows, table};

/// The first thing wrong with the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where the chain breaks: the row's `seq`, or the first missing one.
    pub seq: Option<i64>,
    /// The row that breaks it, when there is one (a cut tail has none).
    pub id: Option<Uuid>,
    /// What is wrong, worded for an operator.
    pub what: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.seq, self.id) {
            (Some(seq), Some(id)) => write!(f, "row seq {seq} (id {id}): {}", self.what),
            (Some(seq), None) => write!(f, "at seq {seq}: {}", self.what),
            (None, Some(id)) => write!(f, "row id {id}: {}", self.what),
            (None, None) => f.write_str(&self.what),
        }
    }
}

/// What [`verify`] found.
#[derive(Debug, Clone)]
pub struct Report {
    /// Rows checked.
    pub rows: u64,
    /// The head and anchor the rows were checked against.
    pub head: Head,
    /// Rows written but not sealed yet (within [`SEAL_WINDOW`], or `problem` says so).
    pub pending: u64,
    /// The first problem, if any.
    pub problem: Option<Problem>,
}

/// Who has been erased, and by which event: the latest `seq` of an erasing event per user.
#[derive(Debug, Clone, Default)]
pub struct Erasures {
    by_subject: HashMap<String, i64>,
    by_user: HashMap<Uuid, i64>,
}

impl Erasures {
    /// Notes an erasing event (by `seq`) about `user`.
    pub fn add(&mut self, user: Uuid, seq: i64) {
        let latest = self.by_user.entry(user).or_insert(seq);
        *latest = Ord::max(*latest, seq);
        let latest = *latest;
        self.by_subject.insert(subject(user), latest);
    }

    /// Whether a later erasure covers `row`: it was written by, or is about, an erased user.
    fn covers(&self, row: &Row, seq: i64) -> bool {
        let by_subject = row
            .subject
            .as_ref()
            .and_then(|s| self.by_subject.get(s))
            .is_some_and(|&at| at > seq);
        let about = row.entity_type.as_deref() == Some("user")
            && row
                .entity_id
                .and_then(|u| self.by_user.get(&u))
                .is_some_and(|&at| at > seq);
        by_subject || about
    }

    /// The erasing events in the live log. An erasure always comes after the rows it
    /// blanked, so archiving (which takes the oldest rows) never separates them.
    pub async fn load(conn: &impl ConnectionTrait) -> Result<Self, DbErr> {
        let select = select_rows()
            .and_where(
                Expr::col(Alias::new("action"))
                    .is_in(crate::names().erasing_actions.iter().copied()),
            )
            .to_owned();
        let mut erasures = Erasures::default();
        for row in fetch(conn, &select).await? {
            erasures.note(&row);
        }
        Ok(erasures)
    }

    /// Notes `row` if it is an erasing event. One not sealed yet will be sealed after
    /// every sealed row, so it counts as later than all of them.
    pub fn note(&mut self, row: &Row) {
        if let Some(user) = row.entity_id
            && crate::names()
                .erasing_actions
                .contains(&row.action.as_str())
            && row.entity_type.as_deref() == Some("user")
        {
            self.add(user, row.seq.unwrap_or(i64::MAX));
        }
    }
}

/// Checks rows one by one, in `seq` order, from a known starting point.
#[derive(Debug, Clone)]
pub struct Walker {
    next_seq: i64,
    prev_hash: String,
    erasures: Erasures,
    rows: u64,
}

impl Walker {
    /// A walk starting after the row at `seq` whose hash is `hash` (the anchor).
    pub fn new(seq: i64, hash: &str, erasures: Erasures) -> Self {
        Self {
            next_seq: seq + 1,
            prev_hash: hash.to_owned(),
            erasures,
            rows: 0,
        }
    }

    /// Rows accepted so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Checks the next row.
    pub fn check(&mut self, row: &Row) -> Result<(), Problem> {
        let problem = |what: String| Problem {
            seq: row.seq,
            id: Some(row.id),
            what,
        };
        let (Some(seq), Some(prev), Some(stored_hash), Some(personal)) = (
            row.seq,
            row.prev_hash.as_deref(),
            row.hash.as_deref(),
            row.personal_hash.as_deref(),
        ) else {
            return Err(problem(
                "the row is not chained (no seq or hash): inserted behind the log's back".into(),
            ));
        };
        if seq > self.next_seq {
            return Err(problem(format!(
                "seq {}..{} missing before this row: rows were deleted",
                self.next_seq,
                seq - 1
            )));
        }
        if seq < self.next_seq {
            return Err(problem(format!(
                "seq out of order (expected {}): rows were reordered or re-inserted",
                self.next_seq
            )));
        }
        if prev != self.prev_hash {
            return Err(problem(
                "prev_hash is not the hash of the row before: rows were deleted, inserted \
                 or reordered"
                    .into(),
            ));
        }
        if let Some(user) = row.user_id
            && row.subject.as_deref() != Some(subject(user).as_str())
        {
            return Err(problem("user_id was changed".into()));
        }
        if hash::personal_hash(row) != personal
            && !(row.is_blanked() && self.erasures.covers(row, seq))
        {
            return Err(problem(
                "details, ip_address, user_agent or user_id were edited".into(),
            ));
        }
        if hash::row_hash(prev, row) != stored_hash {
            return Err(problem("hash mismatch: the row was edited".into()));
        }
        self.prev_hash = stored_hash.to_owned();
        self.next_seq += 1;
        self.rows += 1;
        Ok(())
    }

    /// Checks that the walk ended at `seq` with `hash` (the head, or an anchor).
    pub fn finish(&self, seq: i64, hash: &str, what_ends: &str) -> Result<(), Problem> {
        let last = self.next_seq - 1;
        if last < seq {
            return Err(Problem {
                seq: Some(self.next_seq),
                id: None,
                what: format!(
                    "the rows end at seq {last} but the {what_ends} is at seq {seq}: \
                     seq {}..{seq} were cut from the end",
                    self.next_seq
                ),
            });
        }
        if last > seq || self.prev_hash != hash {
            return Err(Problem {
                seq: Some(last),
                id: None,
                what: format!(
                    "the {what_ends} (seq {seq}) does not match the last row (seq {last}): \
                     rows were added or the {what_ends} was changed"
                ),
            });
        }
        Ok(())
    }
}

/// Rows read per query while walking.
const PAGE: u64 = 1_000;

/// Checks the live chain: every row from the anchor to the head, and that no row sits
/// outside the chain longer than it may. Reads only, in one snapshot — the sealer keeps
/// chaining meanwhile, and the head must be read with the rows it heads.
pub async fn verify(db: &DatabaseConnection) -> Result<Report, DbErr> {
    let snapshot = match db.get_database_backend() {
        DbBackend::Postgres => {
            db.begin_with_config(
                Some(IsolationLevel::RepeatableRead),
                Some(AccessMode::ReadOnly),
            )
            .await?
        }
        // A read transaction is a snapshot in WAL mode.
        _ => db.begin().await?,
    };
    let report = verify_in(&snapshot).await?;
    snapshot.commit().await?;
    Ok(report)
}

async fn verify_in(conn: &impl ConnectionTrait) -> Result<Report, DbErr> {
    let head = head(conn, false).await?;
    let mut walker = Walker::new(
        head.anchor_seq,
        &head.anchor_hash,
        Erasures::load(conn).await?,
    );
    let problem = walk(conn, &mut walker)
        .await?
        .err()
        .or_else(|| walker.finish(head.seq, &head.hash, "head").err());
    let (pending, late) = unsealed(conn).await?;
    Ok(Report {
        rows: walker.rows(),
        head,
        pending,
        problem: problem.or(late),
    })
}

async fn walk(
    conn: &impl ConnectionTrait,
    walker: &mut Walker,
) -> Result<Result<(), Problem>, DbErr> {
    let mut after: Option<i64> = None;
    loop {
        let mut page = select_rows();
        page.and_where(Expr::col(Alias::new("seq")).is_not_null())
            .order_by(Alias::new("seq"), Order::Asc)
            .limit(PAGE);
        if let Some(after) = after {
            page.and_where(Expr::col(Alias::new("seq")).gt(after));
        }
        let rows = fetch(conn, &page).await?;
        let Some(last) = rows.last() else {
            return Ok(Ok(()));
        };
        after = last.seq;
        for row in &rows {
            if let Err(problem) = walker.check(row) {
                return Ok(Err(problem));
            }
        }
    }
}

/// The rows outside the chain (no `seq`), and a problem if the oldest has waited longer
/// than the sealer may take: [`SEAL_WINDOW`] on PostgreSQL; at all on SQLite, where
/// rows are chained as they are written.
async fn unsealed(conn: &impl ConnectionTrait) -> Result<(u64, Option<Problem>), DbErr> {
    let unsealed = Expr::col(Alias::new("seq")).is_null();
    let count = Query::select()
        .from(table())
        .expr_as(Expr::col(Alias::new("id")).count(), Alias::new("n"))
        .and_where(unsealed.clone())
        .to_owned();
    let count: i64 = match conn.query_one(&count).await? {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    };
    let oldest = Query::select()
        .from(table())
        .columns(["id", "created_at"].map(Alias::new))
        .and_where(unsealed)
        .order_by(Alias::new("created_at"), Order::Asc)
        .limit(1)
        .to_owned();
    let Some(oldest) = conn.query_one(&oldest).await? else {
        return Ok((0, None));
    };
    let (id, created_at): (Uuid, DateTime<Utc>) =
        (oldest.try_get("", "id")?, oldest.try_get("", "created_at")?);
    let waited = (crate::time::now() - created_at)
        .to_std()
        .unwrap_or_default();
    let problem = match conn.get_database_backend() {
        DbBackend::Postgres if waited <= SEAL_WINDOW => None,
        DbBackend::Postgres => Some(format!(
            "the row is not chained after {} s (the sealer takes at most {} s): no \
             service has been sealing, or it was inserted behind the log's back",
            waited.as_secs(),
            SEAL_WINDOW.as_secs()
        )),
        _ => Some("the row is not chained (no seq): inserted behind the log's back".into()),
    };
    Ok((
        u64::try_from(count).unwrap_or_default(),
        problem.map(|what| Problem {
            seq: None,
            id: Some(id),
            what,
        }),
    ))
}
