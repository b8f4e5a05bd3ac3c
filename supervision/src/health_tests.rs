//! Health registry and report line, under a controlled clock.

use super::*;
use crate::breaker::Transition;
use crate::restart::ExitReason;
use crate::test_clock::ManualClock;

const SEC: Duration = Duration::from_secs(1);

fn panic(message: &str) -> ExitReason {
    ExitReason::Panic(message.to_string())
}

#[test]
fn an_actor_lifecycle_shows_up_in_one_greppable_report_line() {
    let clock = ManualClock::new();
    let health = HealthRegistry::default();
    health.register_actor("risk");
    assert_eq!(
        health.actor("risk", clock.now()).unwrap().state,
        ActorState::Starting
    );

    health.record(&SupervisionEvent::started("risk"), clock.now());
    clock.advance(SEC * 30);
    health.record(
        &SupervisionEvent::exited("risk", &panic("qty < 0")),
        clock.now(),
    );
    let failed = health.actor("risk", clock.now()).unwrap();
    assert_eq!(
        (failed.state, failed.uptime),
        (ActorState::Failed, Duration::ZERO)
    );
    assert_eq!(failed.last_error.as_deref(), Some("panic: qty < 0"));

    let restart = SupervisionEvent::restarted("risk", &panic("qty < 0"), 1, Duration::ZERO);
    health.record(&restart, clock.now());
    assert_eq!(
        health.actor("risk", clock.now()).unwrap().state,
        ActorState::Restarting
    );
    health.record(&SupervisionEvent::started("risk"), clock.now());
    clock.advance(SEC * 12);
    health.set_mailbox_depth("risk", 3);

    assert_eq!(
        health.report(clock.now()).to_string(),
        r#"supervision report: actor=risk state=running uptime_s=12 restarts=1 restarts_in_window=1 mailbox=3 last_error="panic: qty < 0""#
    );
}

#[test]
fn restarts_in_window_decay_while_the_total_stays() {
    let clock = ManualClock::new();
    let health = HealthRegistry::new(SEC * 60);
    for _ in 0..3 {
        health.record(
            &SupervisionEvent::restarted("feed", &ExitReason::Killed, 1, Duration::ZERO),
            clock.now(),
        );
        clock.advance(SEC * 20);
    }
    // Restarts at 0 s, 20 s, 40 s; now is 60 s: the first has left the window.
    let feed = health.actor("feed", clock.now()).unwrap();
    assert_eq!((feed.restarts_total, feed.restarts_in_window), (3, 2));
    clock.advance(SEC * 40);
    let feed = health.actor("feed", clock.now()).unwrap();
    assert_eq!((feed.restarts_total, feed.restarts_in_window), (3, 0));
}

#[test]
fn normal_stops_are_not_errors_but_kills_and_escalations_are() {
    let now = Instant::now();
    let health = HealthRegistry::default();
    health.record(
        &SupervisionEvent::exited("backfill", &ExitReason::Normal),
        now,
    );
    health.record(
        &SupervisionEvent::exited("chaos-victim", &ExitReason::Killed),
        now,
    );
    health.record(&SupervisionEvent::escalated("trading", "gave up", 11), now);
    let report = health.report(now);
    let states: Vec<(&str, ActorState, Option<&str>)> = report
        .actors
        .iter()
        .map(|a| (a.name.as_str(), a.state, a.last_error.as_deref()))
        .collect();
    assert_eq!(
        states,
        [
            ("backfill", ActorState::Stopped, None),
            ("chaos-victim", ActorState::Failed, Some("killed")),
            ("trading", ActorState::Failed, Some("gave up")),
        ]
    );
    assert_eq!(report.not_running().count(), 3);
}

#[test]
fn breakers_report_their_state_and_last_transition() {
    let clock = ManualClock::new();
    let health = HealthRegistry::default();
    health.register_breaker("llm", BreakerState::Closed);
    let opened = Transition {
        from: BreakerState::Closed,
        to: BreakerState::Open,
        failure_rate: 0.6,
    };
    health.record(&SupervisionEvent::breaker("venue", &opened), clock.now());
    clock.advance(SEC * 3);
    let report = health.report(clock.now());
    assert_eq!(
        report.to_string(),
        r#"supervision report: breaker=llm state=closed last_transition=none; breaker=venue state=open last_transition="closed -> open failure_rate=0.60" transition_age_s=3"#
    );
    let open: Vec<&str> = report.not_closed().map(|b| b.name.as_str()).collect();
    assert_eq!(open, ["venue"]);
    assert_eq!(
        health.breaker("venue", clock.now()).unwrap().state,
        BreakerState::Open
    );
    assert!(health.breaker("news", clock.now()).is_none());
}

#[test]
fn the_mailbox_gauge_is_shared_and_survives_restarts() {
    let now = Instant::now();
    let health = HealthRegistry::default();
    let gauge = health.mailbox_gauge("fusion");
    gauge.set(17);
    health.record(&SupervisionEvent::exited("fusion", &panic("x")), now);
    health.record(&SupervisionEvent::started("fusion"), now);
    assert_eq!(health.actor("fusion", now).unwrap().mailbox_depth, Some(17));
    health.set_mailbox_depth("fusion", 2);
    assert_eq!(gauge.get(), Some(2));
}

#[test]
fn clones_share_state_across_threads() {
    let health = HealthRegistry::default();
    let start = Instant::now();
    let threads: Vec<_> = (0..4)
        .map(|n| {
            let health = health.clone();
            std::thread::spawn(move || {
                let actor = format!("symbol-{n}");
                for _ in 0..100 {
                    let event =
                        SupervisionEvent::restarted(&actor, &ExitReason::Killed, 1, Duration::ZERO);
                    health.record(&event, start);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let report = health.report(start);
    assert_eq!(report.actors.len(), 4);
    assert!(report.actors.iter().all(|a| a.restarts_total == 100));
}

#[test]
fn an_empty_registry_still_prints_a_report_line() {
    assert_eq!(
        HealthRegistry::default().report(Instant::now()).to_string(),
        "supervision report: no actors, no breakers"
    );
}

#[test]
fn an_unmeasured_mailbox_is_reported_as_such_not_as_empty() {
    let health = HealthRegistry::default();
    health.register_actor("risk");
    let now = std::time::Instant::now();
    assert_eq!(health.actor("risk", now).unwrap().mailbox_depth, None);
    assert!(health.report(now).to_string().contains("mailbox=n/a"));
    health.set_mailbox_depth("risk", 0);
    assert!(health.report(now).to_string().contains("mailbox=0"));
}

#[test]
fn the_newest_events_are_kept_for_the_operator_and_failures_are_counted() {
    let clock = ManualClock::new();
    let health = HealthRegistry::default();
    health.record(&SupervisionEvent::started("risk"), clock.now());
    for i in 0..RECENT_EVENTS {
        health.record(
            &SupervisionEvent::exited("risk", &panic(&format!("boom {i}"))),
            clock.now(),
        );
    }
    health.record(
        &SupervisionEvent::exited("risk", &ExitReason::Normal),
        clock.now(),
    );
    let recent = health.recent_events();
    assert_eq!(recent.len(), RECENT_EVENTS, "bounded to the newest");
    assert_eq!(
        recent[0].event.reason, "panic: boom 1",
        "the oldest fell off"
    );
    assert_eq!(recent.last().unwrap().event.event, EventKind::Stopped);
    let risk = health.actor("risk", clock.now()).unwrap();
    assert_eq!(
        risk.failures_total, RECENT_EVENTS as u64,
        "panics count as failures, a normal stop does not"
    );
}
