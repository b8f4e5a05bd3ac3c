//! `keel chaos`: the same replay twice, once calm and once while a chaos monkey kills random
//! actors (panics and stops); then the invariants: no order lost or duplicated, the journal
//! equal to the venue, no panic escaped its supervisor, and the orders, fills and P&L
//! identical to the calm run. Exit 0 when every invariant holds, 1 otherwise.

use std::collections::HashSet;
use std::time::Duration;

use anyhow::bail;
use keel_model::Order;
use tracing::info;

mod fake_model;
mod model;
mod sim_child;
mod venue;
mod venue_faults;

pub use fake_model::ModelFault;
pub use venue_faults::VenueFault;

use super::soak::{LoopFigures, Soak};
use crate::backtest::load_inputs;
use crate::cli::ChaosArgs;
use crate::runtime::{check_journal, run_actors, ChaosOptions, RunOptions, RunReport};
use keel_actors::runtime::{escaped_panics, install_panic_hook, ArmedFailpoints, FailpointPlan};
use model::{model_checks, render_model, ModelChaos, ModelRun};

/// How often each armed failpoint fired in the chaos run.
struct FailpointsFired {
    probability: f64,
    fired: Vec<(&'static str, u64)>,
}

impl FailpointsFired {
    fn of(armed: &ArmedFailpoints) -> Self {
        Self {
            probability: armed.plan().probability,
            fired: armed.fired(),
        }
    }
}

/// Arms the failpoints `--failpoints` names (none without it), drawing with `seed`; they stay
/// armed until the result is dropped.
fn arm_failpoints(args: &ChaosArgs, seed: u64) -> anyhow::Result<Option<ArmedFailpoints>> {
    args.failpoints
        .as_ref()
        .map(|selection| {
            ArmedFailpoints::arm(FailpointPlan {
                points: selection.0.clone(),
                probability: args.failpoint_probability,
                seed,
            })
        })
        .transpose()
        .map_err(anyhow::Error::msg)
}

/// Runs `keel chaos`: one chaos run, or with `--duration` as many as fit (a soak), each
/// compared with the same calm run.
pub fn run(args: &ChaosArgs) -> anyhow::Result<()> {
    let mut settings = super::load_settings(args.config.as_deref())?;
    // The kills are deliberate: they restart at once and count against no restart
    // intensity, unless asked to (then against this one). Real failures count as configured.
    if let Some(max_restarts) = args.max_restarts {
        settings.supervision.intensity.max_restarts = max_restarts;
    }
    if args.hangs.is_some() {
        // Each injected hang holds the lockstep replay for a deadline: short ones keep the
        // run within minutes.
        settings.hangs.deadline_ms = args.hang_deadline_ms;
        settings.hangs.actors.clear();
    }
    if let Some(binance) = settings.binance.clone() {
        if ModelChaos::asks_a_model(&settings) {
            bail!("keel chaos at a venue plays no model: give it settings whose analyst is the lexicon, or mode = \"replay-only\"");
        }
        return venue::run(&settings, &binance, args);
    }
    let model = ModelChaos::start(&mut settings, args)?;
    let inputs = load_inputs(&settings)?;
    info!(candles = inputs.candles.len(), "calm replay");
    let calm_dir = TempDir::new("calm")?;
    let calm_inputs = ModelChaos::inputs_for_run(model.as_ref(), &inputs, &calm_dir)?;
    if let Some(model) = &model {
        model.calm();
    }
    let calm = run_actors(&settings, calm_inputs, RunOptions::default())?;
    let calm_model = model.as_ref().map(|m| m.finish(&calm));
    let model = model.as_ref().zip(calm_model.as_ref());
    // Panics outside every supervised handler are counted by the process's panic hook, on
    // every thread, whether or not something caught them later.
    install_panic_hook();
    let Some(duration) = args.duration else {
        let round = chaos_round(&settings, &inputs, &calm, model, args, args.seed)?;
        println!("{}", round.render());
        return round.verdict();
    };
    let mut soak = Soak::new(duration);
    loop {
        // Each loop strikes other messages: the seed moves on with the loop.
        let seed = args.seed.wrapping_add(soak.loops);
        let round = chaos_round(&settings, &inputs, &calm, model, args, seed)?;
        soak.add(round.figures(), seed);
        if round.verdict().is_err() {
            println!("{}", round.render());
            println!("{}", soak.render());
            return round.verdict();
        }
        if soak.over() {
            println!("{}", soak.render());
            return Ok(());
        }
    }
}

/// One chaos run and its invariants.
struct Round {
    chaos: RunReport,
    fired: Option<FailpointsFired>,
    /// The model's lines (calm, then chaos), when keel chaos played one.
    model: Option<String>,
    checks: Vec<Check>,
}

impl Round {
    /// The report on stdout.
    fn render(&self) -> String {
        render_run(&self.chaos, self.fired.as_ref())
            + self.model.as_deref().unwrap_or_default()
            + &render_checks(&self.checks)
    }

    /// Its figures, for a soak.
    fn figures(&self) -> LoopFigures<'_> {
        LoopFigures {
            candles: self.chaos.outcome.candles,
            kills: self.chaos.kills.total(),
            hangs: self.chaos.supervision.hangs.values().sum(),
            restarts: self.chaos.supervision.restarts.values().sum(),
            failpoints: self
                .fired
                .as_ref()
                .map(|f| (f.probability, f.fired.as_slice())),
            orders: self.chaos.record.orders.len(),
        }
    }

    /// `Err` naming how many invariants failed.
    fn verdict(&self) -> anyhow::Result<()> {
        let failed = self.checks.iter().filter(|c| c.problem.is_some()).count();
        if failed > 0 {
            bail!("{failed} chaos invariant(s) violated");
        }
        Ok(())
    }
}

/// Replays `inputs` once under chaos (the monkey seeded with `seed`), on a fresh journal, and
/// checks it against `calm`.
fn chaos_round(
    settings: &crate::settings::Settings,
    inputs: &crate::backtest::RunInputs,
    calm: &RunReport,
    model: Option<(&ModelChaos, &ModelRun)>,
    args: &ChaosArgs,
    seed: u64,
) -> anyhow::Result<Round> {
    let store = TempDir::new("replay")?;
    let run_inputs = ModelChaos::inputs_for_run(model.map(|(m, _)| m), inputs, &store)?;
    if let Some((model, _)) = model {
        model.strike(seed);
    }
    let options = RunOptions {
        store: Some(store.path().join("journal")),
        chaos: Some(ChaosOptions {
            kill_every: args.kill_every,
            stop_ratio: args.stop_ratio.clamp(0.0, 1.0),
            seed,
            only: args.only.clone(),
            poison: args.poison,
            sabotage: args.sabotage,
            count_kills: args.max_restarts.is_some(),
            hang_share: args.hangs.unwrap_or(0.0),
        }),
        ..RunOptions::default()
    };
    info!(kill_every = args.kill_every, seed, "replay under chaos");
    let escaped_before = escaped_panics();
    // Armed for the chaos run only: the calm run is the reference.
    let armed = arm_failpoints(args, seed)?;
    let chaos = run_actors(settings, run_inputs, options);
    let fired = armed.as_ref().map(FailpointsFired::of);
    drop(armed);
    let escaped = escaped_panics() - escaped_before;
    let chaos = match chaos {
        Ok(report) => report,
        // An escalation past the root stops trading safely: that is its own exit code.
        Err(err) if escaped == 0 => return Err(err),
        Err(err) => {
            // An escaped panic killed an actor for good, and trading stopped safely.
            let checks = [
                Check {
                    name: "the replay completed",
                    problem: Some(format!("the run failed: {err}")),
                },
                escaped_check(escaped),
            ];
            println!("chaos report\n------------\n{}", render_checks(&checks));
            bail!("the chaos run failed: {err}");
        }
    };
    let placed = chaos.record.orders.len();
    let journal = check_journal(settings, &store.path().join("journal"), placed);
    let model_runs = model.map(|(model, calm)| (calm, model.finish(&chaos)));
    // A rejected reply leaves its window without a signal: the trades may differ.
    let analyses_changed = model_runs
        .as_ref()
        .is_some_and(|(_, chaos)| chaos.changes_analyses());
    let mut checks = invariants(
        calm,
        &chaos,
        journal.err().map(|e| e.to_string()),
        escaped,
        !analyses_changed,
    );
    let mut model_lines = None;
    if let Some((calm_model, chaos_model)) = &model_runs {
        checks.extend(model_checks(calm_model, chaos_model));
        model_lines = Some(render_model(calm_model, chaos_model, calm, &chaos));
    }
    Ok(Round {
        chaos,
        fired,
        model: model_lines,
        checks,
    })
}

/// One invariant and what broke it, if anything.
struct Check {
    name: &'static str,
    problem: Option<String>,
}

/// The invariants of a chaos run; the trades must be the calm run's when `same_trades`.
fn invariants(
    calm: &RunReport,
    chaos: &RunReport,
    journal: Option<String>,
    escaped: u64,
    same_trades: bool,
) -> Vec<Check> {
    let check = |name, ok: bool, problem: String| Check {
        name,
        problem: (!ok).then_some(problem),
    };
    let ids: Vec<_> = chaos.record.orders.iter().map(|o| o.id().clone()).collect();
    let unique: HashSet<_> = ids.iter().collect();
    let calm_ids: HashSet<_> = calm.record.orders.iter().map(|o| o.id().clone()).collect();
    let lost: Vec<_> = calm_ids.iter().filter(|id| !unique.contains(id)).collect();
    let mut checks = vec![
        check(
            "the replay completed",
            chaos.outcome.completed,
            "the feed stopped early".into(),
        ),
        check(
            "no order duplicated",
            unique.len() == ids.len(),
            format!(
                "{} client order ids used more than once",
                ids.len() - unique.len()
            ),
        ),
        check(
            "no order lost",
            lost.is_empty(),
            format!(
                "{} orders of the calm run are missing, e.g. {:?}",
                lost.len(),
                lost.first()
            ),
        ),
        check(
            "journal equal to the venue",
            journal.is_none(),
            journal.unwrap_or_default(),
        ),
        escaped_check(escaped),
    ];
    if same_trades {
        checks.extend(same_as_calm(calm, chaos));
    }
    checks
}

/// The chaos run traded exactly as the calm run: orders, fills, fees, equity.
fn same_as_calm(calm: &RunReport, chaos: &RunReport) -> [Check; 3] {
    let check = |name, ok: bool, problem: String| Check {
        name,
        problem: (!ok).then_some(problem),
    };
    [
        check(
            "orders identical to the calm run",
            chaos.record.orders == calm.record.orders,
            first_difference(&calm.record.orders, &chaos.record.orders),
        ),
        check(
            "fills and P&L identical",
            chaos.result.trades == calm.result.trades
                && chaos.result.fees_paid == calm.result.fees_paid,
            "closed trades or fees differ".into(),
        ),
        check(
            "equity curve identical",
            chaos.result.equity_curve == calm.result.equity_curve,
            "the equity curves differ".into(),
        ),
    ]
}

/// No panic outside every supervised handler, counted by the process's panic hook.
fn escaped_check(escaped: u64) -> Check {
    Check {
        name: "no panic escaped",
        problem: (escaped > 0).then(|| {
            format!("{escaped} panics were raised outside every supervised handler (see the log)")
        }),
    }
}

/// The first order that differs, both versions.
fn first_difference(calm: &[Order], chaos: &[Order]) -> String {
    if calm.len() != chaos.len() {
        return format!(
            "{} orders in the calm run, {} under chaos",
            calm.len(),
            chaos.len()
        );
    }
    calm.iter()
        .zip(chaos)
        .find(|(a, b)| a != b)
        .map_or_else(String::new, |(a, b)| {
            format!("calm: {a:?}\n        chaos: {b:?}")
        })
}

/// What the chaos run went through: kills, hangs, failpoints, restarts, dead letters.
fn render_run(chaos: &RunReport, failpoints: Option<&FailpointsFired>) -> String {
    let mut out = String::from("chaos report\n------------\n");
    out += &format!("candles replayed      {}\n", chaos.outcome.candles);
    out += &format!(
        "kills                 {} ({} panics, {} stops)\n",
        chaos.kills.total(),
        chaos.kills.panics.values().sum::<u64>(),
        chaos.kills.stops.values().sum::<u64>()
    );
    let mut actors: Vec<&String> = chaos
        .kills
        .panics
        .keys()
        .chain(chaos.kills.stops.keys())
        .chain(chaos.supervision.hangs.keys())
        .collect();
    actors.sort();
    actors.dedup();
    for actor in actors {
        out += &format!(
            "  {actor:<20} panics {:>4}  stops {:>4}  hangs {:>4}  restarts {:>4}\n",
            chaos.kills.panics.get(actor).unwrap_or(&0),
            chaos.kills.stops.get(actor).unwrap_or(&0),
            chaos.supervision.hangs.get(actor).unwrap_or(&0),
            chaos.supervision.restarts.get(actor.as_str()).unwrap_or(&0),
        );
    }
    let hangs: u64 = chaos.supervision.hangs.values().sum();
    let injected: u64 = chaos.kills.hangs.values().sum();
    out += &format!(
        "hangs                 {hangs} ({injected} injected), each instance fenced and replaced\n"
    );
    out += &format!(
        "hang to successor     {}\n",
        percentiles(&chaos.supervision.hang_replacements, "replacements")
    );
    if let Some(failpoints) = failpoints {
        let total: u64 = failpoints.fired.iter().map(|(_, n)| n).sum();
        out += &format!(
            "failpoints fired      {total} (each armed point fires with probability {})\n",
            failpoints.probability
        );
        for (point, fired) in &failpoints.fired {
            out += &format!("  {point:<36} fired {fired:>5}\n");
        }
    }
    let restarts: u64 = chaos.supervision.restarts.values().sum();
    out += &format!("restarts (all actors) {restarts}\n");
    out += &format!(
        "failures beyond kills {}\n",
        chaos.supervision.real_failures
    );
    out += &format!(
        "dead letters          {}\n",
        chaos.supervision.dead_letters.len()
    );
    for letter in &chaos.supervision.dead_letters {
        out += &format!("  {letter}\n");
    }
    out += &format!(
        "recovery latency      {}\n",
        percentiles(&chaos.supervision.recovery, "recoveries")
    );
    out
}

fn render_checks(checks: &[Check]) -> String {
    let mut out = String::from("invariants\n");
    for check in checks {
        match &check.problem {
            None => out += &format!("  ok    {}\n", check.name),
            Some(problem) => out += &format!("  FAIL  {}: {problem}\n", check.name),
        }
    }
    out
}

fn percentiles(samples: &[Duration], what: &str) -> String {
    if samples.is_empty() {
        return format!("n/a (no {what} measured)");
    }
    let mut sorted = samples.to_vec();
    sorted.sort();
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    format!(
        "p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs over {} {what}",
        at(0.5).as_secs_f64() * 1e6,
        at(0.99).as_secs_f64() * 1e6,
        sorted[sorted.len() - 1].as_secs_f64() * 1e6,
        sorted.len()
    )
}

/// A temporary directory for one run's journal (and venue), removed at the end.
struct TempDir(std::path::PathBuf);

impl TempDir {
    /// `keel-chaos-<pid>-<name>` in the system's temporary directory, empty.
    fn new(name: &str) -> anyhow::Result<Self> {
        let path = std::env::temp_dir().join(format!("keel-chaos-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)?;
        Ok(Self(path))
    }

    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
