//! The daily token budget of one provider. Pure: the time is given.

use crate::model::{Timestamp, MS_PER_DAY};

/// Tokens spent per UTC day against a limit. A new UTC day starts from zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyBudget {
    limit: u64,
    day: i64,
    used: u64,
}

impl DailyBudget {
    /// A budget of `limit` tokens per UTC day, nothing spent.
    pub fn new(limit: u64) -> Self {
        Self {
            limit,
            day: i64::MIN,
            used: 0,
        }
    }

    /// A budget that already spent `used` tokens on UTC day `day` (restored from the cache).
    pub fn restored(limit: u64, day: i64, used: u64) -> Self {
        Self { limit, day, used }
    }

    /// The tokens allowed per day.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Tokens spent on `now`'s UTC day.
    pub fn used(&self, now: Timestamp) -> u64 {
        if now.utc_day() == self.day {
            self.used
        } else {
            0
        }
    }

    /// Whether `now`'s day has spent its whole budget.
    pub fn exhausted(&self, now: Timestamp) -> bool {
        self.used(now) >= self.limit
    }

    /// Spends `tokens` on `now`'s day; returns the day's total.
    pub fn charge(&mut self, now: Timestamp, tokens: u64) -> u64 {
        if now.utc_day() != self.day {
            self.day = now.utc_day();
            self.used = 0;
        }
        self.used = self.used.saturating_add(tokens);
        self.used
    }

    /// The next UTC midnight after `now`, when the budget refills.
    pub fn refills_at(now: Timestamp) -> Timestamp {
        Timestamp((now.utc_day() + 1) * MS_PER_DAY)
    }

    /// The UTC day the spending belongs to (for persisting it).
    pub fn day(&self) -> i64 {
        self.day
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spends_per_utc_day_and_refills_at_midnight() {
        let noon = Timestamp::parse_utc("2024-03-01T12:00:00Z").unwrap();
        let mut budget = DailyBudget::new(1000);
        assert!(!budget.exhausted(noon));
        assert_eq!(budget.charge(noon, 600), 600);
        assert!(!budget.exhausted(noon));
        assert_eq!(budget.charge(noon.plus_ms(1000), 500), 1100);
        assert!(budget.exhausted(noon));
        let midnight = DailyBudget::refills_at(noon);
        assert_eq!(midnight, Timestamp::parse_utc("2024-03-02").unwrap());
        assert!(budget.exhausted(midnight.plus_ms(-1)));
        assert!(!budget.exhausted(midnight));
        assert_eq!(budget.used(midnight), 0);
        assert_eq!(budget.charge(midnight, 10), 10);
    }

    #[test]
    fn restored_spending_counts_only_on_its_day() {
        let now = Timestamp::parse_utc("2024-03-01T08:00:00Z").unwrap();
        let budget = DailyBudget::restored(100, now.utc_day(), 100);
        assert!(budget.exhausted(now));
        assert!(!budget.exhausted(now.plus_ms(MS_PER_DAY)));
    }
}
