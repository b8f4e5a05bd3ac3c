//! Test support: an order manager and a `SimExchange` driven together over deterministic
//! candles, with a simple bracket strategy, the way the backtest engine drives them.

use rust_decimal_macros::dec;

use super::HOUR_MS as H;
use crate::execution::{FillConfig, SimExchange};
use crate::model::{
    Candle, Decimal, ExecutionReport, Interval, OrderIntent, Symbol, TakeProfit, Timestamp,
};
use crate::order_manager::{OrderCommand, OrderManager, OrderManagerConfig};

/// The pair every scenario trades.
pub fn btc() -> Symbol {
    Symbol::parse("BTCUSDT").unwrap()
}

/// An order manager and a venue, and the time decisions are made at (the last bar's close).
#[derive(Debug, Clone)]
pub struct Driver {
    /// The manager's settings (kept to restore it).
    pub cfg: OrderManagerConfig,
    /// The order manager under test.
    pub om: OrderManager,
    /// The venue it trades at.
    pub ex: SimExchange,
    /// When decisions are made: the last bar's close.
    pub now: Timestamp,
    /// Every report the venue sent, in order.
    pub reports: Vec<ExecutionReport>,
}

impl Default for Driver {
    fn default() -> Self {
        Self::new()
    }
}

impl Driver {
    /// A flat account of 10 000 USDT with run id `pt`, decisions at the end of hour 1.
    pub fn new() -> Self {
        Self::with(OrderManagerConfig {
            run_id: "pt".to_string(),
            ..OrderManagerConfig::default()
        })
    }

    /// A flat account of 10 000 USDT (held at the venue too) managed with `cfg`, decisions at
    /// the end of hour 1.
    pub fn with(cfg: OrderManagerConfig) -> Self {
        Self {
            cfg: cfg.clone(),
            om: OrderManager::new(cfg, dec!(10000)),
            ex: SimExchange::new(FillConfig::default()).with_cash(dec!(10000)),
            now: Timestamp(H),
            reports: Vec::new(),
        }
    }

    /// Both cores saved to JSON bytes and restored from them, as after a restart.
    pub fn restored(&self) -> Self {
        let om = serde_json::to_vec(&self.om.to_state()).unwrap();
        let ex = serde_json::to_vec(&self.ex.to_state()).unwrap();
        Self {
            cfg: self.cfg.clone(),
            om: OrderManager::from_state(self.cfg.clone(), serde_json::from_slice(&om).unwrap())
                .unwrap(),
            ex: SimExchange::from_state(
                FillConfig::default(),
                serde_json::from_slice(&ex).unwrap(),
            )
            .unwrap(),
            now: self.now,
            reports: self.reports.clone(),
        }
    }

    /// Hands one venue report to the manager and returns the commands it answered with.
    pub fn deliver(&mut self, report: ExecutionReport) -> Vec<OrderCommand> {
        let update = self.om.on_execution(&report);
        self.reports.push(report);
        update.commands
    }

    /// Sends commands to the venue and its reports back to the manager, until quiet.
    pub fn route(&mut self, mut commands: Vec<OrderCommand>) {
        while !commands.is_empty() {
            let mut next = Vec::new();
            for command in &commands {
                for report in self.ex.apply(command, self.now) {
                    next.extend(self.deliver(report));
                }
            }
            commands = next;
        }
    }

    /// The bracket the strategy places: 1.00 BTC with a stop 4 below `price` and take-profits
    /// 3 and 6 above it, half each. Returns the commands (not yet routed).
    pub fn open_commands(&mut self, price: Decimal) -> Vec<OrderCommand> {
        self.om.on_intent(&OrderIntent::Open {
            symbol: btc(),
            qty: dec!(1.00),
            stop: Some(price - dec!(4)),
            take_profits: vec![
                TakeProfit {
                    price: price + dec!(3),
                    fraction: dec!(0.5),
                },
                TakeProfit {
                    price: price + dec!(6),
                    fraction: dec!(0.5),
                },
            ],
            ts: self.now,
        })
    }

    /// One bar: the venue works it, the manager applies the reports and trails its stops,
    /// then (every fifth bar, when flat) the strategy opens a bracket at the close.
    pub fn step(&mut self, candle: &Candle) {
        let mut commands = Vec::new();
        for report in self.ex.on_candle(candle) {
            commands.extend(self.deliver(report));
        }
        self.now = candle.close_time();
        self.route(commands);
        let commands = self.om.on_candle(candle, Some(1.5));
        self.route(commands);
        let bar = candle.open_time.0 / H;
        if bar % 5 == 0 && self.om.position(&btc()).is_none() {
            let commands = self.open_commands(candle.close);
            self.route(commands);
        }
        assert_eq!(
            self.ex.cash(),
            Some(self.om.cash()),
            "the venue's cash and the order manager's after the bar at {}",
            candle.open_time
        );
    }
}

/// `n` hourly BTC bars from hour 1 on: a deterministic random walk around 100 with cents.
pub fn candles(n: usize) -> Vec<Candle> {
    let mut seed: u64 = 42;
    let mut next = move |m: u64| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (seed >> 33) % m
    };
    let mut close = dec!(100.00);
    (1..=n as i64)
        .map(|hour| {
            let open = close;
            let delta = Decimal::new(next(601) as i64 - 300, 2);
            close = (open + delta).max(dec!(20));
            let high = open.max(close) + Decimal::new(next(150) as i64, 2);
            let low = open.min(close) - Decimal::new(next(150) as i64, 2);
            Candle {
                symbol: btc(),
                open_time: Timestamp(hour * H),
                interval: Interval::HOUR,
                open,
                high,
                low,
                close,
                volume: dec!(5),
            }
        })
        .collect()
}
