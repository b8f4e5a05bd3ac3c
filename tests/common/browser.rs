//! A headless Chromium driven over the Chrome DevTools Protocol (its WebSocket, no driver
//! program): open a page, evaluate script in it, take a screenshot. Chromium and every
//! process it forks are killed when the [`Browser`] is dropped, pass or fail.
//!
//! Include it with `#[path = "common/browser.rs"] mod browser;` beside `mod common;`.

#![allow(dead_code)] // each test binary uses its own subset

use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::common::process::{wait_for, Process, PATIENCE};

/// A headless Chromium with one page, and the DevTools connection to that page.
pub struct Browser {
    runtime: tokio::runtime::Runtime,
    page: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    process: Process,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts `chromium` headless on a free DevTools port with a fresh profile (its output
    /// in `dir`), and connects to its blank page.
    pub fn launch(chromium: &Path, dir: &Path) -> Self {
        let profile = tempfile::tempdir().expect("a profile directory");
        let mut command = Command::new(chromium);
        command
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--no-first-run",
                "--window-size=1400,1200",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            // Its own process group, so that dropping the browser kills its helpers too.
            .process_group(0);
        let mut process = Process::start_in(command, "chromium", dir);
        let port_file = profile.path().join("DevToolsActivePort");
        wait_for("chromium: its DevTools port", || {
            if let Some(status) = process.exited() {
                panic!("chromium exited ({status}):\n{}", process.stderr());
            }
            std::fs::read_to_string(&port_file).is_ok_and(|text| text.lines().count() >= 2)
        });
        let port = std::fs::read_to_string(&port_file).expect("DevToolsActivePort");
        let port = port.lines().next().expect("a port line").trim().to_string();
        let page_url = page_socket(&port);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the DevTools connection");
        let (page, _) = runtime
            .block_on(tokio_tungstenite::connect_async(page_url.as_str()))
            .unwrap_or_else(|e| panic!("connecting to chromium's page at {page_url}: {e}"));
        Self {
            runtime,
            page,
            next_id: 0,
            process,
            _profile: profile,
        }
    }

    /// Sends the DevTools command `method` and returns its result (panics on an error, or
    /// after [`PATIENCE`] without an answer).
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let request = json!({ "id": id, "method": method, "params": params }).to_string();
        let Self { runtime, page, .. } = self;
        let answer = async {
            page.send(Message::text(request))
                .await
                .unwrap_or_else(|e| panic!("sending {method} to chromium: {e}"));
            while let Some(message) = page.next().await {
                let message = message.unwrap_or_else(|e| panic!("chromium during {method}: {e}"));
                let Ok(text) = message.to_text() else {
                    continue;
                };
                let Ok(reply) = serde_json::from_str::<Value>(text) else {
                    continue;
                };
                if reply["id"] != id {
                    continue; // an event
                }
                if let Some(error) = reply.get("error") {
                    panic!("chromium refused {method}: {error}");
                }
                return reply["result"].clone();
            }
            panic!("chromium closed the DevTools connection during {method}")
        };
        runtime
            .block_on(async { tokio::time::timeout(PATIENCE, answer).await })
            .unwrap_or_else(|_| {
                panic!("chromium never answered {method} (gave up after {PATIENCE:?})")
            })
    }

    /// Opens `url` in the page.
    pub fn navigate(&mut self, url: &str) {
        let result = self.call("Page.navigate", json!({ "url": url }));
        if let Some(error) = result.get("errorText") {
            panic!("chromium could not open {url}: {error}");
        }
    }

    /// The value of the script `expression` evaluated in the page (panics if it throws).
    pub fn evaluate(&mut self, expression: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true }),
        );
        if let Some(exception) = result.get("exceptionDetails") {
            panic!("{expression} threw in the page: {exception}");
        }
        result["result"]["value"].clone()
    }

    /// A PNG of the whole page.
    pub fn screenshot(&mut self) -> Vec<u8> {
        let result = self.call(
            "Page.captureScreenshot",
            json!({ "format": "png", "captureBeyondViewport": true }),
        );
        let data = result["data"].as_str().expect("screenshot data");
        base64::engine::general_purpose::STANDARD
            .decode(data)
            .expect("the screenshot is base64")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // SAFETY: `kill` only sends a signal; the group is chromium's own (process_group(0)).
        unsafe {
            libc::kill(-(self.process.id() as libc::pid_t), libc::SIGKILL);
        }
        self.process.kill9();
    }
}

/// The DevTools WebSocket of chromium's first page (on `port`), once it has one.
fn page_socket(port: &str) -> String {
    let list = format!("http://127.0.0.1:{port}/json/list");
    let mut socket = None;
    wait_for("chromium: a page to drive", || {
        let targets: Option<Vec<Value>> = reqwest::blocking::get(&list)
            .ok()
            .and_then(|response| response.json().ok());
        socket = targets.into_iter().flatten().find_map(|target| {
            (target["type"] == "page")
                .then(|| target["webSocketDebuggerUrl"].as_str().map(str::to_string))
                .flatten()
        });
        socket.is_some()
    });
    socket.expect("a page")
}
