//! Restart intensity and backoff growth under controlled time.

use super::*;

const MS: Duration = Duration::from_millis(1);

fn no_jitter() -> BackoffConfig {
    BackoffConfig {
        jitter: 0.0,
        ..BackoffConfig::default()
    }
}

fn intensity(max_restarts: u32, window_ms: u64, backoff: BackoffConfig) -> RestartIntensity {
    let config = IntensityConfig {
        max_restarts,
        window_ms,
    };
    RestartIntensity::new(config, backoff, Jitter::seeded(1))
}

fn backoff_of(decision: Decision) -> Duration {
    match decision {
        Decision::Restart { backoff, .. } => backoff,
        Decision::Escalate { .. } => panic!("unexpected escalation"),
    }
}

#[test]
fn eleventh_restart_within_a_minute_escalates_by_default() {
    let mut budget = RestartIntensity::new(
        IntensityConfig::default(),
        BackoffConfig::default(),
        Jitter::seeded(3),
    );
    let mut child = ChildBackoff::default();
    let t0 = Instant::now();
    for n in 1..=10 {
        let decision = budget.record(t0 + MS * n, &mut child);
        assert!(
            matches!(decision, Decision::Restart { restarts_in_window, .. } if restarts_in_window == n),
            "restart {n}: {decision:?}"
        );
    }
    assert_eq!(
        budget.record(t0 + Duration::from_secs(59), &mut child),
        Decision::Escalate {
            restarts_in_window: 11
        }
    );
}

#[test]
fn restarts_older_than_the_window_no_longer_count() {
    let mut budget = intensity(2, 1_000, no_jitter());
    let mut child = ChildBackoff::default();
    let t0 = Instant::now();
    budget.record(t0, &mut child);
    budget.record(t0 + MS * 500, &mut child);
    // The first restart leaves the window at exactly t0 + 1 s.
    let decision = budget.record(t0 + MS * 1000, &mut child);
    assert!(matches!(
        decision,
        Decision::Restart {
            restarts_in_window: 2,
            ..
        }
    ));
    assert_eq!(budget.restarts_in_window(t0 + MS * 1499), 2);
    assert_eq!(budget.restarts_in_window(t0 + MS * 2000), 0);
}

#[test]
fn zero_max_restarts_escalates_on_the_first_failure() {
    let mut budget = intensity(0, 1_000, no_jitter());
    let decision = budget.record(Instant::now(), &mut ChildBackoff::default());
    assert_eq!(
        decision,
        Decision::Escalate {
            restarts_in_window: 1
        }
    );
}

#[test]
fn backoff_is_immediate_then_doubles_up_to_the_cap() {
    let config = BackoffConfig {
        base_ms: 100,
        cap_ms: 1_000,
        ..no_jitter()
    };
    let mut budget = intensity(100, 60_000, config);
    let mut child = ChildBackoff::default();
    let t0 = Instant::now();
    let delays: Vec<u128> = (0..7)
        .map(|n| backoff_of(budget.record(t0 + MS * n, &mut child)).as_millis())
        .collect();
    assert_eq!(delays, [0, 100, 200, 400, 800, 1_000, 1_000]);
}

#[test]
fn backoff_resets_after_a_quiet_period() {
    let config = BackoffConfig {
        base_ms: 100,
        reset_after_ms: 5_000,
        ..no_jitter()
    };
    let mut budget = intensity(100, 1_000, config);
    let mut child = ChildBackoff::default();
    let t0 = Instant::now();
    budget.record(t0, &mut child);
    assert_eq!(backoff_of(budget.record(t0 + MS, &mut child)), MS * 100);
    assert_eq!(
        backoff_of(budget.record(t0 + MS * 4_999, &mut child)),
        MS * 200
    );
    assert_eq!(child.consecutive(), 3);
    let quiet = t0 + MS * 4_999 + Duration::from_secs(5);
    assert_eq!(backoff_of(budget.record(quiet, &mut child)), Duration::ZERO);
    assert_eq!(child.consecutive(), 1);
}

#[test]
fn backoff_is_per_child() {
    let mut budget = intensity(100, 60_000, no_jitter());
    let mut flaky = ChildBackoff::default();
    let mut other = ChildBackoff::default();
    let t0 = Instant::now();
    budget.record(t0, &mut flaky);
    assert_eq!(backoff_of(budget.record(t0, &mut flaky)), MS * 10);
    assert_eq!(backoff_of(budget.record(t0, &mut other)), Duration::ZERO);
}

#[test]
fn jitter_shortens_within_the_fraction_and_is_reproducible_by_seed() {
    let config = BackoffConfig {
        base_ms: 1_000,
        cap_ms: 1_000,
        jitter: 0.5,
        ..BackoffConfig::default()
    };
    let run = |seed| {
        let mut budget = RestartIntensity::new(
            IntensityConfig {
                max_restarts: 1_000,
                window_ms: 60_000,
            },
            config.clone(),
            Jitter::seeded(seed),
        );
        let mut child = ChildBackoff::default();
        let t0 = Instant::now();
        (0..200)
            .map(|_| backoff_of(budget.record(t0, &mut child)))
            .skip(1)
            .collect::<Vec<_>>()
    };
    let delays = run(42);
    assert_eq!(delays, run(42));
    assert_ne!(delays, run(43));
    assert!(delays.iter().all(|d| *d > MS * 500 && *d <= MS * 1_000));
    assert!(delays.iter().any(|d| *d < MS * 750));
}

#[test]
fn huge_exponents_saturate_at_the_cap_without_panicking() {
    let config = BackoffConfig {
        factor: 16.0,
        cap_ms: MAX_CONFIG_MS,
        ..no_jitter()
    };
    assert_eq!(config.nominal_delay(u32::MAX), MS * MAX_CONFIG_MS as u32);
}

#[test]
fn validation_names_the_field() {
    let bad = IntensityConfig {
        window_ms: 0,
        ..IntensityConfig::default()
    };
    assert_eq!(
        bad.validate("supervision").unwrap_err().key,
        "supervision.window_ms"
    );
    let bad = BackoffConfig {
        cap_ms: 5,
        base_ms: 10,
        ..BackoffConfig::default()
    };
    let err = bad.validate("supervision.backoff").unwrap_err();
    assert_eq!(err.key, "supervision.backoff.cap_ms");
    assert!(err.message.contains("10..="), "{err}");
    let bad = BackoffConfig {
        jitter: f64::NAN,
        ..BackoffConfig::default()
    };
    assert_eq!(bad.validate("b").unwrap_err().key, "b.jitter");
    assert!(IntensityConfig::default().validate("s").is_ok());
    assert!(BackoffConfig::default().validate("s").is_ok());
}
