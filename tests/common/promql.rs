//! The series names a PromQL expression reads, so that tests can check alert rules and
//! dashboards against what keel really exports.
//!
//! Not a PromQL parser: it skips strings, label matchers (`{...}`), ranges (`[5m]`), numbers,
//! keywords, function calls and grouping lists (`by (le)`), and what is left are the series
//! names. Include it with `#[path = "common/promql.rs"] mod promql;`.

#![allow(dead_code)] // each test binary uses its own subset

use std::collections::BTreeSet;

/// Words that are operators or modifiers, never series names.
const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "inf",
    "nan",
];

/// Aggregation operators, followed by `(` or by a grouping (`sum by (le) (...)`).
const AGGREGATIONS: &[&str] = &[
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
    "limitk",
    "limit_ratio",
];

/// Modifiers followed by a parenthesised list of label names.
const GROUPING: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

/// Every series name `expr` selects (`keel_x_bucket` for a histogram's buckets: the name a
/// query uses, which is the name a scrape shows).
pub fn series_names(expr: &str) -> BTreeSet<String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut names = BTreeSet::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '"' | '\'' | '`' => i = skip_string(&chars, i),
            '{' => i = skip_past(&chars, i, '}'),
            '[' => i = skip_past(&chars, i, ']'),
            c if c.is_ascii_digit() || c == '.' => {
                // Numbers, durations (5m) and exponents (1e3).
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                    i += 1;
                }
            }
            c if c.is_ascii_alphabetic() || c == '_' || c == ':' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let next = chars[i..].iter().find(|c| !c.is_whitespace());
                if GROUPING.contains(&word.as_str()) {
                    if next == Some(&'(') {
                        let open = i + chars[i..].iter().position(|&c| c == '(').unwrap();
                        i = skip_past(&chars, open, ')');
                    }
                } else if next == Some(&'(')
                    || KEYWORDS.contains(&word.as_str())
                    || AGGREGATIONS.contains(&word.as_str())
                {
                    // A function (its arguments are scanned next) or an operator.
                } else {
                    names.insert(word);
                }
            }
            _ => i += 1,
        }
    }
    names
}

fn skip_string(chars: &[char], open: usize) -> usize {
    let quote = chars[open];
    let mut i = open + 1;
    while i < chars.len() && chars[i] != quote {
        i += if chars[i] == '\\' { 2 } else { 1 };
    }
    i + 1
}

fn skip_past(chars: &[char], open: usize, close: char) -> usize {
    let mut i = open + 1;
    while i < chars.len() && chars[i] != close {
        i = match chars[i] {
            '"' | '\'' | '`' => skip_string(chars, i),
            _ => i + 1,
        };
    }
    i + 1
}

/// The sample names in a scrape of `/metrics` (`keel_fills_total`, `keel_x_bucket`, ...).
pub fn scraped_names(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| line.split(['{', ' ']).next())
        .map(str::to_string)
        .collect()
}

#[test]
fn series_names_leave_out_functions_labels_ranges_and_groupings() {
    let names = |e: &str| series_names(e).into_iter().collect::<Vec<_>>();
    assert_eq!(
        names(
            r#"histogram_quantile(0.99, sum by (instance, le) (rate(keel_journal_write_seconds_bucket{instance=~"$instance", le!="+Inf"}[10m]))) > 0.05"#
        ),
        ["keel_journal_write_seconds_bucket"]
    );
    assert_eq!(names(r#"up{job="keel"} == 0"#), ["up"]);
    assert_eq!(
        names("keel_a / on (instance) group_left keel_b offset 5m > bool 2 * 3600"),
        ["keel_a", "keel_b"]
    );
    assert_eq!(
        names("increase(keel_actor_restarts_total[$__rate_interval]) unless keel_x:rate5m"),
        ["keel_actor_restarts_total", "keel_x:rate5m"]
    );
}

#[test]
fn scraped_names_are_the_sample_names() {
    let text =
        "# TYPE keel_fills counter\nkeel_fills_total 3\nkeel_w_bucket{le=\"0.1\"} 1\n# EOF\n";
    assert_eq!(
        scraped_names(text).into_iter().collect::<Vec<_>>(),
        ["keel_fills_total", "keel_w_bucket"]
    );
}
