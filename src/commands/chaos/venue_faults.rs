//! The faults `keel chaos` injects into a run at a sim venue, and when: one every
//! `--fault-every` bars, the kind drawn with the seed, so the same seed injects the same
//! faults at the same bars on any machine. All but one are the venue's; `disk-full` is
//! keel's own disk.

use std::collections::BTreeMap;

use serde_json::{json, Value};

/// One fault, as `POST /admin/faults` sets it (see docs/sim-exchange.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub enum VenueFault {
    /// The next order request is carried out, then answered HTTP 500: the outcome is
    /// unknown to keel, which must find the order by querying it.
    ServerErrorExecuted,
    /// The next order request is answered HTTP 503 without being carried out.
    ServerErrorNotExecuted,
    /// The next REST request is answered 429 with `Retry-After: 1`.
    RateLimited,
    /// The next order request is held, then answered 503 `-1007`, carried out.
    TimeoutExecuted,
    /// The next order request is held, then answered 503 `-1007`, not carried out.
    TimeoutNotExecuted,
    /// Every WebSocket connection is closed now: keel reconnects and back-fills the gap.
    DroppedStream,
    /// The venue's clock jumps by twice keel's `recvWindow` (and back, the next time):
    /// signed requests are refused `-1021` until keel measures the offset again.
    ClockSkew,
    /// keel's journal refuses every write for one bar, as a full disk would: the order
    /// manager holds its orders and sends them once a write succeeds; execution, which cannot
    /// journal the venue's book, stops trading on the venue until a restart reconciles it
    /// (so the chaos run fails *trading went on*). Needs a build with
    /// `--features failpoints`; never drawn unless named.
    DiskFull,
}

impl VenueFault {
    /// Every kind.
    pub const ALL: [VenueFault; 8] = [
        VenueFault::ServerErrorExecuted,
        VenueFault::ServerErrorNotExecuted,
        VenueFault::RateLimited,
        VenueFault::TimeoutExecuted,
        VenueFault::TimeoutNotExecuted,
        VenueFault::DroppedStream,
        VenueFault::ClockSkew,
        VenueFault::DiskFull,
    ];

    /// The kinds drawn from by default: the venue's (`disk-full` only when named).
    pub fn defaults() -> Vec<VenueFault> {
        Self::ALL
            .into_iter()
            .filter(|f| *f != VenueFault::DiskFull)
            .collect()
    }

    /// Its name in the report and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            VenueFault::ServerErrorExecuted => "server-error-executed",
            VenueFault::ServerErrorNotExecuted => "server-error-not-executed",
            VenueFault::RateLimited => "rate-limited",
            VenueFault::TimeoutExecuted => "timeout-executed",
            VenueFault::TimeoutNotExecuted => "timeout-not-executed",
            VenueFault::DroppedStream => "dropped-stream",
            VenueFault::ClockSkew => "clock-skew",
            VenueFault::DiskFull => "disk-full",
        }
    }

    /// Whether the run can honestly trade differently from the calm run: an entry the venue
    /// never received is rejected (never sent blindly again), and an action whose outcome is
    /// unknown (a cancel answered 5xx, say) is settled by its status a bar later, when the
    /// market may have moved. A dropped stream is back-filled and a clock skew re-signed
    /// within the same bar: those two must leave the trades as they were.
    pub fn may_change_the_trades(self) -> bool {
        !matches!(self, VenueFault::DroppedStream | VenueFault::ClockSkew)
    }
}

impl std::fmt::Display for VenueFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Which fault comes at which bar.
pub struct FaultSchedule {
    every: u64,
    kinds: Vec<VenueFault>,
    rng: fastrand::Rng,
    skew_ms: i64,
    skewed: bool,
    injected: BTreeMap<VenueFault, u64>,
}

impl FaultSchedule {
    /// A fault every `every` bars (0: none), of one of `kinds` drawn with `seed`; a clock skew
    /// jumps by `skew_ms`.
    pub fn new(every: u64, kinds: &[VenueFault], seed: u64, skew_ms: i64) -> Self {
        let mut kinds = kinds.to_vec();
        kinds.sort();
        kinds.dedup();
        Self {
            every,
            kinds,
            rng: fastrand::Rng::with_seed(seed),
            skew_ms,
            skewed: false,
            injected: BTreeMap::new(),
        }
    }

    /// The fault to set before closing bar `bar` (from 1), with its `POST /admin/faults` body
    /// (null for `disk-full`, which is not the venue's).
    pub fn before_bar(&mut self, bar: u64) -> Option<(VenueFault, Value)> {
        if self.every == 0 || self.kinds.is_empty() || !bar.is_multiple_of(self.every) {
            return None;
        }
        let fault = self.kinds[self.rng.usize(..self.kinds.len())];
        *self.injected.entry(fault).or_default() += 1;
        let patch = match fault {
            VenueFault::ServerErrorExecuted => {
                json!({"http_5xx": {"count": 1, "execute": true, "status": 500}})
            }
            VenueFault::ServerErrorNotExecuted => {
                json!({"http_5xx": {"count": 1, "execute": false, "status": 503}})
            }
            VenueFault::RateLimited => json!({"rate_limit": {"count": 1, "retry_after_s": 1}}),
            VenueFault::TimeoutExecuted => {
                json!({"timeout": {"count": 1, "execute": true, "hold_ms": 300}})
            }
            VenueFault::TimeoutNotExecuted => {
                json!({"timeout": {"count": 1, "execute": false, "hold_ms": 300}})
            }
            VenueFault::DroppedStream => json!({"drop_ws": true}),
            VenueFault::ClockSkew => {
                self.skewed = !self.skewed;
                json!({"clock_skew_ms": if self.skewed { self.skew_ms } else { 0 }})
            }
            VenueFault::DiskFull => Value::Null,
        };
        Some((fault, patch))
    }

    /// The body that lifts every lasting fault (budgets not yet used, the clock skew, a
    /// pending `Retry-After` that a fresh client could not know of).
    pub fn calm() -> Value {
        json!({
            "ban_s": 0,
            "http_5xx": {"count": 0},
            "rate_limit": {"count": 0},
            "timeout": {"count": 0},
            "clock_skew_ms": 0,
        })
    }

    /// How many of each kind were injected so far.
    pub fn injected(&self) -> &BTreeMap<VenueFault, u64> {
        &self.injected
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_injects_the_same_faults_at_the_same_bars() {
        let plan = |seed| {
            let mut schedule = FaultSchedule::new(5, &VenueFault::ALL, seed, 10_000);
            (1..=200)
                .filter_map(|bar| schedule.before_bar(bar).map(|(f, _)| (bar, f)))
                .collect::<Vec<_>>()
        };
        let first = plan(7);
        assert_eq!(first, plan(7));
        assert_ne!(first, plan(8));
        assert_eq!(first.len(), 40, "one fault every 5 bars");
        assert!(first.iter().all(|(bar, _)| bar % 5 == 0));
        let kinds: std::collections::BTreeSet<_> = first.iter().map(|(_, f)| *f).collect();
        assert_eq!(
            kinds.len(),
            VenueFault::ALL.len(),
            "every kind drawn: {kinds:?}"
        );
    }

    #[test]
    fn a_clock_skew_jumps_and_comes_back() {
        let mut schedule = FaultSchedule::new(1, &[VenueFault::ClockSkew], 1, 12_000);
        let skews: Vec<Value> = (1..=3)
            .map(|bar| schedule.before_bar(bar).unwrap().1["clock_skew_ms"].clone())
            .collect();
        assert_eq!(skews, [json!(12_000), json!(0), json!(12_000)]);
        assert_eq!(schedule.injected()[&VenueFault::ClockSkew], 3);
    }

    #[test]
    fn each_name_is_its_command_line_value() {
        for fault in VenueFault::ALL {
            assert_eq!(
                <VenueFault as clap::ValueEnum>::from_str(fault.name(), false),
                Ok(fault)
            );
        }
    }

    #[test]
    fn no_fault_when_asked_for_none() {
        let mut never = FaultSchedule::new(0, &VenueFault::ALL, 1, 1);
        let mut no_kinds = FaultSchedule::new(1, &[], 1, 1);
        assert!((1..100).all(|bar| never.before_bar(bar).is_none()));
        assert!((1..100).all(|bar| no_kinds.before_bar(bar).is_none()));
    }
}
