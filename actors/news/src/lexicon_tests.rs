//! Tests of the lexicon analyst, mostly on real CryptoPanic headlines from January 2018.

use std::path::Path;

use super::*;
use crate::model::Timestamp;
use crate::{load_headlines, SentimentConfig, SymbolTagger};

fn score(title: &str) -> f64 {
    LexiconAnalyst::new().score_title(title).sum
}

fn headline(title: &str) -> Headline {
    Headline {
        published: Timestamp(0),
        title: title.to_string(),
        source: "test".to_string(),
        symbols: vec![btc()],
    }
}

fn btc() -> Symbol {
    Symbol::parse("BTCUSDT").unwrap()
}

fn events(title: &str) -> Vec<(EventKind, Severity, f64)> {
    let lexicon = LexiconAnalyst::new();
    lexicon.title_events(title, lexicon.score_title(title).sum)
}

#[test]
fn real_headlines_have_the_expected_sign() {
    // "up" (+0.5): the CoinMarketCap price alert.
    assert!(score("NEO ($NEO) price is up 20.99%") > 0.0);
    // "record" (+1).
    assert!(score("NEO reaches record high") > 0.0);
    // "legal" (+1) and "free" (+0.5): a BTC-tagged headline 37 readers voted positive.
    assert_eq!(
        score("Cryptocurrency Activities Will Be Legal and Tax Free in Belarus Starting in March"),
        1.5
    );
    // "approves" (+1.5).
    assert!(score("Apple approves Beta testing for Digibyte IOS wallet - January 2018") > 0.0);
    // "major" intensifies "selloff" (-1.5 × 1.5) and "tumble" adds -1.5.
    assert_eq!(score("Major crypto selloff as markets tumble"), -3.75);
    // "scam" (-2).
    assert_eq!(score("THEKEY ICO Scam Alert!"), -2.0);
    // "restrictions" (-1): BTC-tagged, voted negative.
    assert!(
        score("South Korean Financial Regulatory Employees Sold their Bitcoin Before Restrictions Announcement")
            < 0.0
    );
    // "very" intensifies "disappointed".
    assert_eq!(
        score("Very disappointed that THEKEY completely changed the pricing terms of the ICO an hour before the crowd sale."),
        -2.25
    );
}

#[test]
fn negation_flips_the_next_lexicon_word() {
    // "won't" reaches "bear" five words later: the real headline is bullish.
    assert_eq!(
        score("Why we won't have a long term bear market, and how to systematically pick your future investments in crypto"),
        1.0
    );
    assert_eq!(score("Bitcoin is not bearish"), 1.5);
    assert_eq!(score("Bitcoin isn’t going to crash"), 2.0);
    // Out of reach: six words between.
    assert_eq!(score("not one two three four five six bear"), -1.0);
}

#[test]
fn titles_without_lexicon_words_are_neutral_with_no_confidence() {
    // The lexicon reads words, not meaning (a documented limit).
    let mut lexicon = LexiconAnalyst::new();
    let h = headline("Visa CEO: Bitcoin is Not a Payment System");
    let a = lexicon.analyze(&btc(), &[&h]).unwrap();
    assert_eq!((a.score, a.confidence), (0.0, 0.0));
    assert!(a.events.is_empty());
}

#[test]
fn window_score_is_squashed_and_confidence_grows_with_evidence() {
    let mut lexicon = LexiconAnalyst::new();
    let surge = headline("Bitcoin price surges");
    let one = lexicon.analyze(&btc(), &[&surge]).unwrap();
    assert!((one.score - (2.0f64 / 3.0).tanh()).abs() < 1e-12);
    assert_eq!(one.confidence, 0.25);

    let many: Vec<Headline> = (0..40)
        .map(|_| headline("Massive rally, record gains"))
        .collect();
    let refs: Vec<&Headline> = many.iter().collect();
    let strong = lexicon.analyze(&btc(), &refs).unwrap();
    assert!(strong.score > 0.99 && strong.score <= 1.0);
    assert!(strong.confidence > one.confidence && strong.confidence < 1.0);
}

#[test]
fn hacks_are_critical_with_an_exchange_or_an_amount() {
    assert_eq!(
        events("Exchange hacked: $40 million in BTC stolen"),
        [(EventKind::Hack, Severity::Critical, -1.0)]
    );
    assert_eq!(
        events("Wallet exploit found"),
        [(EventKind::Hack, Severity::High, -0.6)]
    );
    // Money without a hack word is not a hack (real headline).
    assert!(events("Cryptocurrency hardware wallet company Ledger raises $75 million").is_empty());
}

#[test]
fn other_event_keywords() {
    assert_eq!(
        events("China bans bitcoin mining"),
        [(EventKind::Regulation, Severity::High, -0.6)]
    );
    // Real, neutral-to-negative: regulation defaults to negative.
    assert_eq!(
        events("South Korean Officials Caught Trading On Insider Knowledge of Crypto Regulations"),
        [(EventKind::Regulation, Severity::Medium, -0.3)]
    );
    assert_eq!(
        events("SEC approves bitcoin ETF"),
        [(EventKind::Regulation, Severity::Medium, 0.3)]
    );
    assert_eq!(
        events("Coinbase lists SOL"),
        [(EventKind::Listing, Severity::Medium, 0.3)]
    );
    assert_eq!(
        events("Binance to delist XYZ"),
        [(EventKind::Delisting, Severity::High, -0.6)]
    );
    assert_eq!(
        events("Token unlock next week"),
        [(EventKind::Unlock, Severity::Medium, -0.3)]
    );
    assert_eq!(
        events("Fed hikes again as inflation fear returns"),
        [(EventKind::Macro, Severity::Medium, -0.3)]
    );
    // Real: "interest" alone is not macro news.
    assert!(
        events("Due to significant community interest, fees have been reduced by 41%.").is_empty()
    );
}

#[test]
fn real_btc_window_scores_positive_with_two_regulation_events() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/news/cryptopanic_2018-01-15_18.json"
    );
    let tagger = SymbolTagger::new(&[btc()], &SentimentConfig::default().aliases);
    let headlines = load_headlines(Path::new(path), &tagger).unwrap();
    let refs: Vec<&Headline> = headlines.iter().collect();
    let analysis = LexiconAnalyst::new().analyze(&btc(), &refs).unwrap();
    // Belarus "legal ... free" (+1.5), "@Bitcoin ... gained ... support" (+1.5), "Debuts ...
    // Strides" (+1), "All-Time High" (+1) against "Restrictions" (-1) and "Insider" (-1).
    assert!(
        (analysis.score - 1f64.tanh()).abs() < 1e-12,
        "{}",
        analysis.score
    );
    let kinds: Vec<EventKind> = analysis.events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EventKind::Regulation, EventKind::Regulation]);
    assert!(analysis.events.iter().all(|e| e.impact < 0.0));
}
