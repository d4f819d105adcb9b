//! `launchpad verify`: the schema (as `migrate check`) and the activity log's chain.

use std::process::ExitCode;

use dbkit::chain::{self, verify::Erasures};

use crate::cli::VerifyArgs;
use crate::config::Settings;
use crate::retention::audit_archive;
use webkit::cli::migrate::schema_report;
use webkit::cli::{CommandResult, open_existing};

pub async fn run(settings: &Settings, args: VerifyArgs) -> CommandResult {
    let db = open_existing(settings).await?;
    let pending = dbkit::migrate::status::<migration::Migrator>(&db)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|m| m.applied_at.is_none())
        .count();
    if pending > 0 {
        // Nothing to verify yet: "could not run" (2), not "found a problem" (1).
        return Err(format!(
            "{pending} migrations are pending: run `launchpad migrate up`, then verify"
        ));
    }
    let schema_ok = schema_report::<migration::Migrator>(&db, settings).await?;
    let chain = match chain::verify(&db).await {
        Ok(report) => report,
        // With a broken schema the chain may be unreadable: that is the finding.
        Err(e) if !schema_ok => {
            println!("audit chain: FAIL, cannot be read: {e}");
            println!("verify: FAIL");
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => return Err(format!("reading the audit chain: {e}")),
    };
    let mut ok = schema_ok;
    match &chain.problem {
        None => println!(
            "audit chain: ok, {} rows from seq {} to {} (anchor at seq {})",
            chain.rows,
            chain.head.anchor_seq + 1,
            chain.head.seq,
            chain.head.anchor_seq
        ),
        Some(problem) => {
            ok = false;
            println!("audit chain: FAIL: {problem}");
        }
    }
    if args.archive {
        let erasures = Erasures::load(&db).await.map_err(|e| e.to_string())?;
        let anchor = (chain.head.anchor_seq, chain.head.anchor_hash.as_str());
        let dir = &settings.archive_dir;
        match audit_archive::verify_files(dir, anchor, erasures)
            .map_err(|e| format!("reading {}: {e}", dir.display()))?
        {
            Ok(rows) => println!(
                "archive: ok, {rows} rows in {} up to the anchor",
                dir.display()
            ),
            Err(problem) => {
                ok = false;
                println!("archive: FAIL: {problem}");
            }
        }
    }
    println!("verify: {}", if ok { "ok" } else { "FAIL" });
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
