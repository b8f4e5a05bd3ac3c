//! The client side of the control plane: `keel status` and `keel ctl`.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use serde_json::Value;

use super::plane::{Token, ADDR_FILE};
use super::status::Status;

/// The control plane's base URL: `url` if given, else the address a running keel wrote in
/// `store`.
pub fn base_url(url: Option<&str>, store: &Path) -> anyhow::Result<String> {
    if let Some(url) = url {
        return Ok(url.trim_end_matches('/').to_string());
    }
    let file = store.join(ADDR_FILE);
    let addr = std::fs::read_to_string(&file).with_context(|| {
        format!(
            "no running keel found: cannot read {} (is `keel run` running with this --config and control.enabled? Or pass --url)",
            file.display()
        )
    })?;
    Ok(format!("http://{}", addr.trim()))
}

fn client() -> anyhow::Result<reqwest::blocking::Client> {
    Ok(reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?)
}

/// Sends `request` (to `path` of `base`) and returns the body of a 2xx answer; any other
/// answer is an error with the control plane's reason.
fn answer(
    request: reqwest::blocking::RequestBuilder,
    base: &str,
    path: &str,
) -> anyhow::Result<String> {
    let response = request
        .send()
        .with_context(|| format!("no answer from keel's control plane at {base}"))?;
    let code = response.status();
    let text = response.text()?;
    if !code.is_success() {
        anyhow::bail!("{path} answered {code}: {}", error_text(&text));
    }
    Ok(text)
}

/// `GET /status`.
pub fn fetch_status(base: &str) -> anyhow::Result<Status> {
    let text = answer(client()?.get(format!("{base}/status")), base, "/status")?;
    serde_json::from_str(&text)
        .with_context(|| format!("{base}/status answered something else than a status"))
}

/// `POST path` with the bearer `token`; the answer's JSON.
pub fn command(base: &str, path: &str, token: Option<&Token>) -> anyhow::Result<Value> {
    let mut request = client()?.post(format!("{base}{path}"));
    if let Some(token) = token {
        request = request.bearer_auth(token.expose());
    }
    let text = answer(request, base, path)?;
    Ok(serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn error_text(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| body.trim().to_string())
}

/// `status` as tables for a terminal: the state, every actor, the breakers, the positions,
/// the open orders and the last events.
pub fn render(status: &Status) -> String {
    let mut out = String::new();
    let readiness = if status.ready {
        "ready".to_string()
    } else {
        format!("NOT READY: {}", status.not_ready.join("; "))
    };
    let _ = writeln!(out, "keel: {readiness} (up {} s)", status.uptime_s);
    let a = &status.account;
    let _ = writeln!(
        out,
        "equity {}  cash {}  exposure {}  drawdown {}%  fills {}",
        a.equity.round_dp(2),
        a.cash.round_dp(2),
        a.exposure.round_dp(2),
        status.drawdown_pct.round_dp(2),
        a.fills
    );
    let r = &status.risk;
    let _ = writeln!(
        out,
        "halted {}  kill switch {}  reduce-only {}  candles {}{}",
        yes(r.halted),
        r.kill_switch
            .as_ref()
            .map_or("off".to_string(), |k| format!(
                "TRIPPED at {}",
                k.tripped_at
            )),
        yes(r.reduce_only),
        status.feed.candles,
        status
            .feed
            .last_close
            .map_or(String::new(), |t| format!(" (last close {t})")),
    );
    if let Some(why) = &status.trading_stopped {
        let _ = writeln!(out, "TRADING STOPPED: {why}");
    }
    if let Some(l) = &status.llm {
        let _ = writeln!(
            out,
            "llm strategy: {} decision points: {} buy, {} sell, {} hold; {} refused replies, {} unavailable, {} missing, {} by fusion",
            l.decision_points, l.buys, l.sells, l.holds, l.failures, l.unavailable, l.missing, l.fallbacks
        );
    }
    let _ = writeln!(
        out,
        "\n{:<20} {:<11} {:>8} {:>8} {:>8} {:>7}  last error",
        "actor", "state", "uptime_s", "restarts", "failures", "mailbox"
    );
    for actor in &status.actors {
        let _ = writeln!(
            out,
            "{:<20} {:<11} {:>8} {:>8} {:>8} {:>7}  {}",
            actor.name,
            actor.state,
            actor.uptime_s,
            actor.restarts,
            actor.failures,
            actor.mailbox.map_or("n/a".to_string(), |m| m.to_string()),
            actor.last_error.as_deref().unwrap_or("-"),
        );
    }
    for breaker in &status.breakers {
        let _ = writeln!(
            out,
            "breaker {:<12} {}{}",
            breaker.name,
            breaker.state,
            breaker
                .last_transition
                .as_ref()
                .map_or(String::new(), |t| format!(" ({t})"))
        );
    }
    let _ = writeln!(
        out,
        "\n{:<10} {:>14} {:>14} {:>14}",
        "position", "qty", "entry", "last"
    );
    for p in &a.positions {
        let _ = writeln!(
            out,
            "{:<10} {:>14} {:>14} {:>14}",
            p.symbol.to_string(),
            p.qty,
            p.avg_entry.round_dp(4),
            p.last_price
        );
    }
    let _ = writeln!(out, "\nopen orders: {}", a.open_orders.len());
    for o in &a.open_orders {
        let _ = writeln!(
            out,
            "  {} {} {:?} {:?} qty {} filled {}",
            o.request.client_order_id,
            o.request.symbol,
            o.request.side,
            o.status,
            o.request.qty,
            o.filled_qty
        );
    }
    let _ = writeln!(out, "\nlast supervision events:");
    for e in status.events.iter().rev().take(10) {
        let _ = writeln!(out, "  {} {} {}", e.actor, e.event, e.reason);
    }
    out
}

fn yes(on: bool) -> &'static str {
    if on {
        "YES"
    } else {
        "no"
    }
}
