//! `keel worker --nats URL`: runs the cells `keel sweep --nats URL` publishes, on this
//! machine's cores, until SIGINT or SIGTERM (the cells running then are finished first).

use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::cli::WorkerArgs;
use crate::distributed::{run_worker, ObjectFetcher, SweepFilter, WorkerOptions};
use crate::sweep::{Refused, TaskRunner};

/// Runs `keel worker`.
pub fn run(args: &WorkerArgs) -> anyhow::Result<()> {
    let threads = match args.threads {
        Some(0) => return Err(Refused("--threads must be at least 1".into()).into()),
        Some(n) => NonZeroUsize::new(n).unwrap_or(NonZeroUsize::MIN),
        None => std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN),
    };
    if args.ack_wait_secs == 0 {
        return Err(Refused("--ack-wait-secs must be at least 1".into()).into());
    }
    let mut options = WorkerOptions::new(SweepFilter::All, &args.cache);
    options.parallelism = threads;
    options.ack_wait = Duration::from_secs(args.ack_wait_secs);
    options.until_idle = args.until_idle;
    let runner = Arc::new(TaskRunner::default());
    let handler = move |payload: &[u8], objects: &ObjectFetcher| runner.handle(payload, objects);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the worker's runtime")?;
    let url = args.nats.clone();
    let summary = runtime.block_on(async move {
        println!(
            "worker: taking cells from {url} ({threads} at a time, cache {})",
            options.cache_dir.display()
        );
        run_worker(&url, options, handler, stop_signal()).await
    })?;
    println!(
        "worker: {} cells done, {} failed",
        summary.succeeded, summary.failed
    );
    Ok(())
}

/// Completes on SIGINT or SIGTERM.
async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
