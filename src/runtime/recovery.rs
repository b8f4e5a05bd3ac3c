//! Where a run starts: fresh, or from its journal. A journal is loaded, checked against the
//! settings, and reconciled with the venue before any new decision; anything that cannot be
//! resolved halts the run with a clear message instead of guessing.

use std::path::Path;

use anyhow::{bail, Context};
use keel_actors::execution::{SimVenue, Venue};
use keel_actors::journal::{compact, disk_size, Journal, Recovered, RunInfo, SledStore};
use std::collections::BTreeMap;

use keel_core::execution::{SimExchange, SimExchangeState, FINISHED_ORDERS_KEPT};
use keel_core::order_manager::{reconcile, stage, OrderManager, ReconciliationReport};
use keel_core::risk::RiskState;
use keel_core::strategy::StrategyKind;
use keel_model::{ClosedTrade, Decimal, EquityPoint, Side, Symbol};
use tracing::{info, warn};

use crate::settings::{
    AlertSettings, ControlSettings, HangSettings, JournalSettings, LogSettings, RunSettings,
    Settings,
};

/// The state a run starts from.
pub struct Start {
    /// The order manager.
    pub orders: OrderManager,
    /// Risk's memory.
    pub risk: RiskState,
    /// Round trips risk has not seen yet (closed after its last mark, or by reconciliation).
    pub unseen_trades: Vec<ClosedTrade>,
    /// The equity curve so far.
    pub equity: Vec<EquityPoint>,
    /// Candles fully processed before the restart (replayed in recovery mode).
    pub recovered: u64,
}

impl Start {
    /// A run from scratch.
    pub fn fresh(settings: &Settings) -> Self {
        Self {
            orders: OrderManager::new(settings.order_manager(), settings.account.initial_capital),
            risk: RiskState::default(),
            unseen_trades: Vec::new(),
            equity: Vec::new(),
            recovered: 0,
        }
    }
}

/// A journal loaded and checked against the settings, before the venue was asked: the
/// order manager, and the rest of what was saved.
pub struct Restored {
    /// The order manager, its price marks applied.
    pub orders: OrderManager,
    /// Everything else the journal held (its `om` taken into `orders`).
    pub recovered: Recovered,
}

/// Opens (or creates) the journal at `path` and restores the order manager from it; `None`
/// for a new journal (its run identity is written). A journal from other settings, or with
/// orders but no identity, is refused unchanged.
pub fn restore_journal(
    settings: &Settings,
    path: &Path,
) -> anyhow::Result<(Option<Restored>, Journal<SledStore>)> {
    compact_at_start(settings, path)?;
    let store = SledStore::open(path)?;
    let mut journal = Journal::open(store)
        .with_context(|| format!("opening the journal in {}", path.display()))?;
    journal
        .retain_equity(settings.journal.keep_equity_points)
        .with_context(|| format!("counting the equity points in {}", path.display()))?;
    let mut recovered = journal
        .load()
        .with_context(|| format!("reading the journal in {}", path.display()))?;
    let fingerprint = fingerprint(settings);
    match &recovered.run {
        Some(run) if run.config_fingerprint != fingerprint => bail!(
            "the journal in {} belongs to a run with other settings (fingerprint {} here, {} there); \
             point run.store (or --store) elsewhere, or move that journal away — it was not changed",
            path.display(),
            fingerprint,
            run.config_fingerprint
        ),
        None if recovered.om.is_some() => bail!(
            "the journal in {} holds orders but no run identity; it was not changed",
            path.display()
        ),
        _ => {}
    }
    let Some(om_state) = recovered.om.take() else {
        info!(store = %path.display(), "new journal: starting from scratch");
        journal.set_run(&RunInfo {
            run_id: settings.orders.run_id.clone(),
            config_fingerprint: fingerprint,
        })?;
        return Ok((None, journal));
    };
    let mut orders = OrderManager::from_state(settings.order_manager(), om_state)
        .with_context(|| format!("restoring the order manager from {}", path.display()))?;
    if let Some(marks) = &recovered.price_marks {
        orders.restore_price_marks(marks);
    }
    Ok((Some(Restored { orders, recovered }), journal))
}

/// Compacts the store at `path` before anything opens it, when its files take more than
/// `journal.compact_above_mib`: sled never gives space back by itself.
fn compact_at_start(settings: &Settings, path: &Path) -> anyhow::Result<()> {
    let Some(limit) = settings.journal.compact_above_bytes() else {
        return Ok(());
    };
    let size = disk_size(path);
    if size <= limit {
        return Ok(());
    }
    info!(store = %path.display(), bytes = size, limit, "compacting the journal's store");
    let done =
        compact(path).with_context(|| format!("compacting the journal in {}", path.display()))?;
    info!(store = %path.display(), before = done.before, after = done.after, records = done.records, "journal compacted");
    Ok(())
}

/// Logs a reconciliation report and refuses to go on when it left anything unresolved.
pub fn check_reconciliation(
    path: &Path,
    recovered: &Recovered,
    report: &ReconciliationReport,
) -> anyhow::Result<()> {
    let cursor = recovered.cursor;
    info!(store = %path.display(), candles_done = recovered.progress.unwrap_or(0), last_mark = ?cursor.map(|c| c.to_string()), "journal loaded; reconciliation report:\n{report}");
    if !report.is_resolved() {
        bail!(
            "trading halted: the journal and the venue disagree and keel will not guess.\n{report}"
        );
    }
    if !report.is_clean() {
        warn!(
            discrepancies = report.discrepancies.len(),
            "reconciliation resolved differences between the journal and the venue"
        );
    }
    Ok(())
}

impl Start {
    /// Where a run restored from its journal starts: round trips risk has not seen (closed
    /// after its last mark, or by reconciliation) and the equity curve up to the last mark.
    pub fn restored(
        orders: OrderManager,
        recovered: Recovered,
        closed_since: Vec<ClosedTrade>,
    ) -> Self {
        let cursor = recovered.cursor;
        let mut unseen_trades: Vec<ClosedTrade> = orders
            .closed_trades()
            .iter()
            .filter(|t| cursor.is_none_or(|c| t.exit_time > c))
            .cloned()
            .collect();
        unseen_trades.extend(closed_since);
        let equity = recovered
            .equity
            .into_iter()
            .filter(|p| cursor.is_none_or(|c| p.ts <= c))
            .collect();
        Start {
            orders,
            risk: recovered.risk.unwrap_or_default(),
            unseen_trades,
            equity,
            recovered: recovered.progress.unwrap_or(0),
        }
    }
}

/// Opens (or creates) the journal at `path` and works out where a run on the in-process
/// venue starts: restored, then reconciled with the venue's journalled state.
pub async fn open_journal(
    settings: &Settings,
    path: &Path,
    symbols: &[Symbol],
) -> anyhow::Result<(Start, Journal<SledStore>, Box<dyn Venue>)> {
    let (restored, mut journal) = restore_journal(settings, path)?;
    let Some(mut restored) = restored else {
        let exchange = settings.sim_exchange();
        let venue = Box::new(SimVenue::new(exchange, Some(journal.clone())));
        return Ok((Start::fresh(settings), journal, venue));
    };
    let exchange = match restored.recovered.venue.take() {
        Some(state) => SimExchange::from_state(settings.venue.clone(), state)
            .with_context(|| format!("restoring the venue from {}", path.display()))?,
        None => settings.sim_exchange(),
    };
    let mut venue = SimVenue::new(exchange, Some(journal.clone()));
    let start = reconcile_at_start(path, &mut venue, restored, Some(&mut journal), symbols).await?;
    Ok((start, journal, Box::new(venue)))
}

/// Reconciles a restored order manager with `venue` before any new decision (DESIGN §5), the
/// same way for every venue: the venue resolves what is in doubt and answers for every order
/// it knows; what cannot be resolved halts the run; the commands the recovered fills call for
/// (break-even stops, clean-ups) go out, each batch journalled before it leaves.
pub async fn reconcile_at_start(
    path: &Path,
    venue: &mut dyn Venue,
    restored: Restored,
    mut journal: Option<&mut Journal<SledStore>>,
    symbols: &[Symbol],
) -> anyhow::Result<Start> {
    let Restored {
        mut orders,
        recovered,
    } = restored;
    let now = recovered.cursor.unwrap_or_default();
    let snapshot = venue
        .snapshot(symbols, now)
        .await
        .with_context(|| format!("asking the {} venue what it holds", venue.name()))?;
    let report = reconcile(&mut orders, &snapshot, now);
    check_reconciliation(path, &recovered, &report)?;
    let mut closed = report.closed.clone();
    let mut commands = report.commands.clone();
    while !commands.is_empty() {
        if let Some(journal) = journal.as_deref_mut() {
            journal.save_order_state(&orders)?;
        }
        let answer = venue.execute(&commands, now).await?;
        let settled = stage::settle(&mut orders, &answer.reports);
        closed.extend(settled.closed);
        commands = settled.commands;
    }
    if let Some(journal) = journal {
        journal.save_order_state(&orders)?;
    }
    Ok(Start::restored(orders, recovered, closed))
}

/// A fingerprint of everything that shapes decisions (not `[run]`, `[log]` or `[control]`):
/// a journal only resumes under the settings that wrote it.
pub fn fingerprint(settings: &Settings) -> String {
    let text = decisive_text(settings);
    // FNV-1a, 64 bit: stable across Rust versions, unlike the std hasher.
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// The settings as TOML with `[run]` and `[log]` at their defaults and without `[control]`,
/// `[alerts]`, `[hangs]` and `[journal]` (operational, and added after journals were written:
/// leaving them out keeps their fingerprints).
fn decisive_text(settings: &Settings) -> String {
    let mut decisive = settings.clone();
    decisive.run = RunSettings::default();
    decisive.log = LogSettings::default();
    decisive.control = ControlSettings::default();
    decisive.alerts = AlertSettings::default();
    decisive.hangs = HangSettings::default();
    decisive.journal = JournalSettings::default();
    let text = toml::to_string(&decisive).unwrap_or_default();
    let text = ["control", "alerts", "hangs", "journal"]
        .iter()
        .fold(text, |text, name| without_section(&text, name));
    // The `llm` strategy's settings and the bounds of proposed exits decide nothing for the
    // other strategies (and stores written before they existed still resume).
    let llm = settings.strategy.kind == StrategyKind::Llm;
    let text = if llm {
        text
    } else {
        without_section(&text, "strategy.llm")
    };
    // The staleness guard works in risk, which replayed candles never reach: it changes no
    // decision a resumed run replays (and a store written before it existed still resumes).
    text.split_inclusive('\n')
        .filter(|line| !line.starts_with("max_bar_age_minutes ="))
        .filter(|line| llm || !line.starts_with("proposed_"))
        .collect()
}

/// `text` (TOML) without the table `[name]` and its sub-tables (`[name.x]`, `[[name.x]]`),
/// each with the blank line after it.
fn without_section(text: &str, name: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut skipping = false;
    for line in text.split_inclusive('\n') {
        if let Some(header) = line.trim_end().strip_prefix('[') {
            let table = header.trim_start_matches('[').trim_end_matches(']');
            skipping = table == name || table.starts_with(&format!("{name}."));
        }
        if !skipping {
            out.push_str(line);
        }
    }
    out
}

/// Checks a journal against its venue as a new process would: every venue order is known to
/// the journal and reconciliation finds nothing to change, a run that placed orders left them
/// in the journal, and the journal's cash and positions are what the venue's fills leave. The
/// error says what disagrees.
pub fn check_journal(settings: &Settings, path: &Path, orders_placed: usize) -> anyhow::Result<()> {
    let journal = Journal::open(SledStore::open(path)?)?;
    let recovered = journal.load()?;
    let (Some(om), Some(venue)) = (recovered.om, recovered.venue) else {
        if orders_placed > 0 {
            bail!(
                "the run placed {orders_placed} orders but the journal holds no order-manager \
                 or venue state"
            );
        }
        return Ok(());
    };
    let mut om = OrderManager::from_state(settings.order_manager(), om)?;
    let venue = SimExchange::from_state(settings.venue.clone(), venue)?;
    let known: std::collections::HashSet<_> = om.orders().map(|o| o.id().clone()).collect();
    if let Some(unknown) = venue.known_order_ids().find(|id| !known.contains(*id)) {
        bail!("the venue holds {unknown}, which the journal does not know");
    }
    let report = reconcile(&mut om, &venue, recovered.cursor.unwrap_or_default());
    if !report.is_clean() {
        bail!("journal and venue disagree:\n{report}");
    }
    check_money(settings, &om, &venue.to_state())
}

/// The journal's cash and positions against what the venue executed: each fill the venue
/// made moves the quote and base balances once, so from the starting capital they must come
/// to the journal's figures to the last decimal (a fill booked twice, or lost, shows). Only
/// while the venue still remembers every order it finished: past [`FINISHED_ORDERS_KEPT`] it
/// forgot the oldest, and the check is skipped.
fn check_money(
    settings: &Settings,
    om: &OrderManager,
    venue: &SimExchangeState,
) -> anyhow::Result<()> {
    if venue.finished.len() >= FINISHED_ORDERS_KEPT {
        warn!(
            kept = FINISHED_ORDERS_KEPT,
            "the venue forgot its oldest orders: cash and positions not checked against its fills"
        );
        return Ok(());
    }
    let mut cash = settings.account.initial_capital;
    let mut held: BTreeMap<Symbol, Decimal> = BTreeMap::new();
    for fill in venue.finished.iter().flat_map(|o| &o.fills) {
        let qty = held.entry(fill.symbol.clone()).or_default();
        match fill.side {
            Side::Buy => {
                cash -= fill.notional() + fill.fee;
                *qty += fill.qty;
            }
            Side::Sell => {
                cash += fill.notional() - fill.fee;
                *qty -= fill.qty;
            }
        }
    }
    if om.cash() != cash {
        bail!(
            "the journal holds {} in cash, the venue's fills leave {cash}",
            om.cash()
        );
    }
    for (symbol, qty) in held {
        let journalled = om.position(&symbol).map_or(Decimal::ZERO, |p| p.qty);
        if journalled != qty {
            bail!("the journal holds {journalled} {symbol}, the venue's fills leave {qty}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_control_plane_and_the_run_do_not_change_the_fingerprint() {
        let default = Settings::embedded_default().unwrap();
        // The embedded default's fingerprint before the `[control]` section existed: a store
        // written then still resumes.
        assert_eq!(fingerprint(&default), "25b0bc0bdd9f3778");
        let text = decisive_text(&default);
        assert!(
            !text.contains("control") && !text.contains("alerts") && !text.contains("hangs"),
            "{text}"
        );
        let mut elsewhere = default.clone();
        elsewhere.control.listen = "127.0.0.1:0".into();
        elsewhere.control.enabled = false;
        elsewhere.run.speedup = 7.0;
        elsewhere.alerts.candle_lag_s = 600;
        elsewhere.hangs.deadline_ms = 5;
        elsewhere.risk.max_bar_age_minutes = 5;
        assert_eq!(fingerprint(&elsewhere), fingerprint(&default));
        let mut riskier = default.clone();
        riskier.risk.max_open_positions += 1;
        assert_ne!(fingerprint(&riskier), fingerprint(&default));
    }
}
