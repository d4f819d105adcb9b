//! Database errors, classified so that callers can answer clients precisely.
//!
//! PostgreSQL names the violated constraint; SQLite names it for CHECKs and unique
//! *expression* indexes, and names the columns for other unique indexes. Both become
//! a [`DbFailure`] that a [`ConstraintRule`] table can explain in the client's terms.

use sea_orm::sqlx::error::ErrorKind;
use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr};

/// What went wrong, in terms a caller can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbFailure {
    /// A unique index or constraint refused a duplicate.
    Unique(Violated),
    /// A foreign key refused a missing parent or a still-referenced row.
    ForeignKey(Violated),
    /// A CHECK constraint refused a value.
    Check(Violated),
    /// A NOT NULL column got no value.
    NotNull(Violated),
    /// The database could not be reached, or no connection was free in time.
    Unavailable,
    /// The schema lacks a table or column the statement needs: migrations are pending.
    SchemaBehind,
    /// A concurrent transaction won: a deadlock or a serialization failure (PostgreSQL
    /// aborts one of the two). Nothing was changed; the request can be sent again.
    Concurrent,
    /// The disk (SQLite's file, a PostgreSQL tablespace) is full: nothing was written.
    StorageFull,
    /// The database cannot write for another reason: an I/O error, a read-only file or
    /// server. Nothing was written.
    StorageFailed,
    /// Anything else: a bug, not the client's doing.
    Other,
}

/// Which constraint was violated, as far as the backend says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Violated {
    /// The constraint or index name (PostgreSQL always; SQLite for CHECKs and expression indexes).
    pub constraint: Option<String>,
    /// The table, when known.
    pub table: Option<String>,
    /// The columns, when the backend lists them instead of a name (SQLite).
    pub columns: Vec<String>,
}

/// Classifies any error SeaORM returns.
pub fn classify(err: &DbErr) -> DbFailure {
    match err {
        DbErr::ConnectionAcquire(ConnAcquireErr::Timeout | ConnAcquireErr::ConnectionClosed) => {
            DbFailure::Unavailable
        }
        DbErr::Conn(_) => DbFailure::Unavailable,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            classify_sqlx(e)
        }
        _ => DbFailure::Other,
    }
}

fn classify_sqlx(err: &sea_orm::sqlx::Error) -> DbFailure {
    use sea_orm::sqlx::Error as E;
    match err {
        E::Database(db) => {
            let violated = || describe(db.constraint(), db.table(), db.message());
            match db.kind() {
                ErrorKind::UniqueViolation => DbFailure::Unique(violated()),
                ErrorKind::ForeignKeyViolation => DbFailure::ForeignKey(violated()),
                ErrorKind::CheckViolation => DbFailure::Check(violated()),
                ErrorKind::NotNullViolation => DbFailure::NotNull(violated()),
                _ if is_sqlite_restrict(db.code().as_deref(), db.message()) => {
                    DbFailure::ForeignKey(violated())
                }
                _ if is_unavailable_code(db.code().as_deref()) => DbFailure::Unavailable,
                _ if is_concurrency_code(db.code().as_deref()) => DbFailure::Concurrent,
                _ if is_full_code(db.code().as_deref()) => DbFailure::StorageFull,
                _ if is_storage_code(db.code().as_deref()) => DbFailure::StorageFailed,
                _ if is_missing_schema(db.code().as_deref(), db.message()) => {
                    DbFailure::SchemaBehind
                }
                _ => DbFailure::Other,
            }
        }
        E::Io(_) | E::PoolTimedOut | E::PoolClosed | E::WorkerCrashed | E::Tls(_) => {
            DbFailure::Unavailable
        }
        _ => DbFailure::Other,
    }
}

/// Why the database refused a connection, in words an operator can act on; `None` when
/// it did not refuse (it could not be reached, or failed otherwise). A refusal is not an
/// outage: waiting will not help, the settings must change.
pub fn refusal(err: &DbErr) -> Option<&'static str> {
    let (DbErr::Conn(RuntimeErr::SqlxError(e))
    | DbErr::Exec(RuntimeErr::SqlxError(e))
    | DbErr::Query(RuntimeErr::SqlxError(e))) = err
    else {
        return None;
    };
    let sea_orm::sqlx::Error::Database(db) = &**e else {
        return None;
    };
    match db.code().as_deref()? {
        "28P01" => Some("it refused the password in DATABASE_URL"),
        "28000" => Some(
            "it refused the user in DATABASE_URL (no such role, or pg_hba.conf does not let it in)",
        ),
        "3D000" => Some("the database named in DATABASE_URL does not exist"),
        "42501" => Some("the user in DATABASE_URL lacks a privilege it needs"),
        "14" => Some(
            "the SQLite file cannot be opened or created (does its directory exist, may we write there?)",
        ),
        "8" | "264" | "520" | "776" | "1032" | "1288" | "1544" => {
            Some("the SQLite file is read-only to this process")
        }
        _ => None,
    }
}

/// SQLite reports a RESTRICT foreign key refusing a delete as `SQLITE_CONSTRAINT_TRIGGER`
/// (1811), not as a foreign-key error; the message tells them apart.
fn is_sqlite_restrict(code: Option<&str>, message: &str) -> bool {
    code == Some("1811") && message.starts_with("FOREIGN KEY constraint failed")
}

/// PostgreSQL codes that mean "the server is going away or refusing", and SQLite's BUSY.
fn is_unavailable_code(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("57P01" | "57P02" | "57P03" | "53300" | "08000" | "08003" | "08006" | "5" | "517")
    )
}

/// PostgreSQL's `undefined_table` and `undefined_column`; SQLite says it in words.
fn is_missing_schema(code: Option<&str>, message: &str) -> bool {
    matches!(code, Some("42P01" | "42703"))
        || message.starts_with("no such table")
        || message.starts_with("no such column")
}

/// PostgreSQL's `disk_full`; SQLite's `SQLITE_FULL` (13).
fn is_full_code(code: Option<&str>) -> bool {
    matches!(code, Some("53100" | "13"))
}

/// PostgreSQL's `io_error`, `insufficient_resources` and `read_only_sql_transaction`;
/// SQLite's `SQLITE_IOERR` (10), `SQLITE_READONLY` (8) and `SQLITE_CANTOPEN` (14), with
/// their extended codes (the primary code is the low byte; SQLite's codes are numbers of
/// at most four digits, PostgreSQL's always five characters).
fn is_storage_code(code: Option<&str>) -> bool {
    match code {
        Some("58030" | "53000" | "25006") => true,
        Some(code) if code.len() < 5 => code
            .parse::<u32>()
            .is_ok_and(|c| matches!(c & 0xff, 8 | 10 | 14)),
        _ => false,
    }
}

/// PostgreSQL's `deadlock_detected` and `serialization_failure`.
fn is_concurrency_code(code: Option<&str>) -> bool {
    matches!(code, Some("40P01" | "40001"))
}

fn describe(constraint: Option<&str>, table: Option<&str>, message: &str) -> Violated {
    if let Some(name) = constraint {
        return Violated {
            constraint: Some(name.to_owned()),
            table: table.map(str::to_owned),
            columns: Vec::new(),
        };
    }
    parse_sqlite_message(message)
}

/// Reads SQLite's constraint messages:
/// `UNIQUE constraint failed: index 'ux_name'`, `UNIQUE constraint failed: t.a, t.b`,
/// `CHECK constraint failed: ck_name`, `NOT NULL constraint failed: t.a`,
/// `FOREIGN KEY constraint failed`.
fn parse_sqlite_message(message: &str) -> Violated {
    let Some((_, subject)) = message.split_once("constraint failed:") else {
        return Violated::default();
    };
    let subject = subject.trim();
    if let Some(index) = subject.strip_prefix("index '") {
        return Violated {
            constraint: Some(index.trim_end_matches('\'').to_owned()),
            ..Violated::default()
        };
    }
    if !subject.contains('.') {
        return Violated {
            constraint: Some(subject.to_owned()),
            ..Violated::default()
        };
    }
    let mut table = None;
    let columns = subject
        .split(',')
        .filter_map(|qualified| {
            let (t, c) = qualified.trim().split_once('.')?;
            table = Some(t.to_owned());
            Some(c.to_owned())
        })
        .collect();
    Violated {
        constraint: None,
        table,
        columns,
    }
}

/// How a violated constraint is explained to a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConstraintRule {
    /// The constraint or index name, as created by the migrations.
    pub name: &'static str,
    /// Its table.
    pub table: &'static str,
    /// The columns it covers (how SQLite reports plain unique indexes).
    pub columns: &'static [&'static str],
    /// The request field the client should fix.
    pub field: &'static str,
    /// What the rule is, in the client's terms.
    pub message: &'static str,
}

impl Violated {
    /// Finds the rule this violation broke: by name, or by table and columns.
    pub fn explain<'a>(&self, rules: &'a [ConstraintRule]) -> Option<&'a ConstraintRule> {
        match &self.constraint {
            Some(name) => rules.iter().find(|r| r.name == name),
            None => rules.iter().find(|r| {
                self.table.as_deref() == Some(r.table)
                    && !self.columns.is_empty()
                    && r.columns
                        .iter()
                        .copied()
                        .eq(self.columns.iter().map(String::as_str))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_disks_and_io_errors_are_told_apart_from_other_codes() {
        for full in ["13", "53100"] {
            assert!(is_full_code(Some(full)), "{full}");
        }
        // SQLITE_IOERR_WRITE, _FSYNC, SQLITE_READONLY, _DBMOVED, CANTOPEN; PostgreSQL's.
        for failing in ["10", "778", "1034", "8", "1032", "14", "58030", "25006"] {
            assert!(is_storage_code(Some(failing)), "{failing}");
        }
        // PostgreSQL codes that happen to be numbers are not SQLite's.
        for other in ["1", "19", "2067", "22008", "23505", "08000"] {
            assert!(
                !is_full_code(Some(other)) && !is_storage_code(Some(other)),
                "{other}"
            );
        }
    }

    #[test]
    fn sqlite_unique_expression_index_is_named() {
        let v = parse_sqlite_message("UNIQUE constraint failed: index 'ux_users_email_live'");
        assert_eq!(v.constraint.as_deref(), Some("ux_users_email_live"));
    }

    #[test]
    fn sqlite_unique_column_index_lists_table_and_columns() {
        let v = parse_sqlite_message("UNIQUE constraint failed: plans.name, plans.x");
        assert_eq!(v.constraint, None);
        assert_eq!(v.table.as_deref(), Some("plans"));
        assert_eq!(v.columns, vec!["name", "x"]);
    }

    #[test]
    fn sqlite_check_is_named() {
        let v = parse_sqlite_message("CHECK constraint failed: ck_plans_price");
        assert_eq!(v.constraint.as_deref(), Some("ck_plans_price"));
    }

    #[test]
    fn sqlite_foreign_key_has_no_name() {
        assert_eq!(
            parse_sqlite_message("FOREIGN KEY constraint failed"),
            Violated::default()
        );
    }

    #[test]
    fn rules_match_by_name_or_by_columns() {
        const RULES: &[ConstraintRule] = &[ConstraintRule {
            name: "ux_plans_name_live",
            table: "plans",
            columns: &["name"],
            field: "name",
            message: "taken",
        }];
        let by_name = Violated {
            constraint: Some("ux_plans_name_live".into()),
            ..Default::default()
        };
        let by_cols = parse_sqlite_message("UNIQUE constraint failed: plans.name");
        let other = parse_sqlite_message("UNIQUE constraint failed: plans.price");
        assert_eq!(by_name.explain(RULES).map(|r| r.field), Some("name"));
        assert_eq!(by_cols.explain(RULES).map(|r| r.field), Some("name"));
        assert!(other.explain(RULES).is_none());
    }
}
