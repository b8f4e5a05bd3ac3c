//! Child processes in system tests, on a slow machine as on a fast one.
//!
//! A [`Process`] is killed (SIGKILL) and reaped when it is dropped, so a test that fails — an
//! assertion, a panic, a timeout — never leaves a `keel` running. Its stdout and stderr go to
//! files, never to pipes that nobody drains (a full pipe stalls the child). Tests wait for
//! events (a line in a log, an exit), never for a wall-clock deadline that a busy disk can
//! miss: [`wait_for`] and [`Process::finish`] give up only after [`PATIENCE`], and then say
//! what never happened.
//!
//! Include it with `mod common;` (as `common::process`) or
//! `#[path = "common/process.rs"] mod process;`.

#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// How long a test waits for an event before it calls the build broken. Minutes, not
/// seconds: it only keeps a hung process from hanging the suite, it measures nothing.
pub const PATIENCE: Duration = Duration::from_secs(300);

/// How often a waiting test looks again.
const POLL: Duration = Duration::from_millis(20);

/// Polls `happened` until it is true; panics after [`PATIENCE`] naming `what` never happened.
pub fn wait_for(what: &str, mut happened: impl FnMut() -> bool) {
    let started = Instant::now();
    while !happened() {
        assert!(
            started.elapsed() < PATIENCE,
            "{what} never happened (gave up after {PATIENCE:?})"
        );
        std::thread::sleep(POLL);
    }
}

/// Whether any file directly in `dir` (or `dir` itself, when it is a file) contains `needle`.
pub fn log_contains(dir: &Path, needle: &str) -> bool {
    let read = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
    if dir.is_file() {
        return read(dir).contains(needle);
    }
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .any(|entry| read(&entry.path()).contains(needle))
}

/// A running child process that is killed when dropped.
pub struct Process {
    child: Option<Child>,
    what: String,
    stdout: PathBuf,
    stderr: PathBuf,
    /// Holds the output files when the caller gave no directory.
    _outputs: Option<tempfile::TempDir>,
}

impl Process {
    /// Starts `command` (its stdout and stderr into temporary files); `what` names it in
    /// failure messages.
    pub fn start(command: Command, what: &str) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory for the output");
        let mut process = Self::start_in(command, what, dir.path());
        process._outputs = Some(dir);
        process
    }

    /// Starts `command` with its stdout and stderr in `dir/<what>.stdout` and `.stderr`.
    pub fn start_in(mut command: Command, what: &str, dir: &Path) -> Self {
        let file_name: String = what
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let stdout = dir.join(format!("{file_name}.stdout"));
        let stderr = dir.join(format!("{file_name}.stderr"));
        let file = |path: &Path| std::fs::File::create(path).expect("output file");
        keel::child::die_with_parent(&mut command);
        let child = command
            .stdin(Stdio::null())
            .stdout(file(&stdout))
            .stderr(file(&stderr))
            .spawn()
            .unwrap_or_else(|e| panic!("{what} did not start: {e}"));
        Self {
            child: Some(child),
            what: what.to_string(),
            stdout,
            stderr,
            _outputs: None,
        }
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Everything the process wrote to stdout so far.
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    /// Everything the process wrote to stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Its exit status if it has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.as_mut()?.try_wait().expect("try_wait")
    }

    /// Sends a signal by name (`TERM`, `INT`, ...).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{name} {} failed", self.what);
    }

    /// Waits until this `keel run` has written its control plane's address into
    /// `store/control.addr` (panicking with stderr if it exits first) and returns it
    /// (`127.0.0.1:PORT`).
    pub fn control_addr(&mut self, store: &Path) -> String {
        let file = store.join("control.addr");
        wait_for(
            &format!("{}: its control plane's address", self.what),
            || {
                if let Some(status) = self.exited() {
                    panic!("{} exited ({status}):\n{}", self.what, self.stderr());
                }
                std::fs::read_to_string(&file).is_ok_and(|a| a.ends_with('\n'))
            },
        );
        std::fs::read_to_string(&file)
            .expect("the address file")
            .trim()
            .to_string()
    }

    /// Waits until stderr contains `needle` (panicking with stderr if the process exits
    /// first, or after [`PATIENCE`]).
    pub fn wait_for_stderr(&mut self, needle: &str) {
        let what = format!("{}: a line with {needle:?}", self.what);
        wait_for(&what, || {
            if self.stderr().contains(needle) {
                return true;
            }
            if let Some(status) = self.exited() {
                panic!(
                    "{} exited ({status}) before logging {needle:?}; stderr:\n{}",
                    self.what,
                    self.stderr()
                );
            }
            false
        });
    }

    /// SIGKILLs the process and reaps it.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Waits for the process to exit by itself (SIGKILL and a panic after [`PATIENCE`]) and
    /// returns what it printed.
    pub fn finish(mut self) -> Output {
        let what = format!("{} exiting", self.what);
        let mut status = None;
        let started = Instant::now();
        while status.is_none() {
            status = self.exited();
            if status.is_none() && started.elapsed() >= PATIENCE {
                self.kill9();
                panic!(
                    "{what} never happened (killed after {PATIENCE:?}); stderr:\n{}",
                    self.stderr()
                );
            }
            std::thread::sleep(POLL);
        }
        self.child = None;
        Output {
            status: status.expect("exited"),
            stdout: std::fs::read(&self.stdout).unwrap_or_default(),
            stderr: std::fs::read(&self.stderr).unwrap_or_default(),
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Runs `command` to its end and returns what it printed: `Command::output` with an outer
/// bound, so a hung child fails the test (naming `what`) instead of hanging the suite.
pub fn run(command: Command, what: &str) -> Output {
    Process::start(command, what).finish()
}

/// `keel` with `args`, as a [`Command`] to add to. A `keel run` serves its control plane on
/// a free port (`--control-listen 127.0.0.1:0`), so that tests run side by side and beside a
/// keel on the default port.
pub fn keel(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_keel"));
    for arg in args {
        command.arg(arg);
        if *arg == "run" {
            command.args(["--control-listen", "127.0.0.1:0"]);
        }
    }
    command
}

/// Starts `keel run --config CONFIG` in `dir` with `envs` and its control plane on a free
/// loopback port; returns the process and that address.
pub fn keel_run_with_control(
    config: &Path,
    dir: &Path,
    envs: impl IntoIterator<Item = (&'static str, &'static str)>,
) -> (Process, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut command = keel(&["run", "--config", config.to_str().unwrap()]);
    command.args(["--control-listen", &addr]).envs(envs);
    (Process::start_in(command, "keel run", dir), addr)
}

/// `GET path` of the control plane at `addr`: its status code and body, or `None` while it
/// does not answer.
pub fn control_get(addr: &str, path: &str) -> Option<(u16, String)> {
    reqwest::blocking::get(format!("http://{addr}{path}"))
        .ok()
        .map(|r| (r.status().as_u16(), r.text().unwrap_or_default()))
}
