//! Exits a strategy proposes (the `llm` strategy's model): used only inside risk's bounds,
//! else risk's own, and the approval says which. Nothing proposed can size past risk.

use super::*;
use crate::model::ExitProposal;

fn propose(stop: Option<Decimal>, take_profit: Option<Decimal>) -> Option<ExitProposal> {
    Some(ExitProposal { stop, take_profit })
}

fn open_with(proposal: Option<ExitProposal>) -> (OrderIntent, Option<String>) {
    let portfolio = account(vec![]);
    let mut engine = engine();
    let intent = engine
        .evaluate_with(&btc(), &ctx(&portfolio), proposal)
        .unwrap();
    (intent, engine.last_exits().map(str::to_string))
}

fn stop_and_targets(intent: &OrderIntent) -> (Decimal, Vec<TakeProfit>, Decimal) {
    match intent {
        OrderIntent::Open {
            stop: Some(stop),
            take_profits,
            qty,
            ..
        } => (*stop, take_profits.clone(), *qty),
        other => panic!("expected an entry, got {other:?}"),
    }
}

#[test]
fn a_stop_inside_the_bounds_is_used_and_sizes_the_entry() {
    // Price 100, ATR 2: 1..4 ATR allows stops from 92 to 98. 97 is 1.5 ATR away.
    let (intent, exits) = open_with(propose(Some(dec!(97)), None));
    let (stop, targets, qty) = stop_and_targets(&intent);
    assert_eq!(stop, dec!(97));
    // The per-trade risk is kept: 100 at risk over a distance of 3 → 33.33, capped at 25 by
    // the asset exposure (2,500 / 100), as risk's own stop would be.
    assert_eq!(qty, dec!(25));
    // Risk's levels at 1.5 R and 3 R of the proposed distance, at the price's scale.
    assert_eq!(targets[0].price, dec!(105));
    assert_eq!(targets[1].price, dec!(109));
    assert_eq!(exits.as_deref(), Some("stop: the proposed 97 used"));
}

#[test]
fn a_stop_outside_the_bounds_is_replaced_by_risks_own_and_says_why() {
    for (proposed, why) in [
        // At the price's scale (whole units here) 99.5 is 99: half an ATR.
        (
            dec!(99.5),
            "0.5 ATR below the entry, tighter than risk.proposed_stop_min_atr 1",
        ),
        (
            dec!(80),
            "10 ATR below the entry, wider than risk.proposed_stop_max_atr 4",
        ),
        (dec!(101), "is not between 0 and the entry 100"),
        (dec!(-5), "is not between 0 and the entry 100"),
    ] {
        let (intent, exits) = open_with(propose(Some(proposed), None));
        let (stop, _, qty) = stop_and_targets(&intent);
        assert_eq!(stop, dec!(96), "risk's 2 ATR stop replaces {proposed}");
        assert_eq!(qty, dec!(25));
        let exits = exits.expect("the approval says which stop");
        assert!(exits.contains(why), "{proposed}: {exits}");
        assert!(exits.ends_with("risk's 96 used"), "{exits}");
    }
}

#[test]
fn a_wide_stop_never_raises_the_risk_taken() {
    // A 4 ATR stop (92) halves the quantity: the loss at the stop stays 1% of equity.
    let (intent, _) = open_with(propose(Some(dec!(92)), None));
    let (stop, _, qty) = stop_and_targets(&intent);
    assert_eq!(stop, dec!(92));
    assert_eq!(qty, dec!(12.5));
    assert_eq!(qty * (dec!(100) - stop), dec!(100));
}

#[test]
fn a_take_profit_inside_the_bounds_exits_the_whole_quantity_there() {
    let (intent, exits) = open_with(propose(None, Some(dec!(110))));
    let (stop, targets, _) = stop_and_targets(&intent);
    assert_eq!(stop, dec!(96));
    assert_eq!(
        targets,
        vec![TakeProfit {
            price: dec!(110),
            fraction: dec!(1)
        }]
    );
    assert_eq!(
        exits.as_deref(),
        Some("take-profit: the proposed 110 used for the whole quantity")
    );
}

#[test]
fn a_take_profit_outside_the_bounds_is_replaced_by_risks_levels() {
    // The stop's distance is 4: 1 R is 104, 10 R is 140.
    for (proposed, why) in [
        (
            dec!(103),
            "0.75 R above the entry, less than the stop's distance",
        ),
        (
            dec!(150),
            "12.5 R above the entry, beyond risk.proposed_target_max_r 10",
        ),
    ] {
        let (intent, exits) = open_with(propose(None, Some(proposed)));
        let (_, targets, _) = stop_and_targets(&intent);
        assert_eq!(targets.len(), 2, "risk's two levels replace {proposed}");
        assert_eq!(targets[0].price, dec!(106));
        let exits = exits.unwrap();
        assert!(exits.contains(why), "{proposed}: {exits}");
    }
}

#[test]
fn without_a_proposal_nothing_is_said_and_nothing_changes() {
    let (with_none, exits) = open_with(None);
    assert_eq!(exits, None);
    let portfolio = account(vec![]);
    let plain = engine().evaluate(&btc(), &ctx(&portfolio)).unwrap();
    assert_eq!(with_none, plain);
}
