//! Restart strategies: which children restart together when one fails (OTP semantics).
//!
//! The shell stops the affected children that are still running in *reverse* start order,
//! then starts all of them again in start order (the order [`children_to_restart`] returns).

use std::fmt;

use serde::{Deserialize, Serialize};

/// How a supervisor reacts when one of its children must be restarted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Only the failed child restarts (independent children, e.g. symbol actors).
    #[default]
    OneForOne,
    /// The failed child and every child started after it restart (a pipeline whose later
    /// stages depend on earlier ones, e.g. the trading chain).
    RestForOne,
    /// Every child restarts (children that share state).
    OneForAll,
}

impl Strategy {
    /// The config / log spelling: `one_for_one`, `rest_for_one` or `one_for_all`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OneForOne => "one_for_one",
            Self::RestForOne => "rest_for_one",
            Self::OneForAll => "one_for_all",
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The children to restart, in start order, when `failed` fails. `children` is the
/// supervisor's children in start order. A `failed` child that is not among `children`
/// restarts nothing (it may have been removed already).
pub fn children_to_restart<T: Clone + PartialEq>(
    strategy: Strategy,
    children: &[T],
    failed: &T,
) -> Vec<T> {
    let Some(position) = children.iter().position(|child| child == failed) else {
        return Vec::new();
    };
    match strategy {
        Strategy::OneForOne => vec![failed.clone()],
        Strategy::RestForOne => children[position..].to_vec(),
        Strategy::OneForAll => children.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHAIN: [&str; 4] = ["symbols", "fusion", "risk", "orders"];

    #[test]
    fn one_for_one_restarts_only_the_failed_child() {
        assert_eq!(
            children_to_restart(Strategy::OneForOne, &CHAIN, &"risk"),
            ["risk"]
        );
    }

    #[test]
    fn rest_for_one_restarts_the_failed_child_and_everything_started_after_it() {
        assert_eq!(
            children_to_restart(Strategy::RestForOne, &CHAIN, &"fusion"),
            ["fusion", "risk", "orders"]
        );
        assert_eq!(
            children_to_restart(Strategy::RestForOne, &CHAIN, &"orders"),
            ["orders"]
        );
        assert_eq!(
            children_to_restart(Strategy::RestForOne, &CHAIN, &"symbols"),
            CHAIN
        );
    }

    #[test]
    fn one_for_all_restarts_every_child_in_start_order() {
        assert_eq!(
            children_to_restart(Strategy::OneForAll, &CHAIN, &"orders"),
            CHAIN
        );
    }

    #[test]
    fn an_unknown_child_restarts_nothing() {
        for strategy in [
            Strategy::OneForOne,
            Strategy::RestForOne,
            Strategy::OneForAll,
        ] {
            assert!(children_to_restart(strategy, &CHAIN, &"ghost").is_empty());
        }
    }

    #[test]
    fn strategies_parse_from_snake_case() {
        let parsed: Strategy = serde_json::from_str("\"rest_for_one\"").unwrap();
        assert_eq!(parsed, Strategy::RestForOne);
        assert_eq!(Strategy::OneForAll.to_string(), "one_for_all");
    }
}
