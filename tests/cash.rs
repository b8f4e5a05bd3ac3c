//! The account never spends cash it does not have: entries waiting for their fill hold back
//! their cost, so signals on several symbols at once cannot over-commit the account.

use std::path::Path;

use keel::backtest::{load_inputs, run_backtest};
use keel::settings::Settings;

/// The real BTC series under three symbols plus ETH: identical series signal on the same bar.
fn settings(strategy: &str) -> Settings {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let btc = repo.join("data/binance/BTC_USDT-1h.json");
    let eth = repo.join("data/binance/ETH_USDT-1h.json");
    let text = format!(
        r#"
[data]
candles = [
    {{ symbol = "AAAUSDT", path = "{btc}", interval = "1h" }},
    {{ symbol = "BBBUSDT", path = "{btc}", interval = "1h" }},
    {{ symbol = "CCCUSDT", path = "{btc}", interval = "1h" }},
    {{ symbol = "ETHUSDT", path = "{eth}", interval = "1h" }},
]
start = "2018-01-01"
[strategy]
kind = "{strategy}"
[regime]
symbol = "AAAUSDT"
"#,
        btc = btc.display(),
        eth = eth.display(),
    );
    Settings::from_toml(&text, "test").unwrap()
}

#[test]
fn free_cash_never_goes_negative_when_symbols_signal_together() {
    for strategy in ["fusion", "sma_cross"] {
        let settings = settings(strategy);
        let result = run_backtest(&settings, load_inputs(&settings).unwrap(), &mut |_| {});
        assert!(result.trades.len() > 10, "{strategy}: too few trades");
        let worst = result
            .equity_curve
            .iter()
            .map(|p| (p.equity - p.exposure, p.ts))
            .min()
            .unwrap();
        assert!(
            worst.0 >= keel_model::Decimal::ZERO,
            "{strategy}: cash fell to {} at {}",
            worst.0,
            worst.1
        );
    }
}
