//! Migrations with what SeaORM's migrator lacks: a lock so concurrent starts apply each
//! migration once, history, the current version, SQL printing and a drift check.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use sea_orm::sqlx::{self, Connection};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr};
use sea_orm_migration::MigratorTrait;

use crate::connect::{DbSettings, connect_with};
use crate::schema::{self, Drift, Snapshot};

/// A migration known to the code, and when it was applied to this database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationState {
    /// The migration's name (its version).
    pub name: String,
    /// When it was applied, if it was.
    pub applied_at: Option<DateTime<Utc>>,
}

/// Every migration the code knows, with its state in `db`. Changes nothing.
pub async fn status<M: MigratorTrait>(
    db: &DatabaseConnection,
) -> Result<Vec<MigrationState>, DbErr> {
    let applied = history::<M>(db).await?;
    Ok(M::migrations()
        .iter()
        .map(|m| MigrationState {
            name: m.name().to_owned(),
            applied_at: applied
                .iter()
                .find(|a| a.name == m.name())
                .and_then(|a| a.applied_at),
        })
        .collect())
}

/// The migrations recorded as applied, oldest first, including any the code no longer
/// knows. Changes nothing.
pub async fn history<M: MigratorTrait>(
    db: &DatabaseConnection,
) -> Result<Vec<MigrationState>, DbErr> {
    let table = M::migration_table_name().to_string();
    if !sea_orm_migration::SchemaManager::new(db)
        .has_table(table)
        .await?
    {
        return Ok(Vec::new());
    }
    let mut rows = M::get_migration_models(db).await?;
    rows.sort_by(|a, b| (a.applied_at, &a.version).cmp(&(b.applied_at, &b.version)));
    Ok(rows
        .into_iter()
        .map(|r| MigrationState {
            name: r.version,
            applied_at: DateTime::from_timestamp(r.applied_at, 0),
        })
        .collect())
}

/// The last applied migration, if any.
pub async fn current<M: MigratorTrait>(db: &DatabaseConnection) -> Result<Option<String>, DbErr> {
    Ok(history::<M>(db).await?.pop().map(|m| m.name))
}

/// Names of known migrations not yet applied.
pub async fn pending<M: MigratorTrait>(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    Ok(status::<M>(db)
        .await?
        .into_iter()
        .filter(|m| m.applied_at.is_none())
        .map(|m| m.name)
        .collect())
}

/// Applies up to `steps` pending migrations (all when `None`) under the migration lock.
/// Returns the names applied by this call; another process may have applied the rest.
pub async fn up<M: MigratorTrait>(
    db: &DatabaseConnection,
    steps: Option<u32>,
) -> Result<Vec<String>, DbErr> {
    with_lock(db, async {
        let before = pending::<M>(db).await?;
        M::up(db, steps).await?;
        let after = pending::<M>(db).await?;
        Ok(before.into_iter().filter(|n| !after.contains(n)).collect())
    })
    .await
}

/// Rolls back the last `steps` applied migrations under the migration lock.
/// Returns the names rolled back.
pub async fn down<M: MigratorTrait>(
    db: &DatabaseConnection,
    steps: u32,
) -> Result<Vec<String>, DbErr> {
    with_lock(db, async {
        let before = applied_names(db).await?;
        M::down(db, Some(steps)).await?;
        let after = applied_names(db).await?;
        Ok(before
            .into_iter()
            .rev()
            .filter(|n| !after.contains(n))
            .collect())
    })
    .await
}

async fn applied_names(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    Ok(history::<NoMigrations>(db)
        .await?
        .into_iter()
        .map(|m| m.name)
        .collect())
}

/// Rolls back every migration and removes the bookkeeping table.
pub async fn reset<M: MigratorTrait>(db: &DatabaseConnection) -> Result<(), DbErr> {
    with_lock(db, M::reset(db)).await
}

/// Drops every table of the database (the current schema on PostgreSQL), then applies
/// every migration.
pub async fn fresh<M: MigratorTrait>(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    with_lock(db, async {
        drop_all_tables(db).await?;
        M::up(db, None).await?;
        Ok(M::migrations()
            .iter()
            .map(|m| m.name().to_owned())
            .collect())
    })
    .await
}

/// Every table of the database (the current schema on PostgreSQL) with its rows, by name.
pub async fn row_counts(db: &DatabaseConnection) -> Result<Vec<(String, u64)>, DbErr> {
    let err = |e: sqlx::Error| DbErr::Custom(format!("counting rows: {e}"));
    let tables: Vec<String> = match db.get_database_backend() {
        DbBackend::Postgres => sqlx::query_scalar(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1",
        )
        .fetch_all(db.get_postgres_connection_pool())
        .await
        .map_err(err)?,
        _ => sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             ORDER BY 1",
        )
        .fetch_all(db.get_sqlite_connection_pool())
        .await
        .map_err(err)?,
    };
    let mut counts = Vec::with_capacity(tables.len());
    for table in tables {
        let sql = format!("SELECT COUNT(*) FROM \"{}\"", table.replace('"', "\"\""));
        let n = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                sql,
            ))
            .await?
            .map(|row| row.try_get_by_index::<i64>(0))
            .transpose()?
            .unwrap_or_default();
        counts.push((table, u64::try_from(n).unwrap_or_default()));
    }
    Ok(counts)
}

async fn drop_all_tables(db: &DatabaseConnection) -> Result<(), DbErr> {
    let err = |e: sqlx::Error| DbErr::Custom(format!("dropping tables: {e}"));
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema()",
            )
            .fetch_all(pool)
            .await
            .map_err(err)?;
            if !tables.is_empty() {
                let sql = format!("DROP TABLE IF EXISTS {} CASCADE", tables.join(", "));
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(pool)
                    .await
                    .map_err(err)?;
            }
        }
        _ => {
            // Foreign keys must be off to drop parents before children; the pragma is
            // per connection, so this connection is closed afterwards, never reused.
            let mut conn = db
                .get_sqlite_connection_pool()
                .acquire()
                .await
                .map_err(err)?;
            conn.close_on_drop();
            sqlx::raw_sql("PRAGMA foreign_keys = OFF")
                .execute(&mut *conn)
                .await
                .map_err(err)?;
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .fetch_all(&mut *conn)
            .await
            .map_err(err)?;
            for table in tables {
                let sql = format!("DROP TABLE IF EXISTS \"{}\"", table.replace('"', "\"\""));
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&mut *conn)
                    .await
                    .map_err(err)?;
            }
        }
    }
    Ok(())
}

/// Runs `work` while holding the database-wide migration lock: a PostgreSQL advisory
/// lock (per schema) on a dedicated connection, or an exclusive lock on a file next to
/// the SQLite database. A second process waits, then finds nothing left to do.
pub async fn with_lock<T>(
    db: &DatabaseConnection,
    work: impl Future<Output = Result<T, DbErr>>,
) -> Result<T, DbErr> {
    let err = |e: sqlx::Error| DbErr::Custom(format!("migration lock: {e}"));
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let key = crate::names::lock_key("migrate");
            // A connection of its own, outside the pool: the migrations need the pool's
            // connections (a pool of one would deadlock), and closing this one always
            // releases the lock, whatever happens below.
            let options = db.get_postgres_connection_pool().connect_options();
            let mut conn = sqlx::postgres::PgConnection::connect_with(&options)
                .await
                .map_err(err)?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "SELECT pg_advisory_lock({key})"
            )))
            .execute(&mut conn)
            .await
            .map_err(err)?;
            let result = work.await;
            let _ = conn.close().await;
            result
        }
        _ => {
            let Some(path) = crate::connect::sqlite_sidecar(db, ".migrate-lock") else {
                return work.await;
            };
            let file = tokio::task::spawn_blocking(move || -> std::io::Result<std::fs::File> {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(path)?;
                file.lock()?;
                Ok(file)
            })
            .await
            .map_err(|e| DbErr::Custom(format!("migration lock: {e}")))?
            .map_err(|e| DbErr::Custom(format!("migration lock: {e}")))?;
            let result = work.await;
            drop(file);
            result
        }
    }
}

/// What `check` found.
#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    /// Known migrations not applied to the live database.
    pub pending: Vec<String>,
    /// Migrations applied to the live database that the code does not know.
    pub unknown: Vec<String>,
    /// Schema differences between the live database and a scratch one migrated by the code.
    pub drift: Drift,
}

impl CheckReport {
    /// The live schema is exactly what the migrations produce.
    pub fn is_clean(&self) -> bool {
        self.pending.is_empty() && self.unknown.is_empty() && self.drift.is_empty()
    }
}

/// Compares the live database with a scratch database migrated from the code.
pub async fn check<M: MigratorTrait>(
    db: &DatabaseConnection,
    settings: &DbSettings,
) -> Result<CheckReport, DbErr> {
    let known: Vec<String> = M::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    let applied = applied_names(db).await?;
    let live = schema::snapshot(db).await?;
    let expected = Scratch::with(db, settings, |scratch| async move {
        M::up(&scratch, None).await?;
        schema::snapshot(&scratch).await
    })
    .await?;
    Ok(CheckReport {
        pending: known
            .iter()
            .filter(|n| !applied.contains(n))
            .cloned()
            .collect(),
        unknown: applied.into_iter().filter(|n| !known.contains(n)).collect(),
        drift: Snapshot::diff(&expected, &live),
    })
}

/// Which way to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The next pending migrations.
    Up,
    /// The last applied migrations, rolled back.
    Down,
}

/// The SQL that `up`/`down` would run on this database, without touching it, per
/// migration in the order it would run: the statements are recorded on a scratch
/// database brought to the same version, stepped one migration at a time. Empty when
/// there is nothing to run.
pub async fn sql<M: MigratorTrait>(
    db: &DatabaseConnection,
    settings: &DbSettings,
    direction: Direction,
    steps: Option<u32>,
) -> Result<Vec<(String, Vec<String>)>, DbErr> {
    let applied = applied_names(db).await?;
    let names: Vec<String> = match direction {
        Direction::Up => M::migrations()
            .iter()
            .map(|m| m.name().to_owned())
            .filter(|n| !applied.contains(n))
            .take(steps.map_or(usize::MAX, |s| s as usize))
            .collect(),
        Direction::Down => applied
            .iter()
            .rev()
            .take(steps.unwrap_or(1) as usize)
            .cloned()
            .collect(),
    };
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let done = applied.len() as u32;
    Scratch::with(db, settings, |mut scratch| async move {
        if done > 0 {
            M::up(&scratch, Some(done)).await?;
        }
        let recorded = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink = Arc::clone(&recorded);
        scratch.set_metric_callback(move |info| {
            if let Ok(mut v) = sink.lock() {
                v.push(info.statement.sql.clone());
            }
        });
        let table = M::migration_table_name().to_string();
        let mut plan = Vec::new();
        for name in names {
            match direction {
                Direction::Up => M::up(&scratch, Some(1)).await?,
                Direction::Down => M::down(&scratch, Some(1)).await?,
            }
            let statements = recorded
                .lock()
                .map(|mut v| std::mem::take(&mut *v))
                .unwrap_or_default();
            let statements = statements
                .into_iter()
                .filter(|s| !s.contains(&table) && !is_bookkeeping(s))
                .collect();
            plan.push((name, statements));
        }
        Ok(plan)
    })
    .await
}

/// Catalog reads the migrator does around each step; not part of a migration.
fn is_bookkeeping(sql: &str) -> bool {
    let s = sql.trim_start().to_ascii_uppercase();
    s.starts_with("SELECT")
        && (s.contains("INFORMATION_SCHEMA") || s.contains("SQLITE_MASTER") || s.contains("PG_"))
}

/// A throw-away database of the same backend: a temp SQLite file, or a temp schema in
/// the same PostgreSQL database. Removed when the work is done.
struct Scratch;

impl Scratch {
    async fn with<T, F, Fut>(
        live: &DatabaseConnection,
        settings: &DbSettings,
        work: F,
    ) -> Result<T, DbErr>
    where
        F: FnOnce(DatabaseConnection) -> Fut,
        Fut: Future<Output = Result<T, DbErr>>,
    {
        let tag = uuid::Uuid::now_v7().simple().to_string();
        let small = DbSettings {
            pool_size: 1,
            max_overflow: 2,
            ..settings.clone()
        };
        match live.get_database_backend() {
            DbBackend::Postgres => {
                let schema = format!("lp_scratch_{tag}");
                live.execute_unprepared(&format!("CREATE SCHEMA \"{schema}\""))
                    .await?;
                let result = async {
                    let scratch = connect_with(&small, |o| {
                        o.set_schema_search_path(schema.clone());
                    })
                    .await?;
                    let out = work(scratch.clone()).await;
                    scratch.close().await?;
                    out
                }
                .await;
                live.execute_unprepared(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
                    .await?;
                result
            }
            _ => {
                let path = std::env::temp_dir().join(format!("lp-scratch-{tag}.db"));
                let url = format!("sqlite://{}", path.display());
                let result = async {
                    let scratch = connect_with(&DbSettings { url, ..small }, |_| {}).await?;
                    let out = work(scratch.clone()).await;
                    scratch.close().await?;
                    out
                }
                .await;
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
                result
            }
        }
    }
}

/// A migrator with no migrations: reads the bookkeeping table whatever the service.
struct NoMigrations;

impl MigratorTrait for NoMigrations {
    fn migrations() -> Vec<Box<dyn sea_orm_migration::MigrationTrait>> {
        Vec::new()
    }
}
