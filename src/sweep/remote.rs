//! `keel sweep --nats URL`: the cells run on `keel worker`s anywhere, through NATS
//! JetStream. The coordinator uploads the input files by content hash, reads the results
//! already stored for this sweep (a coordinator restarted after a kill picks them up, each
//! checked against the cell it claims to be), publishes the cells still missing, and records
//! each result as it arrives, exactly as a local run records a finished cell.

use std::collections::HashMap;

use anyhow::{bail, Context};

use super::grid::Cell;
use super::plan::Plan;
use super::store::{CellRecord, Outcome};
use super::task::{base_for_workers, CellTask};
use crate::distributed::{
    connect, CellId, CellOutcome, CellResult, ObjectHash, SweepId, Transport,
};

/// Cells published per batch.
const BATCH: usize = 256;

/// Runs `todo` (cells of `plan`, with their ids) on the workers of `url`, handing each
/// record to `done` as it arrives. Returns when every cell of `todo` has a record.
pub fn run_remote(
    url: &str,
    plan: &Plan,
    todo: &[&(Cell, String)],
    done: &mut dyn FnMut(CellRecord) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the coordinator's runtime")?;
    runtime.block_on(coordinate(url, plan, todo, done))
}

async fn coordinate(
    url: &str,
    plan: &Plan,
    todo: &[&(Cell, String)],
    done: &mut dyn FnMut(CellRecord) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let transport = connect(url)
        .await
        .with_context(|| format!("connecting to NATS at {url}"))?;
    upload_inputs(&transport, plan).await?;
    let sweep = SweepId::new(&plan.sweep.fingerprint[..32])?;
    let mut waiting: HashMap<&str, &Cell> =
        todo.iter().map(|(cell, id)| (id.as_str(), cell)).collect();

    // Results stored by an earlier run of this coordinator (or of workers since).
    for result in transport.results().fetch_stored(&sweep).await? {
        take(result, &mut waiting, done)?;
    }
    let base = base_for_workers(&plan.sweep.base, &plan.sweep.data.hashes)?;
    let missing: Vec<(CellId, Vec<u8>)> = todo
        .iter()
        .filter(|(_, id)| waiting.contains_key(id.as_str()))
        .map(|(cell, id)| {
            let task = CellTask::new(&base, cell, id);
            Ok((CellId::new(id.clone())?, serde_json::to_vec(&task)?))
        })
        .collect::<anyhow::Result<_>>()?;
    for batch in missing.chunks(BATCH) {
        transport.cells().publish_cells(&sweep, batch).await?;
    }
    if !waiting.is_empty() {
        println!(
            "{} cells queued on {url} as sweep {sweep}: waiting for `keel worker --nats {url}`",
            waiting.len()
        );
    }
    let mut results = transport.results().subscribe(&sweep).await?;
    while !waiting.is_empty() {
        let Some(result) = results.next().await else {
            bail!(
                "the results stream of sweep {sweep} ended with {} cells missing",
                waiting.len()
            );
        };
        take(result?, &mut waiting, done)?;
    }
    Ok(())
}

/// Uploads every input file of the plan (a no-op for those the server holds already),
/// checking that the server names each by the hash the sweep's ids were made from.
async fn upload_inputs(transport: &Transport, plan: &Plan) -> anyhow::Result<()> {
    for (path, hash) in &plan.sweep.data.hashes {
        let bytes = tokio::fs::read(path)
            .await
            .with_context(|| format!("reading {}", path.display()))?;
        let stored = transport.objects().put(&bytes).await?;
        if stored != ObjectHash::new(hash)? {
            bail!(
                "{} changed while the sweep was starting (hash {hash}, now {stored})",
                path.display()
            );
        }
    }
    Ok(())
}

/// Records a result if it is one of the cells still waiting; a result for a cell already
/// recorded (a cell finished twice after a redelivery) or of another grid is passed over.
fn take(
    result: CellResult,
    waiting: &mut HashMap<&str, &Cell>,
    done: &mut dyn FnMut(CellRecord) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let id = result.cell.as_str().to_string();
    let Some(cell) = waiting.get(id.as_str()).copied() else {
        return Ok(());
    };
    let record = match result.outcome {
        CellOutcome::Ok(bytes) => match serde_json::from_slice::<CellRecord>(&bytes) {
            Ok(record) if record.id == id && record.index == cell.index => record,
            Ok(record) => {
                tracing::warn!(cell = %id, claimed = %record.id, index = record.index, "a result that is not its cell's was passed over");
                return Ok(());
            }
            Err(error) => {
                tracing::warn!(cell = %id, %error, "an unreadable result was passed over");
                return Ok(());
            }
        },
        CellOutcome::Failed(reason) => CellRecord {
            index: cell.index,
            id: id.clone(),
            outcome: Outcome::Skipped {
                reason: format!("the worker failed: {reason}"),
            },
        },
    };
    waiting.remove(id.as_str());
    done(record)
}
