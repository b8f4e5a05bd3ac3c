//! The risk engine (DESIGN §7): turns a [`TradingSignal`](crate::model::TradingSignal) into a
//! sized [`OrderIntent`](crate::model::OrderIntent) or a [`Refusal`] naming the rule that
//! refused it, and keeps the persisted state behind the drawdown kill switch, the daily loss
//! limit and the post-stop-out cooldowns.
//!
//! The engine logs nothing itself: callers log every refusal with `refusal.rule.name()`.

mod config;
mod engine;
mod rule;
mod sizing;
mod stage;
mod state;

#[cfg(test)]
mod tests;

pub use config::{RiskConfig, TakeProfitLevel};
pub use engine::{OperatorCommand, RiskAlert, RiskContext, RiskEngine};
pub use rule::{Refusal, RiskRule};
pub use sizing::{size_entry, Exposure, SizeLimit, Sizing, SizingInput};
pub use stage::{Approval, Conditions, PortfolioView, Protection, RiskStage};
pub use state::{KillSwitch, RiskState};
