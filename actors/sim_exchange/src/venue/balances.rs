//! The account's balances and the locks open orders hold on them.

use super::*;

impl Venue {
    pub(super) fn holding(&self, asset: &str) -> Holding {
        self.state.balances.get(asset).cloned().unwrap_or_default()
    }

    pub(super) fn holding_mut(&mut self, asset: &str) -> &mut Holding {
        self.state.balances.entry(asset.to_string()).or_default()
    }

    pub(super) fn check_free(&self, asset: &str, amount: Decimal) -> Result<(), ApiErr> {
        if self.holding(asset).free < amount {
            return Err(ApiErr::rejected(codes::INSUFFICIENT_BALANCE_MSG));
        }
        Ok(())
    }

    pub(super) fn lock(&mut self, key: &str, asset: &str, amount: Decimal) {
        let h = self.holding_mut(asset);
        h.free -= amount;
        h.locked += amount;
        self.state.locks.insert(
            key.to_string(),
            Lock {
                asset: asset.to_string(),
                amount,
            },
        );
    }

    pub(super) fn lock_amount(&self, key: &str) -> Decimal {
        self.state
            .locks
            .get(key)
            .map(|l| l.amount)
            .unwrap_or_default()
    }

    /// Removes a lock without returning it to free (the fill consumes it).
    pub(super) fn take_lock(&mut self, key: &str) -> Decimal {
        self.state
            .locks
            .remove(key)
            .map(|l| l.amount)
            .unwrap_or_default()
    }

    /// Returns what is left of a lock to the free balance.
    pub(super) fn release(&mut self, key: &str) {
        if let Some(lock) = self.state.locks.remove(key) {
            let h = self.holding_mut(&lock.asset);
            h.locked -= lock.amount;
            h.free += lock.amount;
        }
    }
}

/// Rounds an amount up to 8 decimals (Binance's precision for balances).
pub(super) fn round_up(x: Decimal) -> Decimal {
    x.round_dp_with_strategy(8, RoundingStrategy::AwayFromZero)
}
