//! The audit trail: what the stages record is what happened (every closed trade with its
//! P&L, every refusal by rule, every decision with its inputs), both executors record the
//! same trail, and `keel audit` prints it filtered, refusing a malformed file clearly.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use common::process::{keel, run};
use keel::backtest::{backtest_pipeline, load_inputs, BacktestResult, RunInputs};
use keel::runtime::{run_actors, RunOptions};
use keel::settings::Settings;
use keel_model::{DomainEvent, OrderStatus, Symbol, Timestamp};
use keel_news::Headline;
use tracing_subscriber::layer::SubscriberExt;

/// An in-memory audit file.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Buffer {
    type Writer = Buffer;

    fn make_writer(&'a self) -> Buffer {
        self.clone()
    }
}

impl Buffer {
    fn lines(&self) -> Vec<String> {
        let bytes = self.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// Runs `f` with keel's audit layer writing into a buffer; returns what `f` returned and the
/// lines written.
fn audited<R>(f: impl FnOnce() -> R) -> (R, Vec<String>) {
    let buffer = Buffer::default();
    let subscriber =
        tracing_subscriber::registry().with(keel::logging::audit_layer(buffer.clone()));
    let result = tracing::subscriber::with_default(subscriber, f);
    (result, buffer.lines())
}

fn events(lines: &[String]) -> Vec<DomainEvent> {
    lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn settings() -> Settings {
    common::default_settings()
}

/// The shipped data plus a critical hack headline about ETH every ten days, so that longs
/// are vetoed (`event_veto`) and held positions are closed in emergencies.
fn inputs(settings: &Settings) -> RunInputs {
    let mut inputs = load_inputs(settings).unwrap();
    let eth = Symbol::parse("ETHUSDT").unwrap();
    let first = inputs.candles.first().unwrap().open_time.millis();
    let last = inputs.candles.last().unwrap().open_time.millis();
    let mut at = first + 200 * 3_600_000;
    while at < last {
        inputs.headlines.push(Headline {
            published: Timestamp(at),
            title: "Exchange hacked: $40 million in ETH stolen".into(),
            source: "test".into(),
            symbols: vec![eth.clone()],
        });
        at += 10 * 86_400_000;
    }
    inputs.headlines.sort_by_key(|h| h.published);
    inputs
}

fn backtest(settings: &Settings) -> (BacktestResult, Vec<String>) {
    let inputs = inputs(settings);
    audited(|| backtest_pipeline(settings, inputs, &mut |_| {}).0)
}

#[test]
fn every_trade_refusal_and_decision_of_a_backtest_is_in_its_audit_trail() {
    let settings = settings();
    let (result, lines) = backtest(&settings);
    let trail = events(&lines);
    assert!(result.trades.len() > 5, "too few trades to prove anything");

    // Every closed trade, in order, with its P&L, reason and times.
    let closed: Vec<_> = trail
        .iter()
        .filter_map(|e| match e {
            DomainEvent::TradeClosed {
                ts,
                symbol,
                entry_time,
                pnl,
                reason,
                ..
            } => Some((symbol.clone(), *entry_time, *ts, *pnl, *reason)),
            _ => None,
        })
        .collect();
    let expected: Vec<_> = result
        .trades
        .iter()
        .map(|t| {
            (
                t.symbol.clone(),
                t.entry_time,
                t.exit_time,
                t.pnl,
                t.exit_reason,
            )
        })
        .collect();
    assert_eq!(closed, expected);

    // Every refusal, counted by rule, as in the report (vetoes included).
    let mut refused: BTreeMap<String, u64> = BTreeMap::new();
    for event in &trail {
        if let DomainEvent::Refused { rule, .. } = event {
            *refused.entry(rule.clone()).or_default() += 1;
        }
    }
    let reported: BTreeMap<String, u64> = result.refusals.iter().cloned().collect();
    assert_eq!(refused, reported);
    assert!(
        reported.get("event_veto").is_some_and(|&n| n > 0),
        "{reported:?}"
    );

    // Every refusal and approval follows the decision it is about, which carries its inputs.
    let mut last_decision = None;
    for event in &trail {
        match event {
            DomainEvent::Decision(d) => {
                assert_eq!(d.strategy, "fusion");
                let setup = d.setup.as_ref().expect("fusion decisions have a setup");
                assert!(!setup.reasons.is_empty(), "{d:?}");
                assert!((0.0..=1.0).contains(&setup.score));
                let vetoed = d.confidence.is_none();
                assert_eq!(d.sentiment.is_none(), vetoed, "{d:?}");
                last_decision = Some((d.ts, d.symbol.clone(), d.direction));
            }
            DomainEvent::Refused {
                ts,
                symbol,
                direction,
                ..
            } => assert_eq!(last_decision, Some((*ts, symbol.clone(), *direction))),
            DomainEvent::Approved { ts, symbol, .. } => {
                let (t, s, _) = last_decision.clone().expect("a decision first");
                assert_eq!((t, s), (*ts, symbol.clone()));
            }
            _ => {}
        }
    }
    let decisions = trail
        .iter()
        .filter(|e| matches!(e, DomainEvent::Decision(_)))
        .count();
    let approved = trail
        .iter()
        .filter(|e| matches!(e, DomainEvent::Approved { .. }))
        .count() as u64;
    assert_eq!(decisions as u64, approved + reported.values().sum::<u64>());

    // Every order submitted is in the trail, and every fill.
    let submitted = trail
        .iter()
        .filter(|e| matches!(e, DomainEvent::Order(o) if o.status == OrderStatus::Submitted))
        .count();
    assert!(submitted as u64 >= result.orders_submitted);
    let fills = trail
        .iter()
        .filter(|e| matches!(e, DomainEvent::Fill { .. }))
        .count();
    assert!(fills >= 2 * result.trades.len());
}

#[test]
fn the_actor_runtime_writes_the_backtests_audit_trail() {
    let settings = settings();
    let (backtest, backtest_lines) = backtest(&settings);
    let inputs = inputs(&settings);
    let (report, actor_lines) =
        audited(|| run_actors(&settings, inputs, RunOptions::default()).unwrap());
    assert!(report.outcome.completed);
    assert_eq!(report.result.trades, backtest.trades);
    assert!(backtest_lines.len() > 1000, "{}", backtest_lines.len());
    assert_eq!(actor_lines.len(), backtest_lines.len());
    for (i, (a, b)) in actor_lines.iter().zip(&backtest_lines).enumerate() {
        assert_eq!(a, b, "line {} differs", i + 1);
    }
}

/// The table's rows (without the header), split into columns.
fn table_rows(stdout: &str) -> Vec<Vec<String>> {
    let mut lines = stdout.lines();
    let header = lines.next().expect("a header");
    assert!(header.starts_with("TIME (UTC)"), "{header}");
    lines
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

#[test]
fn keel_audit_prints_the_trail_of_a_backtest_filtered() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("keel.toml");
    std::fs::write(&config, common::data_section("2018-01-01", None, true)).unwrap();
    let file = dir.path().join("trail.jsonl");
    let out = run(
        keel(&[
            "backtest",
            "--config",
            config.to_str().unwrap(),
            "--out",
            dir.path().join("out").to_str().unwrap(),
            "--audit",
            file.to_str().unwrap(),
        ]),
        "keel backtest --audit",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let trail = events(
        &std::fs::read_to_string(&file)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect::<Vec<_>>(),
    );
    // The file is complete when the process has exited (the writer flushed): one
    // trade_closed line per row of trades.csv.
    let trades_csv = std::fs::read_to_string(dir.path().join("out/trades.csv")).unwrap();
    let closed = trail
        .iter()
        .filter(|e| matches!(e, DomainEvent::TradeClosed { .. }))
        .count();
    assert_eq!(closed, trades_csv.lines().count() - 1);
    // The audit events stay out of the ordinary log.
    assert!(!String::from_utf8_lossy(&out.stderr).contains("\"event\":"));

    // --symbol and --since/--until: exactly the matching events, each row within them.
    let (since, until) = (
        Timestamp::parse_utc("2018-06-01").unwrap(),
        Timestamp::parse_utc("2018-07-01").unwrap(),
    );
    let btc = Symbol::parse("BTCUSDT").unwrap();
    let matching = trail
        .iter()
        .filter(|e| e.symbol().is_none_or(|s| s == &btc) && e.ts() >= since && e.ts() < until)
        .count();
    assert!(matching > 10, "{matching}");
    let out = run(
        keel(&[
            "audit",
            file.to_str().unwrap(),
            "--symbol",
            "BTCUSDT",
            "--since",
            "2018-06-01",
            "--until",
            &until.millis().to_string(),
        ]),
        "keel audit",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let rows = table_rows(&stdout);
    assert_eq!(rows.len(), matching, "{stdout}");
    for row in &rows {
        assert_eq!(row[1], "BTCUSDT", "{row:?}");
        let ts = Timestamp::parse_utc(&row[0]).unwrap();
        assert!(ts >= since && ts < until, "{row:?}");
    }

    // --kind trade: the closed trades only, with their P&L.
    let out = run(
        keel(&["audit", file.to_str().unwrap(), "--kind", "trade"]),
        "keel audit --kind trade",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let rows = table_rows(&stdout);
    assert_eq!(rows.len(), closed);
    assert!(rows
        .iter()
        .all(|r| r[2] == "trade_closed" && r[3].starts_with("pnl=")));
}

#[test]
fn keel_run_writes_its_trail_beside_its_log_and_not_into_it() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let config = dir.path().join("keel.toml");
    let text = common::data_section("2018-01-01", Some("2018-04-01"), true)
        + &format!(
            "[run]\nstore = \"{}\"\n[log]\ndir = \"{}\"\n",
            dir.path().join("store").display(),
            log.display()
        );
    std::fs::write(&config, text).unwrap();
    let out = run(
        keel(&["run", "--config", config.to_str().unwrap()]),
        "keel run",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files: Vec<String> = std::fs::read_dir(&log)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let audit: Vec<_> = files
        .iter()
        .filter(|f| f.starts_with("keel-audit.") && f.ends_with(".jsonl"))
        .collect();
    assert_eq!(audit.len(), 1, "{files:?}");
    let lines: Vec<String> = std::fs::read_to_string(log.join(audit[0]))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let trail = events(&lines);
    assert!(trail
        .iter()
        .any(|e| matches!(e, DomainEvent::TradeClosed { .. })));
    // The log (file and stderr) has the ordinary lines, none of the audit objects.
    for file in files.iter().filter(|f| f.starts_with("keel.")) {
        let text = std::fs::read_to_string(log.join(file)).unwrap();
        assert!(text.contains("trade closed"), "{file}");
        assert!(!text.contains("\"event\":\"decision\""), "{file}");
    }
    assert!(!String::from_utf8_lossy(&out.stderr).contains("\"event\":\"decision\""));
}

#[test]
fn a_malformed_line_is_refused_naming_the_file_and_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("trail.jsonl");
    let good = r#"{"event":"fill","ts":1514782800000,"symbol":"BTC/USDT","id":"bt-BTCUSDT-000001","trade_id":1,"side":"BUY","qty":"0.5","price":"13000","fee":"6.5"}"#;
    std::fs::write(
        &file,
        format!("{good}\n{{\"event\":\"fill\",\"ts\":\n{good}\n"),
    )
    .unwrap();
    let out = run(keel(&["audit", file.to_str().unwrap()]), "keel audit");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:2: not an audit event", file.display())),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "no partial table");
}

#[test]
fn a_resumed_run_does_not_record_its_recovered_decisions_again() {
    let settings = settings();
    let dir = tempfile::tempdir().unwrap();
    let run = |store: &str, stop_after: Option<u64>| {
        let options = RunOptions {
            store: Some(dir.path().join(store)),
            stop_after,
            ..RunOptions::default()
        };
        let inputs = inputs(&settings);
        audited(|| run_actors(&settings, inputs, options).unwrap())
    };
    let (whole, uninterrupted) = run("whole", None);
    let (first, mut resumed) = run("parts", Some(5_000));
    assert!(!first.outcome.completed, "the first part stopped early");
    let (rest, second) = run("parts", None);
    assert!(whole.outcome.completed && rest.outcome.completed);
    resumed.extend(second);
    assert!(uninterrupted.len() > 1000);
    assert_eq!(
        resumed.len(),
        uninterrupted.len(),
        "lines recorded twice or lost"
    );
    for (i, (a, b)) in resumed.iter().zip(&uninterrupted).enumerate() {
        assert_eq!(a, b, "line {} differs", i + 1);
    }
}

/// A drawdown limit this tight trips the kill switch on the shipped data.
fn tripping_settings() -> Settings {
    let mut settings = settings();
    settings.risk.max_drawdown_pct = rust_decimal::Decimal::new(5, 1); // 0.5 %
    settings
}

#[test]
fn a_tripped_kill_switch_and_every_regime_change_are_in_the_trail() {
    let settings = tripping_settings();
    let (result, lines) = backtest(&settings);
    let trail = events(&lines);

    // One kill-switch alert (it latches), past the limit, listing what it flattens; each of
    // those positions then closes for the kill switch, and nothing is entered after it.
    let alerts: Vec<_> = trail
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match e {
            DomainEvent::RiskAlert {
                ts,
                rule,
                pct,
                flatten,
                ..
            } if rule == "kill_switch" => Some((i, *ts, *pct, flatten.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let (at, tripped, pct, flatten) = alerts[0].clone();
    assert!(pct >= settings.risk.max_drawdown_pct, "{pct}");
    for symbol in &flatten {
        let closed = trail[at..].iter().any(|e| {
            matches!(e, DomainEvent::TradeClosed { symbol: s, reason, .. }
                if s == symbol && *reason == keel_model::ExitReason::KillSwitch)
        });
        assert!(closed, "{symbol} was not closed for the kill switch");
    }
    assert!(
        result.trades.iter().all(|t| t.entry_time <= tripped),
        "a trade was opened after the kill switch tripped"
    );
    assert!(result
        .refusals
        .iter()
        .any(|(rule, n)| rule == "kill_switch" && *n > 0));

    // Regime changes, on the regime symbol, each from the regime in force (changes during
    // warm-up are not recorded: the first decision shows the regime trading started in), and
    // every decision carries the regime the last change reached.
    let mut regime = None;
    let mut changes = 0;
    for event in &trail {
        match event {
            DomainEvent::RegimeChanged {
                symbol, from, to, ..
            } => {
                assert_eq!(symbol, &Symbol::parse(&settings.regime.symbol).unwrap());
                assert_eq!(
                    *regime.get_or_insert(*from),
                    *from,
                    "a change from a regime not in force"
                );
                assert_ne!(from, to);
                regime = Some(*to);
                changes += 1;
            }
            DomainEvent::Decision(d) => {
                assert_eq!(*regime.get_or_insert(d.regime), d.regime, "{d:?}")
            }
            _ => {}
        }
    }
    assert!(changes > 0, "no regime change recorded");

    // keel audit shows the alert as an account-wide row, kept under any symbol filter.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("trail.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let out = run(
        keel(&[
            "audit",
            file.to_str().unwrap(),
            "--symbol",
            "ETHUSDT",
            "--kind",
            "alert",
        ]),
        "keel audit --kind alert",
    );
    assert!(out.status.success(), "{out:?}");
    let rows = table_rows(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0][1], "(account)");
    assert_eq!(rows[0][2], "risk_alert");
}

#[test]
fn the_actor_runtime_writes_the_kill_switch_and_regime_changes_as_the_backtest_does() {
    let settings = tripping_settings();
    let (_, backtest_lines) = backtest(&settings);
    let inputs = inputs(&settings);
    let (report, actor_lines) =
        audited(|| run_actors(&settings, inputs, RunOptions::default()).unwrap());
    assert!(report.outcome.completed);
    let alerts = |lines: &[String]| -> Vec<String> {
        lines
            .iter()
            .filter(|l| l.contains(r#""event":"risk_alert""#) || l.contains("regime_changed"))
            .cloned()
            .collect()
    };
    let expected = alerts(&backtest_lines);
    assert!(
        expected.iter().any(|l| l.contains("kill_switch")),
        "{expected:?}"
    );
    assert_eq!(alerts(&actor_lines), expected);
}
