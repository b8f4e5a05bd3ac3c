//! Position sizing: the stop, the take-profits, and the quantity that respects the per-trade
//! risk budget and every exposure cap.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use super::{Refusal, RiskConfig, RiskRule};
use crate::model::{tranches, ExitProposal, TakeProfit};

/// What bounded an approved order's size. Only the risk budget is the plan; any other limit
/// means the order was cut down (worth logging, not a refusal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SizeLimit {
    /// The per-trade risk budget (equity × risk % / stop distance).
    Risk,
    /// The room left under the asset exposure cap.
    AssetExposure,
    /// The room left under the sector exposure cap.
    SectorExposure,
    /// The room left under the total exposure cap.
    TotalExposure,
    /// The free cash (spot cannot spend more than it holds).
    Cash,
}

/// Market value already held, in the quote asset, that the new order adds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Exposure {
    /// Held in the signal's base asset (across all its pairs).
    pub asset: Decimal,
    /// Held in the base asset's sector.
    pub sector: Decimal,
    /// Held in all positions.
    pub total: Decimal,
}

/// The account and market a sizing decision is made in.
#[derive(Debug, Clone, Copy)]
pub struct SizingInput<'a> {
    /// Base asset code, for messages (`BTC`).
    pub asset: &'a str,
    /// The asset's sector, for messages.
    pub sector: &'a str,
    /// Entry price (the signal's close), > 0.
    pub price: Decimal,
    /// ATR at that close, > 0.
    pub atr: Decimal,
    /// Current equity.
    pub equity: Decimal,
    /// Free cash.
    pub cash: Decimal,
    /// What is already held.
    pub exposure: Exposure,
    /// Exits the strategy proposed (used only inside risk's bounds).
    pub proposal: Option<ExitProposal>,
}

/// A sized entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Sizing {
    /// Quantity, a multiple of `qty_step`.
    pub qty: Decimal,
    /// Stop price, at the price's scale, at least `stop_atr_mult` × ATR below the price.
    pub stop: Decimal,
    /// Take-profit levels.
    pub take_profits: Vec<TakeProfit>,
    /// What bounded the quantity.
    pub limited_by: SizeLimit,
    /// With a proposal: which exits were used and why, for the audit trail.
    pub exits: Option<String>,
}

/// Rounds `x` to 2 decimals for messages.
pub(crate) fn show(x: Decimal) -> Decimal {
    x.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
}

/// `part` as a percentage of `whole` (0 when `whole` is not positive).
pub(crate) fn percent_of(part: Decimal, whole: Decimal) -> Decimal {
    if whole > Decimal::ZERO {
        part * Decimal::ONE_HUNDRED / whole
    } else {
        Decimal::ZERO
    }
}

fn floor_to_step(qty: Decimal, step: Decimal) -> Decimal {
    (qty / step).floor() * step
}

fn ceil_to_step(qty: Decimal, step: Decimal) -> Decimal {
    (qty / step).ceil() * step
}

/// Sizes a long entry. The stop is `stop_atr_mult` × ATR below the price, rounded down to the
/// price's scale; the quantity is the smallest of the risk-budget quantity and the room under
/// the asset, sector and total exposure caps and the cash, rounded down to `qty_step`.
///
/// The smallest order is one whose every tranche, sold at the stop, clears the venue's
/// `min_notional` and lot step: a position whose stop the venue refuses would be held
/// unprotected.
///
/// Refusals, in this order: `Volatility` (the stop would not be positive), `PerTradeRisk`
/// (even the smallest order risks too much), `AssetExposure`, `SectorExposure`,
/// `TotalExposure` (no room for the smallest order), `MinNotional` (the cash cannot buy the
/// smallest order, the rounded order falls below `min_notional`, or one of its tranches at
/// the stop does).
pub fn size_entry(cfg: &RiskConfig, input: &SizingInput<'_>) -> Result<Sizing, Refusal> {
    let SizingInput {
        asset,
        sector,
        price,
        atr,
        equity,
        cash,
        exposure,
        proposal,
    } = *input;
    let hundred = Decimal::ONE_HUNDRED;
    let scale = price.scale();

    let raw_distance = cfg.stop_atr_mult * atr;
    let own_stop =
        (price - raw_distance).round_dp_with_strategy(scale, RoundingStrategy::ToNegativeInfinity);
    let mut notes = Vec::new();
    let stop = match proposal.and_then(|p| p.stop) {
        Some(proposed) => match proposed_stop(cfg, price, atr, proposed, scale) {
            Ok(stop) => {
                notes.push(format!("stop: the proposed {stop} used"));
                stop
            }
            Err(why) => {
                notes.push(format!(
                    "stop: the proposed {proposed} {why}; risk's {own_stop} used"
                ));
                own_stop
            }
        },
        None => own_stop,
    };
    if stop <= Decimal::ZERO {
        return Err(Refusal::new(
            RiskRule::Volatility,
            format!(
                "stop {}×ATR {} below price {price} would be {stop}, not positive",
                cfg.stop_atr_mult,
                show(atr)
            ),
        ));
    }
    let distance = price - stop;

    // The smallest order the venue accepts, with every exit: at least one step and
    // `min_notional` worth, and its smallest tranche as much at the stop price.
    let smallest_exit = (cfg.min_notional / stop).max(cfg.qty_step);
    let min_qty = ceil_to_step(
        (cfg.min_notional / price)
            .max(cfg.qty_step)
            .max(smallest_exit / smallest_tranche_share(cfg)),
        cfg.qty_step,
    );
    let min_order = min_qty * price;
    let budget = equity * cfg.max_risk_per_trade_pct / hundred;
    let min_risk = min_qty * distance;
    if min_risk > budget {
        return Err(Refusal::new(
            RiskRule::PerTradeRisk,
            format!(
                "the smallest order ({} {asset} = {} at {price}) would risk {} = {}% of equity {} > {}% (stop {stop})",
                min_qty.normalize(),
                show(min_order),
                show(min_risk),
                show(percent_of(min_risk, equity)),
                show(equity),
                cfg.max_risk_per_trade_pct
            ),
        ));
    }
    let mut qty = budget / distance;
    let mut limited_by = SizeLimit::Risk;

    let caps = [
        (
            SizeLimit::AssetExposure,
            RiskRule::AssetExposure,
            cfg.max_asset_exposure_pct,
            exposure.asset,
        ),
        (
            SizeLimit::SectorExposure,
            RiskRule::SectorExposure,
            cfg.max_sector_exposure_pct,
            exposure.sector,
        ),
        (
            SizeLimit::TotalExposure,
            RiskRule::TotalExposure,
            cfg.max_total_exposure_pct,
            exposure.total,
        ),
    ];
    for (limit, rule, cap_pct, held) in caps {
        let room = equity * cap_pct / hundred - held;
        if room < min_order {
            let what = match limit {
                SizeLimit::AssetExposure => format!("exposure to {asset}"),
                SizeLimit::SectorExposure => format!("exposure to sector {sector}"),
                _ => "total exposure".to_string(),
            };
            return Err(Refusal::new(
                rule,
                format!(
                    "{what} would be {}% > {cap_pct}% of equity {} (held {}, smallest order {})",
                    show(percent_of(held + min_order, equity)),
                    show(equity),
                    show(held),
                    show(min_order)
                ),
            ));
        }
        let room_qty = room / price;
        if room_qty < qty {
            qty = room_qty;
            limited_by = limit;
        }
    }
    if cash < min_order {
        return Err(Refusal::new(
            RiskRule::MinNotional,
            format!(
                "cash {} cannot buy the smallest order {} (min notional {})",
                show(cash),
                show(min_order),
                cfg.min_notional
            ),
        ));
    }
    if cash / price < qty {
        qty = cash / price;
        limited_by = SizeLimit::Cash;
    }

    let qty = floor_to_step(qty, cfg.qty_step);
    let notional = qty * price;
    if qty <= Decimal::ZERO || notional < cfg.min_notional {
        return Err(Refusal::new(
            RiskRule::MinNotional,
            format!(
                "order {} {asset} × {price} = {} < min notional {}",
                qty.normalize(),
                show(notional),
                cfg.min_notional
            ),
        ));
    }
    let own_targets = || -> Vec<TakeProfit> {
        cfg.take_profits
            .iter()
            .map(|level| TakeProfit {
                price: (price + level.r_multiple * distance)
                    .round_dp_with_strategy(scale, RoundingStrategy::MidpointAwayFromZero),
                fraction: level.fraction,
            })
            .collect()
    };
    let take_profits = match proposal.and_then(|p| p.take_profit) {
        Some(proposed) => match proposed_target(cfg, price, distance, proposed, scale) {
            Ok(target) => {
                notes.push(format!(
                    "take-profit: the proposed {target} used for the whole quantity"
                ));
                vec![TakeProfit {
                    price: target,
                    fraction: Decimal::ONE,
                }]
            }
            Err(why) => {
                notes.push(format!(
                    "take-profit: the proposed {proposed} {why}; risk's levels used"
                ));
                own_targets()
            }
        },
        None => own_targets(),
    };
    let qty = qty.normalize();
    // The split rounds each tranche down: check the exits as they will be placed.
    let exits = tranches(qty, &take_profits);
    if let Some((n, exit)) = exits
        .iter()
        .enumerate()
        .find(|(_, exit)| exit.qty < cfg.qty_step || exit.qty * stop < cfg.min_notional)
    {
        return Err(Refusal::new(
            RiskRule::MinNotional,
            format!(
                "tranche {} of the order ({} of {} {asset}) × its stop {stop} = {} < min notional {} (or below the lot step {}): the venue would refuse that exit",
                n + 1,
                exit.qty.normalize(),
                qty,
                show(exit.qty * stop),
                cfg.min_notional,
                cfg.qty_step.normalize()
            ),
        ));
    }
    Ok(Sizing {
        qty,
        stop,
        take_profits,
        limited_by,
        exits: (!notes.is_empty()).then(|| notes.join("; ")),
    })
}

/// A proposed stop, at the price's scale, if it lies `proposed_stop_min_atr` to
/// `proposed_stop_max_atr` ATRs below the price; else why not.
fn proposed_stop(
    cfg: &RiskConfig,
    price: Decimal,
    atr: Decimal,
    proposed: Decimal,
    scale: u32,
) -> Result<Decimal, String> {
    let stop = proposed.round_dp_with_strategy(scale, RoundingStrategy::ToNegativeInfinity);
    if stop <= Decimal::ZERO || stop >= price {
        return Err(format!("is not between 0 and the entry {price}"));
    }
    let atrs = (price - stop) / atr;
    if atrs < cfg.proposed_stop_min_atr {
        return Err(format!(
            "is {} ATR below the entry, tighter than risk.proposed_stop_min_atr {}",
            show(atrs),
            cfg.proposed_stop_min_atr
        ));
    }
    if atrs > cfg.proposed_stop_max_atr {
        return Err(format!(
            "is {} ATR below the entry, wider than risk.proposed_stop_max_atr {}",
            show(atrs),
            cfg.proposed_stop_max_atr
        ));
    }
    Ok(stop)
}

/// A proposed take-profit, at the price's scale, if it lies 1 to `proposed_target_max_r`
/// stop distances above the price; else why not.
fn proposed_target(
    cfg: &RiskConfig,
    price: Decimal,
    distance: Decimal,
    proposed: Decimal,
    scale: u32,
) -> Result<Decimal, String> {
    let target = proposed.round_dp_with_strategy(scale, RoundingStrategy::ToPositiveInfinity);
    let r = (target - price) / distance;
    if r < Decimal::ONE {
        return Err(format!(
            "is {} R above the entry, less than the stop's distance",
            show(r)
        ));
    }
    if r > cfg.proposed_target_max_r {
        return Err(format!(
            "is {} R above the entry, beyond risk.proposed_target_max_r {}",
            show(r),
            cfg.proposed_target_max_r
        ));
    }
    Ok(target)
}

/// The smallest share of an entry that one of its tranches gets, as the order manager splits
/// it: the smallest take-profit fraction, or what the fractions leave to the stop alone.
fn smallest_tranche_share(cfg: &RiskConfig) -> Decimal {
    let unit = Decimal::new(1_000_000_000_000, 12);
    let levels: Vec<TakeProfit> = cfg
        .take_profits
        .iter()
        .map(|level| TakeProfit {
            price: Decimal::ZERO,
            fraction: level.fraction,
        })
        .collect();
    tranches(unit, &levels)
        .iter()
        .map(|t| t.qty)
        .min()
        .filter(|share| *share > Decimal::ZERO)
        .unwrap_or(Decimal::ONE)
}
