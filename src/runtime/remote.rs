//! Where a run against a remote venue starts (DESIGN §5): connect, check the venue's trading
//! rules against the settings, restore the journal, resolve every doubt with the venue,
//! reconcile the order manager with it, compare positions with balances, and start the
//! market stream that feeds the pipeline. Anything that disagrees halts with a message.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context};
use keel_actors::execution::remote::BridgedVenue;
use keel_actors::execution::Venue;
use keel_actors::journal::{Journal, SledStore};
use keel_binance::book::VenueBook;
use keel_binance::client::BinanceClient;
use keel_binance::stream::{MarketStream, StreamConfig};
use keel_binance::user_stream::{UserNews, UserStream, UserStreamConfig};
use keel_binance::venue::BinanceVenue;
use keel_binance::RemoteVenue;
use keel_core::order_manager::{stage, OrderManager};
use keel_data::BarAligner;
use keel_model::{Candle, Decimal, MarketClock, Symbol, Timestamp};
use tokio::sync::mpsc;
use tracing::{info, warn};

use super::recovery::{reconcile_at_start, restore_journal, Start};
use crate::settings::{BinanceSettings, Settings};

/// Everything a run against a remote venue starts with.
pub struct RemoteStart {
    /// The order manager and the rest of the restored state.
    pub start: Start,
    /// The journal, when the run keeps one.
    pub journal: Option<Journal<SledStore>>,
    /// The venue, behind the exchange port.
    pub venue: Box<dyn Venue>,
    /// Closed candles of every symbol, in merged-history order.
    pub candles: mpsc::Receiver<Candle>,
    /// The market stream (stops when dropped).
    pub stream: MarketStream,
    /// The newest bar the venue has closed, as the stream learns it.
    pub market_clock: Arc<MarketClock>,
    /// The venue's REST client (its request weight, for the operator).
    pub client: BinanceClient,
    /// The account's order updates, when `binance.ws_api_url` is set (the stream stops when
    /// dropped).
    pub user: Option<(UserStream, mpsc::Receiver<UserNews>)>,
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
    let lot_steps = check_trading_rules(settings, &client, &symbols).await?;
    let venue = BinanceVenue::new(client.clone(), interval);
    let (restored, mut journal) = match store {
        Some(path) => {
            let (restored, journal) = restore_journal(settings, path)?;
            (restored, Some(journal))
        }
        None => (None, None),
    };
    let with_lot_steps = |mut book: VenueBook| {
        for (symbol, step) in &lot_steps {
            book.set_lot_step(symbol.clone(), *step);
        }
        book
    };
    let (mut venue, mut start) = match restored {
        None => (
            BridgedVenue::new(venue, with_lot_steps(VenueBook::new()), journal.clone()),
            Start::fresh(settings),
        ),
        Some(mut restored) => {
            let path = store.expect("a restored run has a store");
            let book = with_lot_steps(restored.recovered.venue_book.take().unwrap_or_default());
            let mut venue = BridgedVenue::new(venue, book, journal.clone());
            let start =
                reconcile_at_start(path, &mut venue, restored, journal.as_mut(), &symbols).await?;
            (venue, start)
        }
    };
    let now = start.equity.last().map(|p| p.ts).unwrap_or_default();
    agree_on_positions(&mut start, &mut venue, journal.as_mut(), &symbols, now).await?;
    let mut stream_cfg = StreamConfig::new(binance.ws_url.clone(), symbols.clone(), interval);
    let before_history = Timestamp(binance.history_from()?.0 - interval.millis());
    stream_cfg.resume_after = symbols
        .iter()
        .map(|s| (s.clone(), before_history))
        .collect();
    let market_clock = stream_cfg.market_clock.clone();
    let (stream, raw) = MarketStream::spawn(stream_cfg, client.clone());
    let candles = align(raw, symbols);
    let user = match &binance.ws_api_url {
        Some(url) => Some(UserStream::spawn(
            UserStreamConfig::new(url.clone()),
            client.clone(),
        )),
        None => {
            warn!("binance.ws_api_url is not set: fills, and the cancels of their sibling exits, are learnt only when the next bar closes");
            None
        }
    };
    Ok(RemoteStart {
        start,
        journal,
        venue: Box::new(venue),
        candles,
        stream,
        market_clock,
        client,
        user,
    })
}

/// keel's sizes and prices must be whole steps and ticks of the venue: rounding an order
/// keel sized would change it behind the order manager's back. Returns each symbol's lot
/// step.
async fn check_trading_rules(
    settings: &Settings,
    client: &BinanceClient,
    symbols: &[Symbol],
) -> anyhow::Result<Vec<(Symbol, Decimal)>> {
    let mut steps = Vec::new();
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
        steps.push((symbol.clone(), filters.step_size));
    }
    Ok(steps)
}

/// How often the positions are compared with the balances before keel gives up: fills
/// keep arriving while it starts, so a difference is first checked for fills not seen yet.
const BALANCE_ATTEMPTS: usize = 5;

/// Each traded symbol's position must equal the venue's balance of its base asset (free
/// and locked). A difference is looked at again after asking the venue for fills it made
/// meanwhile (applied like any other); one that persists halts trading with both figures.
async fn agree_on_positions(
    start: &mut Start,
    venue: &mut BridgedVenue<BinanceVenue>,
    mut journal: Option<&mut Journal<SledStore>>,
    symbols: &[Symbol],
    now: Timestamp,
) -> anyhow::Result<()> {
    let mut attempt = 1;
    loop {
        let balances = balances(venue).await?;
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
                for (id, leg) in venue.bridge().book().legs_of(symbol) {
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
        let mut reports = venue.bridge().sync_all(now).await?;
        while !reports.is_empty() {
            let settled = stage::settle(&mut start.orders, &reports);
            start.unseen_trades.extend(settled.closed);
            if let Some(journal) = journal.as_deref_mut() {
                journal.save_order_state(&start.orders)?;
            }
            reports = venue.execute(&settled.commands, now).await?.reports;
        }
        attempt += 1;
    }
}

/// The account's balances (free and locked) by asset.
async fn balances(
    venue: &mut BridgedVenue<BinanceVenue>,
) -> anyhow::Result<HashMap<String, Decimal>> {
    Ok(venue
        .bridge()
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
            let dust = orders.dust(symbol);
            let balance = balances.get(base.as_str()).copied().unwrap_or_default();
            (position + dust != balance).then(|| {
                let dust = if dust.is_zero() {
                    String::new()
                } else {
                    format!(" (and {dust} {base} of dust)")
                };
                format!(
                    "{symbol}: the journal holds {position} {base}{dust}, the venue {balance} {base}"
                )
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
