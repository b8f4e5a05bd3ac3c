//! The dashboard as an operator sees it: a real `keel run`, its control plane's page opened
//! in headless Chromium (Debian's package), the actor tree and a position appearing and the
//! page following the run live; a screenshot is saved for a person to look at.

#[path = "common/browser.rs"]
mod browser;
mod common;

use std::path::Path;

use browser::Browser;
use common::process::{keel, wait_for, Process};
use common::tools::tool;
use serde_json::Value;

const TOKEN: &str = "dashboard-test-token";

/// A number the page shows (`0` until it shows one).
fn number(browser: &mut Browser, expression: &str) -> u64 {
    match browser.evaluate(expression) {
        Value::Number(n) => n.as_u64().unwrap_or(0),
        Value::String(s) => s.parse().unwrap_or(0),
        _ => 0,
    }
}

/// How many actors the page's tree shows in state `state`.
fn actors_in(browser: &mut Browser, state: &str) -> u64 {
    number(
        browser,
        &format!("document.querySelectorAll('#tree li.actor.state-{state}').length"),
    )
}

/// The symbols of the page's positions table.
fn positions(browser: &mut Browser) -> Vec<String> {
    let shown = browser.evaluate(
        "[...document.querySelectorAll('#positions tbody tr td:first-child:not(.empty)')].map(td => td.textContent)",
    );
    serde_json::from_value(shown).unwrap_or_default()
}

#[test]
fn the_dashboard_shows_the_tree_and_a_position_and_follows_the_run() {
    let Some(chromium) = tool("chromium") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = common::paced_paper_config(dir.path());
    let mut command = keel(&["run", "--config", config.to_str().unwrap()]);
    command.env("KEEL_CONTROL_TOKEN", TOKEN);
    let mut keel = Process::start_in(command, "keel run", dir.path());
    let url = format!("http://{}", keel.control_addr(&dir.path().join("store")));

    let mut browser = Browser::launch(&chromium, dir.path());
    browser.navigate(&format!("{url}/"));
    wait_for("the page showing every actor of the tree running", || {
        actors_in(&mut browser, "running") >= 7
    });
    wait_for("the page showing a position", || {
        assert!(keel.exited().is_none(), "keel exited: {}", keel.stderr());
        !positions(&mut browser).is_empty()
    });
    let held = positions(&mut browser);
    assert!(held.iter().all(|s| s.ends_with("USDT")), "{held:?}");

    // Live: the candle count and the equity curve grow without a reload.
    let candles = "Number(document.getElementById('candles').textContent)";
    let points = "Number(document.getElementById('curve-points').dataset.points || 0)";
    let (seen_candles, seen_points) = (number(&mut browser, candles), number(&mut browser, points));
    wait_for("the page's candle count and equity curve growing", || {
        number(&mut browser, candles) > seen_candles && number(&mut browser, points) > seen_points
    });

    // An actor killed through the API shows its restart in the tree and the events.
    let killed = reqwest::blocking::Client::new()
        .post(format!("{url}/actors/sentiment/kill"))
        .bearer_auth(TOKEN)
        .send()
        .expect("POST /actors/sentiment/kill");
    assert_eq!(killed.status().as_u16(), 202);
    wait_for("the tree showing sentiment restarted once", || {
        browser.evaluate(
            "document.querySelector('#tree li[data-actor=\"sentiment\"] .restarts').textContent",
        ) == "restarts 1"
    });
    wait_for("the events showing the kill", || {
        browser
            .evaluate("document.getElementById('events').textContent")
            .as_str()
            .is_some_and(|text| text.contains("sentiment") && text.contains("restarted"))
    });
    let page = browser.evaluate("document.documentElement.outerHTML");
    assert!(
        !page.to_string().contains(TOKEN),
        "the token is never shown"
    );
    let lines =
        "document.querySelectorAll('#equity-chart polyline, #drawdown-chart polyline').length";
    assert_eq!(number(&mut browser, lines), 2, "both curves are drawn");

    // The screenshot shows a position: one taken while the page held still with one.
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .join("dashboard.png");
    let updates = "Number(document.body.dataset.updates)";
    wait_for("a screenshot of the page showing a position", || {
        let before = number(&mut browser, updates);
        if positions(&mut browser).is_empty() {
            return false;
        }
        let png = browser.screenshot();
        if number(&mut browser, updates) != before {
            return false; // the page changed while it was taken
        }
        std::fs::write(&shot, png).expect("writing the screenshot");
        true
    });
    println!("dashboard screenshot: {}", shot.display());
    drop(browser);
    keel.kill9();
}
