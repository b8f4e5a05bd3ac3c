//! The sweep transport against a real `nats-server -js` (skipped when it is not installed):
//! every cell runs once however often it is published and however many workers pull, a
//! cell whose worker dies is finished by another, a long cell is not run twice, inputs arrive
//! intact, and a coordinator that restarts (the server too) finds every result.

mod common;

use std::collections::HashMap;
use std::future::{pending, Future};
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::{self, stream};
use common::nats::NatsServer;
use common::process::PATIENCE;
use futures_util::StreamExt;
use keel::distributed::{
    backlog, connect, run_worker, CellId, CellOutcome, DistributedError, ObjectFetcher, ObjectHash,
    Published, SweepFilter, SweepId, Transport, WorkerOptions, WorkerSummary,
};

/// A NATS server and a coordinator connected to it; `None` when `nats-server` is not
/// installed (the test then passes, having said SKIPPED).
async fn connected() -> Option<(NatsServer, Transport)> {
    let server = NatsServer::start()?;
    let coordinator = connect(&server.url).await.unwrap();
    Some((server, coordinator))
}

/// How many times the handler ran on each cell payload.
type Runs = Arc<Mutex<HashMap<Vec<u8>, usize>>>;

/// `work`'s output; a panic naming `what` if it takes [`PATIENCE`] (a stuck worker must not
/// hang the suite; the limit measures nothing).
async fn patiently<T>(what: &str, work: impl Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, work)
        .await
        .unwrap_or_else(|_| panic!("{what} never happened (gave up after {PATIENCE:?})"))
}

fn sweep(id: &str) -> SweepId {
    SweepId::new(id).unwrap()
}

/// `n` cells `c0`, `c1`, ... whose payload is `<prefix>` and the cell's number.
fn cells(n: usize, prefix: &str) -> Vec<(CellId, Vec<u8>)> {
    (0..n)
        .map(|i| {
            let id = CellId::new(format!("c{i}")).unwrap();
            (id, format!("{prefix}{i}").into_bytes())
        })
        .collect()
}

/// A worker for `sweeps` that stops when the queue is empty, two cells at a time.
fn until_idle(sweeps: SweepFilter, cache: &tempfile::TempDir) -> WorkerOptions {
    let mut options = WorkerOptions::new(sweeps, cache.path());
    options.parallelism = NonZeroUsize::new(2).unwrap();
    options.until_idle = true;
    options
}

/// [`until_idle`] with an ack wait of `ack_wait`.
fn until_idle_acking_within(
    sweeps: SweepFilter,
    cache: &tempfile::TempDir,
    ack_wait: Duration,
) -> WorkerOptions {
    WorkerOptions {
        ack_wait,
        ..until_idle(sweeps, cache)
    }
}

/// A handler that counts its runs per payload and answers `done:<payload>`, after `pause`.
fn counting(
    runs: &Runs,
    pause: Duration,
) -> impl Fn(&[u8], &ObjectFetcher) -> anyhow::Result<Vec<u8>> + Send + Sync + 'static {
    let runs = Arc::clone(runs);
    move |payload, _| {
        *runs.lock().unwrap().entry(payload.to_vec()).or_default() += 1;
        std::thread::sleep(pause);
        Ok([b"done:", payload].concat())
    }
}

/// A handler for cells `<object hash> <n>`: it counts its runs per payload, fetches the
/// object and answers `<n>:<object length>`.
fn fetching(
    runs: &Runs,
) -> impl Fn(&[u8], &ObjectFetcher) -> anyhow::Result<Vec<u8>> + Send + Sync + 'static {
    let runs = Arc::clone(runs);
    move |payload, objects| {
        *runs.lock().unwrap().entry(payload.to_vec()).or_default() += 1;
        let text = std::str::from_utf8(payload)?;
        let (hash, cell) = text.split_once(' ').unwrap();
        let file = objects.fetch(&hash.parse::<ObjectHash>()?)?;
        let len = std::fs::read(file)?.len();
        std::thread::sleep(Duration::from_millis(20));
        Ok(format!("{cell}:{len}").into_bytes())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_cell_runs_once_across_two_workers_though_published_twice() {
    let Some((server, coordinator)) = connected().await else {
        return;
    };
    let grid = sweep("grid1");
    let input = b"candles: 1 2 3".repeat(1000);
    let input_hash = coordinator.objects().put(&input).await.unwrap();
    // Each cell names the input object; the handler fetches it through the worker's cache.
    let cells = cells(30, &format!("{input_hash} "));
    let first = coordinator
        .cells()
        .publish_cells(&grid, &cells)
        .await
        .unwrap();
    let again = coordinator
        .cells()
        .publish_cells(&grid, &cells)
        .await
        .unwrap();
    assert_eq!(
        first,
        Published {
            new: 30,
            duplicates: 0
        }
    );
    assert_eq!(
        again,
        Published {
            new: 0,
            duplicates: 30
        }
    );

    let runs: Runs = Runs::default();
    let cache = tempfile::tempdir().unwrap();
    let filter = SweepFilter::Sweep(grid.clone());
    let (a, b) = patiently("two workers emptying the queue", async {
        tokio::join!(
            run_worker(
                &server.url,
                until_idle(filter.clone(), &cache),
                fetching(&runs),
                pending()
            ),
            run_worker(
                &server.url,
                until_idle(filter.clone(), &cache),
                fetching(&runs),
                pending()
            ),
        )
    })
    .await;
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.succeeded + b.succeeded, 30, "workers: {a:?} {b:?}");
    assert_eq!(a.failed + b.failed, 0);

    let runs = runs.lock().unwrap().clone();
    assert_eq!(runs.len(), 30, "cells handled: {runs:?}");
    assert!(runs.values().all(|&n| n == 1), "a cell ran twice: {runs:?}");

    let results = coordinator.results().fetch_stored(&grid).await.unwrap();
    let mut got: Vec<(String, CellOutcome)> = results
        .into_iter()
        .map(|r| (r.cell.to_string(), r.outcome))
        .collect();
    got.sort_by(|x, y| x.0.cmp(&y.0));
    let mut want: Vec<(String, CellOutcome)> = (0..30)
        .map(|i| {
            let ok = CellOutcome::Ok(format!("{i}:{}", input.len()).into_bytes());
            (format!("c{i}"), ok)
        })
        .collect();
    want.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(got, want);
    assert_eq!(coordinator.cells().remaining(&filter).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_runs_cells_as_they_come_until_told_to_stop() {
    let Some((server, coordinator)) = connected().await else {
        return;
    };
    let grid = sweep("grid6");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let cache = tempfile::tempdir().unwrap();
    let runs = Runs::default();
    // Started before any cell exists, it waits for them.
    let url = server.url.clone();
    let worker = tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        let options = WorkerOptions::new(SweepFilter::All, cache.path());
        run_worker(&url, options, counting(&runs, Duration::ZERO), shutdown).await
    });
    let mut results = coordinator.results().subscribe(&grid).await.unwrap();
    coordinator
        .cells()
        .publish_cells(&grid, &cells(5, "n"))
        .await
        .unwrap();
    let mut finished = Vec::new();
    for _ in 0..5 {
        let result = patiently("a result", results.next())
            .await
            .unwrap()
            .unwrap();
        finished.push(result.cell.to_string());
    }
    finished.sort();
    assert_eq!(finished, ["c0", "c1", "c2", "c3", "c4"]);

    stop.send(()).unwrap();
    let summary = patiently("the worker stopping", worker)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        summary,
        WorkerSummary {
            succeeded: 5,
            failed: 0
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cell_left_unacked_by_a_dead_worker_is_finished_by_another() {
    let Some((server, coordinator)) = connected().await else {
        return;
    };
    let grid = sweep("grid2");
    coordinator
        .cells()
        .publish_cells(&grid, &cells(3, "cell "))
        .await
        .unwrap();

    // The dead worker: it takes a cell from the workers' consumer and never acks it.
    let filter = SweepFilter::Sweep(grid.clone());
    // Its ack wait replaces the one the consumer was created with (by a worker with the
    // default, say): the last worker to start sets it.
    let ack_wait = Duration::from_secs(2);
    coordinator
        .cells()
        .consumer(&filter, Duration::from_secs(30))
        .await
        .unwrap();
    let consumer = coordinator
        .cells()
        .consumer(&filter, ack_wait)
        .await
        .unwrap();
    let mut batch = consumer
        .batch()
        .max_messages(1)
        .expires(Duration::from_secs(60))
        .messages()
        .await
        .unwrap();
    let taken = batch.next().await.expect("a cell").unwrap();
    let taken_payload = taken.payload.to_vec();
    drop((taken, batch));
    assert_eq!(backlog(&consumer).await.unwrap().running, 1);
    assert_eq!(coordinator.cells().remaining(&filter).await.unwrap(), 3);

    let runs: Runs = Runs::default();
    let cache = tempfile::tempdir().unwrap();
    // The worker sees a cell running elsewhere, so it waits for it instead of stopping.
    let summary = patiently(
        "the worker finishing the dead worker's cell",
        run_worker(
            &server.url,
            until_idle_acking_within(filter, &cache, ack_wait),
            counting(&runs, Duration::ZERO),
            pending(),
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        summary,
        WorkerSummary {
            succeeded: 3,
            failed: 0
        }
    );
    assert_eq!(runs.lock().unwrap().get(&taken_payload), Some(&1));
    let results = coordinator.results().fetch_stored(&grid).await.unwrap();
    assert_eq!(results.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cell_longer_than_ack_wait_runs_once() {
    let Some((server, coordinator)) = connected().await else {
        return;
    };
    let grid = sweep("grid3");
    coordinator
        .cells()
        .publish_cells(&grid, &cells(1, "slow "))
        .await
        .unwrap();

    // 2.5 ack waits: without progress acks (every second here) the idle worker would get the
    // cell again; a second between them leaves room for a busy machine.
    let runs: Runs = Runs::default();
    let cache = tempfile::tempdir().unwrap();
    let filter = SweepFilter::Sweep(grid.clone());
    let (a, b) = patiently("two workers emptying the queue", async {
        tokio::join!(
            run_worker(
                &server.url,
                until_idle_acking_within(filter.clone(), &cache, Duration::from_secs(2)),
                counting(&runs, Duration::from_millis(5000)),
                pending()
            ),
            run_worker(
                &server.url,
                until_idle_acking_within(filter.clone(), &cache, Duration::from_secs(2)),
                counting(&runs, Duration::from_millis(5000)),
                pending()
            ),
        )
    })
    .await;
    assert_eq!(a.unwrap().succeeded + b.unwrap().succeeded, 1);
    assert_eq!(
        *runs.lock().unwrap(),
        HashMap::from([(b"slow 0".to_vec(), 1)])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_cell_is_stored_as_failed_once_and_a_panic_too() {
    let Some((server, coordinator)) = connected().await else {
        return;
    };
    let grid = sweep("grid4");
    let cells = vec![
        (CellId::new("good").unwrap(), b"good".to_vec()),
        (CellId::new("bad").unwrap(), b"bad".to_vec()),
        (CellId::new("panics").unwrap(), b"panics".to_vec()),
    ];
    coordinator
        .cells()
        .publish_cells(&grid, &cells)
        .await
        .unwrap();
    let runs: Runs = Runs::default();
    let counted = Arc::clone(&runs);
    let cache = tempfile::tempdir().unwrap();
    let work = run_worker(
        &server.url,
        until_idle(SweepFilter::All, &cache),
        move |payload: &[u8], _: &ObjectFetcher| {
            *counted.lock().unwrap().entry(payload.to_vec()).or_default() += 1;
            match payload {
                b"bad" => Err(anyhow::anyhow!("no candles").context("loading the data")),
                b"panics" => panic!("index out of range"),
                _ => Ok(b"fine".to_vec()),
            }
        },
        pending(),
    );
    let summary = patiently("the worker emptying the queue", work)
        .await
        .unwrap();
    assert_eq!(
        summary,
        WorkerSummary {
            succeeded: 1,
            failed: 2
        }
    );
    assert!(runs.lock().unwrap().values().all(|&n| n == 1));

    let results: HashMap<String, CellOutcome> = coordinator
        .results()
        .fetch_stored(&grid)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.cell.to_string(), r.outcome))
        .collect();
    assert_eq!(results["good"], CellOutcome::Ok(b"fine".to_vec()));
    assert_eq!(
        results["bad"],
        CellOutcome::Failed("loading the data: no candles".into())
    );
    assert_eq!(
        results["panics"],
        CellOutcome::Failed("the handler panicked: index out of range".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_coordinator_finds_every_result_once() {
    let Some(mut server) = NatsServer::start() else {
        return;
    };
    let grid = sweep("grid5");
    {
        let coordinator = connect(&server.url).await.unwrap();
        assert!(coordinator
            .results()
            .fetch_stored(&grid)
            .await
            .unwrap()
            .is_empty());
        coordinator
            .cells()
            .publish_cells(&grid, &cells(20, "p"))
            .await
            .unwrap();
        let cache = tempfile::tempdir().unwrap();
        let runs = Runs::default();
        let work = run_worker(
            &server.url,
            until_idle(SweepFilter::All, &cache),
            counting(&runs, Duration::ZERO),
            pending(),
        );
        patiently("the worker emptying the queue", work)
            .await
            .unwrap();
        // A cell finished twice, the second time past the duplicate window (another
        // message id): the readers keep one result.
        let client = async_nats::connect(&server.url).await.unwrap();
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Keel-Outcome", "ok");
        headers.insert("Nats-Msg-Id", "a-later-run");
        jetstream::new(client)
            .publish_with_headers("keel.results.grid5.c3", headers, "done:p3".into())
            .await
            .unwrap()
            .await
            .unwrap();
    }

    server.restart();
    let coordinator = connect(&server.url).await.unwrap();
    let stored = coordinator.results().fetch_stored(&grid).await.unwrap();
    let mut cells: Vec<String> = stored.iter().map(|r| r.cell.to_string()).collect();
    cells.sort();
    let mut want: Vec<String> = (0..20).map(|i| format!("c{i}")).collect();
    want.sort();
    assert_eq!(cells, want);
    for result in &stored {
        let number = result.cell.as_str().trim_start_matches('c');
        assert_eq!(
            result.outcome,
            CellOutcome::Ok(format!("done:p{number}").into_bytes())
        );
    }

    // Following the results from the start gives the same 20, then what a worker adds.
    let mut follow = coordinator.results().subscribe(&grid).await.unwrap();
    for _ in 0..20 {
        patiently("a stored result", follow.next())
            .await
            .unwrap()
            .unwrap();
    }
    let extra = CellId::new("late").unwrap();
    coordinator
        .results()
        .publish(&grid, &extra, &CellOutcome::Failed("late".into()))
        .await
        .unwrap();
    let next = patiently("the new result", follow.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(next.cell, extra, "the duplicate of c3 came through");
}

/// Panics unless the file at `path` holds `bytes` (without printing megabytes).
fn assert_same_bytes(path: impl AsRef<std::path::Path>, bytes: &[u8]) {
    let found = std::fs::read(path.as_ref()).unwrap();
    assert!(
        found == bytes,
        "{} holds {} bytes hashing to {}, not the object's {} bytes",
        path.as_ref().display(),
        found.len(),
        ObjectHash::of(&found),
        bytes.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_round_trip_through_a_cache_that_detects_corruption() {
    let Some((server, coordinator)) = connected().await else {
        return;
    };
    // Several MiB, so it spans many chunks of the object store.
    let bytes: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    let hash = coordinator.objects().put(&bytes).await.unwrap();
    assert_eq!(hash, ObjectHash::of(&bytes));
    assert_eq!(coordinator.objects().put(&bytes).await.unwrap(), hash);

    let cache = tempfile::tempdir().unwrap();
    let path = coordinator
        .objects()
        .fetch(&hash, cache.path())
        .await
        .unwrap();
    assert_eq!(path, cache.path().join(hash.as_str()));
    assert_same_bytes(&path, &bytes);

    // A corrupted cached copy is noticed and replaced.
    let mut corrupt = bytes.clone();
    corrupt[1_000_000] ^= 0xff;
    std::fs::write(&path, &corrupt).unwrap();
    let path = coordinator
        .objects()
        .fetch(&hash, cache.path())
        .await
        .unwrap();
    assert_same_bytes(&path, &bytes);

    // An object nobody uploaded is an error naming it, and leaves nothing in the cache.
    let unknown = ObjectHash::of(b"never uploaded");
    let error = coordinator
        .objects()
        .fetch(&unknown, cache.path())
        .await
        .unwrap_err();
    assert!(error.to_string().contains(unknown.as_str()), "{error}");

    // A good cached copy is used as it is: no server needed.
    drop(server);
    let path = coordinator
        .objects()
        .fetch(&hash, cache.path())
        .await
        .unwrap();
    assert_same_bytes(path, &bytes);
    let leftovers: Vec<_> = std::fs::read_dir(cache.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from(hash.as_str())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_keel_cannot_use_is_a_clear_error() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let client = async_nats::connect(&server.url).await.unwrap();
    jetstream::new(client)
        .create_stream(stream::Config {
            name: "KEEL_CELLS".into(),
            subjects: vec!["keel.cells.>".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    let error = match connect(&server.url).await {
        Err(error) => error,
        Ok(_) => panic!("connected to a KEEL_CELLS with limits retention"),
    };
    assert!(
        matches!(error, DistributedError::Incompatible { .. }),
        "{error}"
    );
    let message = error.to_string();
    assert!(
        message.contains("stream KEEL_CELLS") && message.contains("WorkQueue"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_for_all_sweeps_and_for_one_cannot_share_a_server() {
    let Some((_server, coordinator)) = connected().await else {
        return;
    };
    let ack_wait = Duration::from_secs(30);
    let cells = coordinator.cells();
    cells.consumer(&SweepFilter::All, ack_wait).await.unwrap();
    let error = cells
        .consumer(&SweepFilter::Sweep(sweep("one")), ack_wait)
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("workers for all sweeps and workers for one sweep cannot share"),
        "{error}"
    );
}
