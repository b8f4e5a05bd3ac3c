//! The control plane as an operator uses it: a real `keel run` process, its endpoints over
//! loopback HTTP, and `keel status` / `keel ctl` against it.

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use common::process::{keel, run, wait_for, Process};
use common::webhook::Receiver;
use serde_json::Value;

const TOKEN: &str = "test-control-token";

/// A paced paper run of `strategy` over the shipped data (minutes of it), waiting at the end,
/// its store in `dir/store`, with the settings `extra` appended.
fn paper_config(dir: &Path, strategy: &str, extra: &str) -> PathBuf {
    let text = common::data_section("2018-01-01", None, false)
        + &format!(
            "[strategy]\nkind = \"{strategy}\"\n[run]\nfeed = \"paced\"\nspeedup = 360000\nstore = \"{}\"\nat_end = \"wait\"\n[log]\ndir = \"{}\"\n{extra}",
            dir.join("store").display(),
            dir.join("log").display()
        );
    let path = dir.join("paper.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A running keel and its control plane's base URL.
struct Keel {
    process: Process,
    url: String,
    config: PathBuf,
}

impl Keel {
    /// Starts `keel run` (with the token in its environment) and waits until its control
    /// plane has written its address and answers.
    fn start(dir: &Path, strategy: &str) -> Self {
        Self::start_with(dir, strategy, "", &[])
    }

    /// [`Keel::start`] with the settings `extra` and the environment variables `env`.
    fn start_with(dir: &Path, strategy: &str, extra: &str, env: &[(&str, &str)]) -> Self {
        let config = paper_config(dir, strategy, extra);
        let mut command = keel(&["run", "--config", config.to_str().unwrap()]);
        command
            .env("KEEL_CONTROL_TOKEN", TOKEN)
            .envs(env.iter().copied());
        let mut process = Process::start_in(command, "keel run", dir);
        let addr = process.control_addr(&dir.join("store"));
        let keel = Self {
            process,
            url: format!("http://{}", addr.trim()),
            config,
        };
        wait_for("/healthz answering 200", || keel.get("/healthz").0 == 200);
        keel
    }

    fn get(&self, path: &str) -> (u16, String) {
        let response = reqwest::blocking::get(format!("{}{path}", self.url))
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        (response.status().as_u16(), response.text().unwrap())
    }

    fn post(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut request = reqwest::blocking::Client::new().post(format!("{}{path}", self.url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        let code = response.status().as_u16();
        (
            code,
            serde_json::from_str(&response.text().unwrap()).unwrap(),
        )
    }

    fn status(&self) -> Value {
        let (code, body) = self.get("/status");
        assert_eq!(code, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    fn positions(&self) -> usize {
        self.status()["account"]["positions"]
            .as_array()
            .unwrap()
            .len()
    }

    fn refused_for_halt(&self) -> u64 {
        self.status()["risk"]["refusals"]["halted"]
            .as_u64()
            .unwrap_or(0)
    }

    /// Asks for a graceful stop and checks that the run exits 0 with its summary.
    fn stop(self) {
        self.process.signal("TERM");
        let output = self.process.finish();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{stderr}");
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("Final equity"),
            "no summary"
        );
        assert!(
            !stderr.contains(TOKEN),
            "the token must never be logged: {stderr}"
        );
    }
}

#[test]
fn every_read_endpoint_answers_and_metrics_parse_as_prometheus_text() {
    let dir = tempfile::tempdir().unwrap();
    let keel = Keel::start(dir.path(), "sma_cross");
    wait_for("/readyz answering 200", || keel.get("/readyz").0 == 200);

    let status = keel.status();
    let names: Vec<&str> = status["actors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    for actor in [
        "order_manager",
        "risk",
        "execution",
        "fusion",
        "sentiment",
        "symbol:BTCUSDT",
        "symbol:ETHUSDT",
    ] {
        assert!(names.contains(&actor), "{actor} missing from {names:?}");
    }
    assert_eq!(status["breakers"][0]["name"], "venue");
    // The tree as `keel run --print-tree` shows it: root > trading (rest_for_one) > symbols.
    assert_eq!(status["tree"]["name"], "root");
    let trading = status["tree"]["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "trading")
        .expect("the trading supervisor");
    assert_eq!(trading["strategy"], "rest_for_one");
    assert_eq!(trading["children"][0]["name"], "symbols");
    assert_eq!(
        trading["children"][0]["children"][0]["name"],
        "symbol:BTCUSDT"
    );
    assert_eq!(status["ready"], true);
    assert!(
        status["events"].as_array().unwrap().len() >= names.len(),
        "every actor's start is among the last events"
    );

    // Wait until the account shows trading (a fill), then scrape.
    wait_for("a fill on the board", || {
        keel.status()["account"]["fills"].as_u64().unwrap_or(0) > 0
    });
    let (code, text) = keel.get("/metrics");
    assert_eq!(code, 200);
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("Prometheus text");
    let families: std::collections::BTreeSet<&str> =
        scrape.samples.iter().map(|s| s.metric.as_str()).collect();
    for family in [
        "keel_actor_restarts_total",
        "keel_actor_failures_total",
        "keel_actor_hangs_total",
        "keel_actor_mailbox_depth",
        "keel_actor_up",
        "keel_breaker_state",
        "keel_candles_processed_total",
        "keel_candle_lag_seconds",
        "keel_orders",
        "keel_fills_total",
        "keel_equity",
        "keel_cash",
        "keel_exposure",
        "keel_drawdown_ratio",
        "keel_halted",
        "keel_kill_switch_tripped",
        "keel_uptime_seconds",
        "keel_journal_write_seconds",
        "keel_actor_handler_seconds",
        "keel_refusals_total",
    ] {
        assert!(families.contains(family), "{family} missing: {families:?}");
    }
    let risk_up = scrape
        .samples
        .iter()
        .find(|s| s.metric == "keel_actor_up" && s.labels.get("actor") == Some("risk"))
        .expect("risk's up gauge");
    assert_eq!(risk_up.value, prometheus_parse::Value::Gauge(1.0));
    let writes = scrape
        .samples
        .iter()
        .find(|s| s.metric == "keel_journal_write_seconds")
        .unwrap();
    match &writes.value {
        prometheus_parse::Value::Histogram(buckets) => {
            let total = buckets.last().expect("an +Inf bucket").count;
            assert!(total >= 1.0, "the journal was written: {buckets:?}");
        }
        other => panic!("journal writes: {other:?}"),
    }
    let risk_handlers = scrape
        .samples
        .iter()
        .find(|s| s.metric == "keel_actor_handler_seconds" && s.labels.get("actor") == Some("risk"))
        .expect("risk's handler latencies");
    assert!(
        matches!(&risk_handlers.value, prometheus_parse::Value::Histogram(b) if b.last().unwrap().count >= 1.0),
        "{:?}",
        risk_handlers.value
    );
    let fills = scrape
        .samples
        .iter()
        .find(|s| s.metric == "keel_fills_total")
        .unwrap();
    let fills = match fills.value {
        prometheus_parse::Value::Counter(n)
        | prometheus_parse::Value::Gauge(n)
        | prometheus_parse::Value::Untyped(n) => n,
        ref other => panic!("fills: {other:?}"),
    };
    assert!(fills >= 1.0, "{fills} fills");

    // `keel status` lists every actor by name; `--json` is the endpoint's document.
    let config = keel.config.to_str().unwrap();
    let table = run(keel_cmd(&["status", "--config", config]), "keel status");
    let table_text = String::from_utf8_lossy(&table.stdout);
    assert!(table.status.success(), "{table:?}");
    for actor in &names {
        assert!(table_text.contains(actor), "{actor} not in:\n{table_text}");
    }
    let json = run(
        keel_cmd(&["status", "--config", config, "--json"]),
        "keel status --json",
    );
    let parsed: Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(parsed["actors"].as_array().unwrap().len(), names.len());

    // The dashboard (tests/dashboard.rs drives it in a browser): its page, and /events
    // streaming the status with the equity curve; a stream left open does not hold the stop.
    let (code, page) = keel.get("/");
    assert_eq!(code, 200);
    assert!(page.contains("/dashboard.js"), "{page}");
    let mut events = reqwest::blocking::get(format!("{}/events", keel.url)).expect("GET /events");
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    let snapshot = first_event(&mut events);
    assert_eq!(snapshot["phase"], "running");
    assert_eq!(
        snapshot["status"]["actors"].as_array().unwrap().len(),
        names.len()
    );
    assert!(
        !snapshot["curve"].as_array().unwrap().is_empty(),
        "{snapshot}"
    );
    keel.stop();
    drop(events);
    assert!(
        !dir.path().join("store/control.addr").exists(),
        "a clean exit removes the address file"
    );
}

/// The JSON of the first server-sent event `events` sends.
fn first_event(events: &mut reqwest::blocking::Response) -> Value {
    use std::io::BufRead as _;
    let mut data = String::new();
    for line in std::io::BufReader::new(events).lines() {
        let line = line.expect("reading /events");
        if line.is_empty() && !data.is_empty() {
            break;
        }
        data += line.strip_prefix("data: ").unwrap_or_default();
    }
    serde_json::from_str(&data).unwrap_or_else(|e| panic!("{e}: {data}"))
}

/// `keel` without the control token in its environment, whatever the caller's.
fn keel_cmd(args: &[&str]) -> std::process::Command {
    let mut command = keel(args);
    command.env_remove("KEEL_CONTROL_TOKEN");
    command
}

#[test]
fn commands_need_the_token_and_halt_resume_flatten_steer_the_orders() {
    let dir = tempfile::tempdir().unwrap();
    let keel = Keel::start(dir.path(), "sma_cross");

    let (code, body) = keel.post("/halt", None);
    assert_eq!(code, 401, "{body}");
    let (code, _) = keel.post("/halt", Some("wrong-token"));
    assert_eq!(code, 401);
    assert_eq!(keel.status()["risk"]["halted"], false, "refused: no effect");
    let ctl = run(
        keel_cmd(&["ctl", "--config", keel.config.to_str().unwrap(), "halt"]),
        "keel ctl without a token",
    );
    assert!(!ctl.status.success());
    assert!(String::from_utf8_lossy(&ctl.stderr).contains("KEEL_CONTROL_TOKEN"));

    // Trade until a position is held, then flatten: every position closes at a bar close,
    // and no new one opens while halted.
    wait_for("a position", || keel.positions() > 0);
    let (code, body) = keel.post("/flatten", Some(TOKEN));
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["risk"]["halted"], true);
    wait_for("every position closed", || keel.positions() == 0);
    let (code, body) = keel.get("/readyz");
    assert_eq!(code, 503);
    assert!(body.contains("halted by an operator"), "{body}");
    let before = keel.refused_for_halt();
    wait_for("entries refused for the halt", || {
        keel.refused_for_halt() >= before + 2
    });
    assert_eq!(keel.positions(), 0, "no entry while halted");

    // `keel ctl resume` (the token from the environment) lifts it: trading resumes.
    let mut resume = keel_cmd(&["ctl", "--config", keel.config.to_str().unwrap(), "resume"]);
    resume.env("KEEL_CONTROL_TOKEN", TOKEN);
    let resumed = run(resume, "keel ctl resume");
    assert!(resumed.status.success(), "{resumed:?}");
    wait_for("/readyz answering 200 again", || {
        keel.get("/readyz").0 == 200
    });
    wait_for("a position after the resume", || keel.positions() > 0);
    keel.stop();
}

#[test]
fn an_actor_killed_through_the_api_is_replaced_and_trading_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let keel = Keel::start(dir.path(), "sma_cross");
    let (code, body) = keel.post("/actors/nobody/kill", Some(TOKEN));
    assert_eq!(code, 404);
    assert!(body["actors"]
        .as_array()
        .unwrap()
        .contains(&Value::from("order_manager")));

    let (code, body) = keel.post("/actors/order_manager/kill", Some(TOKEN));
    assert_eq!(code, 202, "{body}");
    let actor = |status: &Value| {
        status["actors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "order_manager")
            .cloned()
            .unwrap()
    };
    wait_for("the order manager replaced and running", || {
        let om = actor(&keel.status());
        om["restarts"].as_u64() == Some(1) && om["state"] == "running"
    });
    assert_eq!(actor(&keel.status())["last_error"], "killed");
    let candles = keel.status()["feed"]["candles"].as_u64().unwrap();
    wait_for("candles flowing after the kill", || {
        keel.status()["feed"]["candles"].as_u64().unwrap() > candles + 10
    });
    wait_for("a fill after the kill", || {
        keel.status()["account"]["fills"].as_u64().unwrap_or(0) > 0
    });
    keel.stop();
}

#[test]
fn two_runs_on_port_zero_side_by_side_each_answer_on_their_own_port() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = Keel::start(a.path(), "buy_and_hold");
    let second = Keel::start(b.path(), "buy_and_hold");
    assert_ne!(first.url, second.url);
    assert_eq!(first.get("/healthz").0, 200);
    assert_eq!(second.get("/healthz").0, 200);
    first.stop();
    second.stop();
}

#[test]
fn a_port_in_use_and_an_open_address_without_a_token_are_refused_at_startup() {
    let dir = tempfile::tempdir().unwrap();
    let config = paper_config(dir.path(), "buy_and_hold", "");
    let config = config.to_str().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let busy = keel_listening(config, &addr);
    let output = run(busy, "keel run on a port in use");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("control.listen"), "{stderr}");

    let open = keel_listening(config, "0.0.0.0:0");
    let output = run(open, "keel run on all interfaces without a token");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("control.listen") && stderr.contains("KEEL_CONTROL_TOKEN"),
        "{stderr}"
    );
}

/// `keel run --config config` listening on `listen`, without a token.
fn keel_listening(config: &str, listen: &str) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_keel"));
    command
        .args(["run", "--config", config, "--control-listen", listen])
        .env_remove("KEEL_CONTROL_TOKEN");
    command
}

#[test]
fn alerts_reach_a_live_webhook_beside_a_dead_one_and_trading_goes_on() {
    let receiver = Receiver::start();
    // Accepts connections and never answers: every delivery to it times out.
    let dead = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}/hook", dead.local_addr().unwrap());
    let alerts = format!(
        "[alerts]\ntimeout_ms = 1000\nretries = 1\n\
         [[alerts.webhooks]]\nurl = \"{dead_url}\"\n\
         [[alerts.webhooks]]\nurl_env = \"KEEL_TEST_SLACK_URL\"\nformat = \"slack\"\n"
    );
    let dir = tempfile::tempdir().unwrap();
    // The receiver's URL comes from the environment, as a Slack URL with its secret would.
    let env = [("KEEL_TEST_SLACK_URL", receiver.url.as_str())];
    let keel = Keel::start_with(dir.path(), "sma_cross", &alerts, &env);
    let (code, _) = keel.post("/halt", Some(TOKEN));
    assert_eq!(code, 200);
    wait_for("the halt alert at the live webhook", || {
        receiver
            .texts()
            .iter()
            .any(|t| t.starts_with("[keel] WARNING halted:"))
    });
    // Every webhook is sent to at once: the live one had it while the dead one still timed
    // out. Candles flow meanwhile.
    let candles = keel.status()["feed"]["candles"].as_u64().unwrap();
    wait_for("candles flowing while a webhook is dead", || {
        keel.status()["feed"]["candles"].as_u64().unwrap() > candles + 50
    });
    let (code, _) = keel.post("/resume", Some(TOKEN));
    assert_eq!(code, 200);
    wait_for("the resume alert", || {
        receiver
            .texts()
            .iter()
            .any(|t| t.starts_with("[keel] RESOLVED resumed:"))
    });
    let log = keel.process.stderr();
    assert!(
        log.contains("alert could not be delivered") && log.contains("webhooks[0] (json)"),
        "the dead webhook's failure is logged by name"
    );
    assert!(
        !log.contains(&receiver.url),
        "a URL from the environment is never logged"
    );
    keel.stop();
    drop(dead);
}

#[test]
fn trading_stopped_at_the_very_end_of_a_run_is_still_told() {
    use keel::alerts::{AlertOptions, Alerts};
    use keel::settings::{AlertSettings, Webhook, WebhookFormat};

    let receiver = Receiver::start();
    let options = AlertOptions {
        settings: AlertSettings::default(),
        webhooks: vec![Webhook {
            name: "webhooks[0] (json)".into(),
            url: receiver.url.clone(),
            format: WebhookFormat::Json,
            chat_id: None,
        }],
    };
    let health = keel_supervision::HealthRegistry::default();
    let board = keel_actors::board::Board::new();
    let alerts = Alerts::start(&options, health, board.clone()).expect("a webhook: alerts run");
    // The root gives up and the run ends at once, before the watcher's next look.
    board.set_trading_stopped("order_manager failed 11 times in 60 s");
    alerts.finish();
    let bodies = receiver.bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert_eq!(bodies[0]["kind"], "trading_stopped");
    assert_eq!(bodies[0]["severity"], "critical");
    assert!(bodies[0]["summary"]
        .as_str()
        .unwrap()
        .contains("order_manager failed 11 times"));
}
