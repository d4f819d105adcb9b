//! `launchpad verify`: the kit's checks (schema, chain), the folded twins the lists search
//! and sort by (`--refold` sets wrong ones right) and, with `--archive`, the archive files
//! up to the anchor.

use dbkit::chain::verify::Erasures;
use webkit::cli::CommandResult;
use webkit::cli::verify;

use crate::cli::VerifyArgs;
use crate::config::Settings;
use crate::retention::audit_archive;

pub async fn run(settings: &Settings, args: VerifyArgs) -> CommandResult {
    let verified = verify::check::<migration::Migrator>(settings).await?;
    let mut ok = verified.ok;
    let twins = crate::entity::refill_twins(&verified.db, args.refold)
        .await
        .map_err(|e| e.to_string())?;
    ok &= verify::twins(&twins, args.refold);
    if let (true, Some(chain)) = (args.archive, &verified.chain) {
        let erasures = Erasures::load(&verified.db)
            .await
            .map_err(|e| e.to_string())?;
        let anchor = (chain.head.anchor_seq, chain.head.anchor_hash.as_str());
        let archive = super::open_storage(settings)?.archive;
        match audit_archive::verify_files(&archive, anchor, erasures)
            .await
            .map_err(|e| format!("reading {archive:?}: {e}"))?
        {
            Ok(rows) => println!("archive: ok, {rows} rows in {archive:?} up to the anchor"),
            Err(problem) => {
                ok = false;
                println!("archive: FAIL: {problem}");
            }
        }
    }
    verify::finish(ok)
}
