//! Where a run against a remote venue starts (DESIGN §5): connect, check the venue's trading
//! rules against the settings, restore the journal, resolve every doubt with the venue,
//! reconcile the order manager with it, compare positions with balances, and start the
//! market stream that feeds the pipeline. Anything that disagrees halts with a message.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context};
use keel_actors::binance::book::{parse_venue_id, RemoteVenueView, VenueBook};
use keel_actors::binance::bridge::{Bridge, RemoteVenue};
use keel_actors::binance::client::BinanceClient;
use keel_actors::binance::stream::{MarketStream, StreamConfig};
use keel_actors::binance::venue::BinanceVenue;
use keel_actors::binance::wire::{OrderSide, OrderType, QueriedOrder};
use keel_actors::execution::remote::persist_to;
use keel_actors::execution::{SimExchange, VenueOrder};
use keel_actors::journal::{Journal, SledStore};
use keel_actors::market_data::BarAligner;
use keel_actors::model::{
    Candle, ClientOrderId, Decimal, OrderKind, OrderPurpose, OrderRequest, OrderStatus, Side,
    Symbol, Timestamp,
};
use keel_actors::order_manager::{reconcile, stage, OrderManager};
use tokio::sync::mpsc;
use tracing::{info, warn};

use super::recovery::{check_reconciliation, restore_journal, Restored, Start};
use crate::settings::{BinanceSettings, Settings};

/// Everything a run against a remote venue starts with.
pub struct RemoteStart {
    /// The order manager and the rest of the restored state.
    pub start: Start,
    /// The journal, when the run keeps one.
    pub journal: Option<Journal<SledStore>>,
    /// The venue book and the venue.
    pub bridge: Bridge<BinanceVenue>,
    /// Closed candles of every symbol, in merged-history order.
    pub candles: mpsc::Receiver<Candle>,
    /// The market stream (stops when dropped).
    pub stream: MarketStream,
}

/// Connects to the venue of `binance` and works out where the run starts; see the module docs.
pub async fn open_remote(
    settings: &Settings,
    binance: &BinanceSettings,
    store: Option<&Path>,
) -> anyhow::Result<RemoteStart> {
    let symbols = binance.validate()?;
    let interval = binance.interval()?;
    // The trading rules first: they carry the real weight limit, which the client must know
    // before an earlier run's usage of the minute makes it wait on the default one.
    let client = BinanceClient::new(binance.client_config()?)?;
    client
        .exchange_info(&symbols)
        .await
        .with_context(|| format!("reading the trading rules at {}", binance.rest_url))?;
    client
        .sync_time()
        .await
        .with_context(|| format!("reading the clock of the venue at {}", binance.rest_url))?;
    info!(venue = %binance.rest_url, clock_offset_ms = client.clock_offset_ms(), "venue connected");
    check_trading_rules(settings, &client, &symbols).await?;
    let venue = BinanceVenue::new(client.clone(), interval);
    let (restored, mut journal) = match store {
        Some(path) => {
            let (restored, journal) = restore_journal(settings, path)?;
            (restored, Some(journal))
        }
        None => (None, None),
    };
    let (mut bridge, mut start) = match restored {
        None => {
            let bridge = Bridge::new(venue, VenueBook::new(), persist_to(journal.clone()));
            (bridge, Start::fresh(settings))
        }
        Some(restored) => {
            let path = store.expect("a restored run has a store");
            reconcile_with_venue(settings, path, venue, restored, journal.clone(), &symbols).await?
        }
    };
    let now = start.equity.last().map(|p| p.ts).unwrap_or_default();
    agree_on_positions(&mut start, &mut bridge, journal.as_mut(), &symbols, now).await?;
    let mut stream_cfg = StreamConfig::new(binance.ws_url.clone(), symbols.clone(), interval);
    let before_history = Timestamp(binance.history_from()?.0 - interval.millis());
    stream_cfg.resume_after = symbols
        .iter()
        .map(|s| (s.clone(), before_history))
        .collect();
    let (stream, raw) = MarketStream::spawn(stream_cfg, client);
    let candles = align(raw, symbols);
    Ok(RemoteStart {
        start,
        journal,
        bridge,
        candles,
        stream,
    })
}

/// keel's sizes and prices must be whole steps and ticks of the venue: rounding an order
/// keel sized would change it behind the order manager's back.
async fn check_trading_rules(
    settings: &Settings,
    client: &BinanceClient,
    symbols: &[Symbol],
) -> anyhow::Result<()> {
    for symbol in symbols {
        let filters = client
            .filters(symbol)
            .await
            .with_context(|| format!("reading the trading rules of {symbol}"))?;
        if !filters.accepts_qty_step(settings.risk.qty_step) {
            bail!(
                "risk.qty_step {} is not a multiple of {symbol}'s lot step {}: orders would be \
                 rounded behind the order manager's back; set risk.qty_step to a multiple of it",
                settings.risk.qty_step,
                filters.step_size
            );
        }
        if settings.risk.min_notional < filters.min_notional {
            bail!(
                "risk.min_notional {} is below {symbol}'s minimum notional {}: the venue would \
                 refuse the smallest orders keel sizes",
                settings.risk.min_notional,
                filters.min_notional
            );
        }
        info!(symbol = %symbol, tick = %filters.tick_size, step = %filters.step_size, min_notional = %filters.min_notional, "trading rules checked");
    }
    Ok(())
}

/// Resolves every doubt the book holds, then reconciles the order manager with the venue
/// as the book sees it; sends the commands the recovered fills call for.
async fn reconcile_with_venue(
    settings: &Settings,
    path: &Path,
    venue: BinanceVenue,
    restored: Restored,
    mut journal: Option<Journal<SledStore>>,
    symbols: &[Symbol],
) -> anyhow::Result<(Bridge<BinanceVenue>, Start)> {
    let Restored {
        mut orders,
        mut recovered,
    } = restored;
    let book = recovered.venue_book.take().unwrap_or_default();
    let mut bridge = Bridge::new(venue, book, persist_to(journal.clone()));
    let now = recovered.cursor.unwrap_or_default();
    bridge.sync_all(now).await?;
    let foreign = foreign_orders(&bridge, symbols).await?;
    let report = reconcile(
        &mut orders,
        &RemoteVenueView {
            book: bridge.book(),
            foreign: &foreign,
        },
        now,
    );
    check_reconciliation(path, &recovered, &report)?;
    let mut closed = report.closed.clone();
    let mut commands = report.commands.clone();
    while !commands.is_empty() {
        if let Some(journal) = &mut journal {
            journal.save_order_state(&orders)?;
        }
        let reports = bridge.execute(&commands, now).await?;
        let settled = stage::settle(&mut orders, &reports);
        closed.extend(settled.closed);
        commands = settled.commands;
    }
    if let Some(journal) = &mut journal {
        journal.save_order_state(&orders)?;
    }
    let venue = SimExchange::new(settings.venue.clone());
    Ok((bridge, Start::restored(orders, venue, recovered, closed)))
}

/// Open orders at the venue that no leg of the book accounts for.
async fn foreign_orders(
    bridge: &Bridge<BinanceVenue>,
    symbols: &[Symbol],
) -> anyhow::Result<Vec<VenueOrder>> {
    let mut foreign = Vec::new();
    for symbol in symbols {
        let open = bridge
            .venue()
            .open_orders(symbol)
            .await
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("listing the open orders of {symbol}"))?;
        for order in open {
            let (logical, revision) = parse_venue_id(&order.client_order_id);
            let known = ClientOrderId::new(logical)
                .and_then(|id| bridge.book().leg(&id).map(|l| l.revision == revision))
                .unwrap_or(false);
            if !known {
                foreign.push(as_venue_order(symbol, &order));
            }
        }
    }
    Ok(foreign)
}

/// A venue order keel does not know, in the shape reconciliation reports.
fn as_venue_order(symbol: &Symbol, order: &QueriedOrder) -> VenueOrder {
    let kind = match order.order_type {
        OrderType::Market => OrderKind::Market,
        OrderType::StopLoss | OrderType::StopLossLimit => OrderKind::Stop {
            trigger: order.stop_price,
        },
        _ => OrderKind::Limit { price: order.price },
    };
    let id = ClientOrderId::new(order.client_order_id.as_str())
        .or_else(|| ClientOrderId::new(format!("venue-{}", order.order_id)))
        .expect("a non-empty id");
    VenueOrder {
        request: OrderRequest {
            client_order_id: id,
            symbol: symbol.clone(),
            side: match order.side {
                OrderSide::Buy => Side::Buy,
                OrderSide::Sell => Side::Sell,
            },
            qty: order.orig_qty,
            kind,
            purpose: OrderPurpose::Entry,
            oco_group: None,
            attached: Vec::new(),
            created: Timestamp(order.time),
        },
        parent: None,
        status: OrderStatus::Accepted,
        fills: Vec::new(),
        finished_at: None,
    }
}

/// How often the positions are compared with the balances before keel gives up: fills
/// keep arriving while it starts, so a difference is first checked for fills not seen yet.
const BALANCE_ATTEMPTS: usize = 5;

/// Each traded symbol's position must equal the venue's balance of its base asset (free
/// and locked). A difference is looked at again after asking the venue for fills it made
/// meanwhile (applied like any other); one that persists halts trading with both figures.
async fn agree_on_positions(
    start: &mut Start,
    bridge: &mut Bridge<BinanceVenue>,
    mut journal: Option<&mut Journal<SledStore>>,
    symbols: &[Symbol],
    now: Timestamp,
) -> anyhow::Result<()> {
    let mut attempt = 1;
    loop {
        let balances = balances(bridge).await?;
        let disagree = disagreements(&start.orders, &balances, symbols);
        if disagree.is_empty() {
            let quote = symbols
                .first()
                .map(|s| s.quote().to_string())
                .unwrap_or_default();
            let venue_cash = balances.get(&quote).copied().unwrap_or_default();
            if venue_cash < start.orders.cash() {
                warn!(%quote, venue = %venue_cash, journal = %start.orders.cash(), "the venue holds less cash than the journal counts: orders may be refused");
            }
            info!(cash = %start.orders.cash(), venue_cash = %venue_cash, "positions agree with the venue's balances");
            return Ok(());
        }
        if attempt == BALANCE_ATTEMPTS {
            for symbol in symbols {
                for (id, leg) in bridge.book().legs_of(symbol) {
                    warn!(order = %id, phase = ?leg.phase, revision = leg.revision, venue_order_id = ?leg.venue_order_id, filled = %leg.executed(), "venue book");
                }
            }
            bail!(
                "trading halted: positions disagree with the venue's balances and keel will not guess:\n  - {}",
                disagree.join("\n  - ")
            );
        }
        warn!(attempt, differences = ?disagree, "positions differ from the venue's balances: asking the venue for fills not seen yet");
        tokio::time::sleep(std::time::Duration::from_millis(200 * attempt as u64)).await;
        let mut reports = bridge.sync_all(now).await?;
        while !reports.is_empty() {
            let settled = stage::settle(&mut start.orders, &reports);
            start.unseen_trades.extend(settled.closed);
            if let Some(journal) = journal.as_deref_mut() {
                journal.save_order_state(&start.orders)?;
            }
            reports = bridge.execute(&settled.commands, now).await?;
        }
        attempt += 1;
    }
}

/// The account's balances (free and locked) by asset.
async fn balances(bridge: &Bridge<BinanceVenue>) -> anyhow::Result<HashMap<String, Decimal>> {
    Ok(bridge
        .venue()
        .balances()
        .await
        .map_err(anyhow::Error::msg)
        .context("reading the account's balances")?
        .into_iter()
        .map(|b| (b.asset, b.free + b.locked))
        .collect())
}

/// Each symbol whose position differs from its base asset's balance, with both figures.
fn disagreements(
    orders: &OrderManager,
    balances: &HashMap<String, Decimal>,
    symbols: &[Symbol],
) -> Vec<String> {
    symbols
        .iter()
        .filter_map(|symbol| {
            let base = symbol.base();
            let position = orders.position(symbol).map_or(Decimal::ZERO, |p| p.qty);
            let balance = balances.get(base.as_str()).copied().unwrap_or_default();
            (position != balance).then(|| {
                format!("{symbol}: the journal holds {position} {base}, the venue {balance} {base}")
            })
        })
        .collect()
}

/// Releases the stream's candles in merged-history order (see [`BarAligner`]).
fn align(mut raw: mpsc::Receiver<Candle>, symbols: Vec<Symbol>) -> mpsc::Receiver<Candle> {
    let (tx, rx) = mpsc::channel(1024);
    tokio::spawn(async move {
        let mut aligner = BarAligner::new(symbols);
        while let Some(candle) = raw.recv().await {
            match aligner.push(candle) {
                Ok(ready) => {
                    for candle in ready {
                        if tx.send(candle).await.is_err() {
                            return;
                        }
                    }
                }
                Err(candle) => {
                    warn!(symbol = %candle.symbol, open_time = %candle.open_time, "a candle out of sequence was dropped")
                }
            }
        }
    });
    rx
}
