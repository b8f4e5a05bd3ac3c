use super::*;
use crate::settings::DEFAULT_TOML;

fn base() -> Base {
    Base::from_toml(DEFAULT_TOML, "(embedded default)").expect("the default is valid")
}

fn grid(text: &str) -> Grid {
    Grid::from_toml(text, "grid").expect("valid grid")
}

#[test]
fn a_cell_is_the_base_with_its_keys_set() {
    let values = vec![
        ("strategy.kind".to_string(), Value::from("sma_cross")),
        ("strategy.sma_fast".to_string(), Value::from(10)),
        ("venue.fee_bps".to_string(), Value::from(2.5)),
    ];
    let CellConfig::Ready(settings) = base().cell(&values) else {
        panic!("a valid cell");
    };
    assert_eq!(settings.strategy.sma_fast, 10);
    assert_eq!(settings.venue.fee_bps.to_string(), "2.5");
    // Everything else is the base's.
    assert_eq!(settings.data.candles.len(), 2);
    assert_eq!(settings.strategy.sma_slow, 50);
}

#[test]
fn a_rule_between_two_keys_skips_the_cell_and_says_why() {
    let values = vec![
        ("strategy.sma_fast".to_string(), Value::from(60)),
        ("strategy.sma_slow".to_string(), Value::from(50)),
    ];
    let CellConfig::Skipped(reason) = base().cell(&values) else {
        panic!("sma_fast above sma_slow must be skipped");
    };
    assert!(reason.contains("strategy.sma_fast"), "{reason}");
    assert!(reason.contains("smaller than sma_slow"), "{reason}");
    // The same values on their own are fine: the grid is accepted.
    base()
        .check(&grid(
            "[strategy]\nsma_fast = [10, 60]\nsma_slow = [50, 100]\n",
        ))
        .expect("no value is wrong by itself");
}

#[test]
fn a_value_wrong_by_itself_refuses_the_grid_naming_it() {
    let err = base()
        .check(&grid("[venue]\nfee_bps = [10, -1]\n"))
        .unwrap_err();
    assert!(err.contains("venue.fee_bps = -1"), "{err}");
    let err = base()
        .check(&grid("[strategy]\nsma_fats = [10]\n"))
        .unwrap_err();
    assert!(err.contains("sma_fats"), "an unknown key is named: {err}");
    let err = base()
        .check(&grid("[strategy]\nkind = [\"fusion\", \"moon\"]\n"))
        .unwrap_err();
    assert!(err.contains("moon"), "{err}");
}

#[test]
fn symbol_sets_pick_candle_files_of_the_base() {
    let only_btc = [(
        SYMBOLS_KEY.to_string(),
        Value::Array(vec![Value::from("BTC_USDT")]),
    )];
    let CellConfig::Ready(settings) = base().cell(&only_btc) else {
        panic!("BTC alone is a valid set");
    };
    assert_eq!(settings.data.candles.len(), 1);
    assert_eq!(settings.data.candles[0].symbol, "BTCUSDT");
    // The fused strategy needs its regime symbol (BTC): without it the cell is skipped.
    let only_eth = [(
        SYMBOLS_KEY.to_string(),
        Value::Array(vec![Value::from("ETHUSDT")]),
    )];
    let CellConfig::Skipped(reason) = base().cell(&only_eth) else {
        panic!("ETH alone lacks the regime's candles");
    };
    assert!(reason.contains("regime.symbol"), "{reason}");
    // A symbol the base has no file for is wrong by itself.
    let err = base()
        .check(&grid("[data]\nsymbols = [[\"SOLUSDT\"]]\n"))
        .unwrap_err();
    assert!(err.contains("SOLUSDT has no candle file"), "{err}");
}

#[test]
fn cell_ids_depend_on_the_fingerprint_and_the_values() {
    let a = [("strategy.sma_fast".to_string(), Value::from(10))];
    let b = [("strategy.sma_fast".to_string(), Value::from(20))];
    assert_eq!(cell_id("f1", &a), cell_id("f1", &a));
    assert_ne!(cell_id("f1", &a), cell_id("f1", &b));
    assert_ne!(cell_id("f1", &a), cell_id("f2", &a));
    assert_eq!(cell_id("f1", &a).len(), 32);
}
