//! The venue's persistent state (orders in the shared `SimExchange`, the Binance-side order
//! registry, order lists, trades, balances, locks, the replay cursor and the submission log)
//! and its sled store, written and flushed before any answer or stream event that depends on
//! it.
//!
//! Layout (so that a save costs what changed, not the whole history): `core` holds the
//! balances, locks, cursors and the fill model's state; every order, order list, trade and
//! submission is a record of its own (`order/…`, `list/…`, `trade/…`, `sub/…`, zero-padded
//! so that key order is id order). Trades and submissions are only ever appended; an order
//! record is rewritten until it is finished, after which it never changes.

use crate::unpoisoned;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Mutex;

use keel_binance::wire::{MyTrade, OrderSide, OrderState, OrderType};
use keel_core::execution::SimExchangeState;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Marks a state directory as this server's (and its layout's version).
const FORMAT: &str = "keel-sim-exchange/2";

/// One order as Binance reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderRecord {
    /// The symbol.
    pub symbol: String,
    /// The venue's id.
    pub order_id: u64,
    /// The order list, `-1` if none.
    pub order_list_id: i64,
    /// The client's id.
    pub client_order_id: String,
    /// Buy or sell.
    pub side: OrderSide,
    /// Binance order type.
    pub order_type: OrderType,
    /// Limit price (`0` for market and stop-loss orders).
    pub price: Decimal,
    /// Trigger (`0` when none).
    pub stop_price: Decimal,
    /// Quantity ordered.
    pub orig_qty: Decimal,
    /// Quantity executed.
    pub executed_qty: Decimal,
    /// Quote spent or received.
    pub cummulative_quote_qty: Decimal,
    /// Status.
    pub status: OrderState,
    /// When it was placed (server time, ms).
    pub time: i64,
    /// When it last changed (server time, ms).
    pub update_time: i64,
    /// The balance lock it draws on (shared by both legs of an OCO list).
    pub lock: String,
}

/// An OCO order list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListRecord {
    /// The venue's id.
    pub order_list_id: i64,
    /// The client's id.
    pub list_client_order_id: String,
    /// The symbol.
    pub symbol: String,
    /// The two legs' order ids (above, below).
    pub orders: [u64; 2],
    /// When it was placed.
    pub time: i64,
}

/// Balance held for open orders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lock {
    /// The asset.
    pub asset: String,
    /// How much.
    pub amount: Decimal,
}

/// One asset's balance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Holding {
    /// Available.
    pub free: Decimal,
    /// Held by open orders.
    pub locked: Decimal,
}

/// Everything the venue persists.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VenueState {
    /// The shared fill model's orders, trade id sequence and last bars.
    pub sim: SimExchangeState,
    /// Every order ever accepted, by order id.
    pub orders: BTreeMap<u64, OrderRecord>,
    /// Every order list, by id.
    pub lists: BTreeMap<i64, ListRecord>,
    /// Every trade, ascending by id.
    pub trades: Vec<MyTrade>,
    /// Balances by asset.
    pub balances: BTreeMap<String, Holding>,
    /// Open locks by key.
    pub locks: BTreeMap<String, Lock>,
    /// How many bars of the merged replay have closed (history included).
    pub cursor: usize,
    /// The last order id handed out.
    pub last_order_id: u64,
    /// The last order list id handed out.
    pub last_list_id: i64,
    /// Client order ids of every order-creating request, in arrival order.
    pub submissions: Vec<String>,
    /// When the account last changed.
    pub update_time: i64,
}

/// The sled store behind [`VenueState`].
#[derive(Debug)]
pub struct Store {
    db: sled::Db,
    written: Mutex<Written>,
}

/// What was written last, so that a save writes only what changed.
#[derive(Debug, Default)]
struct Written {
    /// The bytes of each open order as last written.
    open_orders: HashMap<u64, Vec<u8>>,
    /// Orders written finished: they never change again.
    finished_orders: HashSet<u64>,
    /// Lists written (a list record never changes).
    lists: HashSet<i64>,
    trades: usize,
    submissions: usize,
}

impl Written {
    /// Remembers `order` as written with `bytes`.
    fn order(&mut self, order: &OrderRecord, bytes: Vec<u8>) {
        if order.status.is_open() {
            self.open_orders.insert(order.order_id, bytes);
        } else {
            self.open_orders.remove(&order.order_id);
            self.finished_orders.insert(order.order_id);
        }
    }
}

fn order_key(id: u64) -> String {
    format!("order/{id:020}")
}
fn list_key(id: i64) -> String {
    format!("list/{:020}", id as u64)
}
fn trade_key(n: usize) -> String {
    format!("trade/{n:020}")
}
fn sub_key(n: usize) -> String {
    format!("sub/{n:020}")
}

/// Why a state directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// sled could not open or write it.
    #[error("state directory {dir}: {source}")]
    Sled {
        /// The directory.
        dir: String,
        /// sled's error.
        source: sled::Error,
    },
    /// It holds something else.
    #[error("state directory {dir}: {msg}; refusing to start (move it away to start afresh)")]
    Foreign {
        /// The directory.
        dir: String,
        /// What is wrong.
        msg: String,
    },
}

impl Store {
    /// Opens `dir` (created if absent) for the markets `symbols`, returning the saved state if
    /// any. A directory holding anything but this server's state for the same symbols is an
    /// error, never a silent reset.
    pub fn open(dir: &Path, symbols: &[String]) -> Result<(Self, Option<VenueState>), StoreError> {
        let name = dir.display().to_string();
        let foreign = |msg: String| StoreError::Foreign {
            dir: name.clone(),
            msg,
        };
        if dir.exists() {
            let entries: Vec<String> = std::fs::read_dir(dir)
                .map_err(|e| foreign(format!("cannot list: {e}")))?
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            if !entries.is_empty() && !entries.iter().any(|e| e == "conf" || e == "db") {
                return Err(foreign(format!(
                    "not a sled database (holds {})",
                    entries.join(", ")
                )));
            }
        }
        let sled_err = |source| StoreError::Sled {
            dir: name.clone(),
            source,
        };
        let db = sled::open(dir).map_err(sled_err)?;
        let format = db.get("format").map_err(sled_err)?;
        let saved = match format {
            None if db.is_empty() => None,
            None => return Err(foreign("a sled database of something else".into())),
            Some(f) if f.as_ref() != FORMAT.as_bytes() => {
                return Err(foreign(format!(
                    "format `{}`, expected `{FORMAT}`",
                    String::from_utf8_lossy(&f)
                )))
            }
            Some(_) => {
                let saved_symbols: Vec<String> = db
                    .get("markets")
                    .map_err(sled_err)?
                    .and_then(|v| serde_json::from_slice(&v).ok())
                    .ok_or_else(|| foreign("the market list is missing or corrupt".into()))?;
                if saved_symbols != symbols {
                    return Err(foreign(format!(
                        "it serves markets {saved_symbols:?}, the config {symbols:?}"
                    )));
                }
                Some(load(&db).map_err(|e| foreign(format!("the venue state is corrupt: {e}")))?)
            }
        };
        if saved.is_none() {
            db.insert("format", FORMAT).map_err(sled_err)?;
            let list = serde_json::to_vec(symbols).expect("a list of strings serialises");
            db.insert("markets", list).map_err(sled_err)?;
        }
        let written = Written {
            trades: saved.as_ref().map_or(0, |s| s.trades.len()),
            submissions: saved.as_ref().map_or(0, |s| s.submissions.len()),
            ..Written::default()
        };
        let store = Self {
            db,
            written: Mutex::new(written),
        };
        if let Some(state) = &saved {
            // What is on disk is what was loaded: remember it without rewriting it.
            let mut w = unpoisoned(&store.written);
            for order in state.orders.values() {
                w.order(order, encode(order));
            }
            w.lists.extend(state.lists.keys().copied());
        }
        Ok((store, saved))
    }

    /// Writes what changed in `state` since the last save, in one batch, and flushes it.
    pub fn save(&self, state: &VenueState) -> Result<(), sled::Error> {
        let mut w = unpoisoned(&self.written);
        let mut batch = sled::Batch::default();
        let mut changed: Vec<&OrderRecord> = Vec::new();
        for (id, order) in &state.orders {
            if w.finished_orders.contains(id) {
                continue;
            }
            let bytes = encode(order);
            if w.open_orders.get(id) != Some(&bytes) {
                batch.insert(order_key(*id).as_bytes(), bytes);
                changed.push(order);
            }
        }
        let new_lists: Vec<i64> = state
            .lists
            .keys()
            .copied()
            .filter(|id| !w.lists.contains(id))
            .collect();
        for id in &new_lists {
            batch.insert(list_key(*id).as_bytes(), encode(&state.lists[id]));
        }
        for (n, trade) in state.trades.iter().enumerate().skip(w.trades) {
            batch.insert(trade_key(n).as_bytes(), encode(trade));
        }
        for (n, id) in state.submissions.iter().enumerate().skip(w.submissions) {
            batch.insert(sub_key(n).as_bytes(), id.as_bytes());
        }
        batch.insert("core", encode(&core_of(state)));
        self.db.apply_batch(batch)?;
        self.db.flush()?;
        for order in changed {
            w.order(order, encode(order));
        }
        w.lists.extend(new_lists);
        w.trades = state.trades.len();
        w.submissions = state.submissions.len();
        Ok(())
    }
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("the venue state serialises")
}

/// The state without its per-record collections.
fn core_of(state: &VenueState) -> VenueState {
    VenueState {
        sim: state.sim.clone(),
        orders: BTreeMap::new(),
        lists: BTreeMap::new(),
        trades: Vec::new(),
        balances: state.balances.clone(),
        locks: state.locks.clone(),
        cursor: state.cursor,
        last_order_id: state.last_order_id,
        last_list_id: state.last_list_id,
        submissions: Vec::new(),
        update_time: state.update_time,
    }
}

/// Reads the state back from its records.
fn load(db: &sled::Db) -> Result<VenueState, String> {
    let bytes = db
        .get("core")
        .map_err(|e| e.to_string())?
        .ok_or("the core record is missing")?;
    let mut state: VenueState = serde_json::from_slice(&bytes).map_err(|e| format!("core: {e}"))?;
    let scan = |prefix: &str| -> Result<Vec<(String, sled::IVec)>, String> {
        db.scan_prefix(prefix)
            .map(|kv| {
                kv.map(|(k, v)| (String::from_utf8_lossy(&k).into_owned(), v))
                    .map_err(|e| e.to_string())
            })
            .collect()
    };
    for (key, value) in scan("order/")? {
        let order: OrderRecord =
            serde_json::from_slice(&value).map_err(|e| format!("{key}: {e}"))?;
        state.orders.insert(order.order_id, order);
    }
    for (key, value) in scan("list/")? {
        let list: ListRecord = serde_json::from_slice(&value).map_err(|e| format!("{key}: {e}"))?;
        state.lists.insert(list.order_list_id, list);
    }
    for (key, value) in scan("trade/")? {
        let trade: MyTrade = serde_json::from_slice(&value).map_err(|e| format!("{key}: {e}"))?;
        state.trades.push(trade);
    }
    for (key, value) in scan("sub/")? {
        let id = String::from_utf8(value.to_vec()).map_err(|e| format!("{key}: {e}"))?;
        state.submissions.push(id);
    }
    Ok(state)
}
