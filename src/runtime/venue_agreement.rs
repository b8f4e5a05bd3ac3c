//! After a run at a sim venue (keel stopped, nothing in flight): does the journal agree with
//! the venue? No client order id reached the venue twice, every order the venue received
//! belongs to an order in the journal, each position equals the venue's balance of its base
//! asset (with the dust round trips left), and the cash equals the venue's quote balance to the last decimal.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use anyhow::{bail, Context};
use keel_actors::journal::{Journal, SledStore};
use keel_binance::book::parse_venue_id;
use keel_binance::client::BinanceClient;
use keel_core::order_manager::{OrderManager, OrderManagerConfig};
use keel_model::{Decimal, Symbol};

/// What the journal and the venue agreed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueAgreement {
    /// Client order ids the venue received (each once).
    pub submissions: usize,
    /// Orders in the journal with a fill.
    pub filled: usize,
    /// Round trips the journal closed.
    pub closed_trades: usize,
    /// The journal's cash, equal to the venue's quote balance.
    pub cash: Decimal,
}

impl std::fmt::Display for VenueAgreement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} submissions, {} orders filled, {} closed trades, cash {}",
            self.submissions, self.filled, self.closed_trades, self.cash
        )
    }
}

/// Compares the journal in `store` (its orders kept per `orders`) with the sim venue
/// `client` trades at in `symbols`, whose
/// `GET {admin_base}/admin/submissions` lists every client order id an order-creating request
/// carried, in arrival order. The error names every disagreement found.
pub async fn check_venue_agreement(
    orders: &OrderManagerConfig,
    store: &Path,
    symbols: &[Symbol],
    client: &BinanceClient,
    admin_base: &str,
) -> anyhow::Result<VenueAgreement> {
    let submitted: Vec<String> = reqwest::get(format!("{admin_base}/admin/submissions"))
        .await
        .and_then(reqwest::Response::error_for_status)
        .context("asking the venue for its submissions")?
        .json()
        .await
        .context("reading the venue's submissions")?;
    let recovered = Journal::open(SledStore::open(store)?)?
        .load()
        .with_context(|| format!("reading the journal in {}", store.display()))?;
    let account = client
        .account()
        .await
        .context("asking the venue for its balances")?;
    let balances: BTreeMap<&str, Decimal> = account
        .balances
        .iter()
        .map(|b| (b.asset.as_str(), b.free + b.locked))
        .collect();
    let quote = symbols.first().map(Symbol::quote);
    let venue_cash = quote
        .as_ref()
        .and_then(|q| balances.get(q.as_str()).copied())
        .unwrap_or_default();
    let Some(state) = recovered.om else {
        if submitted.is_empty() {
            return Ok(VenueAgreement {
                submissions: 0,
                filled: 0,
                closed_trades: 0,
                cash: venue_cash,
            });
        }
        bail!(
            "the venue received {} orders but the journal holds no order-manager state",
            submitted.len()
        );
    };
    let om = OrderManager::from_state(orders.clone(), state)?;
    let mut problems = Vec::new();

    let mut seen = HashSet::new();
    let twice: Vec<&String> = submitted.iter().filter(|id| !seen.insert(*id)).collect();
    if !twice.is_empty() {
        problems.push(format!("client order ids submitted twice: {twice:?}"));
    }
    let known: HashSet<String> = om.orders().map(|o| o.id().to_string()).collect();
    let unknown: Vec<&String> = submitted
        .iter()
        .filter(|id| !known.contains(parse_venue_id(id).0))
        .collect();
    if !unknown.is_empty() {
        problems.push(format!("venue orders unknown to the journal: {unknown:?}"));
    }
    for symbol in symbols {
        let base = symbol.base();
        let position = om.position(symbol).map_or(Decimal::ZERO, |p| p.qty);
        let dust = om.dust(symbol);
        let balance = balances.get(base.as_str()).copied().unwrap_or_default();
        if position + dust != balance {
            problems.push(format!(
                "{symbol}: the journal holds {position} {base} and {dust} of dust, the venue {balance}"
            ));
        }
    }
    if om.cash() != venue_cash {
        problems.push(format!(
            "cash: the journal holds {}, the venue {venue_cash}",
            om.cash()
        ));
    }
    if !problems.is_empty() {
        bail!("journal and venue disagree: {}", problems.join("; "));
    }
    Ok(VenueAgreement {
        submissions: submitted.len(),
        filled: om.orders().filter(|o| o.filled_qty > Decimal::ZERO).count(),
        closed_trades: om.closed_trades().len(),
        cash: om.cash(),
    })
}
