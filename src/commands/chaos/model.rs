//! Chaos against the model: with a model analyst in `record` mode, both runs ask the
//! [`FakeModel`] keel chaos starts (each with a fresh analysis cache, so that each asks), and
//! the chaos run gets model faults. The invariants: garbage from the model never became a
//! signal, and every fault the client retries was recovered from.

use std::time::Duration;

use keel_news::llm::{AnalysisCache, AnalysisMode, AnalystKind, SessionStats};

use super::fake_model::{FakeModel, ModelCounts, ModelFault, ModelFaultPlan};
use super::{Check, TempDir};
use crate::backtest::RunInputs;
use crate::cli::ChaosArgs;
use crate::runtime::RunReport;
use crate::settings::Settings;

/// The client's timeout per attempt in both runs: a timeout fault costs this much.
const CLIENT_TIMEOUT_SECS: f64 = 2.0;

/// The model keel chaos plays, and how the chaos run's faults are drawn.
pub(super) struct ModelChaos {
    fake: FakeModel,
    every: u64,
    kinds: Vec<ModelFault>,
}

/// What one run did with the model: the fake's counts and the session's.
pub(super) struct ModelRun {
    /// What the fake model answered.
    pub counts: ModelCounts,
    /// What the analyst's session made of it (`None`: the sentiment actor did not say).
    pub session: Option<SessionStats>,
}

impl ModelChaos {
    /// Whether a run of `settings` asks a model: a model analyst in `record` mode.
    pub fn asks_a_model(settings: &Settings) -> bool {
        let sentiment = &settings.sentiment;
        sentiment.analyst != AnalystKind::Lexicon && sentiment.mode == AnalysisMode::Record
    }

    /// Starts the fake model when [`asks_a_model`](Self::asks_a_model), and points `settings`
    /// at it; `None` otherwise.
    pub fn start(settings: &mut Settings, args: &ChaosArgs) -> anyhow::Result<Option<Self>> {
        if !Self::asks_a_model(settings) {
            return Ok(None);
        }
        if args.model_fault_every == 1 {
            anyhow::bail!(
                "--model-fault-every 1 would strike every retry too: give 0 (none) or at least 2"
            );
        }
        let fake = FakeModel::start()?;
        let llm = &mut settings.sentiment.llm;
        llm.base_url = Some(fake.url().to_string());
        llm.timeout_secs = CLIENT_TIMEOUT_SECS;
        Ok(Some(Self {
            fake,
            every: args.model_fault_every,
            kinds: args.model_faults.clone(),
        }))
    }

    /// `inputs` for one run: with a `model`, a fresh analysis cache in `dir` (not the
    /// configured one), so that the run asks the model; as they are without.
    pub fn inputs_for_run(
        model: Option<&Self>,
        inputs: &RunInputs,
        dir: &TempDir,
    ) -> anyhow::Result<RunInputs> {
        let mut inputs = inputs.clone();
        if model.is_some() {
            let path = dir.path().join("llm-cache");
            inputs.analyses = Some(AnalysisCache::open(&path)?);
        }
        Ok(inputs)
    }

    /// Answers without faults from now on (the calm run).
    pub fn calm(&self) {
        self.fake.begin(None);
    }

    /// Answers with faults drawn with `seed` from now on (a chaos run).
    pub fn strike(&self, seed: u64) {
        self.fake.begin(Some(ModelFaultPlan {
            every: self.every,
            kinds: self.kinds.clone(),
            seed,
            hold: Duration::from_secs_f64(CLIENT_TIMEOUT_SECS * 2.0),
        }));
    }

    /// What the run since [`calm`](Self::calm) or [`strike`](Self::strike) did.
    pub fn finish(&self, report: &RunReport) -> ModelRun {
        ModelRun {
            counts: self.fake.begin(None),
            session: report.sentiment.as_ref().and_then(|s| s.session.clone()),
        }
    }
}

impl ModelRun {
    /// Whether a fault changed an analysis (a rejected reply leaves its window without a
    /// signal), so that the chaos run may trade differently from the calm one.
    pub fn changes_analyses(&self) -> bool {
        self.counts.garbage() > 0
    }
}

/// The model's invariants for `chaos` against `calm`.
pub(super) fn model_checks(calm: &ModelRun, chaos: &ModelRun) -> Vec<Check> {
    let (Some(calm_session), Some(session)) = (&calm.session, &chaos.session) else {
        return vec![Check {
            name: "the model's answers accounted",
            problem: Some("the sentiment actor did not report its model session".into()),
        }];
    };
    let valid = chaos.counts.valid;
    vec![
        Check {
            name: "garbage from the model never became a signal",
            problem: (session.accepted > valid).then(|| {
                format!(
                    "the session accepted {} analyses, the model sent {valid} valid replies (and \
                     {} garbage)",
                    session.accepted,
                    chaos.counts.garbage()
                )
            }),
        },
        Check {
            name: "every retried model fault recovered",
            problem: (session.failed > calm_session.failed
                || session.refused > calm_session.refused)
                .then(|| {
                    format!(
                        "{} calls failed and {} were refused by the breaker (calm: {} and {})",
                        session.failed, session.refused, calm_session.failed, calm_session.refused
                    )
                }),
        },
    ]
}

/// The report's model lines; with garbage rejected, the comparison of the runs' orders
/// (`calm_report`, `chaos_report`) as a figure.
pub(super) fn render_model(
    calm: &ModelRun,
    chaos: &ModelRun,
    calm_report: &RunReport,
    chaos_report: &RunReport,
) -> String {
    let mut out = format!(
        "model faults          {} of {} requests to the model keel chaos plays\n",
        chaos.counts.total_faults(),
        chaos.counts.requests
    );
    for kind in ModelFault::ALL {
        if let Some(n) = chaos.counts.faults.get(&kind) {
            out += &format!("  {:<38}{n:>3}\n", kind.name());
        }
    }
    let line = |run: &ModelRun| match &run.session {
        Some(s) => format!(
            "{} calls: {} accepted, {} rejected, {} failed, {} refused; {} HTTP requests",
            s.calls, s.accepted, s.rejected, s.failed, s.refused, run.counts.requests
        ),
        None => "not reported".into(),
    };
    out += &format!("model calm            {}\n", line(calm));
    out += &format!("model chaos           {}\n", line(chaos));
    if chaos.changes_analyses() {
        out += &format!(
            "against the calm run  not an invariant: {} garbage replies were rejected, so their \
             windows had no signal; orders calm {}, chaos {}\n",
            chaos.counts.garbage(),
            calm_report.record.orders.len(),
            chaos_report.record.orders.len()
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(valid: u64, prose: u64, accepted: u64, rejected: u64, failed: u64) -> ModelRun {
        let mut counts = ModelCounts {
            requests: valid + prose,
            valid,
            ..ModelCounts::default()
        };
        if prose > 0 {
            counts.faults.insert(ModelFault::Prose, prose);
        }
        ModelRun {
            counts,
            session: Some(SessionStats {
                calls: accepted + rejected + failed,
                accepted,
                rejected,
                failed,
                ..SessionStats::default()
            }),
        }
    }

    fn failed(checks: &[Check]) -> Vec<&'static str> {
        checks
            .iter()
            .filter(|c| c.problem.is_some())
            .map(|c| c.name)
            .collect()
    }

    #[test]
    fn rejected_garbage_and_recovered_faults_pass() {
        let calm = run(40, 0, 40, 0, 0);
        let chaos = run(37, 3, 37, 3, 0);
        assert!(failed(&model_checks(&calm, &chaos)).is_empty());
        assert!(chaos.changes_analyses());
    }

    #[test]
    fn garbage_taken_as_an_analysis_fails_the_run() {
        // A session that accepted the prose: 40 analyses from 37 valid replies.
        let calm = run(40, 0, 40, 0, 0);
        let chaos = run(37, 3, 40, 0, 0);
        assert_eq!(
            failed(&model_checks(&calm, &chaos)),
            ["garbage from the model never became a signal"]
        );
    }

    #[test]
    fn a_retried_fault_that_ended_in_a_failure_fails_the_run() {
        let calm = run(40, 0, 40, 0, 0);
        let chaos = run(39, 0, 39, 0, 1);
        assert_eq!(
            failed(&model_checks(&calm, &chaos)),
            ["every retried model fault recovered"]
        );
    }
}
