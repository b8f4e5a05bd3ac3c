//! The venue's persistent state (orders in the shared `SimExchange`, the Binance-side order
//! registry, order lists, trades, balances, locks, the replay cursor and the submission log)
//! and its sled store. Everything is one JSON document under one key, written and flushed
//! before any answer or stream event that depends on it.

use std::collections::BTreeMap;
use std::path::Path;

use keel_actors::binance::wire::{MyTrade, OrderSide, OrderState, OrderType};
use keel_actors::execution::SimExchangeState;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Marks a state directory as this server's (and its layout's version).
const FORMAT: &str = "keel-sim-exchange/1";

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
#[derive(Debug, Clone)]
pub struct Store {
    db: sled::Db,
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
                let bytes = db
                    .get("venue")
                    .map_err(sled_err)?
                    .ok_or_else(|| foreign("the venue state is missing".into()))?;
                let state: VenueState = serde_json::from_slice(&bytes)
                    .map_err(|e| foreign(format!("the venue state is corrupt: {e}")))?;
                Some(state)
            }
        };
        if saved.is_none() {
            db.insert("format", FORMAT).map_err(sled_err)?;
            let list = serde_json::to_vec(symbols).expect("a list of strings serialises");
            db.insert("markets", list).map_err(sled_err)?;
        }
        Ok((Self { db }, saved))
    }

    /// Writes `state` and flushes it to disk.
    pub fn save(&self, state: &VenueState) -> Result<(), sled::Error> {
        let bytes = serde_json::to_vec(state).expect("the venue state serialises");
        self.db.insert("venue", bytes)?;
        self.db.flush()?;
        Ok(())
    }
}
