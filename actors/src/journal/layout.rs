//! How the order manager's and the venue's states are laid out as records.
//!
//! A state is split into many small records so that a save writes only what changed: the
//! order manager's scalar core, one record per order (by index), per closed trade (by
//! index, append-only) and per applied trade id (append-only); the venue's core (resting
//! orders, sequences) and one record per recently finished order. Writing whole states
//! instead made every save grow with the run and left sled a trail of large stale values.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::checksum::{seal, unseal};
use super::records::{decode, encode, JournalError};
use crate::model::{ClosedTrade, Decimal, Symbol, Timestamp, TradeId};
use keel_core::execution::{RestingOrder, SimExchangeState, VenueOrder};
use keel_core::order_manager::{OrderManagerState, SymbolState, TrackedOrder};

/// The order manager's scalar record.
pub const OM_CORE_KEY: &str = "om/core";
const OM_ORDER: &str = "om/order/";
const OM_TRADE: &str = "om/trade/";
const OM_APPLIED: &str = "om/applied/";
/// Prefix of every order-manager record.
pub const OM_PREFIX: &str = "om/";
/// The venue's scalar record.
pub const VENUE_CORE_KEY: &str = "venue/core";
const VENUE_FINISHED: &str = "venue/finished/";
/// Prefix of every venue record.
pub const VENUE_PREFIX: &str = "venue/";

#[derive(Serialize, Deserialize)]
struct OmCore {
    last_seq: u64,
    cash: Decimal,
    fees_paid: Decimal,
    symbols: Vec<SymbolState>,
    anomalies: Vec<String>,
    orders: usize,
    trades: usize,
}

#[derive(Serialize, Deserialize)]
struct VenueCore {
    books: BTreeMap<Symbol, Vec<RestingOrder>>,
    last_trade_id: u64,
    last_bar: BTreeMap<Symbol, Timestamp>,
    /// Absent in a journal written before the venue kept the account's cash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cash: Option<Decimal>,
}

/// Records as (key, encoded value).
pub type Records = Vec<(String, Vec<u8>)>;

/// The order manager's state as records.
pub fn om_records(state: &OrderManagerState) -> Result<Records, JournalError> {
    let core = OmCore {
        last_seq: state.last_seq,
        cash: state.cash,
        fees_paid: state.fees_paid,
        symbols: state.symbols.clone(),
        anomalies: state.anomalies.clone(),
        orders: state.orders.len(),
        trades: state.closed_trades.len(),
    };
    let mut records = vec![(OM_CORE_KEY.to_string(), encode(OM_CORE_KEY, &core)?)];
    for (i, order) in state.orders.iter().enumerate() {
        let key = format!("{OM_ORDER}{i:08}");
        let bytes = encode(&key, order)?;
        records.push((key, bytes));
    }
    for (i, trade) in state.closed_trades.iter().enumerate() {
        let key = format!("{OM_TRADE}{i:08}");
        let bytes = encode(&key, trade)?;
        records.push((key, bytes));
    }
    for id in &state.applied_trades {
        // The key holds the trade id; the value only its checksum.
        let key = format!("{OM_APPLIED}{:020}", id.0);
        let bytes = seal(&key, b"");
        records.push((key, bytes));
    }
    Ok(records)
}

/// Reassembles the order manager's state from its records (all under [`OM_PREFIX`], in key
/// order); `None` when nothing was saved.
pub fn om_from_records(records: &Records) -> Result<Option<OrderManagerState>, JournalError> {
    let Some((_, core)) = records.iter().find(|(k, _)| k == OM_CORE_KEY) else {
        return nothing_saved(records, OM_CORE_KEY);
    };
    let core: OmCore = decode(OM_CORE_KEY, core)?;
    let mut orders: Vec<TrackedOrder> = Vec::with_capacity(core.orders);
    let mut trades: Vec<ClosedTrade> = Vec::with_capacity(core.trades);
    let mut applied = Vec::new();
    for (key, bytes) in records {
        if key.starts_with(OM_ORDER) {
            orders.push(decode(key, bytes)?);
        } else if key.starts_with(OM_TRADE) {
            trades.push(decode(key, bytes)?);
        } else if let Some(id) = key.strip_prefix(OM_APPLIED) {
            match unseal(key, bytes) {
                Ok([]) => {}
                Ok(_) => return Err(corrupt(key, "holds a value, where only a checksum belongs")),
                Err(reason) => return Err(corrupt(key, &reason)),
            }
            let id = id.parse().map_err(|_| corrupt(key, "not a trade id"))?;
            applied.push(TradeId(id));
        }
    }
    if orders.len() != core.orders || trades.len() != core.trades {
        return Err(corrupt(
            OM_CORE_KEY,
            &format!(
                "expects {} orders and {} trades, the journal holds {} and {}",
                core.orders,
                core.trades,
                orders.len(),
                trades.len()
            ),
        ));
    }
    Ok(Some(OrderManagerState {
        last_seq: core.last_seq,
        cash: core.cash,
        fees_paid: core.fees_paid,
        orders,
        symbols: core.symbols,
        applied_trades: applied,
        closed_trades: trades,
        anomalies: core.anomalies,
    }))
}

/// The venue's state as records. Finished orders are keyed by a sequence the caller assigns
/// (`key_of(client id)`), so that their order survives a reload.
pub fn venue_records(
    state: &SimExchangeState,
    key_of: &mut dyn FnMut(&str) -> String,
) -> Result<Records, JournalError> {
    let core = VenueCore {
        books: state.books.clone(),
        last_trade_id: state.last_trade_id,
        last_bar: state.last_bar.clone(),
        cash: state.cash,
    };
    let mut records = vec![(VENUE_CORE_KEY.to_string(), encode(VENUE_CORE_KEY, &core)?)];
    for order in &state.finished {
        let key = key_of(order.request.client_order_id.as_str());
        let bytes = encode(&key, order)?;
        records.push((key, bytes));
    }
    Ok(records)
}

/// Reassembles the venue's state (finished orders in their sequence).
pub fn venue_from_records(records: &Records) -> Result<Option<SimExchangeState>, JournalError> {
    let Some((_, core)) = records.iter().find(|(k, _)| k == VENUE_CORE_KEY) else {
        return nothing_saved(records, VENUE_CORE_KEY);
    };
    let core: VenueCore = decode(VENUE_CORE_KEY, core)?;
    let finished = records
        .iter()
        .filter(|(k, _)| k.starts_with(VENUE_FINISHED))
        .map(|(k, bytes)| decode::<VenueOrder>(k, bytes))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(SimExchangeState {
        books: core.books,
        last_trade_id: core.last_trade_id,
        last_bar: core.last_bar,
        finished,
        cash: core.cash,
    }))
}

/// The key of the finished order with sequence number `seq`.
pub fn finished_key(seq: u64) -> String {
    format!("{VENUE_FINISHED}{seq:012}")
}

/// The sequence number in a finished order's key.
pub fn finished_seq(key: &str) -> Option<u64> {
    key.strip_prefix(VENUE_FINISHED)?.parse().ok()
}

/// The client order id a finished-order record holds.
pub fn finished_id(key: &str, bytes: &[u8]) -> Result<String, JournalError> {
    let order: VenueOrder = decode(key, bytes)?;
    Ok(order.request.client_order_id.as_str().to_string())
}

/// `None` when no record of a state was saved; an error when its core record is missing
/// among the others (written in the same batches, it never is): the state would otherwise
/// load as never saved, and a restart start from nothing.
fn nothing_saved<T>(records: &Records, core: &str) -> Result<Option<T>, JournalError> {
    if records.is_empty() {
        return Ok(None);
    }
    Err(corrupt(
        core,
        &format!(
            "missing, while {} records of its state are present",
            records.len()
        ),
    ))
}

fn corrupt(key: &str, reason: &str) -> JournalError {
    JournalError::Corrupt {
        key: key.to_string(),
        reason: reason.to_string(),
    }
}
