//! The alert rules (deploy/prometheus/alerts.yml) and the Grafana dashboard
//! (deploy/grafana/keel.json) query only series a running keel really exports: a rule on a
//! misspelt or removed metric never fires, and a panel on one stays empty, silently.

mod common;
#[path = "common/promql.rs"]
mod promql;

use std::collections::BTreeSet;
use std::path::Path;

use common::process::{keel, wait_for, Process};
use serde_json::Value;

/// Series Prometheus records itself for every target (not on keel's /metrics).
const PROMETHEUS_OWN: &[&str] = &["up"];

fn deploy(path: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `expr:` of every rule in alerts.yml (one line each: the file keeps them so).
fn alert_exprs() -> Vec<String> {
    let exprs: Vec<String> = deploy("prometheus/alerts.yml")
        .lines()
        .filter_map(|line| line.trim().strip_prefix("expr:"))
        .map(|expr| {
            let expr = expr.trim();
            assert!(
                !expr.is_empty() && !expr.starts_with(['|', '>']),
                "keep each expr on one line: {expr:?}"
            );
            expr.to_string()
        })
        .collect();
    assert!(
        exprs.len() >= 7,
        "alerts.yml has only {} rules",
        exprs.len()
    );
    exprs
}

/// Every `"expr"` in the dashboard, at any depth.
fn dashboard_exprs() -> Vec<String> {
    fn collect(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, v) in map {
                    match (key.as_str(), v) {
                        ("expr", Value::String(expr)) => out.push(expr.clone()),
                        _ => collect(v, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
            _ => {}
        }
    }
    let dashboard: Value = serde_json::from_str(&deploy("grafana/keel.json")).expect("JSON");
    let mut exprs = Vec::new();
    collect(&dashboard, &mut exprs);
    assert!(
        exprs.len() >= 10,
        "the dashboard has {} queries",
        exprs.len()
    );
    exprs
}

fn get(url: &str) -> Option<(u16, String)> {
    let response = reqwest::blocking::get(url).ok()?;
    Some((response.status().as_u16(), response.text().ok()?))
}

#[test]
fn alerts_and_dashboard_query_only_series_keel_exports() {
    let mut wanted: BTreeSet<String> = BTreeSet::new();
    for expr in alert_exprs().iter().chain(&dashboard_exprs()) {
        let names = promql::series_names(expr);
        assert!(!names.is_empty(), "no series found in {expr:?}");
        wanted.extend(names);
    }
    wanted.retain(|name| !PROMETHEUS_OWN.contains(&name.as_str()));

    let dir = tempfile::tempdir().unwrap();
    // A paced paper run waiting at its end: the embedded default exits at the end of the
    // data, and takes its control plane with it.
    let config = common::paced_paper_config(dir.path());
    let command = keel(&["run", "--config", config.to_str().unwrap()]);
    let mut process = Process::start_in(command, "keel run", dir.path());
    let url = format!("http://{}", process.control_addr(&dir.path().join("store")));
    wait_for("/readyz answering 200", || {
        get(&format!("{url}/readyz")).is_some_and(|(code, _)| code == 200)
    });

    // Three series appear only once there is something to measure: the lag once a candle
    // went through, the handler latencies once a message was timed (one in 16), the orders
    // by status once an order was placed.
    let scrape = || {
        let (code, text) = get(&format!("{url}/metrics")).expect("GET /metrics");
        assert_eq!(code, 200, "{text}");
        promql::scraped_names(&text)
    };
    wait_for(
        "/metrics showing the candle lag, a timed handler and an order",
        || {
            assert!(
                process.exited().is_none(),
                "keel run exited: {}",
                process.stderr()
            );
            let scraped = scrape();
            [
                "keel_candle_lag_seconds",
                "keel_actor_handler_seconds_bucket",
                "keel_orders",
            ]
            .iter()
            .all(|name| scraped.contains(*name))
        },
    );
    let scraped = scrape();
    let missing: Vec<&String> = wanted.difference(&scraped).collect();
    assert!(
        missing.is_empty(),
        "alerts.yml or keel.json query series keel's /metrics does not show: {missing:?}\n\
         (it shows {scraped:?})"
    );
    process.kill9();
}
