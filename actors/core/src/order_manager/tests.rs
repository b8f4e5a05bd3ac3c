//! The order manager driven together with the `SimExchange` over hand-made candles, the way
//! the backtest engine drives them: venue fills on the bar, reports to the manager, the
//! manager's candle step, then new intents decided on the bar's close.

use rust_decimal_macros::dec;

use super::*;
use crate::model::{
    Candle, ClientOrderId, ClosedTrade, Decimal, ExecutionReport, ExitReason, Interval,
    OrderIntent, OrderKind, OrderStatus, TakeProfit, Timestamp,
};
use crate::testing::{btc, Driver, HOUR_MS as H};

fn id(text: &str) -> ClientOrderId {
    ClientOrderId::new(text).unwrap()
}

fn tp(price: Decimal, fraction: Decimal) -> TakeProfit {
    TakeProfit { price, fraction }
}

/// The order manager's scenarios, on the shared driver (run id `bt`).
impl Driver {
    /// Trailing configured as given.
    fn trailing(trailing: TrailingConfig) -> Self {
        Self::with(OrderManagerConfig {
            run_id: "bt".to_string(),
            trailing,
            ..OrderManagerConfig::default()
        })
    }

    /// Trailing as configured by default (activated by the first take-profit).
    fn standard() -> Self {
        Self::trailing(TrailingConfig::default())
    }

    fn intent(&mut self, intent: OrderIntent) -> Vec<OrderCommand> {
        let commands = self.om.on_intent(&intent);
        self.route(commands.clone());
        commands
    }

    /// Buys `qty` at the next open with a stop and take-profits, decided now.
    fn open(
        &mut self,
        qty: Decimal,
        stop: Option<Decimal>,
        tps: &[TakeProfit],
    ) -> Vec<OrderCommand> {
        self.intent(OrderIntent::Open {
            symbol: btc(),
            qty,
            stop,
            take_profits: tps.to_vec(),
            ts: self.now,
        })
    }

    /// Feeds the next one-hour bar (with an ATR for trailing) and returns the commands the
    /// manager's candle step produced.
    fn bar(
        &mut self,
        open: Decimal,
        high: Decimal,
        low: Decimal,
        close: Decimal,
        atr: Option<f64>,
    ) -> Vec<OrderCommand> {
        let candle = Candle {
            symbol: btc(),
            open_time: self.now,
            interval: Interval::HOUR,
            open,
            high,
            low,
            close,
            volume: dec!(5),
        };
        let mut commands = Vec::new();
        for report in self.ex.on_candle(&candle) {
            commands.extend(self.deliver(report));
        }
        self.now = candle.close_time();
        self.route(commands);
        let commands = self.om.on_candle(&candle, atr);
        self.route(commands.clone());
        assert_eq!(
            self.ex.cash(),
            Some(self.om.cash()),
            "the venue's cash and the order manager's"
        );
        commands
    }

    fn quiet_bar(&mut self, price: Decimal) {
        self.bar(price, price + dec!(0.5), price - dec!(0.5), price, None);
    }

    fn status(&self, name: &str) -> OrderStatus {
        self.om.order(&id(name)).unwrap().status
    }

    fn venue_trigger(&self, name: &str) -> Option<Decimal> {
        self.ex
            .open_orders(&btc())
            .find(|o| o.client_order_id == id(name))
            .and_then(|o| match o.kind {
                OrderKind::Stop { trigger } => Some(trigger),
                _ => None,
            })
    }

    fn only_trade(&self) -> &ClosedTrade {
        assert_eq!(
            self.om.closed_trades().len(),
            1,
            "{:?}",
            self.om.closed_trades()
        );
        &self.om.closed_trades()[0]
    }

    fn assert_no_anomalies(&self) {
        assert!(self.om.anomalies().is_empty(), "{:?}", self.om.anomalies());
    }
}

#[test]
fn entry_fills_at_the_next_open_plus_slippage_and_pays_a_bps_fee() {
    let mut h = Driver::standard();
    h.open(dec!(1), Some(dec!(95)), &[]);
    assert!(h.om.has_open_entry(&btc()));
    assert!(
        h.om.position(&btc()).is_none(),
        "nothing fills before the next bar"
    );
    h.bar(dec!(100), dec!(101), dec!(99), dec!(100.5), None);
    let position = h.om.position(&btc()).unwrap();
    assert_eq!(position.avg_entry, dec!(100.05));
    assert_eq!(position.qty, dec!(1));
    assert_eq!(position.opened_at, Timestamp(H));
    assert_eq!(position.last_price, dec!(100.5));
    assert_eq!(h.om.fees_paid(), dec!(0.10005));
    assert_eq!(h.om.cash(), dec!(10000) - dec!(100.05) - dec!(0.10005));
    assert!(!h.om.has_open_entry(&btc()));
    assert_eq!(h.status("bt-BTCUSDT-000001"), OrderStatus::Filled);
    assert_eq!(h.status("bt-BTCUSDT-000001-s1"), OrderStatus::Accepted);
    let snapshot = h.om.snapshot(h.now);
    assert_eq!(snapshot.equity, h.om.cash() + dec!(100.5));
    // The equity point a backtest marks with is the snapshot's, to the last digit.
    let point = h.om.equity_point(h.now);
    assert_eq!(point.equity, snapshot.equity);
    assert_eq!(point.exposure, snapshot.gross_exposure());
    assert_eq!(point.exposure, dec!(100.5));
    h.assert_no_anomalies();
}

#[test]
fn stop_and_take_profit_inside_one_bar_fill_the_stop_and_cancel_the_take_profit() {
    let mut h = Driver::standard();
    h.open(dec!(1), Some(dec!(95)), &[tp(dec!(110), dec!(1))]);
    h.bar(dec!(100), dec!(111), dec!(94), dec!(100), None);
    let trade = h.only_trade();
    assert_eq!(trade.exit_price, dec!(94.9525));
    assert_eq!(trade.exit_reason, ExitReason::StopLoss);
    assert_eq!(trade.exit_time, Timestamp(2 * H));
    assert_eq!(h.status("bt-BTCUSDT-000001-s1"), OrderStatus::Filled);
    assert_eq!(h.status("bt-BTCUSDT-000001-t1"), OrderStatus::Cancelled);
    assert!(h.om.position(&btc()).is_none());
    h.assert_no_anomalies();
}

#[test]
fn a_bar_opening_below_the_stop_fills_at_the_open_not_the_stop() {
    let mut h = Driver::standard();
    h.open(dec!(1), Some(dec!(95)), &[tp(dec!(110), dec!(1))]);
    h.bar(dec!(100), dec!(101), dec!(99), dec!(100), None);
    h.bar(dec!(90), dec!(92), dec!(88), dec!(91), None);
    let trade = h.only_trade();
    assert_eq!(
        trade.exit_price,
        dec!(89.955),
        "the open 90 less slippage, not the stop 95"
    );
    // pnl = 89.955 − 100.05 − fees (0.10005 + 0.089955)
    assert_eq!(trade.pnl, dec!(-10.285005));
    h.assert_no_anomalies();
}

#[test]
fn take_profit_fills_at_its_limit_only_when_the_high_trades_through() {
    let mut h = Driver::standard();
    h.open(dec!(1), Some(dec!(95)), &[tp(dec!(110), dec!(1))]);
    h.bar(dec!(100), dec!(101), dec!(99), dec!(100), None);
    h.bar(dec!(105), dec!(110), dec!(104), dec!(108), None);
    assert!(
        h.om.closed_trades().is_empty(),
        "touching 110 is not trading through it"
    );
    h.bar(dec!(108), dec!(112), dec!(107), dec!(111), None);
    let trade = h.only_trade();
    assert_eq!(trade.exit_price, dec!(110));
    assert_eq!(trade.exit_reason, ExitReason::TakeProfit);
    assert_eq!(trade.fees, dec!(0.10005) + dec!(0.110));
    assert_eq!(trade.pnl, dec!(110) - dec!(100.05) - dec!(0.21005));
    assert_eq!(h.status("bt-BTCUSDT-000001-s1"), OrderStatus::Cancelled);
    h.assert_no_anomalies();
}

#[test]
fn partial_take_profit_moves_the_stop_to_break_even_and_the_stop_closes_the_rest() {
    let mut h = Driver::standard();
    h.open(
        dec!(2),
        Some(dec!(95)),
        &[tp(dec!(110), dec!(0.5)), tp(dec!(120), dec!(0.5))],
    );
    h.bar(dec!(100), dec!(101), dec!(99), dec!(100), None);
    // TP1 trades through: half the position goes at 110.
    h.bar(dec!(105), dec!(111), dec!(104), dec!(109), None);
    assert_eq!(h.om.position(&btc()).unwrap().qty, dec!(1));
    assert_eq!(h.status("bt-BTCUSDT-000001-t1"), OrderStatus::Filled);
    assert_eq!(h.status("bt-BTCUSDT-000001-s1"), OrderStatus::Cancelled);
    // The remaining stop now sits at the average entry, at the venue too.
    assert_eq!(h.venue_trigger("bt-BTCUSDT-000001-s2"), Some(dec!(100.05)));
    let stop = h.om.order(&id("bt-BTCUSDT-000001-s2")).unwrap();
    assert_eq!(
        stop.request.kind,
        OrderKind::Stop {
            trigger: dec!(100.05)
        }
    );
    assert!(h.om.closed_trades().is_empty());
    // The price falls back through break-even: the stop closes the rest.
    h.bar(dec!(105), dec!(106), dec!(100), dec!(101), None);
    let trade = h.only_trade();
    assert_eq!(trade.qty, dec!(2));
    assert_eq!(trade.entry_price, dec!(100.05));
    assert_eq!(trade.exit_price, dec!(104.9999875), "(110 + 99.999975) / 2");
    assert_eq!(trade.fees, dec!(0.410099975));
    assert_eq!(trade.pnl, dec!(9.489875025));
    assert_eq!(trade.exit_reason, ExitReason::StopLoss);
    assert_eq!(h.status("bt-BTCUSDT-000001-t2"), OrderStatus::Cancelled);
    assert_eq!(h.om.cash(), dec!(10000) + trade.pnl);
    assert_eq!(h.ex.open_orders(&btc()).count(), 0);
    h.assert_no_anomalies();
}

#[test]
fn trailing_stop_rises_with_closes_and_never_falls() {
    let mut h = Driver::trailing(TrailingConfig {
        enabled: true,
        atr_mult: 2.0,
        activate_after_level: 0,
    });
    h.open(dec!(1), Some(dec!(90)), &[]);
    let s1 = "bt-BTCUSDT-000001-s1";
    let moves = |commands: &[OrderCommand]| -> Vec<Decimal> {
        commands
            .iter()
            .filter_map(|c| match c {
                OrderCommand::ModifyStop { trigger, .. } => Some(*trigger),
                _ => None,
            })
            .collect()
    };
    // highest close 101, ATR 2: 101 − 4 = 97.
    let c = h.bar(
        dec!(100.00),
        dec!(102.00),
        dec!(99.00),
        dec!(101.00),
        Some(2.0),
    );
    assert_eq!(moves(&c), [dec!(97)]);
    // A higher close lifts it: 105 − 4 = 101.
    let c = h.bar(
        dec!(101.00),
        dec!(105.50),
        dec!(100.50),
        dec!(105.00),
        Some(2.0),
    );
    assert_eq!(moves(&c), [dec!(101)]);
    // A lower close leaves it.
    let c = h.bar(
        dec!(105.00),
        dec!(105.50),
        dec!(102.50),
        dec!(103.00),
        Some(2.0),
    );
    assert!(moves(&c).is_empty());
    // A narrower ATR tightens it: 105 − 2 = 103.
    let c = h.bar(
        dec!(103.00),
        dec!(104.50),
        dec!(103.50),
        dec!(104.00),
        Some(1.0),
    );
    assert_eq!(moves(&c), [dec!(103)]);
    // A wider ATR would lower it: it stays.
    let c = h.bar(
        dec!(104.00),
        dec!(104.50),
        dec!(103.50),
        dec!(104.00),
        Some(5.0),
    );
    assert!(moves(&c).is_empty());
    assert_eq!(h.venue_trigger(s1), Some(dec!(103)));
    // No ATR, no move.
    assert!(h
        .bar(dec!(104), dec!(109), dec!(103.5), dec!(108), None)
        .is_empty());
    // The trailed stop closes the trade.
    h.bar(
        dec!(107.00),
        dec!(107.50),
        dec!(102.00),
        dec!(102.50),
        Some(1.0),
    );
    let trade = h.only_trade();
    assert_eq!(trade.exit_price, dec!(102.9485), "103 less slippage");
    assert_eq!(trade.pnl, dec!(2.6955015));
    h.assert_no_anomalies();
}

#[test]
fn trailing_waits_for_the_configured_take_profit_level() {
    let mut h = Driver::standard();
    h.open(
        dec!(2),
        Some(dec!(95)),
        &[tp(dec!(110), dec!(0.5)), tp(dec!(130), dec!(0.5))],
    );
    let c = h.bar(dec!(100), dec!(104), dec!(99), dec!(103), Some(1.0));
    assert!(c.is_empty(), "not active before TP1: {c:?}");
    // TP1 fills: the stop goes to break-even (no ATR on this bar, so no trailing yet).
    h.bar(dec!(103), dec!(111), dec!(102), dec!(110), None);
    assert_eq!(h.venue_trigger("bt-BTCUSDT-000001-s2"), Some(dec!(100.05)));
    // Active now: highest close 115 − 3 × 1 = 112.
    let c = h.bar(dec!(110), dec!(116), dec!(109), dec!(115), Some(1.0));
    assert_eq!(c.len(), 1);
    assert_eq!(h.venue_trigger("bt-BTCUSDT-000001-s2"), Some(dec!(112)));
    h.assert_no_anomalies();
}

#[test]
fn emergency_flatten_cancels_the_exits_and_sells_at_the_next_open() {
    let mut h = Driver::standard();
    h.open(
        dec!(2),
        Some(dec!(95)),
        &[tp(dec!(110), dec!(0.5)), tp(dec!(120), dec!(0.5))],
    );
    h.bar(dec!(100), dec!(101), dec!(99), dec!(104), None);
    let commands = h.om.flatten(&btc(), ExitReason::Emergency, h.now);
    let cancels: Vec<_> = commands
        .iter()
        .filter(|c| matches!(c, OrderCommand::Cancel { .. }))
        .map(|c| c.order_id().as_str())
        .collect();
    assert_eq!(
        cancels,
        [
            "bt-BTCUSDT-000001-t2",
            "bt-BTCUSDT-000001-s2",
            "bt-BTCUSDT-000001-t1",
            "bt-BTCUSDT-000001-s1"
        ]
    );
    let Some(OrderCommand::Submit(sell)) = commands.last() else {
        panic!("no exit order in {commands:?}");
    };
    assert_eq!(sell.client_order_id.as_str(), "bt-BTCUSDT-000002");
    assert_eq!((sell.qty, sell.kind), (dec!(2), OrderKind::Market));
    h.route(commands);
    assert!(
        h.om.flatten(&btc(), ExitReason::Emergency, h.now)
            .is_empty(),
        "already exiting"
    );
    assert_eq!(
        h.ex.open_orders(&btc()).count(),
        1,
        "only the exit remains at the venue"
    );
    // Even a bar through the old stop and take-profit only fills the exit, at its open.
    h.bar(dec!(105), dec!(125), dec!(90), dec!(100), None);
    let trade = h.only_trade();
    assert_eq!(trade.exit_price, dec!(104.9475));
    assert_eq!(trade.exit_reason, ExitReason::Emergency);
    assert_eq!(trade.pnl, dec!(9.385005));
    for child in ["s1", "t1", "s2", "t2"] {
        assert_eq!(
            h.status(&format!("bt-BTCUSDT-000001-{child}")),
            OrderStatus::Cancelled
        );
    }
    h.assert_no_anomalies();
}

#[test]
fn close_intent_is_nothing_when_flat_and_cancels_a_pending_entry() {
    let mut h = Driver::standard();
    let close = |ts| OrderIntent::Close {
        symbol: btc(),
        reason: ExitReason::Signal,
        ts,
    };
    assert!(h.intent(close(h.now)).is_empty());
    h.open(dec!(1), Some(dec!(95)), &[tp(dec!(110), dec!(1))]);
    let commands = h.intent(close(h.now));
    assert_eq!(
        commands.len(),
        3,
        "cancel t1, s1 and the entry; nothing to sell"
    );
    assert!(!h.om.has_open_entry(&btc()));
    assert_eq!(h.status("bt-BTCUSDT-000001"), OrderStatus::Cancelled);
    h.quiet_bar(dec!(100));
    assert!(h.om.position(&btc()).is_none());
    h.assert_no_anomalies();
}

#[test]
fn a_duplicated_fill_report_is_applied_once() {
    let mut h = Driver::standard();
    h.open(dec!(1), Some(dec!(95)), &[]);
    h.bar(dec!(100), dec!(101), dec!(99), dec!(100), None);
    let fill = h
        .reports
        .iter()
        .find(|r| matches!(r, ExecutionReport::Fill(_)))
        .unwrap()
        .clone();
    let (cash, fees) = (h.om.cash(), h.om.fees_paid());
    let update = h.om.on_execution(&fill);
    assert_eq!(update, OmUpdate::default());
    assert_eq!((h.om.cash(), h.om.fees_paid()), (cash, fees));
    assert_eq!(h.om.position(&btc()).unwrap().qty, dec!(1));
    // A repeated status report is harmless too.
    let accepted = h.reports[0].clone();
    h.om.on_execution(&accepted);
    h.assert_no_anomalies();
}

#[test]
fn cash_and_positions_are_conserved_over_a_sequence() {
    let mut h = Driver::standard();
    let initial = h.om.cash();
    h.open(
        dec!(2),
        Some(dec!(95)),
        &[tp(dec!(110), dec!(0.5)), tp(dec!(120), dec!(0.5))],
    );
    h.bar(dec!(100), dec!(101), dec!(99), dec!(100), None);
    h.bar(dec!(105), dec!(111), dec!(104), dec!(109), None);
    h.bar(dec!(109), dec!(121), dec!(108), dec!(118), None);
    assert_eq!(h.om.closed_trades().len(), 1);
    h.open(dec!(3), Some(dec!(100)), &[tp(dec!(140), dec!(1))]);
    h.bar(dec!(117), dec!(119), dec!(115), dec!(116), None);
    h.bar(dec!(116), dec!(118), dec!(113), dec!(114.25), None);

    let snapshot = h.om.snapshot(h.now);
    let realized: Decimal = h.om.closed_trades().iter().map(|t| t.pnl).sum();
    let closed_fees: Decimal = h.om.closed_trades().iter().map(|t| t.fees).sum();
    let open_fees = h.om.fees_paid() - closed_fees;
    let position = h.om.position(&btc()).unwrap();
    assert_eq!(position.qty, dec!(3));
    assert_eq!(snapshot.positions, vec![position.clone()]);
    assert_eq!(
        snapshot.equity,
        initial + realized + position.unrealized_pnl() - open_fees,
        "equity = initial + realized P&L + unrealized P&L − fees of the open trip"
    );
    assert_eq!(h.om.cash() + position.qty * dec!(114.25), snapshot.equity);
    h.assert_no_anomalies();
}

#[test]
fn open_is_refused_while_an_entry_or_a_position_is_open() {
    let mut h = Driver::standard();
    assert_eq!(h.open(dec!(1), Some(dec!(95)), &[]).len(), 1);
    assert!(
        h.open(dec!(1), Some(dec!(95)), &[]).is_empty(),
        "entry still pending"
    );
    h.quiet_bar(dec!(100));
    assert!(
        h.open(dec!(1), Some(dec!(95)), &[]).is_empty(),
        "position open"
    );
    assert_eq!(h.om.position(&btc()).unwrap().qty, dec!(1));
    h.om.flatten(&btc(), ExitReason::Flatten, h.now);
    let commands = h.om.flatten(&btc(), ExitReason::Flatten, h.now);
    assert!(commands.is_empty());
}

#[test]
fn a_rejected_entry_rejects_its_children_and_frees_the_symbol() {
    let mut h = Driver::standard();
    h.open(dec!(1), Some(dec!(0)), &[]);
    assert_eq!(h.status("bt-BTCUSDT-000001"), OrderStatus::Rejected);
    assert_eq!(h.status("bt-BTCUSDT-000001-s1"), OrderStatus::Rejected);
    assert!(
        h.om.anomalies()[0].contains("Invalid stop price."),
        "{:?}",
        h.om.anomalies()
    );
    assert!(!h.om.has_open_entry(&btc()));
    assert_eq!(h.open(dec!(1), Some(dec!(95)), &[]).len(), 1);
}

#[test]
fn client_order_ids_are_deterministic_and_pass_binance_rules() {
    let run = || {
        let mut h = Driver::standard();
        h.open(
            dec!(2),
            Some(dec!(95)),
            &[tp(dec!(110), dec!(0.5)), tp(dec!(120), dec!(0.5))],
        );
        h.bar(dec!(100), dec!(111), dec!(99), dec!(109), None);
        let exit = h.om.flatten(&btc(), ExitReason::Signal, h.now);
        h.route(exit);
        h.quiet_bar(dec!(108));
        h.om.orders().map(|o| o.id().clone()).collect::<Vec<_>>()
    };
    let ids = run();
    assert_eq!(ids, run());
    let names: Vec<_> = ids.iter().map(ClientOrderId::as_str).collect();
    assert_eq!(
        names,
        [
            "bt-BTCUSDT-000001",
            "bt-BTCUSDT-000001-s1",
            "bt-BTCUSDT-000001-t1",
            "bt-BTCUSDT-000001-s2",
            "bt-BTCUSDT-000001-t2",
            "bt-BTCUSDT-000002",
        ]
    );
    assert!(names.iter().all(|n| ClientOrderId::new(*n).is_some()));
}

#[test]
fn no_position_means_no_candle_work() {
    let mut h = Driver::standard();
    assert!(h
        .bar(dec!(100), dec!(101), dec!(99), dec!(100), Some(1.0))
        .is_empty());
    assert_eq!(h.om.snapshot(h.now).equity, dec!(10000));
}

#[test]
fn illegal_transitions_and_unknown_orders_are_recorded_not_panics() {
    let mut h = Driver::standard();
    h.open(dec!(1), Some(dec!(95)), &[]);
    h.quiet_bar(dec!(100));
    let entry = id("bt-BTCUSDT-000001");
    h.om.on_execution(&ExecutionReport::Cancelled {
        id: entry.clone(),
        ts: h.now,
    });
    assert_eq!(h.status("bt-BTCUSDT-000001"), OrderStatus::Filled);
    assert_eq!(
        h.om.anomalies(),
        ["order bt-BTCUSDT-000001: illegal transition Filled -> Cancelled"]
    );
    let stranger = ExecutionReport::Accepted {
        id: id("other-1"),
        ts: h.now,
    };
    h.om.on_execution(&stranger);
    assert_eq!(
        h.om.anomalies()[1],
        "Accepted report for unknown order other-1"
    );
    // A refused cancel of a working stop leaves it working.
    h.om.on_execution(&ExecutionReport::Rejected {
        id: id("bt-BTCUSDT-000001-s1"),
        reason: "Unknown order sent.".to_string(),
        ts: h.now,
    });
    assert_eq!(h.status("bt-BTCUSDT-000001-s1"), OrderStatus::Accepted);
    assert!(
        h.om.anomalies()[2].contains("refused a command"),
        "{:?}",
        h.om.anomalies()
    );
}

#[test]
fn an_open_entry_holds_back_its_cash_until_it_fills() {
    let mut h = Driver::standard();
    h.quiet_bar(dec!(100));
    h.open(dec!(10), Some(dec!(96)), &[]);
    // Decided at the close of 100: 10 units hold back 10 × 100 × 1.02 of the 10,000; a new
    // order may then commit 8,980 / 1.02 at its decision price.
    assert_eq!(h.om.reserved(), dec!(1020));
    assert_eq!(h.om.snapshot(h.now).cash, dec!(8980) / dec!(1.02));
    assert_eq!(
        h.om.snapshot(h.now).equity,
        dec!(10000),
        "reserved cash is still equity"
    );
    // It fills at the next open (100 + 5 bps): the reservation is released and the real
    // cost (1,000.50 plus a 10 bps fee of 1.0005) leaves the account.
    h.quiet_bar(dec!(100));
    assert_eq!(h.om.reserved(), dec!(0));
    assert_eq!(h.om.cash(), dec!(8998.4995));
    assert_eq!(h.om.snapshot(h.now).cash, dec!(8998.4995) / dec!(1.02));
    assert!(h.om.anomalies().is_empty(), "{:?}", h.om.anomalies());
}

#[test]
fn an_entry_the_cash_does_not_cover_at_the_next_open_expires_and_gives_its_cash_back() {
    let mut h = Driver::standard();
    h.quiet_bar(dec!(100));
    // 95 units hold back 95 × 100 × 1.02 = 9,690 of the 10,000.
    h.open(dec!(95), Some(dec!(96)), &[]);
    assert_eq!(h.om.reserved(), dec!(9690));
    // The next bar opens at 110: 95 × 110.055 plus the fee is more than the account holds.
    h.bar(dec!(110), dec!(111), dec!(109), dec!(110), None);
    assert_eq!(h.status("bt-BTCUSDT-000001"), OrderStatus::Expired);
    assert_eq!(h.status("bt-BTCUSDT-000001-s1"), OrderStatus::Cancelled);
    assert!(h.om.position(&btc()).is_none(), "nothing was bought");
    assert_eq!(h.om.reserved(), dec!(0));
    assert_eq!(
        h.om.cash(),
        dec!(10000),
        "the account is as before the decision"
    );
    assert_eq!(h.ex.cash(), Some(dec!(10000)));
    assert!(h.om.anomalies().is_empty(), "{:?}", h.om.anomalies());
}
