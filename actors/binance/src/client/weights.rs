//! Request-weight bookkeeping and the pause a 429/418 imposes: pure logic, driven by the
//! caller's clock, so it is tested without a server.
//!
//! Binance counts weight per IP per calendar minute and reports the minute's total in
//! `X-MBX-USED-WEIGHT-1M` on every answer. The gate:
//! - counts each request's weight when it is sent (so requests in flight count), and takes
//!   the header's figure as authoritative when an answer arrives in the same minute;
//! - lets a request go only if the minute's usage plus its weight stays within
//!   `weight_safety × limit`; otherwise the caller waits for the next minute (never more
//!   than a minute) — a request heavier than the whole budget is refused;
//! - while a `Retry-After` (429) or a ban (418) is in force, lets **nothing** go.

use std::time::Duration;

use crate::model::Timestamp;

const MINUTE_MS: i64 = 60_000;

/// What the gate says about sending a request now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Send it (its weight is now counted).
    Send,
    /// The minute's budget is spent: wait this long (to the next minute) and ask again.
    WaitFor(Duration),
    /// A 429's `Retry-After` is in force for this long: send nothing.
    RateLimited(Duration),
    /// A 418 ban lasts until then: send nothing.
    Banned(Timestamp),
    /// The request alone weighs more than the whole budget.
    TooHeavy {
        /// The request's weight.
        weight: u32,
        /// The budget (`weight_safety × limit`).
        budget: u32,
    },
}

/// Why the venue asked for a pause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pause {
    RateLimited,
    Banned,
}

/// The weight budget of one IP and any pause in force.
#[derive(Debug, Clone)]
pub struct WeightGate {
    limit: u32,
    safety: f64,
    minute: i64,
    used: u32,
    pause: Option<(Pause, Timestamp)>,
}

impl WeightGate {
    /// A gate for `limit` weight per minute, staying under `safety × limit`.
    pub fn new(limit: u32, safety: f64) -> Self {
        Self {
            limit,
            safety: safety.clamp(0.01, 1.0),
            minute: i64::MIN,
            used: 0,
            pause: None,
        }
    }

    /// Replaces the limit (from exchangeInfo's `REQUEST_WEIGHT` rate limit).
    pub fn set_limit(&mut self, limit: u32) {
        self.limit = limit;
    }

    /// The per-minute limit.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// The most this client lets itself use per minute.
    pub fn budget(&self) -> u32 {
        ((self.limit as f64) * self.safety).floor() as u32
    }

    /// The weight counted in the current minute at `now`.
    pub fn used(&self, now: Timestamp) -> u32 {
        if now.0.div_euclid(MINUTE_MS) == self.minute {
            self.used
        } else {
            0
        }
    }

    /// Asks to send a request of `weight` at `now`; on [`Admission::Send`] it is counted.
    pub fn admit(&mut self, now: Timestamp, weight: u32) -> Admission {
        if let Some((kind, until)) = self.pause {
            if now < until {
                return match kind {
                    Pause::RateLimited => {
                        Admission::RateLimited(Duration::from_millis((until.0 - now.0) as u64))
                    }
                    Pause::Banned => Admission::Banned(until),
                };
            }
            self.pause = None;
        }
        let budget = self.budget();
        if weight > budget {
            return Admission::TooHeavy { weight, budget };
        }
        self.roll(now);
        if self.used + weight > budget {
            let next = (self.minute + 1) * MINUTE_MS;
            return Admission::WaitFor(Duration::from_millis((next - now.0).max(1) as u64));
        }
        self.used += weight;
        Admission::Send
    }

    /// Records the `X-MBX-USED-WEIGHT-1M` figure of an answer received at `now`.
    pub fn observe_used(&mut self, now: Timestamp, used: u32) {
        self.roll(now);
        self.used = used;
    }

    /// Records a 429: nothing is sent before `now + retry_after`.
    pub fn rate_limited(&mut self, now: Timestamp, retry_after: Duration) {
        self.pause_until(
            Pause::RateLimited,
            now.plus_ms(retry_after.as_millis() as i64),
        );
    }

    /// Records a 418: nothing is sent before `until`.
    pub fn banned(&mut self, until: Timestamp) {
        self.pause_until(Pause::Banned, until);
    }

    fn pause_until(&mut self, kind: Pause, until: Timestamp) {
        // The longer pause stands (nothing is sent during either).
        if self.pause.is_none_or(|(_, old)| old < until) {
            self.pause = Some((kind, until));
        }
    }

    fn roll(&mut self, now: Timestamp) {
        let minute = now.0.div_euclid(MINUTE_MS);
        if minute != self.minute {
            self.minute = minute;
            self.used = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Timestamp = Timestamp(1_700_000_080_000); // 40 s into a minute

    #[test]
    fn requests_go_until_the_safety_budget_then_wait_for_the_next_minute() {
        let mut gate = WeightGate::new(100, 0.8);
        assert_eq!(gate.budget(), 80);
        for _ in 0..4 {
            assert_eq!(gate.admit(T0, 20), Admission::Send);
        }
        assert_eq!(gate.used(T0), 80);
        assert_eq!(
            gate.admit(T0.plus_ms(5_000), 1),
            Admission::WaitFor(Duration::from_secs(15))
        );
        // The next minute starts afresh.
        assert_eq!(gate.admit(T0.plus_ms(20_000), 20), Admission::Send);
        assert_eq!(gate.used(T0.plus_ms(20_000)), 20);
    }

    #[test]
    fn the_header_figure_is_authoritative_within_its_minute() {
        let mut gate = WeightGate::new(100, 0.8);
        assert_eq!(gate.admit(T0, 1), Admission::Send);
        // Another process on the same IP used 75 of this minute.
        gate.observe_used(T0.plus_ms(10), 76);
        assert!(matches!(
            gate.admit(T0.plus_ms(20), 5),
            Admission::WaitFor(_)
        ));
        assert_eq!(gate.admit(T0.plus_ms(20), 4), Admission::Send);
        assert_eq!(gate.used(T0.plus_ms(20)), 80);
    }

    #[test]
    fn a_request_heavier_than_the_budget_is_refused() {
        let mut gate = WeightGate::new(10, 0.5);
        assert_eq!(
            gate.admit(T0, 6),
            Admission::TooHeavy {
                weight: 6,
                budget: 5
            }
        );
    }

    #[test]
    fn nothing_is_admitted_while_a_retry_after_is_in_force() {
        let mut gate = WeightGate::new(6000, 0.8);
        gate.rate_limited(T0, Duration::from_secs(3));
        assert_eq!(
            gate.admit(T0.plus_ms(1_000), 1),
            Admission::RateLimited(Duration::from_secs(2))
        );
        assert_eq!(gate.used(T0), 0, "a refused request is not counted");
        assert_eq!(gate.admit(T0.plus_ms(3_000), 1), Admission::Send);
    }

    #[test]
    fn a_ban_outlasts_a_later_shorter_rate_limit() {
        let mut gate = WeightGate::new(6000, 0.8);
        let until = T0.plus_ms(120_000);
        gate.banned(until);
        gate.rate_limited(T0, Duration::from_secs(1));
        assert_eq!(gate.admit(T0.plus_ms(60_000), 1), Admission::Banned(until));
        assert_eq!(gate.admit(until, 1), Admission::Send);
    }
}
