//! What several system tests share: the shipped data as a `[data]` section, and settings whose
//! data paths work from any working directory.

#![allow(dead_code)] // each test binary uses its own subset

use std::path::Path;

pub mod nats;
pub mod process;
pub mod tools;
pub mod webhook;

use keel::settings::Settings;

/// `settings` with its candle and headline paths made absolute (they are relative to the
/// repository root).
pub fn rooted(mut settings: Settings) -> Settings {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for source in &mut settings.data.candles {
        source.path = root.join(&source.path);
    }
    if let Some(headlines) = &mut settings.data.headlines {
        *headlines = root.join(&*headlines);
    }
    settings
}

/// The embedded default settings, [`rooted`].
pub fn default_settings() -> Settings {
    rooted(Settings::embedded_default().expect("the embedded default is valid"))
}

/// The `[data]` section for the repository's BTC and ETH hourly slice, with absolute paths so
/// that the config works from any working directory: trading from `start`, up to `end`
/// (exclusive) when given, with the real January 2018 headlines when `headlines`.
pub fn data_section(start: &str, end: Option<&str>, headlines: bool) -> String {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let file = |name: &str| repo.join("data").join(name).display().to_string();
    let mut text = format!(
        "[data]\ncandles = [\n    {{ symbol = \"BTCUSDT\", path = \"{}\", interval = \"1h\" }},\n    {{ symbol = \"ETHUSDT\", path = \"{}\", interval = \"1h\" }},\n]\nstart = \"{start}\"\n",
        file("binance/BTC_USDT-1h.json"),
        file("binance/ETH_USDT-1h.json"),
    );
    if let Some(end) = end {
        text += &format!("end = \"{end}\"\n");
    }
    if headlines {
        text += &format!(
            "headlines = \"{}\"\n",
            file("news/cryptopanic_2018-01-15_18.json")
        );
    }
    text
}

/// A paced paper run of the fused strategy over the shipped data (minutes of it), waiting
/// at the end, its store in `dir/store` and its logs in `dir/log`; written to
/// `dir/paper.toml`, whose path is returned.
pub fn paced_paper_config(dir: &Path) -> std::path::PathBuf {
    let text = data_section("2018-01-01", None, true)
        + &format!(
            "[strategy]\nkind = \"fusion\"\n[run]\nfeed = \"paced\"\nspeedup = 360000\nstore = \"{}\"\nat_end = \"wait\"\n[log]\ndir = \"{}\"\n",
            dir.join("store").display(),
            dir.join("log").display()
        );
    let path = dir.join("paper.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `keel chaos --config config/paper-sim.toml` with `args`, run from the repository (the
/// configs' data paths are relative to it), with any key and secret (the sim venue it starts
/// accepts them).
pub fn keel_chaos_at_the_sim_venue(args: &[&str]) -> std::process::Output {
    let mut command = process::keel(&["chaos", "--config", "config/paper-sim.toml"]);
    command
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .env("KEEL_BINANCE_API_KEY", "chaos-test-key")
        .env("KEEL_BINANCE_API_SECRET", "chaos-test-secret");
    process::run(command, "keel chaos against the sim venue")
}

/// The shipped `config/llm-local.toml`, with absolute data paths, a short range, a private
/// cache, store and log, and the fake server as its base URL.
pub fn llm_local_config(dir: &Path, base_url: &str) -> std::path::PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(repo.join("config/llm-local.toml"))
        .unwrap()
        .replace("\"data/", &format!("\"{}/data/", repo.display()))
        .replace(
            "start = \"2018-01-01\"",
            "start = \"2018-01-10\"\nend = \"2018-01-25\"",
        )
        .replace("\"http://127.0.0.1:11434\"", &format!("\"{base_url}\""))
        .replace(
            "\"var/llm-cache\"",
            &format!("\"{}\"", dir.join("cache").display()),
        )
        .replace(
            "\"var/llm-local\"",
            &format!("\"{}\"", dir.join("store").display()),
        )
        .replace(
            "\"var/log/llm-local\"",
            &format!("\"{}\"", dir.join("log").display()),
        );
    let path = dir.join("llm.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The base config of the sweep tests: sma_cross on the repository's ETH hourly slice,
/// trading from 2018-01-01, written to `dir/base.toml` (whose path is returned).
pub fn eth_sma_cross_config(dir: &Path) -> std::path::PathBuf {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/binance/ETH_USDT-1h.json");
    let text = format!(
        "[data]\ncandles = [{{ symbol = \"ETHUSDT\", path = \"{}\", interval = \"1h\" }}]\n\
         start = \"2018-01-01\"\n[strategy]\nkind = \"sma_cross\"\n[regime]\nsymbol = \"ETHUSDT\"\n",
        data.display()
    );
    let path = dir.join("base.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `keel sweep --config BASE --grid GRID --out OUT` followed by `extra`, not started.
pub fn keel_sweep(base: &Path, grid: &Path, out: &Path, extra: &[&str]) -> std::process::Command {
    let mut command = process::keel(&["sweep", "--config", base.to_str().unwrap()]);
    command
        .args(["--grid", grid.to_str().unwrap()])
        .args(["--out", out.to_str().unwrap()])
        .args(extra);
    command
}
