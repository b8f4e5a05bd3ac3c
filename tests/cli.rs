//! The `keel` binary as a user runs it: exit codes, messages and the files it writes.

mod common;

use std::path::Path;
use std::process::Output;

fn keel(args: &[&str]) -> Output {
    let mut command = common::process::keel(args);
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    common::process::run(command, &format!("keel {}", args.join(" ")))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn backtest_writes_every_report_file() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("report");
    let output = keel(&[
        "backtest",
        "--config",
        "config/backtest.toml",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("Sharpe"), "no metrics table: {stdout}");
    for file in ["report.json", "trades.csv", "equity.csv", "equity.svg"] {
        assert!(dir.join(file).is_file(), "{file} missing");
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["strategy"], "fusion");
    let equity_rows = std::fs::read_to_string(dir.join("equity.csv"))
        .unwrap()
        .lines()
        .count();
    // 2018 in hourly bars, minus the exchange's real outages, plus the header.
    assert!(
        (8000..=8761).contains(&equity_rows),
        "{equity_rows} equity rows"
    );
}

#[test]
fn run_replays_the_embedded_default_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let output = keel(&["run", "--store", store.to_str().unwrap()]);
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("run complete"), "{stderr}");
    assert!(
        stderr.contains("order submitted"),
        "no decision was logged: {stderr}"
    );
}

#[test]
fn run_print_tree_shows_the_supervision_tree_and_runs_nothing() {
    let output = keel(&["run", "--print-tree"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    for line in [
        "root (supervisor, one_for_one)",
        "└─ trading (supervisor, rest_for_one)",
        "   ├─ symbols (supervisor, one_for_one)",
        "   │  ├─ symbol:BTCUSDT (permanent, deadline 10000 ms)",
        "   │  └─ symbol:ETHUSDT (permanent, deadline 10000 ms)",
        "   └─ execution (permanent, deadline 120000 ms)",
        "not yet supervised: the feed",
    ] {
        assert!(
            stdout.lines().any(|l| l == line),
            "no line {line:?} in:\n{stdout}"
        );
    }
    assert!(
        !text(&output.stderr).contains("actor started"),
        "the tree is printed, nothing started"
    );
}

#[test]
fn an_invalid_config_exits_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    let text_in =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml"))
            .unwrap()
            .replace("fee_bps = 10", "fee_bps = 5000");
    std::fs::write(&path, text_in).unwrap();
    let output = keel(&["backtest", "--config", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("venue.fee_bps"), "{stderr}");
}

#[test]
fn a_corrupt_candle_file_is_refused_naming_file_and_row() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("BAD_USDT-1h.csv");
    std::fs::write(
        &csv,
        "open_time_ms,open,high,low,close,volume\n\
         1577836800000,10,11,9,10,1\n\
         1577840400000,10,9,11,10,1\n\
         1577844000000,10,11,9,NaN,1\n",
    )
    .unwrap();
    let inspect = keel(&["data", "inspect", csv.to_str().unwrap()]);
    assert!(inspect.status.success(), "{}", text(&inspect.stderr));
    let report = text(&inspect.stdout);
    // Rows count data rows (the header is not one).
    assert!(
        report.contains("BAD_USDT-1h.csv: row 2: high"),
        "row 2 (high < low) not named: {report}"
    );
    assert!(
        report.contains("BAD_USDT-1h.csv: row 3:"),
        "row 3 (NaN) not named: {report}"
    );

    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        format!(
            "[data]\ncandles = [{{ symbol = \"BADUSDT\", path = \"{}\" }}]\n[strategy]\nkind = \"sma_cross\"\n",
            csv.display()
        ),
    )
    .unwrap();
    let backtest = keel(&[
        "backtest",
        "--config",
        config.to_str().unwrap(),
        "--out",
        dir.path().join("o").to_str().unwrap(),
    ]);
    assert_eq!(backtest.status.code(), Some(1));
    let stderr = text(&backtest.stderr);
    assert!(
        stderr.contains("BAD_USDT-1h.csv") && stderr.contains("rejected"),
        "{stderr}"
    );
}

#[test]
fn data_indicators_prints_the_standard_columns() {
    let output = keel(&["data", "indicators", "data/binance/BTC_USDT-1h.json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[0],
        "open_time_ms,open,high,low,close,volume,sma20,ema20,rsi14,macd,macd_signal,macd_hist,atr14,bb_upper,bb_middle,bb_lower,sma200,\
         cdl_doji,cdl_hammer,cdl_invertedhammer,cdl_shootingstar,cdl_hangingman,cdl_engulfing,cdl_harami,\
         cdl_morningstar,cdl_eveningstar,cdl_3whitesoldiers,cdl_3blackcrows,cdl_piercing,cdl_darkcloudcover,\
         cdl_marubozu,cdl_spinningtop,cdl_dragonflydoji,cdl_gravestonedoji"
    );
    assert_eq!(lines.len(), 9442 + 1, "one row per candle");
    let cells = |row: usize| {
        lines[row]
            .split(',')
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    // TA-Lib's warm-up: SMA(20) is empty for 19 bars and SMA(200) for 199.
    assert_eq!(cells(19)[6], "", "sma20 of bar 19");
    assert_ne!(cells(20)[6], "", "sma20 of bar 20");
    assert_eq!(cells(199)[16], "", "sma200 of bar 199");
    let closes: Vec<f64> = (1..=20).map(|r| cells(r)[4].parse().unwrap()).collect();
    let sma20: f64 = cells(20)[6].parse().unwrap();
    let mean = closes.iter().sum::<f64>() / 20.0;
    assert!(
        (sma20 - mean).abs() < 1e-9 * mean,
        "sma20 {sma20} vs mean {mean}"
    );
}
