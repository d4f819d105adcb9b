//! `<app> verify`: the live schema against the migrations (as `migrate check`), and the
//! activity log's hash chain. Exit 0 if both pass, 1 if something is wrong (the first
//! broken row is named), 2 if the check could not run. An app adds checks of its own
//! between [`check`] and [`finish`].

use std::process::ExitCode;

use dbkit::chain;
use sea_orm::DatabaseConnection;
use sea_orm_migration::MigratorTrait;

use super::migrate::schema_report;
use super::{CommandResult, ServiceSettings, open_existing};

/// What [`check`] found.
pub struct Verified {
    pub db: DatabaseConnection,
    /// The chain's state; `None` when it could not be read (with a broken schema).
    pub chain: Option<chain::Report>,
    /// Whether everything checked so far passed.
    pub ok: bool,
}

/// Checks the schema and the chain of the database of `settings`, printing each finding.
pub async fn check<Migrator: MigratorTrait>(
    settings: &impl ServiceSettings,
) -> Result<Verified, String> {
    let db = open_existing(settings).await?;
    let pending = dbkit::migrate::status::<Migrator>(&db)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|m| m.applied_at.is_none())
        .count();
    if pending > 0 {
        // Nothing to verify yet: "could not run" (2), not "found a problem" (1).
        return Err(format!(
            "{pending} migrations are pending: run `{} migrate up`, then verify",
            crate::settings().app
        ));
    }
    let schema_ok = schema_report::<Migrator>(&db, settings).await?;
    let chain = match chain::verify(&db).await {
        Ok(report) => report,
        // With a broken schema the chain may be unreadable: that is the finding.
        Err(e) if !schema_ok => {
            println!("audit chain: FAIL, cannot be read: {e}");
            return Ok(Verified {
                db,
                chain: None,
                ok: false,
            });
        }
        Err(e) => return Err(format!("reading the audit chain: {e}")),
    };
    let mut ok = schema_ok;
    match &chain.problem {
        None => println!(
            "audit chain: ok, {} rows from seq {} to {} (anchor at seq {}){}",
            chain.rows,
            chain.head.anchor_seq + 1,
            chain.head.seq,
            chain.head.anchor_seq,
            match chain.pending {
                0 => String::new(),
                n => format!("; {n} newer rows waiting to be chained"),
            }
        ),
        Some(problem) => {
            ok = false;
            println!("audit chain: FAIL: {problem}");
        }
    }
    Ok(Verified {
        db,
        chain: Some(chain),
        ok,
    })
}

/// Prints what [`dbkit::fold::refill`] found per table (`refill_twins` of the app's
/// entities); whether the twins may pass: all matched, or were set right (`refold`).
pub fn twins(differing: &[(&str, u64)], refold: bool) -> bool {
    let wrong: Vec<String> = differing
        .iter()
        .filter(|(_, rows)| *rows > 0)
        .map(|(table, rows)| format!("{table} {rows}"))
        .collect();
    let tables = differing.len();
    match (wrong.is_empty(), refold) {
        (true, _) => println!("twins: ok, {tables} tables"),
        (false, true) => println!("twins: set right in rows of {}", wrong.join(", ")),
        (false, false) => println!(
            "twins: FAIL: rows whose folded twins do not match their text: {} \
             (written around the application? `{} verify --refold` sets them right)",
            wrong.join(", "),
            crate::settings().app
        ),
    }
    wrong.is_empty() || refold
}

/// The verdict line and the exit code.
pub fn finish(ok: bool) -> CommandResult {
    println!("verify: {}", if ok { "ok" } else { "FAIL" });
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
