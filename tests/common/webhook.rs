//! A loopback webhook receiver for the alert tests.

#![allow(dead_code)] // each test binary uses its own subset

use std::net::TcpListener;

use serde_json::Value;

/// A loopback webhook receiver: answers every POST 200 and keeps its JSON body.
pub struct Receiver {
    /// Where to POST.
    pub url: String,
    /// Every body received, in order.
    pub bodies: std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
}

impl Receiver {
    /// Listens on a free loopback port (until the test process ends).
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = bodies.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                if let Some(body) = read_request(&mut stream) {
                    kept.lock().unwrap().push(body);
                }
                let _ = std::io::Write::write_all(
                    &mut stream,
                    b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                );
            }
        });
        Self { url, bodies }
    }

    /// The `text` field of every body (Slack's format).
    pub fn texts(&self) -> Vec<String> {
        self.bodies
            .lock()
            .unwrap()
            .iter()
            .map(|b| b["text"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

/// Reads one HTTP request and returns its JSON body.
fn read_request(stream: &mut std::net::TcpStream) -> Option<Value> {
    use std::io::{BufRead, BufReader, Read};
    let mut reader = BufReader::new(stream);
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}
