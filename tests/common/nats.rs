//! A real `nats-server` with JetStream for the tests of `keel::distributed`: on a free
//! loopback port, its store in a temporary directory, killed when dropped (pass or fail).
//! Without `nats-server` on the PATH the test is skipped ([`super::tools::tool`]).

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::process::{wait_for, Process};
use super::tools::tool;

/// A running `nats-server -js`.
pub struct NatsServer {
    /// `nats://127.0.0.1:PORT`.
    pub url: String,
    port: u16,
    program: PathBuf,
    process: Process,
    /// The JetStream store (`-sd`) and the server's logs; removed on drop.
    dir: tempfile::TempDir,
}

impl NatsServer {
    /// Starts a server on a port the kernel picks; `None` (the test prints
    /// `SKIPPED: nats-server not installed` and passes) when `nats-server` is not installed,
    /// a failure then if `KEEL_REQUIRE_TOOLS=1`.
    pub fn start() -> Option<Self> {
        let program = find_program().or_else(|| tool("nats-server"))?;
        let dir = tempfile::tempdir().expect("a directory for the JetStream store");
        let (process, port) = launch(&program, &dir, "-1");
        Some(Self {
            url: format!("nats://127.0.0.1:{port}"),
            port,
            program,
            process,
            dir,
        })
    }

    /// Kills the server (SIGKILL: no clean shutdown) and starts it again on the same port and
    /// the same store, as after a crash.
    pub fn restart(&mut self) {
        self.process.kill9();
        let (process, port) = launch(&self.program, &self.dir, &self.port.to_string());
        assert_eq!(port, self.port, "nats-server came back on another port");
        self.process = process;
    }
}

/// `nats-server` on the PATH, else where Debian's package puts it (`/usr/sbin`, outside a
/// user's PATH).
fn find_program() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join("nats-server"))
        .find(|program| program.is_file())
}

/// Starts `program` with its store and logs in `dir`, listening on `port` (`-1`: any), and
/// waits until it accepts connections; returns it and its port.
fn launch(program: &Path, dir: &tempfile::TempDir, port: &str) -> (Process, u16) {
    let mut command = Command::new(program);
    command
        .args(["-js", "-a", "127.0.0.1", "-p", port, "-sd"])
        .arg(dir.path().join("store"));
    let mut process = Process::start_in(command, "nats-server", dir.path());
    // Its log names the port it got ("Listening for client connections on 127.0.0.1:PORT");
    // a restarted server's log starts over, so the line is the new one.
    process.wait_for_stderr("Server is ready");
    let stderr = process.stderr();
    let port: u16 = stderr
        .lines()
        .filter_map(|line| {
            line.split("Listening for client connections on 127.0.0.1:")
                .nth(1)
        })
        .next_back()
        .and_then(|port| port.trim().parse().ok())
        .unwrap_or_else(|| panic!("nats-server logged no client port:\n{stderr}"));
    wait_for(
        &format!("nats-server accepting connections on port {port}"),
        || TcpStream::connect(("127.0.0.1", port)).is_ok(),
    );
    (process, port)
}
