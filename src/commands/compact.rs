//! `keel compact`: gives a stopped keel's journal store its space back (see
//! `keel_actors::journal::compact` and docs/operations.md, "Disk and retention").

use anyhow::Context;

use super::load_settings;
use crate::cli::CompactArgs;
use keel_actors::journal::compact;

/// Compacts the store named by `--store`, or the settings' `run.store`, and prints the sizes
/// before and after. Refused while a keel holds the store open.
pub fn run(args: &CompactArgs) -> anyhow::Result<()> {
    let store = match &args.store {
        Some(store) => store.clone(),
        None => load_settings(args.config.as_deref())?.run.store,
    };
    if !store.is_dir() {
        anyhow::bail!("no journal store at {}", store.display());
    }
    let done = compact(&store).with_context(|| format!("compacting {}", store.display()))?;
    println!(
        "compacted {}: {} records, {} -> {} bytes",
        store.display(),
        done.records,
        done.before,
        done.after
    );
    Ok(())
}
