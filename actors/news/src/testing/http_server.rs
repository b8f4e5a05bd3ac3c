//! A scripted HTTP/1.1 server on 127.0.0.1:0, in its own thread with its own runtime, so any
//! test (sync, tokio, actix) can use it. Every request is recorded; each connection serves
//! one request and closes.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// A request the server received.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path with the query.
    pub path: String,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl FakeRequest {
    /// A header's value (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON, if it is.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// What the server answers.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeResponse {
    /// The status code.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// How long to wait before answering.
    pub delay: Duration,
    /// Close the connection after this many body bytes (while announcing the full length).
    pub cut_after: Option<usize>,
}

impl FakeResponse {
    /// A JSON answer.
    pub fn json(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
            delay: Duration::ZERO,
            cut_after: None,
        }
    }

    /// An answer with `content_type`.
    pub fn with_type(status: u16, content_type: &str, body: &str) -> Self {
        Self {
            headers: vec![("content-type".into(), content_type.into())],
            ..Self::json(status, body)
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Answers after `delay`.
    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Closes the connection after `bytes` bytes of the body.
    pub fn cut_after(mut self, bytes: usize) -> Self {
        self.cut_after = Some(bytes);
        self
    }
}

type Handler = dyn Fn(&FakeRequest, usize) -> FakeResponse + Send + Sync;

/// The running server; stops when dropped.
pub struct FakeServer {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<FakeRequest>>>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeServer {
    /// Starts a server answering each request with `handler(request, n)` (n counts from 0).
    pub fn start(
        handler: impl Fn(&FakeRequest, usize) -> FakeResponse + Send + Sync + 'static,
    ) -> Self {
        let handler: Arc<Handler> = Arc::new(handler);
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let recorded = requests.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the fake server");
            runtime.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind loopback");
                let _ = addr_tx.send(listener.local_addr().expect("local address"));
                let serve = async {
                    loop {
                        let Ok((stream, _)) = listener.accept().await else {
                            continue;
                        };
                        let (handler, recorded) = (handler.clone(), recorded.clone());
                        tokio::spawn(async move {
                            let _ = serve_one(stream, &*handler, &recorded).await;
                        });
                    }
                };
                tokio::select! {
                    _ = serve => {}
                    _ = stopped => {}
                }
            });
        });
        let addr = addr_rx.recv().expect("the fake server reports its address");
        Self {
            addr,
            requests,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Answers the scripted responses in order, repeating the last one.
    pub fn scripted(responses: Vec<FakeResponse>) -> Self {
        assert!(!responses.is_empty(), "script at least one response");
        Self::start(move |_, n| responses[n.min(responses.len() - 1)].clone())
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<FakeRequest> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// How many requests were received.
    pub fn hits(&self) -> usize {
        self.requests.lock().map(|r| r.len()).unwrap_or_default()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve_one(
    mut stream: TcpStream,
    handler: &Handler,
    recorded: &Mutex<Vec<FakeRequest>>,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut start = lines.next().unwrap_or_default().split(' ');
    let method = start.next().unwrap_or_default().to_string();
    let path = start.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let request = FakeRequest {
        method,
        path,
        headers,
        body,
    };
    let n = {
        let mut all = recorded.lock().map_err(|_| std::io::ErrorKind::Other)?;
        all.push(request.clone());
        all.len() - 1
    };
    let response = handler(&request, n);
    if !response.delay.is_zero() {
        tokio::time::sleep(response.delay).await;
    }
    let mut out = format!(
        "HTTP/1.1 {} {}\r\ncontent-length: {}\r\nconnection: close\r\n",
        response.status,
        reason(response.status),
        response.body.len()
    );
    for (name, value) in &response.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    stream.write_all(out.as_bytes()).await?;
    let body = match response.cut_after {
        Some(bytes) => &response.body[..bytes.min(response.body.len())],
        None => &response.body[..],
    };
    stream.write_all(body).await?;
    stream.flush().await?;
    stream.shutdown().await
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        529 => "Overloaded",
        _ => "Status",
    }
}
