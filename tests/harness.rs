//! The test harness's own promise: no process a test starts outlives the test, whether the
//! test ends normally, panics, or its thread simply ends without any cleanup running.

mod common;

use std::process::Command;

use common::process::{wait_for, Process};

/// Whether process `pid` still exists (and is not a zombie awaiting its parent).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            // The state follows the command name in parentheses.
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z') && !state.starts_with('X')
        })
        .unwrap_or(false)
}

fn sleeper() -> Command {
    let mut command = Command::new("sleep");
    command.arg("600");
    command
}

#[test]
fn a_process_is_killed_when_its_guard_is_dropped() {
    let process = Process::start(sleeper(), "sleep");
    let pid = process.id();
    assert!(alive(pid));
    drop(process);
    assert!(!alive(pid), "the guard killed and reaped it");
}

#[test]
fn a_process_dies_with_the_thread_that_started_it_even_without_its_guard() {
    // The guard is forgotten (as when the harness is killed outright and no Drop runs): the
    // parent-death signal still ends the child when the starting thread ends.
    let pid = std::thread::spawn(|| {
        let process = Process::start(sleeper(), "sleep");
        let pid = process.id();
        std::mem::forget(process);
        pid
    })
    .join()
    .unwrap();
    wait_for("the orphaned child to die with its thread", || !alive(pid));
}
