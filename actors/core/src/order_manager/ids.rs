//! Deterministic client order ids: `{run_id}-{SYMBOL}-{seq}` from one sequence, and
//! `{parent}-s{i}` / `{parent}-t{i}` for the stop and take-profit of exit tranche `i`.

use crate::model::{ClientOrderId, Symbol};

/// Hands out client order ids from one sequence per run. Never random: the same run id and
/// the same decisions give the same ids, so replays and journals line up.
#[derive(Debug, Clone)]
pub struct OrderIds {
    run_id: String,
    last_seq: u64,
}

impl OrderIds {
    /// A sequence for `run_id`, starting at 1.
    pub fn new(run_id: &str) -> Self {
        Self {
            run_id: run_id.to_string(),
            last_seq: 0,
        }
    }

    /// A sequence for `run_id` continuing after `last_seq` (a restart never reuses an id).
    pub fn resume(run_id: &str, last_seq: u64) -> Self {
        Self {
            run_id: run_id.to_string(),
            last_seq,
        }
    }

    /// The last sequence number handed out (0 before the first).
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// The next top-level id for `symbol`, e.g. `bt-BTCUSDT-000001`, or `None` when it would
    /// break Binance's rules (over 36 characters). The sequence advances either way.
    pub fn next(&mut self, symbol: &Symbol) -> Option<ClientOrderId> {
        self.last_seq += 1;
        ClientOrderId::new(format!("{}-{}-{:06}", self.run_id, symbol, self.last_seq))
    }
}

/// The id of the stop (`s`) or take-profit (`t`) of exit tranche `tranche` of `parent`.
pub fn child_id(parent: &ClientOrderId, tag: char, tranche: usize) -> Option<ClientOrderId> {
    ClientOrderId::new(format!("{parent}-{tag}{tranche}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_sequential_and_deterministic() {
        let btc = Symbol::parse("BTCUSDT").unwrap();
        let eth = Symbol::parse("ETHUSDT").unwrap();
        let mut ids = OrderIds::new("bt");
        assert_eq!(ids.next(&btc).unwrap().as_str(), "bt-BTCUSDT-000001");
        assert_eq!(ids.next(&eth).unwrap().as_str(), "bt-ETHUSDT-000002");
        let parent = ids.next(&btc).unwrap();
        assert_eq!(
            child_id(&parent, 's', 1).unwrap().as_str(),
            "bt-BTCUSDT-000003-s1"
        );
        assert_eq!(
            child_id(&parent, 't', 2).unwrap().as_str(),
            "bt-BTCUSDT-000003-t2"
        );
        assert_eq!(ids.last_seq(), 3);
    }

    #[test]
    fn longest_run_id_with_a_long_symbol_stays_within_binance_rules() {
        let symbol = Symbol::parse("1000SATSUSDT").unwrap();
        let mut ids = OrderIds::new("ABCDEFGH");
        let parent = ids.next(&symbol).unwrap();
        let child = child_id(&parent, 't', 9).unwrap();
        assert_eq!(child.as_str(), "ABCDEFGH-1000SATSUSDT-000001-t9");
        assert!(child.as_str().len() <= 36);
    }

    #[test]
    fn an_id_that_would_be_too_long_is_refused_not_truncated() {
        let symbol = Symbol::parse("AVERYLONGTOKENNAMEUSDT").unwrap();
        let mut ids = OrderIds::new("ABCDEFGH");
        assert!(ids.next(&symbol).is_none());
        assert_eq!(ids.last_seq(), 1);
    }
}
