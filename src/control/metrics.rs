//! `GET /metrics`: the run in the Prometheus text format (OpenMetrics), every family named
//! `keel_...`, encoded by `prometheus-client` from what the run published.

use std::sync::atomic::AtomicU64;
use std::time::{Instant, SystemTime};

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use keel_actors::board::{Board, HistogramView};
use keel_core::risk::RiskRule;
use keel_supervision::HealthRegistry;

use super::status::unix_ms;

type Labels = Vec<(String, String)>;
type FloatGauge = Gauge<f64, AtomicU64>;

/// The content type of [`render`]'s text.
pub(super) const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Every family of the run whose supervision is in `health` and whose actors publish on
/// `board`, encoded (`started`: when the control plane started).
pub fn render(
    health: &HealthRegistry,
    board: &Board,
    started: Instant,
) -> Result<String, std::fmt::Error> {
    let mut registry = Registry::with_prefix("keel");
    actors(&mut registry, health, board);
    account(&mut registry, board);
    risk(&mut registry, board);
    feed(&mut registry, board);
    llm(&mut registry, board);
    llm_decisions(&mut registry, board);
    if let Some((limit, used)) = board.venue_weight() {
        gauge(
            &mut registry,
            "venue_weight_used",
            "Request weight used at the venue in the current minute",
            f64::from(used),
        );
        gauge(
            &mut registry,
            "venue_weight_limit",
            "The venue's request weight limit per minute",
            f64::from(limit),
        );
    }
    registry.register(
        "actor_handler_seconds",
        "How long each actor's handlers take (one message in 16 is timed)",
        ByActor(board.handler_latencies()),
    );
    registry.register(
        "journal_write_seconds",
        "How long the order manager's journal writes (state and marks, flushed) took",
        Snapshot(board.journal_writes()),
    );
    let uptime = FloatGauge::default();
    uptime.set(started.elapsed().as_secs_f64());
    registry.register(
        "uptime_seconds",
        "Seconds since the control plane started",
        uptime,
    );
    let mut text = String::new();
    encode(&mut text, &registry)?;
    Ok(text)
}

/// A histogram the board already counted, encoded as one.
#[derive(Debug)]
struct Snapshot(HistogramView);

impl EncodeMetric for Snapshot {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        let h = &self.0;
        encoder.encode_histogram::<NoLabelSet>(h.sum, h.count, &h.buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}

/// A histogram per actor the board already counted, encoded as one family.
#[derive(Debug)]
struct ByActor(Vec<(String, HistogramView)>);

impl EncodeMetric for ByActor {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        for (actor, histogram) in &self.0 {
            let labels = label("actor", actor);
            let family = encoder.encode_family(&labels)?;
            Snapshot(histogram.clone()).encode(family)?;
        }
        Ok(())
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}

fn label(name: &str, value: &str) -> Labels {
    vec![(name.to_string(), value.to_string())]
}

fn gauge(registry: &mut Registry, name: &str, help: &str, value: f64) {
    let gauge = FloatGauge::default();
    gauge.set(value);
    registry.register(name, help, gauge);
}

fn counter(registry: &mut Registry, name: &str, help: &str, value: u64) {
    let counter: Counter = Counter::default();
    counter.inc_by(value);
    registry.register(name, help, counter);
}

fn float(value: Decimal) -> f64 {
    value.to_f64().unwrap_or(f64::NAN)
}

fn actors(registry: &mut Registry, health: &HealthRegistry, board: &Board) {
    let report = health.report(Instant::now());
    let hung = board.hangs();
    let hangs = Family::<Labels, Counter>::default();
    let restarts = Family::<Labels, Counter>::default();
    let failures = Family::<Labels, Counter>::default();
    let mailbox = Family::<Labels, Gauge>::default();
    let up = Family::<Labels, Gauge>::default();
    for actor in &report.actors {
        let labels = label("actor", &actor.name);
        restarts.get_or_create(&labels).inc_by(actor.restarts_total);
        hangs
            .get_or_create(&labels)
            .inc_by(hung.get(&actor.name).copied().unwrap_or(0));
        failures.get_or_create(&labels).inc_by(actor.failures_total);
        if let Some(depth) = actor.mailbox_depth {
            mailbox
                .get_or_create(&labels)
                .set(i64::try_from(depth).unwrap_or(i64::MAX));
        }
        up.get_or_create(&labels).set(i64::from(
            actor.state == keel_supervision::ActorState::Running,
        ));
    }
    registry.register("actor_restarts", "Restarts of each actor", restarts);
    registry.register(
        "actor_hangs",
        "Instances of each actor declared hung (a message past its deadline)",
        hangs,
    );
    registry.register(
        "actor_failures",
        "Abnormal exits (panics, errors, kills) of each actor",
        failures,
    );
    registry.register(
        "actor_mailbox_depth",
        "Messages waiting for each actor",
        mailbox,
    );
    registry.register("actor_up", "1 while the actor runs", up);
    let breakers = Family::<Labels, Gauge>::default();
    for breaker in &report.breakers {
        for state in ["closed", "open", "half_open"] {
            let labels = vec![
                ("breaker".to_string(), breaker.name.clone()),
                ("state".to_string(), state.to_string()),
            ];
            breakers
                .get_or_create(&labels)
                .set(i64::from(breaker.state.as_str() == state));
        }
    }
    registry.register(
        "breaker_state",
        "1 for each breaker's current state (closed, open, half_open)",
        breakers,
    );
}

fn account(registry: &mut Registry, board: &Board) {
    let account = board.account();
    gauge(
        registry,
        "equity",
        "Equity in the quote asset",
        float(account.equity),
    );
    gauge(
        registry,
        "cash",
        "Free cash in the quote asset",
        float(account.cash),
    );
    gauge(
        registry,
        "exposure",
        "Gross exposure (positions at their last price) in the quote asset",
        float(account.exposure),
    );
    gauge(
        registry,
        "drawdown_ratio",
        "Drawdown from the equity curve's peak (0.05 is 5 %)",
        float(account.drawdown_pct()) / 100.0,
    );
    let positions = i64::try_from(account.positions.len()).unwrap_or(i64::MAX);
    let open_positions: Gauge = Gauge::default();
    open_positions.set(positions);
    registry.register("positions", "Open positions", open_positions);
    let orders = Family::<Labels, Gauge>::default();
    for (status, count) in &account.orders_by_status {
        orders
            .get_or_create(&label("status", status))
            .set(i64::try_from(*count).unwrap_or(i64::MAX));
    }
    registry.register(
        "orders",
        "Orders placed in this run's journal, by status",
        orders,
    );
    counter(
        registry,
        "fills",
        "Fills applied (each venue trade once)",
        account.fills,
    );
}

fn risk(registry: &mut Registry, board: &Board) {
    let risk = board.risk();
    let refusals = Family::<Labels, Counter>::default();
    // Every rule, at 0 until it refuses: a rate over a series that appears late is lost.
    for rule in RiskRule::ALL.iter().map(|r| r.name()).chain(["event_veto"]) {
        refusals.get_or_create(&label("rule", rule)).inc_by(0);
    }
    for (rule, count) in &risk.refusals {
        refusals.get_or_create(&label("rule", rule)).inc_by(*count);
    }
    registry.register("refusals", "Signals refused by risk, by rule", refusals);
    let flag = |registry: &mut Registry, name: &str, help: &str, on: bool| {
        let gauge: Gauge = Gauge::default();
        gauge.set(i64::from(on));
        registry.register(name, help, gauge);
    };
    flag(
        registry,
        "halted",
        "1 while an operator has halted new entries",
        risk.halted,
    );
    flag(
        registry,
        "kill_switch_tripped",
        "1 while the drawdown kill switch is tripped",
        risk.kill_switch.is_some(),
    );
    flag(
        registry,
        "reduce_only",
        "1 while the venue's breaker keeps risk reduce-only",
        risk.reduce_only,
    );
    flag(
        registry,
        "trading_stopped",
        "1 once the root supervisor gave up (the process exits with code 70)",
        board.trading_stopped().is_some(),
    );
    flag(
        registry,
        "journal_write_failed",
        "1 while the journal cannot be written (no order leaves until a write succeeds)",
        board.journal_failure().is_some(),
    );
}

fn feed(registry: &mut Registry, board: &Board) {
    counter(
        registry,
        "candles_processed",
        "Candles the feed sent into the pipeline",
        board.candles(),
    );
    if let Some(close) = board.last_close() {
        let lag_ms = unix_ms(SystemTime::now()) as i64 - close.0;
        gauge(
            registry,
            "candle_lag_seconds",
            "Wall clock minus the close time of the last candle processed",
            lag_ms as f64 / 1000.0,
        );
    }
}

fn llm(registry: &mut Registry, board: &Board) {
    let Some(llm) = board.llm() else { return };
    let requests = Family::<Labels, Counter>::default();
    for (outcome, n) in [
        ("accepted", llm.accepted),
        ("rejected", llm.rejected),
        ("failed", llm.failed),
        ("refused", llm.refused),
        ("cache_hit", llm.cache_hits),
    ] {
        requests.get_or_create(&label("outcome", outcome)).inc_by(n);
    }
    registry.register(
        "llm_requests",
        "The model analyst's requests by outcome (cache_hit: answered from the cache)",
        requests,
    );
    counter(
        registry,
        "llm_http_requests",
        "HTTP requests to the model provider, retries included",
        llm.http_requests,
    );
    counter(
        registry,
        "llm_tokens",
        "Tokens the model analyst spent",
        llm.tokens,
    );
    counter(
        registry,
        "llm_cache_hits",
        "Model requests answered from the cache",
        llm.cache_hits,
    );
}

fn llm_decisions(registry: &mut Registry, board: &Board) {
    let Some(summary) = board.decisions() else {
        return;
    };
    let s = &summary.stats;
    counter(
        registry,
        "llm_decision_points",
        "Decision points of the llm strategy (bar closes the model was asked about)",
        s.decision_points,
    );
    let outcomes = Family::<Labels, Counter>::default();
    for (outcome, n) in [
        ("buy", s.buys),
        ("sell", s.sells),
        ("hold", s.holds),
        ("failure", s.failures),
        ("unavailable", s.unavailable),
        ("missing", s.missing),
    ] {
        outcomes.get_or_create(&label("outcome", outcome)).inc_by(n);
    }
    registry.register(
        "llm_decisions",
        "The llm strategy's decision points by outcome (holds include sells with nothing held and every unanswered one without a fusion fallback)",
        outcomes,
    );
    counter(
        registry,
        "llm_decision_fallbacks",
        "Unanswered decision points decided by fusion (strategy.llm.fallback = \"fusion\")",
        s.fallbacks,
    );
    counter(
        registry,
        "llm_decision_cache_hits",
        "Decisions answered from the decision cache",
        summary.cache_hits,
    );
    counter(
        registry,
        "llm_decision_tokens",
        "Tokens the llm strategy's model spent",
        summary.session.as_ref().map_or(0, |s| s.tokens),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_actor_has_a_hang_counter_that_counts_its_hangs() {
        let health = HealthRegistry::new(std::time::Duration::from_secs(60));
        health.register_actor("risk");
        health.register_actor("fusion");
        let board = Board::new();
        board.actor_hung("risk");
        board.actor_hung("risk");
        let text = render(&health, &board, Instant::now()).unwrap();
        assert!(
            text.contains("keel_actor_hangs_total{actor=\"risk\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("keel_actor_hangs_total{actor=\"fusion\"} 0"),
            "{text}"
        );
    }
}
