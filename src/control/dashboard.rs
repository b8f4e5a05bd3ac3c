//! The live dashboard: `GET /` serves one page (HTML, script and style compiled into the
//! binary, nothing fetched from elsewhere) and `GET /events` pushes a [`Snapshot`] every
//! [`EVERY`] as server-sent events. Read-only, like `/status`: no token, and the token is
//! never in what it serves.

use std::time::{Duration, Instant};

use actix_web::http::header;
use actix_web::web::{self, Bytes};
use actix_web::HttpResponse;
use futures_util::stream;
use keel_actors::board::CurvePoint;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;

use super::plane::{Attached, Phase, Shared};
use super::status::Status;

/// How often `/events` sends a snapshot.
pub const EVERY: Duration = Duration::from_secs(1);

const INDEX_HTML: &str = include_str!("dashboard/index.html");
const SCRIPT: &str = include_str!("dashboard/dashboard.js");
const STYLE: &str = include_str!("dashboard/dashboard.css");

/// The page may load only what keel itself serves.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'";

/// The dashboard's endpoints.
pub(super) fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/", web::get().to(index))
        .route("/dashboard.js", web::get().to(script))
        .route("/dashboard.css", web::get().to(style))
        .route("/events", web::get().to(events));
}

fn asset(content_type: &str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(body)
}

async fn index() -> HttpResponse {
    asset("text/html; charset=utf-8", INDEX_HTML)
}

async fn script() -> HttpResponse {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

async fn style() -> HttpResponse {
    asset("text/css; charset=utf-8", STYLE)
}

/// What one server-sent event carries: where the run is and, while it trades, the status
/// with the equity and drawdown curves.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Snapshot {
    /// `starting`, `running` or `over`.
    pub phase: &'static str,
    /// The status (`/status`), while the run trades.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// The equity curve with its drawdown, oldest first (empty unless running).
    pub curve: Vec<ChartPoint>,
}

/// One point of the charts (numbers for drawing, not for accounting).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ChartPoint {
    /// Event time, Unix milliseconds.
    pub ts: i64,
    /// Equity.
    pub equity: f64,
    /// Drawdown from the peak, in percent.
    pub drawdown_pct: f64,
}

impl Snapshot {
    /// The snapshot of `phase` (uptime counted from `started`).
    pub(super) fn of(phase: &Phase, started: Instant) -> Self {
        match phase {
            Phase::Starting => Self::without_run("starting"),
            Phase::Over => Self::without_run("over"),
            Phase::Running(run) => Self::running(run, started),
        }
    }

    fn without_run(phase: &'static str) -> Self {
        Self {
            phase,
            status: None,
            curve: Vec::new(),
        }
    }

    fn running(run: &Attached, started: Instant) -> Self {
        Self {
            phase: "running",
            status: Some(Status::collect(run, started)),
            curve: chart(&run.board.equity_curve()),
        }
    }

    /// The snapshot as one server-sent event (`data: <json>` and a blank line).
    pub fn event(&self) -> Bytes {
        let json = serde_json::to_string(self).unwrap_or_else(|_| "{}".to_string());
        Bytes::from(format!("data: {json}\n\n"))
    }
}

/// The charts' points of `curve`.
pub fn chart(curve: &[CurvePoint]) -> Vec<ChartPoint> {
    curve
        .iter()
        .map(|p| ChartPoint {
            ts: p.ts.0,
            equity: p.equity.to_f64().unwrap_or(0.0),
            drawdown_pct: p.drawdown_pct().to_f64().unwrap_or(0.0),
        })
        .collect()
}

/// `GET /events`: a snapshot now and every [`EVERY`]; once the run is over, that last
/// snapshot and the end of the stream (the browser's `EventSource` reconnects by itself).
async fn events(shared: web::Data<Shared>) -> HttpResponse {
    let stream = stream::unfold(Some((shared, false)), |state| async move {
        let (shared, waited) = state?;
        if waited {
            tokio::time::sleep(EVERY).await;
        }
        let phase = shared.phase();
        let event = Snapshot::of(&phase, shared.started).event();
        let next = match phase {
            Phase::Over => None,
            Phase::Starting | Phase::Running(_) => Some((shared, true)),
        };
        Some((Ok::<_, actix_web::Error>(event), next))
    });
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .streaming(stream)
}

#[cfg(test)]
mod tests {
    use keel_model::Timestamp;
    use rust_decimal::Decimal;

    use super::*;

    #[test]
    fn the_chart_carries_equity_and_drawdown_from_the_peak() {
        let point = |ts, equity: i64, peak: i64| CurvePoint {
            ts: Timestamp(ts),
            equity: Decimal::from(equity),
            peak: Decimal::from(peak),
        };
        let chart = chart(&[point(1, 100, 100), point(2, 80, 100)]);
        assert_eq!(
            chart,
            vec![
                ChartPoint {
                    ts: 1,
                    equity: 100.0,
                    drawdown_pct: 0.0
                },
                ChartPoint {
                    ts: 2,
                    equity: 80.0,
                    drawdown_pct: 20.0
                },
            ]
        );
    }

    #[test]
    fn a_snapshot_is_one_server_sent_event() {
        let event = Snapshot::of(&Phase::Starting, Instant::now()).event();
        let text = std::str::from_utf8(&event).unwrap();
        assert_eq!(text, "data: {\"phase\":\"starting\",\"curve\":[]}\n\n");
    }

    #[test]
    fn the_page_loads_nothing_from_elsewhere() {
        for (name, text) in [
            ("index.html", INDEX_HTML),
            ("dashboard.js", SCRIPT),
            ("dashboard.css", STYLE),
        ] {
            // The SVG namespace is a name, not something fetched.
            let text = text.replace("http://www.w3.org/2000/svg", "");
            for outside in ["http:", "https:", "\"//", "'//", "@import"] {
                assert!(!text.contains(outside), "{name} refers to {outside}");
            }
        }
        assert!(INDEX_HTML.contains("src=\"/dashboard.js\""));
        assert!(INDEX_HTML.contains("href=\"/dashboard.css\""));
    }
}
