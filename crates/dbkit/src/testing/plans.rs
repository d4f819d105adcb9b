//! Query-plan proofs for an app's tests: the plan of a statement on either backend, and
//! the judgements the tests make of it. PostgreSQL plans with sequential scans switched
//! off, so a table only gets scanned when no index can serve the query (and on
//! test-sized tables it walks any index it likes: judge only the large ones,
//! [`large_tables`]); SQLite's plan must never `SCAN` a table without an index.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};

/// The plan of one statement, one line per node.
pub async fn plan(db: &DatabaseConnection, statement: &Statement) -> Vec<String> {
    let backend = db.get_database_backend();
    let (prefix, column) = match backend {
        DbBackend::Postgres => ("EXPLAIN ", "QUERY PLAN"),
        _ => ("EXPLAIN QUERY PLAN ", "detail"),
    };
    let explain = Statement {
        sql: format!("{prefix}{}", statement.sql),
        ..statement.clone()
    };
    let tx = db.begin().await.expect("begin");
    if backend == DbBackend::Postgres {
        tx.execute_unprepared("SET LOCAL enable_seqscan = off")
            .await
            .expect("set");
    }
    let rows = tx.query_all_raw(explain).await.expect("explain");
    tx.rollback().await.expect("rollback");
    rows.iter()
        .map(|r| r.try_get::<String>("", column).expect("plan line"))
        .collect()
}

/// Whether a plan reads a table without an index serving the query: a plain table scan,
/// or a sort of rows that no index condition narrowed (an index walked end to end only
/// to avoid a sequential scan does not count as serving the query).
pub fn unserved(plan: &[String]) -> bool {
    let any = |needle: &str| plan.iter().any(|l| l.contains(needle));
    let bare_scan = plan.iter().any(|l| {
        let l = l.trim();
        l.contains("Seq Scan on") || (l.starts_with("SCAN ") && !l.contains(" USING "))
    });
    // PostgreSQL's incremental sort orders ties of an index walk (`Presorted Key`).
    let unnarrowed_sort = (any("Sort Key") && !any("Index Cond") && !any("Presorted Key"))
        || (any("USE TEMP B-TREE FOR ORDER BY")
            && plan.iter().any(|l| l.trim().starts_with("SCAN ")));
    bare_scan || unnarrowed_sort
}

/// Whether a cursor page's statement reads its index from the start instead of from the
/// cursor: SQLite `SCAN`s; on PostgreSQL, the statement holding the keyset condition
/// (`< $n`, `> $n`) has no range in any index condition. A list keyed on an aggregate
/// (`GROUP BY`: the chat sessions) cannot start at the cursor: it groups all of one
/// user's rows, found by index.
pub fn walks_from_start(plan: &[String], sql: &str) -> bool {
    let postgres = plan.iter().any(|l| l.contains("(cost="));
    if !postgres {
        return plan.iter().any(|l| l.trim().starts_with("SCAN "));
    }
    let keyset = sql.contains(" < $") || sql.contains(" > $");
    let range = |l: &String| {
        l.contains("Index Cond")
            && [" < ", " > ", " <= ", " >= "]
                .iter()
                .any(|op| l.contains(op))
    };
    keyset && !sql.contains("GROUP BY") && !plan.iter().any(range)
}

/// Whether a plan reads one of `tables`.
pub fn touches(plan: &[String], tables: &[String]) -> bool {
    plan.iter().any(|l| {
        tables
            .iter()
            .any(|t| l.contains(&format!(" on {t} ")) || l.ends_with(&format!(" on {t}")))
    })
}

/// This schema's tables, analysed, and those of them with at least 1,000 rows.
pub async fn large_tables(db: &DatabaseConnection) -> Vec<String> {
    let tables = |sql: &str| {
        let sql = sql.to_owned();
        async move {
            db.query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
                .await
                .expect("list tables")
                .iter()
                .map(|r| r.try_get_by_index::<String>(0).expect("a name"))
                .collect::<Vec<_>>()
        }
    };
    for table in
        tables("SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema()").await
    {
        db.execute_unprepared(&format!("ANALYZE \"{table}\""))
            .await
            .expect("analyze");
    }
    tables(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.reltuples >= 1000",
    )
    .await
}
