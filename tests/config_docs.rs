//! docs/configuration.md must not drift from the code.
//!
//! Every settings key is found from the code itself: the embedded default is serialised and
//! walked (arrays of tables as `name[]`, map-like sections by their name only), and each
//! table is probed with an unknown key, so that serde's "expected one of ..." lists the keys
//! that serialise to nothing (an unset `Option`, such as `data.end`). Each key must have a
//! row in the reference, no row may name a key that does not exist, and every scalar default
//! written there must be the code's `Default`.

use std::collections::{BTreeMap, BTreeSet};

use keel::settings::Settings;
use toml::Value;

/// The reference, read at run time so that editing it needs no rebuild.
const DOC_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/configuration.md");

/// Sections whose keys are data (an asset, a word) rather than settings: only the section
/// itself must be documented.
const MAP_SECTIONS: [&str; 4] = [
    "hangs.actors",
    "risk.sectors",
    "sentiment.aliases",
    "sentiment.feeds",
];

/// A key no settings struct has, used to make serde list the keys a table accepts.
const PROBE: &str = "zz_undocumented_probe";

/// One step from the root of the serialised settings to a nested table.
#[derive(Clone)]
enum Step {
    /// A key of a table.
    Key(String),
    /// The first element of an array of tables.
    First,
}

/// Every settings key path, found from the code.
struct KeyWalk {
    root: Value,
    keys: BTreeSet<String>,
    problems: Vec<String>,
}

impl KeyWalk {
    fn of(settings: &Settings) -> Self {
        let root = Value::try_from(settings).expect("settings serialise to TOML");
        let back: Settings = root
            .clone()
            .try_into()
            .expect("serialised settings read back");
        assert_eq!(&back, settings, "settings must round-trip through TOML");
        let mut walk = Self {
            root: root.clone(),
            keys: BTreeSet::new(),
            problems: Vec::new(),
        };
        walk.table(&root, "", &mut Vec::new());
        walk
    }

    /// Collects the keys of the struct table `value` found at `path` (`steps` from the root).
    fn table(&mut self, value: &Value, path: &str, steps: &mut Vec<Step>) {
        let Some(table) = value.as_table() else {
            return;
        };
        // Keys declared by the struct but absent from the serialised value (unset options).
        match self.declared_keys(steps) {
            Ok(declared) => {
                for name in declared.iter().filter(|k| !table.contains_key(*k)) {
                    self.keys.insert(join(path, name));
                }
            }
            Err(problem) => self.problems.push(format!("{}: {problem}", shown(path))),
        }
        for (name, child) in table {
            let key = join(path, name);
            steps.push(Step::Key(name.clone()));
            if MAP_SECTIONS.contains(&key.as_str()) {
                self.keys.insert(key);
            } else if child.is_table() {
                self.table(child, &key, steps);
            } else if let Some(first) = child.as_array().and_then(|a| a.first()) {
                self.keys.insert(key.clone());
                if first.is_table() {
                    steps.push(Step::First);
                    self.table(first, &format!("{key}[]"), steps);
                    steps.pop();
                }
            } else {
                self.keys.insert(key);
            }
            steps.pop();
        }
    }

    /// The keys the struct at `steps` accepts, as serde lists them when it meets [`PROBE`].
    fn declared_keys(&self, steps: &[Step]) -> Result<Vec<String>, String> {
        let mut probed = self.root.clone();
        let mut at = &mut probed;
        for step in steps {
            at = match step {
                Step::Key(key) => at.get_mut(key.as_str()),
                Step::First => at.get_mut(0),
            }
            .ok_or("the probe lost its way")?;
        }
        at.as_table_mut()
            .ok_or("not a table")?
            .insert(PROBE.to_string(), Value::Boolean(true));
        let message = match probed.try_into::<Settings>() {
            Ok(_) => {
                return Err(format!(
                    "accepts unknown keys: add #[serde(deny_unknown_fields)] or, if its keys \
                     are data, list it in MAP_SECTIONS of {}",
                    file!()
                ))
            }
            Err(e) => e.to_string(),
        };
        let marker = format!("unknown field `{PROBE}`");
        let at = message
            .find(&marker)
            .ok_or_else(|| format!("unexpected error for the probe: {message}"))?;
        // ", expected one of `a`, `b`" (or "expected `a`"), then a line "in `section`":
        // the names are between backticks on the first line.
        let rest = &message[at + marker.len()..];
        let listed = rest.lines().next().unwrap_or_default();
        Ok(listed
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect())
    }
}

/// `section.name`, or `name` at the root.
fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

fn shown(path: &str) -> &str {
    if path.is_empty() {
        "(root)"
    } else {
        path
    }
}

/// The reference's key rows: first cell `` `key` `` → the row's cells.
fn documented_rows() -> BTreeMap<String, Vec<String>> {
    let doc = std::fs::read_to_string(DOC_PATH).expect("docs/configuration.md is readable");
    let mut rows = BTreeMap::new();
    for line in doc.lines() {
        let Some(rest) = line.trim().strip_prefix("| `") else {
            continue;
        };
        let Some((key, _)) = rest.split_once('`') else {
            continue;
        };
        let cells: Vec<String> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().to_string())
            .collect();
        rows.insert(key.to_string(), cells);
    }
    rows
}

/// The keys of the embedded default, and of the shipped venue config for the sections the
/// default leaves out (`[binance]`).
fn code_keys() -> BTreeSet<String> {
    let default = Settings::embedded_default().expect("the embedded default is valid");
    let venue_config = concat!(env!("CARGO_MANIFEST_DIR"), "/config/paper-sim.toml");
    let venue =
        Settings::load(std::path::Path::new(venue_config)).expect("paper-sim.toml is valid");
    // The default has no webhook: one, to find the keys of `[[alerts.webhooks]]`.
    let with_webhook = Settings::from_toml(
        &format!(
            "{}\n[[alerts.webhooks]]\nurl = \"http://127.0.0.1:9/alerts\"\n",
            keel::settings::DEFAULT_TOML
        ),
        "the default with a webhook",
    )
    .expect("a webhook is valid");
    let mut keys = BTreeSet::new();
    for settings in [default, venue, with_webhook] {
        let walk = KeyWalk::of(&settings);
        assert!(
            walk.problems.is_empty(),
            "could not list every settings key:\n  {}",
            walk.problems.join("\n  ")
        );
        keys.extend(walk.keys);
    }
    keys
}

#[test]
fn every_settings_key_is_documented() {
    let keys = code_keys();
    assert!(
        keys.contains("risk.max_open_positions")
            && keys.contains("orders.trailing.atr_mult")
            && keys.contains("data.candles[].symbol")
            && keys.contains("risk.take_profits[].fraction")
            && keys.contains("risk.sectors")
            && keys.contains("data.end"),
        "the walk missed keys it must find: {keys:?}"
    );
    let rows = documented_rows();
    let missing: Vec<&String> = keys.iter().filter(|k| !rows.contains_key(*k)).collect();
    assert!(
        missing.is_empty(),
        "{} settings key(s) have no row in docs/configuration.md (add a table row starting \
         with | `key` |):\n  {}",
        missing.len(),
        missing
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join("\n  ")
    );
}

#[test]
fn every_documented_key_exists() {
    let keys = code_keys();
    let sections: BTreeSet<&str> = keys.iter().filter_map(|k| k.split('.').next()).collect();
    let stale: Vec<String> = documented_rows()
        .into_keys()
        .filter(|k| {
            let is_setting = k.split_once('.').is_some_and(|(s, _)| sections.contains(s));
            // `risk.sectors.<ASSET>` describes the entries of a map-like section.
            let map_entry = MAP_SECTIONS
                .iter()
                .any(|m| k.starts_with(&format!("{m}.<")));
            is_setting && !keys.contains(k) && !map_entry
        })
        .collect();
    assert!(
        stale.is_empty(),
        "docs/configuration.md documents key(s) the settings do not have:\n  {}",
        stale.join("\n  ")
    );
}

/// Scalar leaves of `value` with their dotted paths (arrays and map sections are skipped).
fn scalar_defaults(value: &Value, path: &str, out: &mut BTreeMap<String, Value>) {
    match value {
        Value::Table(table) => {
            for (name, child) in table {
                let key = join(path, name);
                if !MAP_SECTIONS.contains(&key.as_str()) {
                    scalar_defaults(child, &key, out);
                }
            }
        }
        Value::Array(_) => {}
        scalar => {
            out.insert(path.to_string(), scalar.clone());
        }
    }
}

/// Whether the reference's default literal (`20`, `2.0`, `"bt"`, `true`) is `value`.
fn same_default(written: &str, value: &Value) -> bool {
    let written = written.trim_matches('"');
    let code = match value {
        Value::String(s) => s.clone(),
        Value::Integer(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Boolean(b) => b.to_string(),
        other => other.to_string(),
    };
    match (written.parse::<f64>(), code.parse::<f64>()) {
        (Ok(a), Ok(b)) => a == b,
        _ => written == code,
    }
}

#[test]
fn documented_defaults_are_the_code_defaults() {
    let defaults = Value::try_from(Settings::default()).expect("defaults serialise");
    let mut scalars = BTreeMap::new();
    scalar_defaults(&defaults, "", &mut scalars);
    assert!(
        scalars.contains_key("orders.trailing.atr_mult"),
        "{scalars:?}"
    );
    let rows = documented_rows();
    let mut wrong = Vec::new();
    for (key, value) in &scalars {
        let Some(cells) = rows.get(key) else {
            continue; // reported by every_settings_key_is_documented
        };
        let cell = cells.get(2).map(String::as_str).unwrap_or("");
        let literal = cell.split('`').nth(1);
        if !literal.is_some_and(|l| same_default(l, value)) {
            wrong.push(format!(
                "{key}: the code says {value}, the reference says {cell}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "defaults in docs/configuration.md (third column, first `literal`) differ from the \
         code:\n  {}",
        wrong.join("\n  ")
    );
}

/// The example error in the reference is what the loader says for that file.
#[test]
fn the_documented_error_example_is_real() {
    let bad = "[data]\n\
               candles = [{ symbol = \"BTCUSDT\", path = \"data/binance/BTC_USDT-1h.json\" }]\n\
               \n\
               [risk]\n\
               max_open_positions = 0\n";
    let message = Settings::from_toml(bad, "/tmp/bad.toml")
        .unwrap_err()
        .to_string();
    let doc = std::fs::read_to_string(DOC_PATH).expect("docs/configuration.md is readable");
    assert!(
        doc.contains(bad.trim_end()),
        "the reference no longer shows the example file:\n{bad}"
    );
    assert!(
        doc.contains(&message),
        "the reference no longer shows the loader's message: {message}"
    );
}

/// What the reference says about reading values: decimals as numbers or strings, and a map
/// or list given in a file replaces the default one rather than adding to it.
#[test]
fn documented_loading_rules_hold() {
    let text = format!(
        "{}\n[risk]\nqty_step = 0.1\nmin_notional = \"12.5\"\n\
         take_profits = [{{ r_multiple = 2, fraction = 1 }}]\n\
         [risk.sectors]\nBTC = \"gold\"\n",
        keel::settings::DEFAULT_TOML
    );
    let settings = Settings::from_toml(&text, "test.toml").unwrap();
    let risk = &settings.risk;
    assert_eq!(risk.qty_step.to_string(), "0.1");
    assert_eq!(risk.min_notional.to_string(), "12.5");
    assert_eq!(risk.take_profits.len(), 1);
    assert_eq!(
        risk.sectors.len(),
        1,
        "a listed map replaces the default map"
    );
    assert_eq!(risk.sector_of("ETH"), "ETH");
    assert_eq!(
        risk.max_open_positions, 4,
        "keys left out keep their default"
    );
}

/// The reference's last TOML block ("A complete example") loads to the embedded default.
#[test]
fn the_complete_example_is_the_embedded_default() {
    let doc = std::fs::read_to_string(DOC_PATH).expect("docs/configuration.md is readable");
    let start = doc.rfind("```toml\n").expect("a ```toml block") + "```toml\n".len();
    let len = doc[start..].find("```").expect("the block ends");
    let example = Settings::from_toml(&doc[start..start + len], "the complete example")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        example,
        Settings::embedded_default().unwrap(),
        "the complete example in docs/configuration.md must set every key to its default"
    );
}
