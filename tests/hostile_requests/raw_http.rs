//! A raw HTTP/1.1 client over a TCP socket, for requests a client library would refuse to
//! send: repeated or half-encoded parameters, invalid UTF-8, oversized headers and bodies,
//! requests that are never finished.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// The outer bound on one exchange: it keeps a hung server from hanging the test and measures
/// nothing (the observed latencies are reported, not asserted).
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// A server's answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The status line and headers.
    pub head: String,
    /// The body (de-chunked).
    pub body: Vec<u8>,
    /// From connecting to the last byte of the answer.
    pub took: Duration,
}

impl Reply {
    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// The bytes of a request with `Connection: close`, a `Host` and, when there is a body, its
/// `Content-Length`.
pub fn request(method: &str, target: &str, headers: &[(&str, Vec<u8>)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n")
        .into_bytes();
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    if !body.is_empty() {
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// A connection to `addr` (`127.0.0.1:PORT`) with [`TIMEOUT`] on reads and writes.
pub fn connect(addr: &str) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(TIMEOUT)).unwrap();
    stream
}

/// Sends `bytes` to `addr` and reads the answer. The request is written from another thread so
/// that an answer given before the body is all sent (a 413) is read, not lost to a reset.
pub fn exchange(addr: &str, bytes: Vec<u8>) -> Result<Reply, String> {
    let started = Instant::now();
    let stream = connect(addr);
    let mut writer = stream.try_clone().map_err(|e| e.to_string())?;
    let sender = std::thread::spawn(move || writer.write_all(&bytes));
    let reply = read_reply(stream, started);
    // A server may close before reading all of an oversized request; that is its right.
    let _ = sender.join();
    reply
}

/// Reads one answer from `stream` until it is complete or the server closes.
pub fn read_reply(mut stream: TcpStream, started: Instant) -> Result<Reply, String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(reply) = parse(&buf, false, started) {
            return Ok(reply);
        }
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(format!("no complete answer within {TIMEOUT:?}: {e}"))
            }
            // A reset after a complete head: keep what came.
            Err(e) if !buf.is_empty() => {
                return parse(&buf, true, started)
                    .ok_or_else(|| format!("reset mid-answer ({e}): {:?}", lossy(&buf)))
            }
            Err(e) => return Err(format!("no answer: {e}")),
        }
    }
    parse(&buf, true, started).ok_or_else(|| format!("closed mid-answer: {:?}", lossy(&buf)))
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(500)]).into_owned()
}

/// The answer in `buf` if it is complete (or, at `eof`, whatever body came).
fn parse(buf: &[u8], eof: bool, started: Instant) -> Option<Reply> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let status: u16 = head.split_whitespace().nth(1)?.parse().ok()?;
    let rest = &buf[end + 4..];
    let header = |name: &str| {
        head.lines().skip(1).find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_ascii_lowercase())
        })
    };
    let body = if let Some(len) = header("content-length").and_then(|v| v.parse().ok()) {
        if rest.len() < len {
            return None;
        }
        rest[..len].to_vec()
    } else if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        dechunk(rest)?
    } else if eof {
        rest.to_vec()
    } else {
        return None;
    };
    Some(Reply {
        status,
        head,
        body,
        took: started.elapsed(),
    })
}

/// A complete chunked body, decoded.
fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line = rest.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&rest[..line]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        rest = &rest[line + 2..];
        if size == 0 {
            return Some(body);
        }
        if rest.len() < size + 2 {
            return None;
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

/// Percent-encodes everything but unreserved characters.
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
