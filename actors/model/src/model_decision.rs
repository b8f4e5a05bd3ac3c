//! What a model answered at a decision point of the `llm` strategy, and the exits it
//! proposed for risk to weigh.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The model's verb.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelAction {
    /// Open a long (risk sizes it, or refuses).
    Buy,
    /// Sell what is held (spot cannot short: with nothing held it is a hold).
    Sell,
    /// Close the position (the same as `sell` on spot).
    Close,
    /// Do nothing.
    Hold,
}

impl ModelAction {
    /// The name the model writes.
    pub fn name(self) -> &'static str {
        match self {
            ModelAction::Buy => "buy",
            ModelAction::Sell => "sell",
            ModelAction::Close => "close",
            ModelAction::Hold => "hold",
        }
    }
}

/// A valid reply of the decision contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelDecision {
    /// What to do.
    pub action: ModelAction,
    /// How sure, in [0, 1]; risk's `min_confidence` applies to it.
    pub confidence: f64,
    /// A proposed protective stop price (used only inside risk's bounds).
    pub stop: Option<Decimal>,
    /// A proposed take-profit price (used only inside risk's bounds).
    pub take_profit: Option<Decimal>,
    /// How many bars the model expects the trade to take.
    pub horizon_bars: Option<u32>,
    /// Up to five short reasons, kept in the audit trail beside the order.
    pub reasons: Vec<String>,
}

impl ModelDecision {
    /// The decision to do nothing, with why.
    pub fn hold(reason: impl Into<String>) -> Self {
        Self {
            action: ModelAction::Hold,
            confidence: 0.0,
            stop: None,
            take_profit: None,
            horizon_bars: None,
            reasons: vec![reason.into()],
        }
    }

    /// The exits the model proposed, if any.
    pub fn proposal(&self) -> Option<ExitProposal> {
        (self.stop.is_some() || self.take_profit.is_some()).then_some(ExitProposal {
            stop: self.stop,
            take_profit: self.take_profit,
        })
    }
}

/// Exits a strategy proposes for an entry. Risk uses each only inside its own bounds, else
/// its own, and says which in the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ExitProposal {
    /// A stop price below the entry.
    pub stop: Option<Decimal>,
    /// One take-profit price above the entry, for the whole quantity.
    pub take_profit: Option<Decimal>,
}
