//! Deliberately broken supervision, for the tests that show each chaos invariant failing.
//! Only `keel chaos --sabotage` sets one, on its chaos run; a trading run never does.

/// One way of breaking supervision on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sabotage {
    /// The monkey's panics are raised outside the supervisor's containment.
    EscapePanic,
    /// After a failure the actor is restarted but the interrupted message is not delivered
    /// again: it is lost.
    SkipRedelivery,
    /// The order manager runs without its journal while the run believes it keeps one.
    DropJournal,
    /// The order manager books every fill twice, as a receiver would that does not recognise
    /// the venue's second report of a trade.
    ApplyFillTwice,
}

impl std::str::FromStr for Sabotage {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "escape-panic" => Ok(Self::EscapePanic),
            "skip-redelivery" => Ok(Self::SkipRedelivery),
            "drop-journal" => Ok(Self::DropJournal),
            "apply-fill-twice" => Ok(Self::ApplyFillTwice),
            other => Err(format!(
                "unknown sabotage {other:?}: expected escape-panic, skip-redelivery, drop-journal or apply-fill-twice"
            )),
        }
    }
}
