//! Where a run starts: fresh, or from its journal. A journal is loaded, checked against the
//! settings, and reconciled with the venue before any new decision; anything that cannot be
//! resolved halts the run with a clear message instead of guessing.

use std::path::Path;

use anyhow::{bail, Context};
use keel_actors::execution::SimExchange;
use keel_actors::journal::{Journal, RunInfo, SledStore};
use keel_actors::model::{ClosedTrade, EquityPoint};
use keel_actors::order_manager::{reconcile, stage, OrderManager};
use keel_actors::risk::RiskState;
use tracing::{info, warn};

use crate::settings::{LogSettings, RunSettings, Settings};

/// The state a run starts from.
pub struct Start {
    /// The order manager.
    pub orders: OrderManager,
    /// The in-process venue.
    pub venue: SimExchange,
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
            orders: OrderManager::new(settings.orders.clone(), settings.account.initial_capital),
            venue: SimExchange::new(settings.venue.clone()),
            risk: RiskState::default(),
            unseen_trades: Vec::new(),
            equity: Vec::new(),
            recovered: 0,
        }
    }
}

/// Opens (or creates) the journal at `path` and works out where the run starts.
pub fn open_journal(
    settings: &Settings,
    path: &Path,
) -> anyhow::Result<(Start, Journal<SledStore>)> {
    let store = SledStore::open(path)?;
    let mut journal = Journal::open(store)
        .with_context(|| format!("opening the journal in {}", path.display()))?;
    let recovered = journal
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
    let Some(om_state) = recovered.om else {
        info!(store = %path.display(), "new journal: starting from scratch");
        journal.set_run(&RunInfo {
            run_id: settings.orders.run_id.clone(),
            config_fingerprint: fingerprint,
        })?;
        return Ok((Start::fresh(settings), journal));
    };

    let mut orders = OrderManager::from_state(settings.orders.clone(), om_state)
        .with_context(|| format!("restoring the order manager from {}", path.display()))?;
    if let Some(marks) = &recovered.price_marks {
        orders.restore_price_marks(marks);
    }
    let mut venue = match recovered.venue {
        Some(state) => SimExchange::from_state(settings.venue.clone(), state)
            .with_context(|| format!("restoring the venue from {}", path.display()))?,
        None => SimExchange::new(settings.venue.clone()),
    };
    let cursor = recovered.cursor;
    let now = cursor.unwrap_or_default();
    let report = reconcile(&mut orders, &venue, now);
    info!(store = %path.display(), candles_done = recovered.progress.unwrap_or(0), last_mark = ?cursor.map(|c| c.to_string()), "journal loaded; reconciliation report:\n{report}");
    if !report.is_resolved() {
        bail!(
            "trading halted: the journal and the venue disagree and keel will not guess.\n{report}"
        );
    }
    let mut unseen_trades: Vec<ClosedTrade> = orders
        .closed_trades()
        .iter()
        .filter(|t| cursor.is_none_or(|c| t.exit_time > c))
        .cloned()
        .collect();
    unseen_trades.extend(report.closed.iter().cloned());
    // Commands the recovered fills call for (break-even stops, clean-ups) go out now.
    let mut commands = report.commands.clone();
    while !commands.is_empty() {
        journal.save_order_state(&orders)?;
        let reports: Vec<_> = commands.iter().flat_map(|c| venue.apply(c, now)).collect();
        journal.save_venue(&venue)?;
        let settled = stage::settle(&mut orders, &reports);
        unseen_trades.extend(settled.closed);
        commands = settled.commands;
    }
    journal.save_order_state(&orders)?;
    journal.save_venue(&venue)?;
    if !report.is_clean() {
        warn!(
            discrepancies = report.discrepancies.len(),
            "reconciliation resolved differences between the journal and the venue"
        );
    }
    let equity = recovered
        .equity
        .into_iter()
        .filter(|p| cursor.is_none_or(|c| p.ts <= c))
        .collect();
    Ok((
        Start {
            orders,
            venue,
            risk: recovered.risk.unwrap_or_default(),
            unseen_trades,
            equity,
            recovered: recovered.progress.unwrap_or(0),
        },
        journal,
    ))
}

/// A fingerprint of everything that shapes decisions (not `[run]` or `[log]`): a journal
/// only resumes under the settings that wrote it.
pub fn fingerprint(settings: &Settings) -> String {
    let mut decisive = settings.clone();
    decisive.run = RunSettings::default();
    decisive.log = LogSettings::default();
    let text = toml::to_string(&decisive).unwrap_or_default();
    // FNV-1a, 64 bit: stable across Rust versions, unlike the std hasher.
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// Checks a journal against its venue as a new process would: every venue order is known to
/// the journal and reconciliation finds nothing to change. The error says what disagrees.
pub fn check_journal(settings: &Settings, path: &Path) -> anyhow::Result<()> {
    let journal = Journal::open(SledStore::open(path)?)?;
    let recovered = journal.load()?;
    let (Some(om), Some(venue)) = (recovered.om, recovered.venue) else {
        return Ok(());
    };
    let mut om = OrderManager::from_state(settings.orders.clone(), om)?;
    let venue = SimExchange::from_state(settings.venue.clone(), venue)?;
    let known: std::collections::HashSet<_> = om.orders().map(|o| o.id().clone()).collect();
    if let Some(unknown) = venue.known_order_ids().find(|id| !known.contains(*id)) {
        bail!("the venue holds {unknown}, which the journal does not know");
    }
    let report = reconcile(&mut om, &venue, recovered.cursor.unwrap_or_default());
    if !report.is_clean() {
        bail!("journal and venue disagree:\n{report}");
    }
    Ok(())
}
