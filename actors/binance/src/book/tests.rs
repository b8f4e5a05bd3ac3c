//! The venue book's scenarios: a bracket placed after its entry fills, OCO pairs, moved stops
//! under new client ids, cancels, and every doubt a crash leaves behind.

use std::collections::HashSet;

use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::*;
use crate::model::{ExecutionReport as R, FeeSource, TakeProfit};
use crate::order_manager::entry_request;
use crate::order_manager::OrderCommand;
use crate::wire::{MyTrade, OrderSide, OrderState, OrderType, QueriedOrder, TimeInForce};

fn btc() -> Symbol {
    Symbol::parse("BTCUSDT").unwrap()
}

fn cid(s: &str) -> ClientOrderId {
    ClientOrderId::new(s).unwrap()
}

/// A market buy of 0.3 with a stop at 9000 and take-profits at 11000 and 12000 (two
/// tranches of 0.15, each a stop + take-profit pair).
fn entry() -> OrderRequest {
    let tps = [
        TakeProfit {
            price: dec!(11000),
            fraction: dec!(0.5),
        },
        TakeProfit {
            price: dec!(12000),
            fraction: dec!(0.5),
        },
    ];
    entry_request(
        cid("p-BTCUSDT-000001"),
        &btc(),
        dec!(0.30),
        Some(dec!(9000)),
        &tps,
        Timestamp(0),
    )
    .unwrap()
}

fn trade(id: u64, order_id: u64, qty: Decimal, price: Decimal, time: i64) -> MyTrade {
    MyTrade {
        symbol: "BTCUSDT".into(),
        id,
        order_id,
        order_list_id: -1,
        price,
        qty,
        quote_qty: qty * price,
        commission: qty * price * dec!(0.001),
        commission_asset: "USDT".into(),
        time,
        is_buyer: true,
        is_maker: false,
        is_best_match: true,
    }
}

fn queried(venue_id: &str, order_id: u64, status: OrderState, executed: Decimal) -> QueriedOrder {
    QueriedOrder {
        symbol: "BTCUSDT".into(),
        order_id,
        order_list_id: -1,
        client_order_id: venue_id.into(),
        price: Decimal::ZERO,
        orig_qty: dec!(0.15),
        executed_qty: executed,
        cummulative_quote_qty: Decimal::ZERO,
        status,
        time_in_force: TimeInForce::Gtc,
        order_type: OrderType::Market,
        side: OrderSide::Sell,
        stop_price: Decimal::ZERO,
        time: 1,
        update_time: 77,
        is_working: true,
    }
}

/// Every venue client id an action sends.
fn sent_ids(actions: &[VenueAction]) -> Vec<String> {
    actions
        .iter()
        .flat_map(|a| match a {
            VenueAction::Place { venue_id, .. } => vec![venue_id.clone()],
            VenueAction::PlaceOco {
                stop, take_profit, ..
            } => {
                vec![stop.1.clone(), take_profit.1.clone()]
            }
            VenueAction::Cancel { .. } => vec![],
        })
        .collect()
}

/// Places every action with venue order ids counting from `next_order_id`.
fn place_all(book: &mut VenueBook, actions: &[VenueAction], next_order_id: &mut u64) -> Vec<R> {
    let mut reports = Vec::new();
    for action in actions {
        let ids: Vec<(String, u64)> = sent_ids(std::slice::from_ref(action))
            .into_iter()
            .map(|v| {
                *next_order_id += 1;
                (v, *next_order_id)
            })
            .collect();
        reports.extend(book.placed(action, &PlaceOutcome::Placed(ids), Timestamp(1)));
    }
    reports
}

/// An entry placed and filled, its two OCO pairs placed: entry order id 1, pairs 2..=5.
fn bracket_working() -> (VenueBook, Vec<String>) {
    let mut book = VenueBook::new();
    let (reports, actions) = book.command(&[OrderCommand::Submit(entry())], Timestamp(0));
    assert!(
        reports.is_empty(),
        "nothing is known before the venue answers"
    );
    let mut sent = sent_ids(&actions);
    let mut next = 0;
    let accepted = place_all(&mut book, &actions, &mut next);
    assert_eq!(
        accepted.len(),
        5,
        "the entry and its four exits are accepted: {accepted:?}"
    );
    let fills = book.on_trades(&btc(), &[trade(10, 1, dec!(0.30), dec!(10000), 3_600_000)]);
    assert!(matches!(&fills[..], [R::Fill(f)] if f.qty == dec!(0.30) && f.fee == dec!(3.000)));
    let exits = book.due_actions();
    assert_eq!(exits.len(), 2, "two OCO lists: {exits:?}");
    sent.extend(sent_ids(&exits));
    place_all(&mut book, &exits, &mut next);
    (book, sent)
}

#[test]
fn exits_are_held_until_the_entry_fills_then_placed_as_oco_pairs() {
    let mut book = VenueBook::new();
    let (_, actions) = book.command(&[OrderCommand::Submit(entry())], Timestamp(0));
    assert_eq!(sent_ids(&actions), ["p-BTCUSDT-000001"]);
    assert!(
        book.due_actions().is_empty(),
        "no exit goes out before the entry fills"
    );
    let (book, _) = bracket_working();
    let s1 = book.leg(&cid("p-BTCUSDT-000001-s1")).unwrap();
    assert_eq!(s1.phase, Phase::Working);
    assert_eq!(s1.venue_order_id, Some(2));
    let (mut fresh, _) = bracket_working();
    // Replay the exit placement to see its shape.
    let t2 = fresh.legs.get_mut(&cid("p-BTCUSDT-000001-t2")).unwrap();
    t2.phase = Phase::Due;
    let s2 = fresh.legs.get_mut(&cid("p-BTCUSDT-000001-s2")).unwrap();
    s2.phase = Phase::Due;
    let again = fresh.due_actions();
    assert_eq!(
        again,
        [VenueAction::PlaceOco {
            list_id: "p-BTCUSDT-000001-s2L".into(),
            symbol: btc(),
            qty: dec!(0.15),
            stop: (cid("p-BTCUSDT-000001-s2"), "p-BTCUSDT-000001-s2".into()),
            trigger: dec!(9000),
            take_profit: (cid("p-BTCUSDT-000001-t2"), "p-BTCUSDT-000001-t2".into()),
            price: dec!(12000),
        }]
    );
}

#[test]
fn a_stop_fill_cancels_its_take_profit_and_nothing_else() {
    let (mut book, _) = bracket_working();
    // Legs: s1 = 2, t1 = 3, s2 = 4, t2 = 5 (OCO actions place stop then take-profit).
    let reports = book.on_trades(&btc(), &[trade(11, 2, dec!(0.15), dec!(9000), 7_200_000)]);
    assert_eq!(reports.len(), 2, "{reports:?}");
    assert!(
        matches!(&reports[0], R::Fill(f) if f.client_order_id.as_str() == "p-BTCUSDT-000001-s1")
    );
    assert!(matches!(&reports[1], R::Cancelled { id, .. } if id.as_str() == "p-BTCUSDT-000001-t1"));
    assert_eq!(
        book.leg(&cid("p-BTCUSDT-000001-s2")).unwrap().phase,
        Phase::Working
    );
    // The same trade seen again is not applied twice.
    assert!(book
        .on_trades(&btc(), &[trade(11, 2, dec!(0.15), dec!(9000), 7_200_000)])
        .is_empty());
}

#[test]
fn moving_a_stop_replaces_its_list_under_new_client_ids_never_reusing_one() {
    let (mut book, mut sent) = bracket_working();
    let s1 = cid("p-BTCUSDT-000001-s1");
    for (round, trigger) in [dec!(9500), dec!(9800), dec!(10100)]
        .into_iter()
        .enumerate()
    {
        let (reports, actions) = book.command(
            &[OrderCommand::ModifyStop {
                id: s1.clone(),
                trigger,
            }],
            Timestamp(5),
        );
        assert!(reports.is_empty());
        assert_eq!(
            actions,
            [VenueAction::Cancel {
                leg: s1.clone(),
                symbol: btc(),
                venue_id: venue_id(&s1, round as u32),
                list_id: Some(list_id(&venue_id(&s1, round as u32))),
            }]
        );
        assert!(book
            .cancelled(&actions[0], &CancelOutcome::Cancelled, Timestamp(6))
            .is_empty());
        let replacement = book.due_actions();
        let VenueAction::PlaceOco {
            trigger: placed,
            stop,
            take_profit,
            ..
        } = &replacement[0]
        else {
            panic!("expected an OCO list: {replacement:?}");
        };
        assert_eq!(*placed, trigger);
        assert_eq!(stop.1, format!("p-BTCUSDT-000001-s1_{}", round + 1));
        assert_eq!(take_profit.1, format!("p-BTCUSDT-000001-t1_{}", round + 1));
        sent.extend(sent_ids(&replacement));
        let mut next = 100 + 10 * round as u64;
        place_all(&mut book, &replacement, &mut next);
    }
    let unique: HashSet<&String> = sent.iter().collect();
    assert_eq!(
        unique.len(),
        sent.len(),
        "a client id went out twice: {sent:?}"
    );
}

#[test]
fn cancelling_one_leg_of_a_pair_places_the_other_again_alone() {
    let (mut book, _) = bracket_working();
    let t1 = cid("p-BTCUSDT-000001-t1");
    let (_, actions) = book.command(&[OrderCommand::Cancel { id: t1.clone() }], Timestamp(5));
    let reports = book.cancelled(&actions[0], &CancelOutcome::Cancelled, Timestamp(6));
    assert!(
        matches!(&reports[..], [R::Cancelled { id, .. }] if *id == t1),
        "{reports:?}"
    );
    let again = book.due_actions();
    assert!(
        matches!(&again[..], [VenueAction::Place { venue_id, .. }] if venue_id == "p-BTCUSDT-000001-s1_1"),
        "{again:?}"
    );
}

#[test]
fn cancelling_both_legs_cancels_the_list_once_and_places_nothing() {
    let (mut book, _) = bracket_working();
    let (s1, t1) = (cid("p-BTCUSDT-000001-s1"), cid("p-BTCUSDT-000001-t1"));
    let (_, actions) = book.command(
        &[
            OrderCommand::Cancel { id: s1.clone() },
            OrderCommand::Cancel { id: t1.clone() },
        ],
        Timestamp(5),
    );
    assert_eq!(actions.len(), 1, "one list cancel: {actions:?}");
    let reports = book.cancelled(&actions[0], &CancelOutcome::Cancelled, Timestamp(6));
    assert_eq!(reports.len(), 2, "{reports:?}");
    assert!(book.due_actions().is_empty());
}

#[test]
fn a_fill_that_races_a_cancel_wins() {
    let (mut book, _) = bracket_working();
    let s1 = cid("p-BTCUSDT-000001-s1");
    let (_, actions) = book.command(&[OrderCommand::Cancel { id: s1.clone() }], Timestamp(5));
    assert!(book
        .cancelled(&actions[0], &CancelOutcome::Unsettled, Timestamp(6))
        .is_empty());
    let reports = book.on_trades(&btc(), &[trade(12, 2, dec!(0.15), dec!(9000), 7_200_000)]);
    assert!(matches!(&reports[0], R::Fill(_)));
    assert_eq!(
        book.leg(&s1).unwrap().phase,
        Phase::Done {
            status: OrderStatus::Filled
        }
    );
    assert!(
        book.due_actions().is_empty(),
        "a filled stop's partner is not placed again"
    );
}

#[test]
fn an_entry_in_doubt_that_never_arrived_is_rejected_and_not_resent() {
    let mut book = VenueBook::new();
    let (_, actions) = book.command(&[OrderCommand::Submit(entry())], Timestamp(0));
    // The process died after journalling; on restart the venue does not know the id.
    let id = cid("p-BTCUSDT-000001");
    assert_eq!(book.leg(&id).unwrap().phase, Phase::Sending, "in doubt");
    let reports = book.on_status(&id, None, Timestamp(9)).unwrap();
    assert!(matches!(&reports[..], [R::Rejected { reason, .. }] if reason == NEVER_REACHED));
    assert!(book.due_actions().is_empty(), "nothing is sent again");
    assert_eq!(sent_ids(&actions), ["p-BTCUSDT-000001"]);
}

#[test]
fn an_entry_in_doubt_that_arrived_is_adopted_with_its_exits() {
    let mut book = VenueBook::new();
    book.command(&[OrderCommand::Submit(entry())], Timestamp(0));
    let id = cid("p-BTCUSDT-000001");
    let q = queried("p-BTCUSDT-000001", 41, OrderState::New, Decimal::ZERO);
    let reports = book.on_status(&id, Some(&q), Timestamp(9)).unwrap();
    assert_eq!(
        reports.len(),
        5,
        "accepted with its four exits: {reports:?}"
    );
    assert_eq!(book.leg(&id).unwrap().venue_order_id, Some(41));
}

#[test]
fn an_exit_in_doubt_that_never_arrived_goes_again_under_a_new_id() {
    let (mut book, _) = bracket_working();
    let s2 = cid("p-BTCUSDT-000001-s2");
    book.legs.get_mut(&s2).unwrap().phase = Phase::Sending;
    book.legs
        .get_mut(&cid("p-BTCUSDT-000001-t2"))
        .unwrap()
        .phase = Phase::Sending;
    for id in ["p-BTCUSDT-000001-s2", "p-BTCUSDT-000001-t2"] {
        assert!(book
            .on_status(&cid(id), None, Timestamp(9))
            .unwrap()
            .is_empty());
    }
    let again = book.due_actions();
    assert_eq!(
        sent_ids(&again),
        ["p-BTCUSDT-000001-s2_1", "p-BTCUSDT-000001-t2_1"]
    );
}

#[test]
fn a_status_ahead_of_the_trades_seen_waits_for_them() {
    let (mut book, _) = bracket_working();
    let s1 = cid("p-BTCUSDT-000001-s1");
    let q = queried("p-BTCUSDT-000001-s1", 2, OrderState::Filled, dec!(0.15));
    assert_eq!(
        book.on_status(&s1, Some(&q), Timestamp(9)),
        Err(TradesBehind)
    );
    book.on_trades(&btc(), &[trade(13, 2, dec!(0.15), dec!(9000), 9)]);
    assert!(book
        .on_status(&s1, Some(&q), Timestamp(9))
        .unwrap()
        .is_empty());
}

#[test]
fn a_venue_expiry_of_the_entry_is_reported_and_its_exits_cancelled_when_asked() {
    let mut book = VenueBook::new();
    let (_, actions) = book.command(&[OrderCommand::Submit(entry())], Timestamp(0));
    place_all(&mut book, &actions, &mut 0);
    let id = cid("p-BTCUSDT-000001");
    let q = queried("p-BTCUSDT-000001", 1, OrderState::Expired, Decimal::ZERO);
    let reports = book.on_status(&id, Some(&q), Timestamp(9)).unwrap();
    assert!(matches!(&reports[..], [R::Expired { .. }]), "{reports:?}");
    let (reports, actions) = book.command(
        &[OrderCommand::Cancel {
            id: cid("p-BTCUSDT-000001-s1"),
        }],
        Timestamp(10),
    );
    assert!(
        actions.is_empty(),
        "a held exit is cancelled without the venue"
    );
    assert!(matches!(&reports[..], [R::Cancelled { .. }]));
}

#[test]
fn the_book_survives_a_journal_round_trip() {
    let (book, _) = bracket_working();
    let json = serde_json::to_string(&book).unwrap();
    let back: VenueBook = serde_json::from_str(&json).unwrap();
    assert_eq!(back, book);
}

#[test]
fn venue_ids_parse_back_to_their_leg_and_revision() {
    let id = cid("p-BTCUSDT-000001-s1");
    assert_eq!(
        parse_venue_id(&venue_id(&id, 0)),
        ("p-BTCUSDT-000001-s1", 0)
    );
    assert_eq!(
        parse_venue_id(&venue_id(&id, 12)),
        ("p-BTCUSDT-000001-s1", 12)
    );
}

/// The entry filled, its exits due and taken as actions (not yet answered).
fn exits_in_flight() -> (VenueBook, Vec<VenueAction>) {
    let mut book = VenueBook::new();
    let (_, actions) = book.command(&[OrderCommand::Submit(entry())], Timestamp(0));
    place_all(&mut book, &actions, &mut 0);
    book.on_trades(&btc(), &[trade(10, 1, dec!(0.30), dec!(10000), 3_600_000)]);
    let exits = book.due_actions();
    (book, exits)
}

#[test]
fn an_exit_pair_the_market_crossed_sells_the_crossed_leg_at_the_market() {
    let (mut book, exits) = exits_in_flight();
    // The price fell through the stop (9000) before the pair reached the venue.
    let reports = book.placed(
        &exits[0],
        &PlaceOutcome::Crossed { last: dec!(8900) },
        Timestamp(5),
    );
    assert!(
        matches!(&reports[..], [R::Cancelled { id, .. }] if id.as_str() == "p-BTCUSDT-000001-t1"),
        "{reports:?}"
    );
    let again = book.due_actions();
    let [VenueAction::Place {
        venue_id, request, ..
    }] = &again[..]
    else {
        panic!("one market sell expected: {again:?}");
    };
    assert_eq!(venue_id, "p-BTCUSDT-000001-s1_1", "a new client id");
    assert_eq!(request.kind, OrderKind::Market);
    assert_eq!(request.qty, dec!(0.15));
    // Its fill is the stop's fill for the order manager.
    place_all(&mut book, &again, &mut 50);
    let fills = book.on_trades(&btc(), &[trade(20, 51, dec!(0.15), dec!(8890), 9)]);
    assert!(
        matches!(&fills[..], [R::Fill(f)] if f.client_order_id.as_str() == "p-BTCUSDT-000001-s1")
    );
}

#[test]
fn an_exit_pair_the_market_crossed_upwards_takes_the_profit_at_the_market() {
    let (mut book, exits) = exits_in_flight();
    let reports = book.placed(
        &exits[1],
        &PlaceOutcome::Crossed { last: dec!(12100) },
        Timestamp(5),
    );
    assert!(
        matches!(&reports[..], [R::Cancelled { id, .. }] if id.as_str() == "p-BTCUSDT-000001-s2"),
        "{reports:?}"
    );
    let again = book.due_actions();
    assert!(
        matches!(&again[..], [VenueAction::Place { venue_id, .. }] if venue_id == "p-BTCUSDT-000001-t2_1"),
        "{again:?}"
    );
}

#[test]
fn an_exit_refused_for_another_reason_is_reported_cancelled_not_left_open() {
    let (mut book, exits) = exits_in_flight();
    let refused = PlaceOutcome::Refused("Account has insufficient balance".into());
    let reports = book.placed(&exits[0], &refused, Timestamp(5));
    assert_eq!(reports.len(), 2, "both legs: {reports:?}");
    assert!(reports.iter().all(|r| matches!(r, R::Cancelled { .. })));
    assert!(book.due_actions().is_empty());
}

#[test]
fn a_trade_of_an_order_whose_answer_was_lost_is_applied_once_the_query_names_it() {
    let mut book = VenueBook::new();
    book.command(&[OrderCommand::Submit(entry())], Timestamp(0));
    // Killed after sending: the venue filled order 7, whose id keel never heard.
    let early = book.on_trades(&btc(), &[trade(30, 7, dec!(0.30), dec!(10000), 5)]);
    assert!(early.is_empty(), "not applied to anything yet: {early:?}");
    let id = cid("p-BTCUSDT-000001");
    let q = queried("p-BTCUSDT-000001", 7, OrderState::Filled, dec!(0.30));
    let reports = book.on_status(&id, Some(&q), Timestamp(9)).unwrap();
    let fills: Vec<_> = reports.iter().filter(|r| matches!(r, R::Fill(_))).collect();
    assert_eq!(fills.len(), 1, "{reports:?}");
    assert_eq!(
        book.leg(&id).unwrap().phase,
        Phase::Done {
            status: OrderStatus::Filled
        }
    );
    assert_eq!(book.due_actions().len(), 2, "its exits go out");
}

/// The order manager restarted after the book learnt of a fill it never settled (the report
/// was in flight): reconciling against the book (what the runtime's journal hands back after a
/// restart) applies that fill, once.
#[test]
fn an_order_manager_behind_the_journalled_book_gets_the_fill_it_missed() {
    use crate::book::RemoteVenueView;
    use crate::execution::{VenueSnapshot, VenueView};
    use crate::model::{OrderIntent, OrderStatus};
    use crate::order_manager::{reconcile, Discrepancy, OrderManager, OrderManagerConfig};

    let mut om = OrderManager::new(OrderManagerConfig::default(), dec!(10000));
    let commands = om.on_intent(&OrderIntent::Open {
        symbol: btc(),
        qty: dec!(0.30),
        stop: None,
        take_profits: Vec::new(),
        ts: Timestamp(0),
    });
    let mut book = VenueBook::new();
    let (_, actions) = book.command(&commands, Timestamp(0));
    let mut next = 0;
    for report in place_all(&mut book, &actions, &mut next) {
        om.on_execution(&report);
    }
    let entry = commands[0].order_id().clone();
    assert_eq!(om.order(&entry).unwrap().status, OrderStatus::Accepted);
    // The venue filled the entry and the book took it in; the report never reached the order
    // manager.
    let fills = book.on_trades(&btc(), &[trade(10, 1, dec!(0.30), dec!(10000), 3_600_000)]);
    assert_eq!(fills.len(), 1);

    let snapshot = VenueSnapshot::of(&RemoteVenueView {
        book: &book,
        foreign: &[],
    });
    assert_eq!(snapshot.order_ids(), vec![entry.clone()]);
    let report = reconcile(&mut om, &snapshot, Timestamp(2 * 3_600_000));
    assert!(
        report
            .discrepancies
            .iter()
            .any(|d| matches!(d, Discrepancy::FillRecovered { qty, .. } if *qty == dec!(0.30))),
        "{report}"
    );
    assert_eq!(om.position(&btc()).map(|p| p.qty), Some(dec!(0.30)));
    // Reconciling again finds nothing: the fill is applied once.
    let again = reconcile(&mut om, &snapshot, Timestamp(2 * 3_600_000));
    assert!(again.is_clean(), "{again}");
    assert_eq!(om.position(&btc()).map(|p| p.qty), Some(dec!(0.30)));
}

/// A trade of the entry whose fee the venue took from the BTC bought.
fn trade_paid_in_btc(id: u64, qty: Decimal, commission: Decimal) -> MyTrade {
    MyTrade {
        commission,
        commission_asset: "BTC".into(),
        ..trade(id, 1, qty, dec!(10000), 3_600_000)
    }
}

/// The entry placed and filled by `trades` with `lot` as BTCUSDT's step: the reports of the
/// fills, and the book.
fn filled_in_btc(lot: Decimal, trades: &[MyTrade]) -> (VenueBook, Vec<R>) {
    let mut book = VenueBook::new();
    book.set_lot_step(btc(), lot);
    let (_, actions) = book.command(&[OrderCommand::Submit(entry())], Timestamp(0));
    place_all(&mut book, &actions, &mut 0);
    let reports = book.on_trades(&btc(), trades);
    (book, reports)
}

#[test]
fn a_fee_taken_from_the_btc_bought_cuts_the_last_tranche_to_what_is_held_before_it_is_placed() {
    let (mut book, reports) = filled_in_btc(
        dec!(0.00001),
        &[
            trade_paid_in_btc(10, dec!(0.1), dec!(0.0001)),
            trade_paid_in_btc(11, dec!(0.2), dec!(0.0002)),
        ],
    );
    let fees: Vec<FeeSource> = reports
        .iter()
        .filter_map(|r| match r {
            R::Fill(f) => Some(f.fee_source),
            _ => None,
        })
        .collect();
    assert_eq!(
        fees,
        [
            FeeSource::Base { qty: dec!(0.0001) },
            FeeSource::Base { qty: dec!(0.0002) }
        ]
    );
    let resized: Vec<(String, Decimal)> = reports
        .iter()
        .filter_map(|r| match r {
            R::Resized { id, qty, .. } => Some((id.to_string(), *qty)),
            _ => None,
        })
        .collect();
    assert_eq!(
        resized,
        [
            ("p-BTCUSDT-000001-s2".to_string(), dec!(0.1497)),
            ("p-BTCUSDT-000001-t2".to_string(), dec!(0.1497))
        ]
    );
    let quantities: Vec<Decimal> = book
        .due_actions()
        .iter()
        .map(|a| match a {
            VenueAction::PlaceOco { qty, .. } => *qty,
            other => panic!("an OCO pair per tranche, not {other:?}"),
        })
        .collect();
    assert_eq!(
        quantities,
        [dec!(0.15), dec!(0.1497)],
        "0.2997 held, all of it sold"
    );
}

#[test]
fn a_tranche_cut_to_nothing_is_cancelled_not_placed() {
    // A lot of 0.3 and 0.2997 held: nothing can be sold, both tranches go.
    let (mut book, reports) =
        filled_in_btc(dec!(0.3), &[trade_paid_in_btc(10, dec!(0.3), dec!(0.0003))]);
    let cancelled = reports
        .iter()
        .filter(|r| matches!(r, R::Cancelled { .. }))
        .count();
    assert_eq!(cancelled, 4, "{reports:?}");
    assert!(book.due_actions().is_empty());
}

#[test]
fn a_fee_in_the_quote_asset_leaves_the_exits_as_they_are() {
    let mut book = VenueBook::new();
    book.set_lot_step(btc(), dec!(0.00001));
    let (_, actions) = book.command(&[OrderCommand::Submit(entry())], Timestamp(0));
    place_all(&mut book, &actions, &mut 0);
    let reports = book.on_trades(&btc(), &[trade(10, 1, dec!(0.30), dec!(10000), 3_600_000)]);
    assert!(!reports.iter().any(|r| matches!(r, R::Resized { .. })));
    assert!(matches!(&reports[0], R::Fill(f) if f.fee_source == FeeSource::Quote));
}
