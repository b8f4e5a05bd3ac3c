//! Tests of the fusion core: freshness, alignment, vetoes, regime and technical-only mode.

use rust_decimal_macros::dec;

use super::*;
use crate::model::{Severity, Timestamp};

const HOUR: i64 = 3_600_000;
const T: i64 = 100 * HOUR;

fn btc() -> Symbol {
    Symbol::parse("BTCUSDT").unwrap()
}

fn setup(direction: Direction, score: f64) -> TechnicalSetup {
    TechnicalSetup {
        symbol: btc(),
        ts: Timestamp(T),
        direction,
        score,
        price: dec!(42000.5),
        atr: 350.0,
        reasons: vec!["rsi"],
    }
}

fn sentiment(hours_before: i64, score: f64, confidence: f64) -> SentimentUpdate {
    SentimentUpdate {
        symbol: btc(),
        ts: Timestamp(T - hours_before * HOUR),
        score,
        confidence,
        headlines: 3,
    }
}

fn event(hours_before: i64, kind: EventKind, severity: Severity, impact: f64) -> MarketEvent {
    MarketEvent {
        symbol: btc(),
        ts: Timestamp(T - hours_before * HOUR),
        kind,
        severity,
        impact,
        headline: "Exchange hacked, $30 million stolen".to_string(),
    }
}

fn signal(decision: FusionDecision) -> TradingSignal {
    match decision {
        FusionDecision::Signal(signal) => signal,
        other => panic!("expected a signal, got {other:?}"),
    }
}

fn confidence(core: &mut FusionCore, direction: Direction) -> f64 {
    signal(core.on_setup(&setup(direction, 0.6))).confidence
}

fn core() -> FusionCore {
    FusionCore::new(FusionConfig::default())
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn without_news_confidence_is_the_technical_score_and_the_setup_is_carried() {
    let s = signal(core().on_setup(&setup(Direction::Long, 0.6)));
    assert!(close(s.confidence, 0.6));
    assert_eq!(
        (s.technical_score, s.sentiment_score, s.event_impact),
        (0.6, 0.0, 0.0)
    );
    assert_eq!((s.ts, s.price, s.atr), (Timestamp(T), dec!(42000.5), 350.0));
    assert_eq!(s.direction, Direction::Long);
}

#[test]
fn stale_sentiment_weighs_nothing() {
    let baseline = confidence(&mut core(), Direction::Long);
    let mut fusion = core();
    fusion.on_sentiment(&sentiment(13, 0.9, 1.0));
    let stale = signal(fusion.on_setup(&setup(Direction::Long, 0.6)));
    assert_eq!(stale.confidence, baseline);
    assert_eq!(stale.sentiment_score, 0.0);

    fusion.on_sentiment(&sentiment(11, 0.9, 1.0));
    let fresh = signal(fusion.on_setup(&setup(Direction::Long, 0.6)));
    assert!(fresh.confidence > baseline);
    assert_eq!(fresh.sentiment_score, 0.9);
}

#[test]
fn aligned_sentiment_raises_and_opposed_lowers() {
    let mut fusion = core();
    fusion.on_sentiment(&sentiment(1, 0.5, 0.8));
    // view = 0.6 ± 0.5 × 0.8 = 1.0 or 0.2; confidence = 0.6 × 0.6 + 0.4 × view.
    assert!(close(confidence(&mut fusion, Direction::Long), 0.76));
    assert!(close(confidence(&mut fusion, Direction::Short), 0.44));
}

#[test]
fn a_late_older_update_does_not_replace_a_newer_one() {
    let mut fusion = core();
    fusion.on_sentiment(&sentiment(1, 0.5, 0.8));
    fusion.on_sentiment(&sentiment(2, -1.0, 1.0));
    let nan = SentimentUpdate {
        score: f64::NAN,
        ..sentiment(0, 0.0, 1.0)
    };
    fusion.on_sentiment(&nan);
    assert!(close(confidence(&mut fusion, Direction::Long), 0.76));
}

#[test]
fn a_critical_hack_vetoes_a_long_but_not_a_short() {
    let mut fusion = core();
    let hack = event(3, EventKind::Hack, Severity::Critical, -1.0);
    assert_eq!(
        fusion.on_event(&hack),
        Some(hack.clone()),
        "returned for an emergency exit"
    );
    match fusion.on_setup(&setup(Direction::Long, 0.9)) {
        FusionDecision::Vetoed { symbol, event } => {
            assert_eq!(symbol, btc());
            assert_eq!(event.headline, "Exchange hacked, $30 million stolen");
        }
        other => panic!("expected a veto, got {other:?}"),
    }
    let short = signal(fusion.on_setup(&setup(Direction::Short, 0.6)));
    // The hack's impact (-1) favours the short: view = clamp(0.6 + 1) = 1.
    assert!(close(short.confidence, 0.76));
    assert_eq!(short.event_impact, -1.0);
}

#[test]
fn an_old_critical_event_does_not_veto() {
    let mut fusion = core();
    fusion.on_event(&event(49, EventKind::Hack, Severity::Critical, -1.0));
    let long = signal(fusion.on_setup(&setup(Direction::Long, 0.6)));
    assert!(close(long.confidence, 0.6));
    assert_eq!(long.event_impact, 0.0);
}

#[test]
fn only_severe_negative_events_veto_and_a_hack_is_always_negative() {
    let mut fusion = core();
    assert_eq!(
        fusion.on_event(&event(1, EventKind::Regulation, Severity::High, -0.6)),
        None
    );
    assert_eq!(
        fusion.on_event(&event(1, EventKind::Listing, Severity::Critical, 1.0)),
        None
    );
    let long = signal(fusion.on_setup(&setup(Direction::Long, 0.6)));
    // Events still weigh: view = 0.6 + (-0.6 + 1.0) = 1.0.
    assert!(close(long.event_impact, 0.4));
    assert!(close(long.confidence, 0.76));

    // An untrusted "positive hack" still vetoes.
    let spun = event(1, EventKind::Hack, Severity::Critical, 0.9);
    assert!(fusion.on_event(&spun).is_some());
    assert!(matches!(
        fusion.on_setup(&setup(Direction::Long, 0.6)),
        FusionDecision::Vetoed { .. }
    ));
}

#[test]
fn a_lower_veto_severity_vetoes_more() {
    let mut fusion = FusionCore::new(FusionConfig {
        veto_severity: Severity::High,
        ..FusionConfig::default()
    });
    assert!(fusion
        .on_event(&event(1, EventKind::Regulation, Severity::High, -0.6))
        .is_some());
    assert!(matches!(
        fusion.on_setup(&setup(Direction::Long, 0.6)),
        FusionDecision::Vetoed { .. }
    ));
}

#[test]
fn bear_regime_penalises_longs_and_bull_shorts() {
    let mut fusion = core();
    fusion.on_regime(Regime::Bear);
    assert!(close(confidence(&mut fusion, Direction::Long), 0.45));
    assert!(close(confidence(&mut fusion, Direction::Short), 0.6));
    fusion.on_regime(Regime::Bull);
    assert!(close(confidence(&mut fusion, Direction::Long), 0.6));
    assert!(close(confidence(&mut fusion, Direction::Short), 0.45));
    assert_eq!(fusion.regime(), Regime::Bull);
}

#[test]
fn technical_only_mode_lowers_confidence_and_ignores_news() {
    let mut fusion = core();
    fusion.on_sentiment(&sentiment(1, 1.0, 1.0));
    fusion.set_analyst_available(false);
    let s = signal(fusion.on_setup(&setup(Direction::Long, 0.6)));
    assert!(close(s.confidence, 0.48), "0.6 × 0.8");
    assert!(
        s.confidence < confidence(&mut core(), Direction::Long),
        "below the no-news case"
    );
    assert_eq!(s.sentiment_score, 0.0);

    // A veto still holds without the analyst.
    fusion.on_event(&event(1, EventKind::Hack, Severity::Critical, -1.0));
    assert!(matches!(
        fusion.on_setup(&setup(Direction::Long, 0.6)),
        FusionDecision::Vetoed { .. }
    ));

    fusion.set_analyst_available(true);
    assert!(matches!(
        fusion.on_setup(&setup(Direction::Short, 0.6)),
        FusionDecision::Signal(_)
    ));
}

#[test]
fn confidence_stays_in_range() {
    let mut fusion = core();
    fusion.on_sentiment(&sentiment(0, -1.0, 1.0));
    fusion.on_regime(Regime::Bear);
    let s = signal(fusion.on_setup(&setup(Direction::Long, 0.1)));
    assert_eq!(s.confidence, 0.0);
    fusion.on_sentiment(&sentiment(0, 1.0, 1.0));
    fusion.on_regime(Regime::Range);
    let s = signal(fusion.on_setup(&setup(Direction::Long, 1.0)));
    assert_eq!(s.confidence, 1.0);
}

#[test]
fn unusable_setups_are_discarded() {
    let mut fusion = core();
    let bad = fusion.on_setup(&setup(Direction::Long, f64::NAN));
    assert_eq!(
        bad,
        FusionDecision::Discarded {
            reason: "setup score is not a number in [0, 1]"
        }
    );
    let mut no_atr = setup(Direction::Long, 0.5);
    no_atr.atr = f64::INFINITY;
    assert!(matches!(
        fusion.on_setup(&no_atr),
        FusionDecision::Discarded { .. }
    ));
}

#[test]
fn sentiment_for_another_symbol_does_not_count() {
    let mut fusion = core();
    let eth = SentimentUpdate {
        symbol: Symbol::parse("ETHUSDT").unwrap(),
        ..sentiment(1, 1.0, 1.0)
    };
    fusion.on_sentiment(&eth);
    assert!(close(confidence(&mut fusion, Direction::Long), 0.6));
}

#[test]
fn real_news_replayed_hourly_feeds_fusion() {
    use crate::model::SentimentOutput;
    use keel_news::{load_headlines, LexiconAnalyst, SentimentConfig, SentimentCore, SymbolTagger};
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/news/cryptopanic_2018-01-15_18.json"
    );
    let cfg = SentimentConfig::default();
    let symbols = [btc(), Symbol::parse("ETHUSDT").unwrap()];
    let tagger = SymbolTagger::new(&symbols, &cfg.aliases);
    let headlines = load_headlines(std::path::Path::new(path), &tagger).unwrap();
    let mut news = SentimentCore::new(cfg, LexiconAnalyst::new(), headlines);
    let mut fusion = core();
    let start = Timestamp::parse_utc("2018-01-15T00:00:00Z").unwrap();
    let end = Timestamp::parse_utc("2018-01-18T09:00:00Z").unwrap();
    let mut hacks_or_regulation = Vec::new();
    let mut now = start;
    while now <= end {
        for output in news.advance_to(now) {
            match output {
                SentimentOutput::Update(u) => fusion.on_sentiment(&u),
                SentimentOutput::Event(e) => {
                    assert!(
                        fusion.on_event(&e).is_none(),
                        "no critical event in this file"
                    );
                    hacks_or_regulation.push((e.kind, e.ts.to_string()));
                }
                SentimentOutput::AnalystAvailable(_) => panic!("the lexicon never fails"),
                SentimentOutput::Headline(_) => panic!("headlines are passed on only when asked"),
            }
        }
        now = now.plus_ms(HOUR);
    }
    assert_eq!(
        (news.released(), news.pending(), news.failures()),
        (10, 0, 0)
    );
    assert_eq!(
        hacks_or_regulation,
        [
            (EventKind::Regulation, "2018-01-18T07:07:53Z".to_string()),
            (EventKind::Regulation, "2018-01-18T08:30:14Z".to_string()),
        ]
    );
    // A long at 09:00 sees the BTC window since 2018-01-17T09:00 (six headlines summing to +3,
    // score tanh(1), confidence 15/21) and the two regulation events (-0.3 each).
    let long = TechnicalSetup {
        ts: end,
        ..setup(Direction::Long, 0.6)
    };
    let s = signal(fusion.on_setup(&long));
    assert!(close(s.sentiment_score, 1f64.tanh()));
    assert!(close(s.event_impact, -0.6));
    let view = 0.6 + 1f64.tanh() * 15.0 / 21.0 - 0.6;
    assert!(close(s.confidence, 0.6 * 0.6 + 0.4 * view));
}
