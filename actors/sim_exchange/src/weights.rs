//! Request weight accounting per wall-clock minute, Binance's 429 → 418 escalation, and the
//! order counters reported in `X-MBX-ORDER-COUNT-10S` / `-1D`. One account, so one counter.

/// Why a request is refused before it is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 429: over the limit (or an injected 429); retry after this many seconds.
    TooMany(u64),
    /// 418: banned for ignoring a 429; retry after this many seconds.
    Banned(u64),
}

/// The weight counters.
#[derive(Debug, Clone)]
pub struct Weights {
    limit: u32,
    ban_ms: i64,
    minute: i64,
    used: u32,
    ten_s: i64,
    orders_10s: u32,
    day: i64,
    orders_1d: u32,
    /// A 429 told the client to wait until then; a request before it means a ban.
    wait_until: i64,
    banned_until: i64,
}

impl Weights {
    /// Counters allowing `limit` weight per minute, banning for `ban_s` seconds.
    pub fn new(limit: u32, ban_s: u64) -> Self {
        Self {
            limit,
            ban_ms: ban_s as i64 * 1000,
            minute: 0,
            used: 0,
            ten_s: 0,
            orders_10s: 0,
            day: 0,
            orders_1d: 0,
            wait_until: 0,
            banned_until: 0,
        }
    }

    /// Counts a request of `weight` at wall time `now` (ms). `injected` is an injected 429's
    /// Retry-After, if the faults ask for one. Returns the weight used this minute, or why the
    /// request is refused.
    pub fn admit(&mut self, now: i64, weight: u32, injected: Option<u64>) -> Result<u32, Refusal> {
        if now < self.banned_until {
            return Err(Refusal::Banned(secs_until(now, self.banned_until)));
        }
        if now < self.wait_until {
            self.banned_until = now + self.ban_ms;
            self.wait_until = 0;
            return Err(Refusal::Banned(secs_until(now, self.banned_until)));
        }
        let minute = now.div_euclid(60_000);
        if minute != self.minute {
            self.minute = minute;
            self.used = 0;
        }
        self.used = self.used.saturating_add(weight);
        if let Some(retry) = injected {
            self.wait_until = now + retry as i64 * 1000;
            return Err(Refusal::TooMany(retry));
        }
        if self.used > self.limit {
            self.wait_until = (minute + 1) * 60_000;
            return Err(Refusal::TooMany(secs_until(now, self.wait_until)));
        }
        Ok(self.used)
    }

    /// Whether a request now would be refused for a ban or an ignored 429.
    pub fn blocked(&self, now: i64) -> bool {
        now < self.banned_until || now < self.wait_until
    }

    /// Weight used in the current minute.
    pub fn used(&self, now: i64) -> u32 {
        if now.div_euclid(60_000) == self.minute {
            self.used
        } else {
            0
        }
    }

    /// Counts an order placement; returns the 10-second and daily order counts.
    pub fn count_order(&mut self, now: i64) -> (u32, u32) {
        let ten_s = now.div_euclid(10_000);
        if ten_s != self.ten_s {
            self.ten_s = ten_s;
            self.orders_10s = 0;
        }
        let day = now.div_euclid(86_400_000);
        if day != self.day {
            self.day = day;
            self.orders_1d = 0;
        }
        self.orders_10s += 1;
        self.orders_1d += 1;
        (self.orders_10s, self.orders_1d)
    }

    /// Bans now for `secs` seconds (`0` lifts a ban and forgets a pending 429).
    pub fn ban(&mut self, now: i64, secs: u64) {
        self.banned_until = if secs == 0 {
            0
        } else {
            now + secs as i64 * 1000
        };
        self.wait_until = 0;
    }
}

/// Whole seconds from `now` until `until`, at least 1.
fn secs_until(now: i64, until: i64) -> u64 {
    (((until - now) + 999) / 1000).max(1) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_the_limit_is_429_until_the_next_minute_and_ignoring_it_is_a_ban() {
        let mut w = Weights::new(10, 120);
        let t = 60_000 * 100;
        assert_eq!(w.admit(t, 6, None), Ok(6));
        assert_eq!(w.admit(t + 15_000, 6, None), Err(Refusal::TooMany(45)));
        assert_eq!(w.admit(t + 16_000, 1, None), Err(Refusal::Banned(120)));
        assert_eq!(w.admit(t + 100_000, 1, None), Err(Refusal::Banned(36)));
        assert_eq!(w.admit(t + 136_000, 1, None), Ok(1));
    }

    #[test]
    fn a_client_that_waits_as_told_is_not_banned() {
        let mut w = Weights::new(10, 120);
        assert_eq!(w.admit(1_000, 1, Some(2)), Err(Refusal::TooMany(2)));
        assert_eq!(w.admit(3_000, 1, None), Ok(2));
        assert_eq!(w.count_order(3_000), (1, 1));
        assert_eq!(w.count_order(9_000), (2, 2));
        assert_eq!(w.count_order(10_000), (1, 3));
    }
}
