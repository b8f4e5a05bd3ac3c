//! Property tests of loading settings: random TOML never panics, and every refusal names the
//! key at fault.
//!
//! Each case starts from a valid configuration with every section written out (the embedded
//! default, or `config/paper-sim.toml` with its `[binance]` section), serialised whole, and
//! changes one to three keys: a value of the wrong type, a number out of range (negative,
//! zero, huge, NaN, infinite), a text that is empty, huge or odd, an unknown key, a key
//! removed. The result loads, or is refused with a message naming the key changed (or, for a
//! cross-section rule, the key it is checked against). Mutated bytes of the same text never
//! panic.
//!
//! Each property runs proptest's default 256 cases; `PROPTEST_CASES` raises it, e.g.
//! `PROPTEST_CASES=20000 cargo test --release --lib settings::props`.

use keel_core::testing::{props_config as config, Rng};
use proptest::prelude::*;
use toml::Value;

use super::{Settings, SettingsError};

const PAPER_SIM: &str = include_str!("../../config/paper-sim.toml");

/// A valid configuration with every key written out.
fn base(rng: &mut Rng) -> Value {
    let settings = if rng.one_in(2) {
        Settings::embedded_default().unwrap()
    } else {
        Settings::from_toml(PAPER_SIM, "paper-sim.toml").unwrap()
    };
    Value::try_from(&settings).unwrap()
}

/// Every key, as the path of table keys and array indexes to it.
fn paths(value: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match value {
        Value::Table(table) => {
            for (key, inner) in table {
                path.push(key.clone());
                out.push(path.clone());
                paths(inner, path, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                path.push(i.to_string());
                paths(inner, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn at<'a>(value: &'a mut Value, path: &[String]) -> &'a mut Value {
    path.iter().fold(value, |v, step| match v {
        Value::Table(t) => t.get_mut(step).unwrap(),
        Value::Array(a) => &mut a[step.parse::<usize>().unwrap()],
        _ => unreachable!("a path goes through tables and arrays"),
    })
}

/// The name a refusal must carry for a change at `path`: its last key (an array element is
/// named by its array's key).
fn name(path: &[String]) -> String {
    path.iter()
        .rev()
        .find(|step| step.parse::<usize>().is_err())
        .cloned()
        .unwrap_or_default()
}

/// How a key was changed, and whether the result must be refused.
#[derive(Debug)]
struct Change {
    path: Vec<String>,
    what: String,
    must_refuse: bool,
}

/// Changes one key that is neither `used`, nor inside nor around one (so that no change undoes
/// another), and adds it to `used`.
fn change(doc: &mut Value, rng: &mut Rng, used: &mut Vec<Vec<String>>) -> Change {
    let mut all = Vec::new();
    paths(doc, &mut Vec::new(), &mut all);
    all.retain(|p| !used.iter().any(|u| p.starts_with(u) || u.starts_with(p)));
    if all.is_empty() {
        return Change {
            path: Vec::new(),
            what: "nothing".into(),
            must_refuse: false,
        };
    }
    let path = all[rng.below(all.len())].clone();
    used.push(path.clone());
    // An array's elements too: their indexes shift when one of them is removed.
    if path.len() > 1 && path[path.len() - 1].parse::<usize>().is_ok() {
        used.push(path[..path.len() - 1].to_vec());
    }
    let (parent, last) = path.split_at(path.len() - 1);
    let value = at(doc, &path);
    let huge = "x".repeat(10_000);
    let (new, what, must_refuse): (Option<Value>, String, bool) = match rng.below(5) {
        // A value of a type no key of this one's type takes. (Not an empty array: toml
        // writes none as an array of tables, that is, not at all.)
        0 => {
            let wrong = match value {
                Value::String(_) => [
                    Value::Boolean(true),
                    Value::Array(vec![Value::Integer(1)]),
                    Value::Table(Default::default()),
                ][rng.below(3)]
                .clone(),
                Value::Integer(_) => [
                    Value::String("x".into()),
                    Value::Boolean(false),
                    Value::Float(1.5),
                ][rng.below(3)]
                .clone(),
                Value::Float(_) => [
                    Value::String("x".into()),
                    Value::Boolean(false),
                    Value::Array(vec![Value::Integer(1)]),
                ][rng.below(3)]
                .clone(),
                Value::Boolean(_) => [
                    Value::Integer(1),
                    Value::String("true".into()),
                    Value::Float(0.0),
                ][rng.below(3)]
                .clone(),
                Value::Array(_) | Value::Table(_) | Value::Datetime(_) => {
                    [Value::Integer(7), Value::String("x".into())][rng.below(2)].clone()
                }
            };
            let what = format!("{wrong} for {value}");
            (Some(wrong), what, true)
        }
        // A number out of range, or not a number.
        1 => {
            let (new, refuse) = match value {
                Value::Integer(_) => (
                    Value::Integer([-1, 0, i64::MAX, i64::MIN, 1 << 40][rng.below(5)]),
                    false,
                ),
                Value::Float(_) => {
                    let x = [
                        f64::NAN,
                        f64::INFINITY,
                        f64::NEG_INFINITY,
                        -1.0,
                        0.0,
                        1e300,
                        1e-300,
                    ][rng.below(7)];
                    (Value::Float(x), x.is_nan())
                }
                // Decimals are written as strings.
                Value::String(s) if s.parse::<f64>().is_ok() => {
                    let t = [
                        "-1",
                        "0",
                        "1e30",
                        "NaN",
                        "-0.000000001",
                        "79228162514264337593543950336",
                    ][rng.below(6)];
                    (Value::String(t.into()), t == "NaN")
                }
                other => (other.clone(), false),
            };
            let what = format!("{new}");
            (Some(new), what, refuse)
        }
        // Odd text.
        2 => {
            let text = [
                "",
                " ",
                "\u{0}",
                "é😀",
                "../../etc/passwd",
                "1h",
                huge.as_str(),
                "BTCUSDT",
            ][rng.below(8)];
            (
                Some(Value::String(text.into())),
                format!("{:?}", &text[..text.len().min(20)]),
                false,
            )
        }
        // An unknown key beside this one.
        3 => {
            let unknown = [
                "sentiment_wieght",
                "max_open_position",
                "zz_unknown",
                "Kind",
            ][rng.below(4)];
            let parent_value = at(doc, parent);
            if let Value::Table(t) = parent_value {
                if !t.contains_key(unknown) {
                    t.insert(unknown.into(), Value::Integer(1));
                    let mut path = parent.to_vec();
                    path.push(unknown.into());
                    used.push(path.clone());
                    return Change {
                        path,
                        what: "an unknown key".into(),
                        must_refuse: true,
                    };
                }
            }
            (None, "nothing".into(), false)
        }
        // The key removed.
        _ => {
            if let Value::Table(t) = at(doc, parent) {
                t.remove(&last[0]);
            } else if let Value::Array(a) = at(doc, parent) {
                a.remove(last[0].parse::<usize>().unwrap());
            }
            return Change {
                path,
                what: "removed".into(),
                must_refuse: false,
            };
        }
    };
    if let Some(new) = new {
        *at(doc, &path) = new;
    }
    Change {
        path,
        what,
        must_refuse,
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_changed_config_loads_or_is_refused_naming_the_key(seed in any::<u64>()) {
        let mut rng = Rng::new(seed);
        let mut doc = base(&mut rng);
        let mut used = Vec::new();
        let changes: Vec<Change> = (0..1 + rng.below(3) * usize::from(rng.one_in(3)))
            .map(|_| change(&mut doc, &mut rng, &mut used))
            .collect();
        let text = toml::to_string(&doc).unwrap();
        match Settings::from_toml(&text, "props.toml") {
            Ok(_) => {
                for c in &changes {
                    prop_assert!(!c.must_refuse, "{} at {:?} was accepted", c.what, c.path);
                }
            }
            Err(e) => {
                let message = e.to_string();
                prop_assert!(message.starts_with("invalid config props.toml: "), "{message}");
                // Which change is refused first is the loader's choice: the message names one.
                let named = changes.iter().any(|c| message.contains(&name(&c.path)));
                // A key removed falls back to its default, which a rule across sections may
                // refuse: then the key that rule checks is named (`[binance]` removed:
                // `data.candles`, at least one candle file is required).
                let removed = changes.iter().any(|c| c.what == "removed");
                let rule_named = match &e {
                    SettingsError::Invalid { problem, .. } => {
                        problem.key.contains('.') && message.contains(&format!("`{}`", problem.key))
                    }
                    _ => false,
                };
                prop_assert!(named || removed && rule_named, "{message}\nfor {changes:?}");
            }
        }
    }

    #[test]
    fn mutated_config_text_never_panics(seed in any::<u64>()) {
        let mut rng = Rng::new(seed);
        let doc = base(&mut rng);
        let mut bytes = toml::to_string(&doc).unwrap().into_bytes();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(bytes.len() + 1);
            match rng.below(4) {
                0 if at < bytes.len() => bytes[at] = b"=[]\"'.,#\n0-_xe{}"[rng.below(16)],
                1 => bytes.truncate(at),
                2 => {
                    let piece = bytes[at..].to_vec();
                    bytes.extend_from_slice(&piece[..piece.len().min(200)]);
                }
                _ => bytes.insert(at, rng.next() as u8),
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        if let Err(e) = Settings::from_toml(&text, "props.toml") {
            prop_assert!(e.to_string().starts_with("invalid config props.toml: "), "{e}");
        }
    }
}

/// The bases load as written out, and the changes are not vacuous: over 300 fixed seeds they
/// give loaded configs, refusals by toml (type, unknown key) and refusals by validation.
#[test]
fn the_bases_load_and_the_changes_reach_every_outcome() {
    for seed in [1, 2, 3, 4] {
        let doc = base(&mut Rng::new(seed));
        Settings::from_toml(&toml::to_string(&doc).unwrap(), "base").unwrap();
    }
    let (mut loaded, mut parse, mut invalid) = (0, 0, 0);
    for seed in 0..300 {
        let mut rng = Rng::new(seed);
        let mut doc = base(&mut rng);
        change(&mut doc, &mut rng, &mut Vec::new());
        match Settings::from_toml(&toml::to_string(&doc).unwrap(), "props.toml") {
            Ok(_) => loaded += 1,
            Err(SettingsError::Parse { .. }) => parse += 1,
            Err(_) => invalid += 1,
        }
    }
    assert!(
        loaded > 30 && parse > 30 && invalid > 10,
        "{loaded} {parse} {invalid}"
    );
}
