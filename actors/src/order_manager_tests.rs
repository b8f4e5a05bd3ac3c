//! The order manager actor restarted while a command it handed over still waits at
//! execution: the journalled venue does not know the order yet, and the order is not in doubt.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Instant;

use actix::prelude::*;
use keel_core::execution::{FillConfig, SimExchange};
use keel_core::order_manager::{OrderCommand, OrderManager, OrderManagerConfig};
use keel_core::risk::Approval;
use keel_core::testing::{btc, candles};
use keel_supervision::{HealthRegistry, MailboxGauge, Strategy, SupervisorConfig};
use rust_decimal_macros::dec;

use super::{OmRehydration, OrderManagerActor};
use crate::journal::{AnsweredCall, Journal, SledStore, VenueCall};
use crate::messages::{Approved, Execute, FlattenAll, PortfolioUpdated, Record};
use crate::model::{OrderIntent, OrderStatus, TakeProfit};
use crate::runtime::test_wait::until;
use crate::runtime::{ActorHandle, Chaos, Inbox, Inflight, Supervision, TreeSpec};

/// Keeps what it is sent and handles none of it: execution with the command still queued.
#[derive(Default)]
struct Holds {
    executes: Rc<RefCell<Vec<Execute>>>,
}

impl Actor for Holds {
    type Context = Context<Self>;
}

impl Handler<Execute> for Holds {
    type Result = ();

    fn handle(&mut self, msg: Execute, _: &mut Self::Context) {
        self.executes.borrow_mut().push(msg);
    }
}

impl Handler<PortfolioUpdated> for Holds {
    type Result = ();

    fn handle(&mut self, _: PortfolioUpdated, _: &mut Self::Context) {}
}

/// A tree holding only the order manager, and its handle.
fn supervised() -> (Supervision, ActorHandle) {
    let config = SupervisorConfig::default();
    let supervision = Supervision::new(
        &config,
        &TreeSpec::flat("root", Strategy::OneForOne, &["order_manager"]),
        HealthRegistry::new(config.intensity.window()),
        Rc::new(std::cell::Cell::new(false)),
        1,
    );
    let handle = supervision.register("order_manager");
    (supervision, handle)
}

/// An order manager trading BTC from 10,000 USDT, sending everything to `sink`.
fn start_order_manager(
    sink: &Addr<Holds>,
    journal: Option<Journal<SledStore>>,
    handle: &ActorHandle,
) -> Addr<OrderManagerActor> {
    let fresh = OrderManager::new(OrderManagerConfig::default(), dec!(10000));
    OrderManagerActor::new(
        fresh.clone(),
        vec![btc()],
        Inbox::new(sink.clone().recipient(), MailboxGauge::default()),
        Inbox::new(sink.clone().recipient(), MailboxGauge::default()),
        Vec::new(),
        journal,
        OmRehydration {
            orders: OrderManagerConfig::default(),
            venue: FillConfig::default(),
            fresh,
            supervision: handle.clone(),
        },
    )
    .start()
}

/// Risk's approval of a BTC entry at `candle`'s close.
fn approved_entry(candle: &crate::model::Candle, inflight: &Inflight) -> Approved {
    Approved {
        candle: candle.clone(),
        atr: None,
        approval: open_btc(candle.close, candle.close_time()),
        born: Instant::now(),
        ticket: inflight.ticket(),
    }
}

fn open_btc(price: rust_decimal::Decimal, ts: crate::model::Timestamp) -> Approval {
    Approval {
        intent: Some(OrderIntent::Open {
            symbol: btc(),
            qty: dec!(1.00),
            stop: Some(price - dec!(4)),
            take_profits: vec![TakeProfit {
                price: price + dec!(3),
                fraction: dec!(1),
            }],
            ts,
        }),
        ..Approval::default()
    }
}

#[test]
fn a_restart_while_its_command_waits_at_execution_does_not_reject_the_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::open(SledStore::open(dir.path()).unwrap()).unwrap();
    let bars = candles(3);
    // The venue has journalled its state (it knows no order yet): what a restart reconciles
    // against.
    let venue = SimExchange::new(FillConfig::default());
    let answered = AnsweredCall {
        call: VenueCall::Bar {
            symbol: btc(),
            close_time: bars[0].close_time(),
        },
        reports: Vec::new(),
    };
    journal.save_venue(&venue, &answered).unwrap();

    let (supervision, handle) = supervised();
    let holds = Holds::default();
    let executes = holds.executes.clone();
    let handed_over = executes.clone();
    let record = System::new().block_on(async move {
        let sink = holds.start();
        let addr = start_order_manager(&sink, Some(journal), &handle);
        let om = Inbox::of(&addr, &handle);
        let inflight = Inflight::new();
        om.send(approved_entry(&bars[1], &inflight));
        until("the entry handed to execution", || {
            !executes.borrow().is_empty()
        })
        .await;
        // The next message finds the actor failing: it restarts, rehydrates and reconciles
        // while the entry's command still waits at execution.
        handle.inject(Chaos::Panic);
        let next = &bars[2];
        om.send(Approved {
            candle: next.clone(),
            atr: None,
            approval: Approval::default(),
            born: Instant::now(),
            ticket: inflight.ticket(),
        });
        until("the order manager restarted", || {
            supervision.stats().restarts.contains_key("order_manager")
        })
        .await;
        Inbox::of(&addr, &handle)
            .ask(Record)
            .await
            .unwrap()
            .unwrap()
    });
    assert_eq!(
        handed_over.borrow().len(),
        1,
        "the entry was handed over once"
    );
    let entry = record
        .orders
        .iter()
        .find(|o| o.request.symbol == btc())
        .expect("the entry is in the record");
    assert_ne!(
        entry.status,
        OrderStatus::Rejected,
        "an order waiting at execution is not 'never reached': {entry:?}"
    );
}

#[test]
fn a_flatten_from_the_operator_acts_at_once_without_waiting_for_a_bar() {
    let (_tree, handle) = supervised();
    let holds = Holds::default();
    let executes = holds.executes.clone();
    let handed = executes.clone();
    let bars = candles(2);
    System::new().block_on(async move {
        let sink = holds.start();
        let addr = start_order_manager(&sink, None, &handle);
        let om = Inbox::of(&addr, &handle);
        let inflight = Inflight::new();
        om.send(approved_entry(&bars[1], &inflight));
        Inbox::of(&addr, &handle).send(FlattenAll {
            ticket: inflight.ticket(),
        });
        until("the flatten handed to execution", || {
            executes.borrow().len() >= 2
        })
        .await;
    });
    let executes = handed.borrow();
    let entry = match &executes[0].commands[..] {
        [OrderCommand::Submit(request)] => request.client_order_id.clone(),
        other => panic!("the entry first: {other:?}"),
    };
    // No position yet, an entry working: the flatten cancels it (its exits go with it).
    assert!(
        executes[1]
            .commands
            .iter()
            .any(|c| matches!(c, OrderCommand::Cancel { id } if *id == entry)),
        "{:?}",
        executes[1].commands
    );
}

/// With the `failpoints` feature: the journal's writes fail (the `return` action of
/// `journal.inside_write`), as on a full disk.
#[cfg(feature = "failpoints")]
mod failpoint_journal_write_fails {
    use super::*;

    #[test]
    fn orders_wait_while_the_journal_cannot_be_written_and_leave_once_when_it_can() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(SledStore::open(dir.path()).unwrap()).unwrap();
        let bars = candles(3);
        let (_supervision, handle) = supervised();
        let board = handle.board().clone();
        let holds = Holds::default();
        let executes = holds.executes.clone();
        // Only this test's store fails: other tests run beside it in this process.
        let only_here = format!("return({})", dir.path().display());
        let (while_failing, after_healing, failure_told) = System::new().block_on(async move {
            let sink = holds.start();
            let addr = start_order_manager(&sink, Some(journal), &handle);
            let om = Inbox::of(&addr, &handle);
            let inflight = Inflight::new();
            fail::cfg("journal.inside_write", &only_here).unwrap();
            om.send(approved_entry(&bars[1], &inflight));
            tokio::time::timeout(std::time::Duration::from_secs(180), inflight.idle())
                .await
                .expect("the approval was never handled");
            let while_failing = executes.borrow().len();
            let failure_told = handle.board().journal_failure();
            // The disk takes writes again: the next bar's message writes, then sends.
            fail::remove("journal.inside_write");
            om.send(Approved {
                candle: bars[2].clone(),
                atr: None,
                approval: Approval::default(),
                born: Instant::now(),
                ticket: inflight.ticket(),
            });
            // Execution (here: a sink keeping the messages, tickets and all) receives it.
            until(
                "the held entry leaving once the journal can record it",
                || !executes.borrow().is_empty(),
            )
            .await;
            let sent: Vec<OrderCommand> = executes
                .borrow()
                .iter()
                .flat_map(|e| e.commands.clone())
                .collect();
            (while_failing, sent, failure_told)
        });
        assert_eq!(
            while_failing, 0,
            "an order the journal could not record left the process"
        );
        let why = failure_told.expect("the board told the operator");
        assert!(why.contains("the disk refused the write"), "{why}");
        let sent = after_healing;
        assert!(
            matches!(sent[..], [OrderCommand::Submit(_)]),
            "the held entry leaves once, when the journal records it: {sent:?}"
        );
        assert_eq!(board.journal_failure(), None, "the failure is over");
        // What left is durable: a new process finds the entry in the journal.
        drop(_supervision);
        let recovered = Journal::open(SledStore::open(dir.path()).unwrap())
            .unwrap()
            .load()
            .unwrap();
        let om =
            OrderManager::from_state(OrderManagerConfig::default(), recovered.om.unwrap()).unwrap();
        let OrderCommand::Submit(request) = &sent[0] else {
            unreachable!()
        };
        assert!(om.order(&request.client_order_id).is_some());
    }
}
