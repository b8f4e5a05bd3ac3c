//! Circuit-breaker state machine under a controlled clock.

use super::*;
use crate::test_clock::ManualClock;

const SEC: Duration = Duration::from_secs(1);

/// Window of 10, opens at 50 % after 4 calls, 10 s cool-down, 2 trial calls.
fn breaker() -> (CircuitBreaker, ManualClock) {
    let config = BreakerConfig {
        window_size: 10,
        failure_rate_threshold: 0.5,
        minimum_calls: 4,
        open_cooldown_ms: 10_000,
        half_open_trial_calls: 2,
    };
    (CircuitBreaker::new(config), ManualClock::new())
}

fn call(b: &mut CircuitBreaker, clock: &ManualClock, ok: bool) -> Option<Transition> {
    let permit = b.allow(clock.now()).expect("call allowed");
    if ok {
        b.on_success(permit, clock.now())
    } else {
        b.on_failure(permit, clock.now())
    }
}

/// Opens the breaker with four straight failures.
fn open(b: &mut CircuitBreaker, clock: &ManualClock) {
    for _ in 0..4 {
        call(b, clock, false);
    }
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn never_opens_before_the_minimum_number_of_calls() {
    let (mut b, clock) = breaker();
    for _ in 0..3 {
        assert_eq!(call(&mut b, &clock, false), None);
    }
    assert_eq!(b.state(), BreakerState::Closed);
    assert_eq!(b.failure_rate(), 1.0);
    let opened = call(&mut b, &clock, false).expect("opens on the fourth failure");
    assert_eq!(
        opened,
        Transition {
            from: BreakerState::Closed,
            to: BreakerState::Open,
            failure_rate: 1.0
        }
    );
    assert_eq!(opened.to_string(), "closed -> open failure_rate=1.00");
}

#[test]
fn opens_exactly_when_the_failure_rate_reaches_the_threshold() {
    let (mut b, clock) = breaker();
    for _ in 0..5 {
        call(&mut b, &clock, true);
    }
    for _ in 0..4 {
        assert_eq!(call(&mut b, &clock, false), None, "4/9 is below 50 %");
    }
    let opened = call(&mut b, &clock, false).expect("5/10 reaches 50 %");
    assert_eq!(opened.failure_rate, 0.5);
}

#[test]
fn old_failures_slide_out_of_the_window() {
    let (mut b, clock) = breaker();
    for ok in [
        false, false, false, true, true, true, true, true, true, true,
    ] {
        call(&mut b, &clock, ok);
    }
    assert_eq!(b.state(), BreakerState::Closed, "3/10 failed");
    // Three more successes push the three failures out; then failures need 5 of 10 again.
    for _ in 0..3 {
        call(&mut b, &clock, true);
    }
    assert_eq!(b.failure_rate(), 0.0);
    for _ in 0..4 {
        call(&mut b, &clock, false);
    }
    assert_eq!(b.state(), BreakerState::Closed, "4/10 failed");
    assert_eq!(b.calls_in_window(), 10);
}

#[test]
fn open_rejects_with_the_remaining_cool_down_then_lets_a_trial_through() {
    let (mut b, clock) = breaker();
    open(&mut b, &clock);
    let refused = b.allow(clock.now()).unwrap_err();
    assert_eq!(
        (refused.state, refused.retry_in),
        (BreakerState::Open, 10 * SEC)
    );
    clock.advance(SEC * 7);
    let refused = b.allow(clock.now()).unwrap_err();
    assert_eq!(refused.retry_in, 3 * SEC);
    assert_eq!(
        refused.to_string(),
        "circuit breaker open: call refused, retry in 3000 ms"
    );
    clock.advance(SEC * 3);
    let trial = b.allow(clock.now()).expect("cool-down over");
    assert_eq!(
        trial.transition(),
        Some(Transition {
            from: BreakerState::Open,
            to: BreakerState::HalfOpen,
            failure_rate: 1.0
        })
    );
    assert_eq!(b.state(), BreakerState::HalfOpen);
}

#[test]
fn half_open_limits_trials_and_closes_when_all_succeed() {
    let (mut b, clock) = breaker();
    open(&mut b, &clock);
    clock.advance(SEC * 10);
    let first = b.allow(clock.now()).unwrap();
    let second = b.allow(clock.now()).unwrap();
    let busy = b.allow(clock.now()).unwrap_err();
    assert_eq!(busy.state, BreakerState::HalfOpen, "only two trial calls");
    assert_eq!(b.on_success(first, clock.now()), None);
    assert_eq!(
        b.on_success(second, clock.now()),
        Some(Transition {
            from: BreakerState::HalfOpen,
            to: BreakerState::Closed,
            failure_rate: 0.0
        })
    );
    assert_eq!(b.state(), BreakerState::Closed);
    assert_eq!(b.calls_in_window(), 0, "closed again with a fresh window");
    // A fresh window: three failures are below the minimum again.
    for _ in 0..3 {
        call(&mut b, &clock, false);
    }
    assert_eq!(b.state(), BreakerState::Closed);
}

#[test]
fn a_failed_trial_reopens_for_a_full_cool_down() {
    let (mut b, clock) = breaker();
    open(&mut b, &clock);
    clock.advance(SEC * 10);
    let first = b.allow(clock.now()).unwrap();
    let second = b.allow(clock.now()).unwrap();
    assert_eq!(b.on_success(first, clock.now()), None);
    let reopened = b.on_failure(second, clock.now()).expect("reopens");
    assert_eq!(
        (reopened.from, reopened.to),
        (BreakerState::HalfOpen, BreakerState::Open)
    );
    assert_eq!(reopened.failure_rate, 0.5);
    clock.advance(SEC * 9);
    assert_eq!(b.allow(clock.now()).unwrap_err().retry_in, SEC);
    clock.advance(SEC);
    assert!(b.allow(clock.now()).is_ok());
}

#[test]
fn outcomes_of_calls_permitted_before_a_state_change_are_ignored() {
    let (mut b, clock) = breaker();
    let slow = b.allow(clock.now()).unwrap();
    open(&mut b, &clock);
    assert_eq!(b.on_failure(slow, clock.now()), None);
    clock.advance(SEC * 10);
    let trial = b.allow(clock.now()).unwrap();
    // The slow call from the closed period fails late: it must not reopen the breaker.
    assert_eq!(b.on_failure(slow, clock.now()), None);
    assert_eq!(b.state(), BreakerState::HalfOpen);
    assert_eq!(b.on_success(trial, clock.now()), None);
    let last = b.allow(clock.now()).unwrap();
    assert!(b.on_success(last, clock.now()).is_some());
    // Nor may it count against the freshly closed window.
    b.on_failure(slow, clock.now());
    assert_eq!(b.calls_in_window(), 0);
}

#[test]
fn trials_that_never_report_reopen_the_breaker_after_another_cool_down() {
    let (mut b, clock) = breaker();
    open(&mut b, &clock);
    clock.advance(SEC * 10);
    let _lost_one = b.allow(clock.now()).unwrap();
    let _lost_two = b.allow(clock.now()).unwrap();
    clock.advance(SEC * 4);
    let busy = b.allow(clock.now()).unwrap_err();
    assert_eq!(
        (busy.state, busy.retry_in, busy.transition),
        (BreakerState::HalfOpen, 6 * SEC, None)
    );
    clock.advance(SEC * 6);
    let stalled = b.allow(clock.now()).unwrap_err();
    assert_eq!(stalled.state, BreakerState::Open);
    assert_eq!(
        stalled.transition,
        Some(Transition {
            from: BreakerState::HalfOpen,
            to: BreakerState::Open,
            failure_rate: 1.0
        })
    );
    clock.advance(SEC * 10);
    assert_eq!(
        b.allow(clock.now()).unwrap().transition().map(|t| t.to),
        Some(BreakerState::HalfOpen)
    );
}

#[test]
fn validation_names_the_field_and_the_range() {
    let bad = BreakerConfig {
        minimum_calls: 30,
        ..BreakerConfig::default()
    };
    let err = bad.validate("breakers.venue").unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid config `breakers.venue.minimum_calls`: 30 is outside the allowed range 1..=20"
    );
    let bad = BreakerConfig {
        failure_rate_threshold: 0.0,
        ..BreakerConfig::default()
    };
    assert_eq!(
        bad.validate("b").unwrap_err().key,
        "b.failure_rate_threshold"
    );
    assert!(BreakerConfig::default().validate("b").is_ok());
    // An invalid config still never panics.
    let mut b = CircuitBreaker::new(BreakerConfig {
        window_size: 0,
        ..BreakerConfig::default()
    });
    let permit = b.allow(Instant::now()).unwrap();
    b.on_failure(permit, Instant::now());
}

#[test]
fn config_rejects_unknown_keys() {
    let parsed: BreakerConfig = serde_json::from_str(r#"{"minimum_calls": 5}"#).unwrap();
    assert_eq!((parsed.minimum_calls, parsed.window_size), (5, 20));
    let err = serde_json::from_str::<BreakerConfig>(r#"{"cooldown_ms": 5}"#).unwrap_err();
    assert!(
        err.to_string().contains("unknown field `cooldown_ms`"),
        "{err}"
    );
}

#[test]
fn the_consecutive_configuration_opens_after_that_many_failures_in_a_row_only() {
    let mut b = CircuitBreaker::new(BreakerConfig::consecutive(3, 10_000));
    let clock = ManualClock::new();
    // Two failures, a success, two failures: never three in a row.
    for ok in [false, false, true, false, false] {
        assert_eq!(call(&mut b, &clock, ok), None);
    }
    let opened = call(&mut b, &clock, false).expect("the third failure in a row opens it");
    assert_eq!(
        (opened.from, opened.to),
        (BreakerState::Closed, BreakerState::Open)
    );
    assert!(b.allow(clock.now()).is_err());
    clock.advance(10 * SEC);
    let trial = b.allow(clock.now()).expect("one trial after the cool-down");
    assert!(b.allow(clock.now()).is_err(), "only one trial");
    let closed = b
        .on_success(trial, clock.now())
        .expect("the trial closes it");
    assert_eq!(closed.to, BreakerState::Closed);
}

#[test]
fn a_forced_opening_lasts_its_own_span_not_the_cool_down() {
    let (mut b, clock) = breaker();
    let opened = b.force_open(clock.now(), 100 * SEC).expect("it was closed");
    assert_eq!(opened.to, BreakerState::Open);
    assert_eq!(b.open_for(clock.now()), 100 * SEC);
    clock.advance(10 * SEC); // the configured cool-down: not enough
    let refused = b.allow(clock.now()).unwrap_err();
    assert_eq!(refused.retry_in, 90 * SEC);
    assert_eq!(b.force_open(clock.now(), 200 * SEC), None, "already open");
    clock.advance(199 * SEC);
    assert!(b.allow(clock.now()).is_err());
    clock.advance(SEC);
    assert!(
        b.allow(clock.now()).is_ok(),
        "a trial once the span has passed"
    );
    assert_eq!(b.open_for(clock.now()), Duration::ZERO);
}
