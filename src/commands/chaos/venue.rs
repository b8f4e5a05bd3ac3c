//! `keel chaos` against a remote venue (settings with `[binance]`, such as
//! `config/paper-sim.toml`): each run starts its own sim venue child, closes `--bars` bars at
//! it one at a time (the next only once keel has handled the last: lockstep, no wall-clock
//! pacing), and ends the run. Once calm, once while the monkey kills actors and the venue
//! answers with faults (5xx executed and not, 429, timeouts, dropped streams, clock skew).
//! Then the invariants: every bar handled, no client order id twice at the venue, every venue
//! order in the journal, positions and cash equal to the venue's balances, no escaped panic,
//! and, unless a fault may honestly have refused an order, the same orders, fills and P&L as
//! the calm run.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use keel_actors::board::Board;
use keel_actors::runtime::{
    escaped_panics, fail_journal_writes, failpoints_compiled_in, install_panic_hook,
    NOT_COMPILED_IN,
};
use keel_binance::client::BinanceClient;
use keel_supervision::secrets;
use tokio::sync::Notify;
use tracing::{info, warn};

use super::sim_child::{Admin, SimChild};
use super::venue_faults::{FaultSchedule, VenueFault};
use super::{arm_failpoints, escaped_check, render_checks, render_run, Check, TempDir};
use crate::backtest::live_inputs;
use crate::cli::ChaosArgs;
use crate::runtime::{check_venue_agreement, ChaosOptions, RunOptions, RunReport};
use crate::runtime::{run_actors, VenueAgreement};
use crate::settings::{BinanceSettings, Settings};

/// How long keel may take to handle one bar before the run counts as stuck.
const BAR_PATIENCE: Duration = Duration::from_secs(300);

/// Runs `keel chaos` against a sim venue: a calm run, a chaos run, their comparison.
pub fn run(settings: &Settings, binance: &BinanceSettings, args: &ChaosArgs) -> anyhow::Result<()> {
    let Some(bars) = args.bars else {
        bail!(
            "keel chaos against a venue (this config has [binance]) needs --bars N: how many \
             bars to close at the sim venue it starts"
        );
    };
    if args.duration.is_some() || args.poison {
        bail!("--duration and --poison are not supported against a venue yet");
    }
    if args.venue_faults.contains(&VenueFault::DiskFull) && args.fault_every > 0 {
        if !failpoints_compiled_in() {
            bail!("--venue-faults disk-full: {NOT_COMPILED_IN}");
        }
        if args
            .failpoints
            .as_ref()
            .is_some_and(|f| f.0.contains(&"journal.inside_write"))
        {
            bail!("--venue-faults disk-full and --failpoints journal.inside_write use the same point: choose one");
        }
    }
    let credentials = Credentials::read(binance)?;
    info!(bars, "calm run at a sim venue");
    let calm = round(settings, args, &credentials, bars, None, None)?;
    if let Err(e) = &calm.report {
        bail!("the calm run failed, so there is nothing to compare with: {e:#}");
    }
    install_panic_hook();
    let escaped_before = escaped_panics();
    let armed = arm_failpoints(args, args.seed)?;
    let kills = ChaosOptions {
        kill_every: args.kill_every,
        stop_ratio: args.stop_ratio.clamp(0.0, 1.0),
        seed: args.seed,
        only: args.only.clone(),
        poison: false,
        sabotage: args.sabotage,
        count_kills: args.max_restarts.is_some(),
        hang_share: args.hangs.unwrap_or(0.0),
    };
    let faults = FaultSchedule::new(
        args.fault_every,
        &args.venue_faults,
        args.seed,
        2 * binance.recv_window_ms as i64,
    );
    info!(
        bars,
        kill_every = args.kill_every,
        fault_every = args.fault_every,
        "chaos run at a sim venue"
    );
    let chaos = round(
        settings,
        args,
        &credentials,
        bars,
        Some(kills),
        Some(faults),
    )?;
    let fired = armed.as_ref().map(super::FailpointsFired::of);
    drop(armed);
    let escaped = escaped_panics() - escaped_before;
    let checks = invariants(&calm, &chaos, bars, escaped);
    println!("{}", render(&calm, &chaos, fired.as_ref(), &checks));
    let failed = checks.iter().filter(|c| c.problem.is_some()).count();
    if failed > 0 {
        bail!("{failed} chaos invariant(s) violated");
    }
    Ok(())
}

/// The key and secret keel signs with; the sim venue it starts accepts them.
struct Credentials {
    key: String,
    secret: String,
}

impl Credentials {
    fn read(binance: &BinanceSettings) -> anyhow::Result<Self> {
        let read = |name: &str| -> anyhow::Result<String> {
            secrets::read(name)?.with_context(|| {
                format!(
                    "{name} is not set: keel chaos signs with the key and secret the settings \
                     name (any values; the sim venue it starts accepts them)"
                )
            })
        };
        Ok(Self {
            key: read(&binance.api_key_env)?,
            secret: read(&binance.api_secret_env)?,
        })
    }
}

/// One run at a fresh sim venue.
struct VenueRound {
    /// The run's report, or why it failed.
    report: anyhow::Result<RunReport>,
    /// Bars closed at the venue (in every market) and handled by keel.
    bars_handled: u64,
    /// Why the clock stopped early, if it did.
    stuck: Option<String>,
    /// The journal against the venue after the run.
    agreement: anyhow::Result<VenueAgreement>,
    /// Faults injected, by kind.
    faults: BTreeMap<VenueFault, u64>,
    /// Why trading stopped during the run, or why no order could leave at its end, if so
    /// (the board's word).
    stopped: Option<String>,
    took: Duration,
}

fn round(
    settings: &Settings,
    args: &ChaosArgs,
    credentials: &Credentials,
    bars: u64,
    chaos: Option<ChaosOptions>,
    faults: Option<FaultSchedule>,
) -> anyhow::Result<VenueRound> {
    let began = Instant::now();
    let dir = TempDir::new(if chaos.is_some() { "chaos" } else { "calm" })?;
    let venue = SimChild::start(
        &args.venue_config,
        dir.path(),
        &credentials.key,
        &credentials.secret,
    )?;
    info!(venue = venue.base_url(), log = %venue.log().display(), "sim venue started");
    let mut settings = settings.clone();
    let binance = settings
        .binance
        .as_mut()
        .expect("a venue run has [binance]");
    binance.rest_url = venue.base_url().to_string();
    binance.ws_url = venue.ws_url();
    // Without the user data stream: fills are learnt at each bar's close, as in the calm run.
    // With it, a fill of bar n+1 can reach risk before bar n is marked (the mark is taken
    // when bar n+1's first candle arrives), so the calm and chaos equity curves would differ
    // by timing alone. Its kills are covered by tests/venue_crash.rs.
    binance.ws_api_url = None;
    let symbols = binance.validate()?;
    let client_config = binance.client_config()?;
    let inputs = live_inputs(&settings)?;
    let store = dir.path().join("journal");

    let board = Board::new();
    let stop = Arc::new(Notify::new());
    let over = Arc::new(AtomicBool::new(false));
    let clock = Clock {
        admin: venue.admin(),
        board: board.clone(),
        over: over.clone(),
    };
    let faults = faults.unwrap_or_else(|| FaultSchedule::new(0, &[], 0, 0));
    let driver = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let driven = clock.drive(bars, faults);
            // Whatever happened, the run ends at its next bar close.
            stop.notify_one();
            driven
        })
    };
    let report = run_actors(
        &settings,
        inputs,
        RunOptions {
            store: Some(store.clone()),
            chaos,
            board: Some(board.clone()),
            stop: Some(stop),
            ..RunOptions::default()
        },
    );
    over.store(true, Ordering::SeqCst);
    let driven = driver
        .join()
        .map_err(|_| anyhow::anyhow!("the venue's clock thread panicked"))?;
    let admin = venue.admin();
    admin.set_faults(&FaultSchedule::calm())?;
    let agreement = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let client = BinanceClient::connect(client_config, &symbols).await?;
            check_venue_agreement(
                &settings.order_manager(),
                &store,
                &symbols,
                &client,
                venue.base_url(),
            )
            .await
        });
    Ok(VenueRound {
        report,
        bars_handled: driven.bars,
        stuck: driven.stuck,
        agreement,
        faults: driven.faults,
        stopped: board.trading_stopped().or_else(|| {
            board
                .journal_failure()
                .map(|why| format!("the journal still cannot be written: {why}"))
        }),
        took: began.elapsed(),
    })
}

/// The venue's clock, moved by `keel chaos`.
struct Clock {
    admin: Admin,
    board: Board,
    /// Set once the run is over (it may end early: an escalation, a failed start).
    over: Arc<AtomicBool>,
}

/// What the clock did.
struct Driven {
    /// Bars closed at the venue and handled by keel.
    bars: u64,
    stuck: Option<String>,
    faults: BTreeMap<VenueFault, u64>,
}

impl Clock {
    /// Closes `bars` bars, each once keel has handled the one before, with the faults
    /// `schedule` sets before each.
    fn drive(&self, bars: u64, mut schedule: FaultSchedule) -> Driven {
        let (mut closed, mut handled, mut disk_full) = (0, 0, false);
        let stuck = (1..=bars).find_map(|bar| {
            // A full disk lasts one bar.
            if std::mem::take(&mut disk_full) {
                if let Err(e) = fail_journal_writes(false) {
                    return Some(e);
                }
            }
            // The last bar gets no fault: every fault has a bar after it to be recovered in.
            let fault = (bar < bars).then(|| schedule.before_bar(bar)).flatten();
            match self.close(bar, &mut closed, fault, &mut disk_full) {
                Ok(()) => {
                    handled = bar;
                    None
                }
                Err(e) => Some(format!("{e:#}")),
            }
        });
        if disk_full {
            if let Err(e) = fail_journal_writes(false) {
                warn!(error = e, "the journal's writes could not be healed");
            }
        }
        if let Some(why) = &stuck {
            warn!(why, "the venue's clock stopped early");
        }
        Driven {
            bars: handled,
            stuck,
            faults: schedule.injected().clone(),
        }
    }

    /// Sets `fault`, closes bar `bar` of every market and waits until keel has handled all
    /// the candles closed so far (`closed` counts them).
    fn close(
        &self,
        bar: u64,
        closed: &mut u64,
        fault: Option<(VenueFault, serde_json::Value)>,
        disk_full: &mut bool,
    ) -> anyhow::Result<()> {
        match fault {
            Some((VenueFault::DiskFull, _)) => {
                info!(bar, "the journal refuses its writes for this bar");
                fail_journal_writes(true).map_err(anyhow::Error::msg)?;
                *disk_full = true;
            }
            Some((fault, patch)) => {
                info!(bar, fault = fault.name(), "venue fault set");
                self.admin.set_faults(&patch)?;
            }
            None => {}
        }
        let Some(candles) = self.admin.close_bar()? else {
            bail!("the sim venue's data ran out before bar {bar}");
        };
        *closed += candles;
        let at = Instant::now();
        while self.board.live_bars_handled() < *closed {
            if self.over.load(Ordering::SeqCst) {
                bail!("the run ended before it handled bar {bar}");
            }
            if at.elapsed() > BAR_PATIENCE {
                bail!(
                    "bar {bar} closed at the venue, but keel did not handle it within {} s",
                    BAR_PATIENCE.as_secs()
                );
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(())
    }
}

fn invariants(calm: &VenueRound, chaos: &VenueRound, bars: u64, escaped: u64) -> Vec<Check> {
    let check = |name, problem: Option<String>| Check { name, problem };
    let mut checks = vec![
        check(
            "every bar handled",
            (chaos.bars_handled < bars).then(|| {
                let why = chaos.stuck.as_deref().unwrap_or("no reason given");
                format!("{} of {bars} bars handled: {why}", chaos.bars_handled)
            }),
        ),
        check(
            "the run ended cleanly",
            chaos.report.as_ref().err().map(|e| format!("{e:#}")),
        ),
        check("trading went on", chaos.stopped.clone()),
        check(
            "journal equal to the venue",
            chaos.agreement.as_ref().err().map(|e| format!("{e:#}")),
        ),
        escaped_check(escaped),
    ];
    if let (Ok(calm), Ok(chaos_report)) = (&calm.report, &chaos.report) {
        if trade_changing_faults(chaos) == 0 {
            checks.extend(super::same_as_calm(calm, chaos_report));
        }
    }
    checks
}

/// Faults injected that may honestly have changed the trades.
fn trade_changing_faults(round: &VenueRound) -> u64 {
    round
        .faults
        .iter()
        .filter(|(fault, _)| fault.may_change_the_trades())
        .map(|(_, n)| n)
        .sum()
}

fn render(
    calm: &VenueRound,
    chaos: &VenueRound,
    failpoints: Option<&super::FailpointsFired>,
    checks: &[Check],
) -> String {
    let mut out = match &chaos.report {
        Ok(report) => render_run(report, failpoints),
        Err(_) => String::from("chaos report\n------------\n"),
    };
    out += &format!(
        "bars closed           {} in each market at the sim venue, each handled before the next\n",
        chaos.bars_handled
    );
    let injected: u64 = chaos.faults.values().sum();
    out += &format!("venue faults          {injected}\n");
    for (fault, n) in &chaos.faults {
        out += &format!("  {:<36} {n:>5}\n", fault.name());
    }
    for (name, round) in [("calm", calm), ("chaos", chaos)] {
        let agreed = match &round.agreement {
            Ok(agreement) => agreement.to_string(),
            Err(e) => format!("DISAGREES: {e:#}"),
        };
        out += &format!(
            "{name:<6} run {:>6.1} s  {agreed}\n",
            round.took.as_secs_f64()
        );
    }
    if let (Ok(calm), Ok(chaos_report)) = (&calm.report, &chaos.report) {
        let changing = trade_changing_faults(chaos);
        if changing > 0 {
            out += &format!(
                "against the calm run  not an invariant: {changing} faults may have changed the \
                 trades (an entry the venue never received is rejected; an unknown outcome is \
                 settled a bar later)\n  {}\n",
                differences(calm, chaos_report)
            );
        }
    }
    out + &render_checks(checks)
}

/// How the chaos run's orders and P&L differ from the calm run's, in one line.
fn differences(calm: &RunReport, chaos: &RunReport) -> String {
    let by_id: BTreeMap<_, _> = calm.record.orders.iter().map(|o| (o.id(), o)).collect();
    let changed: Vec<_> = chaos
        .record
        .orders
        .iter()
        .filter(|o| by_id.get(o.id()).is_some_and(|c| c != o))
        .collect();
    let equity = |r: &RunReport| r.result.equity_curve.last().map(|p| p.equity);
    let mut line = format!(
        "orders: calm {}, chaos {} ({} of the same id differ)",
        calm.record.orders.len(),
        chaos.record.orders.len(),
        changed.len()
    );
    if let Some(first) = changed.first() {
        let was = by_id[first.id()];
        line += &format!(
            ", first {}: calm {:?} at {}, chaos {:?} at {}",
            first.id(),
            was.status,
            was.avg_fill_price,
            first.status,
            first.avg_fill_price
        );
    }
    line + &format!(
        "; final equity calm {}, chaos {}",
        equity(calm).unwrap_or_default(),
        equity(chaos).unwrap_or_default()
    )
}
