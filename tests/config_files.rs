//! Every shipped config loads and validates; invalid settings are refused by key.

use keel::settings::{Settings, SettingsError};

#[test]
fn every_shipped_config_is_valid() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/config");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let sim_venue = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("sim-exchange"));
        if sim_venue {
            // `keel sim-exchange`'s own config (docs/sim-exchange.md): its loader, with the
            // key and secret it names in the environment.
            std::env::set_var("KEEL_SIM_API_KEY", "example-key");
            std::env::set_var("KEEL_SIM_API_SECRET", "example-secret");
            keel_sim_exchange::config::Settings::load(&path, None, None)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        } else if path.extension().is_some_and(|e| e == "toml") {
            Settings::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            checked += 1;
        }
    }
    assert!(
        checked >= 2,
        "expected default.toml and backtest.toml, found {checked}"
    );
    Settings::embedded_default().unwrap();
}

fn error_for(patch: &str) -> String {
    let text = format!("{}\n{patch}", keel::settings::DEFAULT_TOML);
    match Settings::from_toml(&text, "test.toml") {
        Ok(_) => panic!("accepted an invalid config: {patch}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn unknown_keys_are_refused_by_name() {
    let message = error_for("[fusion]\nsentiment_wieght = 0.4");
    assert!(message.contains("sentiment_wieght"), "{message}");
}

#[test]
fn out_of_range_values_name_the_key_and_the_range() {
    let message = error_for("[risk]\nmax_open_positions = 0");
    assert!(message.contains("risk.max_open_positions"), "{message}");
    let text = keel::settings::DEFAULT_TOML.replace("fee_bps = 10", "fee_bps = -1");
    let message = Settings::from_toml(&text, "test.toml")
        .unwrap_err()
        .to_string();
    assert!(message.contains("venue.fee_bps"), "{message}");
}

#[test]
fn cross_section_mistakes_are_refused() {
    let message = error_for("[regime]\nsymbol = \"SOLUSDT\"");
    assert!(message.contains("regime.symbol"), "{message}");
    let text =
        keel::settings::DEFAULT_TOML.replace("start = \"2018-01-01\"", "start = \"2018-02-30x\"");
    let err = Settings::from_toml(&text, "test.toml").unwrap_err();
    assert!(matches!(err, SettingsError::Invalid { .. }));
    assert!(err.to_string().contains("data.start"), "{err}");
}
