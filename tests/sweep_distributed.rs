//! `keel sweep --nats` across processes, against a real `nats-server` with JetStream: three
//! `keel worker`s, one SIGKILLed mid-sweep (its cell is redelivered and finished by another),
//! the coordinator SIGKILLed once and rerun (it resumes from the results already stored); the
//! results must equal a local sweep's, cell for cell.

mod common;

use std::path::{Path, PathBuf};

use common::nats::NatsServer;
use common::process::{keel, run, wait_for, Process};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_distributed_sweep_survives_killed_workers_and_coordinator_and_matches_a_local_one() {
    let Some(nats) = NatsServer::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let base = common::eth_sma_cross_config(dir.path());
    let grid = write(
        dir.path(),
        "grid.toml",
        "[strategy]\nsma_fast = { from = 5, to = 45, step = 5 }\nsma_slow = [50, 100, 150, 200]\n",
    );
    let total = 36;
    // The reference: the same sweep on this machine.
    let local = dir.path().join("local");
    let output = run(common::keel_sweep(&base, &grid, &local, &[]), "local sweep");
    assert!(output.status.success(), "{}", text(&output.stderr));

    let workers: Vec<Process> = (0..3)
        .map(|n| {
            let cache = dir.path().join(format!("cache{n}"));
            Process::start(
                keel(&[
                    "worker",
                    "--nats",
                    &nats.url,
                    "--cache",
                    cache.to_str().unwrap(),
                    "--threads",
                    "1",
                    "--ack-wait-secs",
                    "3",
                ]),
                &format!("keel worker {n}"),
            )
        })
        .collect();
    let mut workers = workers;

    let out = dir.path().join("distributed");
    let coordinator_command = || common::keel_sweep(&base, &grid, &out, &["--nats", &nats.url]);
    let cells_file = out.join("cells.jsonl");
    let recorded = || {
        std::fs::read_to_string(&cells_file)
            .unwrap_or_default()
            .lines()
            .count()
    };

    let mut coordinator = Process::start(coordinator_command(), "keel sweep --nats (killed)");
    wait_for("four cells recorded by the coordinator", || {
        assert!(
            coordinator.exited().is_none(),
            "the coordinator ended before the kill: {}",
            coordinator.stderr()
        );
        recorded() >= 4
    });
    // A worker dies in the middle of a cell (each is busy while cells remain queued), and
    // so does the coordinator.
    workers[0].kill9();
    coordinator.kill9();
    let before = recorded();
    assert!(before < total, "the sweep had finished before the kills");

    let output = run(coordinator_command(), "keel sweep --nats (rerun)");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains(&format!("{total} cells: {} to run", total - before)),
        "the rerun resumes from the cells recorded before the kill:\n{stdout}"
    );
    assert_eq!(recorded(), total, "each cell recorded once");
    for file in ["results.csv", "skipped.csv", "best.toml"] {
        assert_eq!(
            std::fs::read_to_string(out.join(file)).unwrap(),
            std::fs::read_to_string(local.join(file)).unwrap(),
            "{file} differs from the local sweep's"
        );
    }
    // The surviving workers ran cells.
    for worker in &workers[1..] {
        assert!(
            worker.stdout().contains("taking cells from"),
            "{}",
            worker.stderr()
        );
    }
    drop(workers);
}
