//! Parity: the actor runtime in lockstep produces exactly the backtest's orders, fills and
//! P&L, on every example config that replays history through the in-process venue and with
//! each strategy. Both executors walk the one schedule of `keel_core::graph`; the last test
//! breaks that order in the actor executor alone and shows this comparison catching it.

mod common;

use std::path::Path;

use keel::backtest::{backtest_pipeline, load_inputs};
use keel::runtime::{run_actors, RunOptions};
use keel::settings::{AtEnd, Settings};
use keel_core::strategy::StrategyKind;
use keel_news::llm::AnalysisMode;
use keel_news::testing::{fake_trader, FakeServer};

/// An example config from `config/`.
fn example(name: &str) -> Settings {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("config")
        .join(name);
    common::rooted(Settings::load(&path).unwrap_or_else(|e| panic!("{name}: {e}")))
}

/// The embedded default with another strategy.
fn with_strategy(kind: StrategyKind) -> Settings {
    let mut settings = common::default_settings();
    settings.strategy.kind = kind;
    settings
}

/// What differs between the backtest and the actors run with `options` (nothing, when they
/// agree), after checking that the backtest sent at least `min_orders` orders (fewer would
/// prove nothing).
fn differences(settings: &Settings, options: RunOptions, min_orders: u64) -> Vec<&'static str> {
    let inputs = load_inputs(settings).unwrap();
    let (backtest, pipeline) = backtest_pipeline(settings, inputs.clone(), &mut |_| {});
    assert!(
        backtest.orders_submitted >= min_orders,
        "too few orders to prove anything: {}",
        backtest.orders_submitted
    );
    let actors = run_actors(settings, inputs, options).unwrap();
    assert!(actors.outcome.completed);
    let backtest_orders: Vec<_> = pipeline.orders().orders().cloned().collect();
    let checks = [
        ("orders", actors.record.orders == backtest_orders),
        (
            "closed trades (fills, P&L)",
            actors.result.trades == backtest.trades,
        ),
        (
            "equity curve",
            actors.result.equity_curve == backtest.equity_curve,
        ),
        ("fees", actors.result.fees_paid == backtest.fees_paid),
        (
            "open positions",
            actors.result.open_positions == backtest.open_positions,
        ),
        (
            "submissions",
            actors.result.orders_submitted == backtest.orders_submitted,
        ),
        (
            "refusals by rule",
            actors.result.refusals == backtest.refusals,
        ),
    ];
    checks
        .into_iter()
        .filter(|(_, equal)| !equal)
        .map(|(what, _)| what)
        .collect()
}

fn assert_parity(name: &str, settings: Settings, min_orders: u64) {
    let differ = differences(&settings, RunOptions::default(), min_orders);
    assert!(
        differ.is_empty(),
        "{name}: the runtime differs in {differ:?}"
    );
}

#[test]
fn actors_in_lockstep_equal_the_backtest_for_the_default_config() {
    assert_parity("default.toml", example("default.toml"), 10);
}

#[test]
fn actors_in_lockstep_equal_the_backtest_for_the_backtest_example() {
    assert_parity("backtest.toml", example("backtest.toml"), 10);
}

#[test]
fn actors_in_lockstep_equal_the_backtest_for_the_paper_example() {
    let mut settings = example("paper.toml");
    // A paper run waits for a signal at the end of its data; the comparison needs the end.
    settings.run.at_end = AtEnd::Exit;
    assert_parity("paper.toml", settings, 10);
}

#[test]
fn actors_in_lockstep_equal_the_backtest_for_sma_cross() {
    assert_parity("sma_cross", with_strategy(StrategyKind::SmaCross), 10);
}

#[test]
fn actors_in_lockstep_equal_the_backtest_for_buy_and_hold() {
    // One entry per symbol, held to the end.
    assert_parity("buy_and_hold", with_strategy(StrategyKind::BuyAndHold), 2);
}

#[test]
fn actors_in_lockstep_equal_the_backtest_for_the_llm_strategy() {
    // A run records a fake model's decisions; then both drivers replay the cache.
    let server = FakeServer::start(fake_trader);
    let dir = tempfile::tempdir().unwrap();
    let mut settings = example("llm.toml");
    settings.strategy.llm.api.base_url = Some(server.url());
    settings.strategy.llm.cache_dir = dir.path().join("decisions");
    let recorded = run_actors(
        &settings,
        load_inputs(&settings).unwrap(),
        RunOptions::default(),
    )
    .unwrap()
    .result
    .llm
    .unwrap();
    assert_eq!(server.hits() as u64, recorded.stats.decision_points);
    settings.strategy.llm.mode = AnalysisMode::ReplayOnly;
    assert_parity("llm.toml", settings, 4);
    assert_eq!(
        server.hits() as u64,
        recorded.stats.decision_points,
        "neither replay sent a request"
    );
}

#[test]
fn an_actor_executor_that_breaks_the_declared_step_order_is_caught() {
    // The feed sends each candle's steps in reverse: the decision before the venue sees the
    // bar, so an order is filled on the bar it was decided on. The backtest is untouched.
    let options = RunOptions {
        reverse_steps: true,
        ..RunOptions::default()
    };
    let differ = differences(&example("default.toml"), options, 10);
    assert!(
        differ.contains(&"orders") && differ.contains(&"closed trades (fills, P&L)"),
        "the parity check missed a broken step order: {differ:?}"
    );
}
