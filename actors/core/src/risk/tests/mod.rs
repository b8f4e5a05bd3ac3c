//! Engine tests: one per rule (refusal with its numbers, and the boundary that passes),
//! sizing by hand, and the state that must survive days and restarts.

mod gates;
mod latches;
mod operator;
mod proposal;
mod sizing;
mod stale;

use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::*;
use crate::model::{
    ClosedTrade, Direction, ExitReason, OrderIntent, PortfolioSnapshot, Position, Symbol,
    TakeProfit, Timestamp, TradingSignal, MS_PER_DAY,
};

const HOUR: i64 = 3_600_000;

fn t0() -> Timestamp {
    Timestamp::parse_utc("2018-01-15T10:00:00Z").unwrap()
}

fn sym(text: &str) -> Symbol {
    Symbol::parse(text).unwrap()
}

fn long(symbol: &str, price: Decimal, atr: f64) -> TradingSignal {
    TradingSignal {
        symbol: sym(symbol),
        direction: Direction::Long,
        confidence: 0.7,
        technical_score: 0.7,
        sentiment_score: 0.0,
        event_impact: 0.0,
        ts: t0(),
        price,
        atr,
    }
}

fn btc() -> TradingSignal {
    long("BTCUSDT", dec!(100), 2.0)
}

fn position(symbol: &str, value: Decimal) -> Position {
    Position {
        symbol: sym(symbol),
        qty: value / dec!(100),
        avg_entry: dec!(100),
        last_price: dec!(100),
        opened_at: t0(),
    }
}

/// Equity 10,000; cash is equity minus what the positions are worth.
fn account(positions: Vec<Position>) -> PortfolioSnapshot {
    let held: Decimal = positions.iter().map(Position::market_value).sum();
    PortfolioSnapshot {
        ts: t0(),
        cash: dec!(10000) - held,
        equity: dec!(10000),
        positions,
    }
}

fn with_equity(equity: Decimal, ts: Timestamp) -> PortfolioSnapshot {
    PortfolioSnapshot {
        ts,
        cash: equity,
        equity,
        positions: vec![],
    }
}

fn engine_with(cfg: RiskConfig) -> RiskEngine {
    cfg.validate("risk").unwrap();
    RiskEngine::new(cfg, RiskState::default())
}

fn engine() -> RiskEngine {
    engine_with(RiskConfig::default())
}

fn ctx(portfolio: &PortfolioSnapshot) -> RiskContext<'_> {
    RiskContext {
        portfolio,
        reduce_only: false,
        unresolved_order: false,
    }
}

fn refusal(engine: &mut RiskEngine, signal: &TradingSignal, ctx: &RiskContext<'_>) -> Refusal {
    match engine.evaluate(signal, ctx) {
        Ok(intent) => panic!("expected a refusal, got {intent:?}"),
        Err(refusal) => refusal,
    }
}

fn open_qty(engine: &mut RiskEngine, signal: &TradingSignal, ctx: &RiskContext<'_>) -> Decimal {
    match engine.evaluate(signal, ctx) {
        Ok(OrderIntent::Open { qty, .. }) => qty,
        other => panic!("expected an entry, got {other:?}"),
    }
}

fn stop_out(symbol: &str, exit_time: Timestamp, reason: ExitReason) -> ClosedTrade {
    ClosedTrade {
        symbol: sym(symbol),
        entry_time: exit_time.plus_ms(-HOUR),
        exit_time,
        qty: dec!(1),
        entry_price: dec!(100),
        exit_price: dec!(96),
        pnl: dec!(-4),
        fees: dec!(0.2),
        exit_reason: reason,
    }
}
