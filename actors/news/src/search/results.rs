//! Reading a search API's answer: strictly (every kept field has its type, or the error names
//! it), and cleaned (control characters removed, whitespace collapsed, text cut).

use keel_core::strategy::llm::SearchHit;
use serde_json::value::RawValue;

use super::SearchError;
use crate::llm::strict_json::{kind_of, Members};

/// The largest answer read (1 MiB); a longer one is refused.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// The longest title kept, in characters (a longer one is cut like `content`).
pub const MAX_TITLE_CHARS: usize = 300;

/// The hits of a Tavily-style answer `{"results": [{"title", "url", "content",
/// "published_date"?}, ...]}`, at most `max_results` of them, in order. Unknown keys are
/// ignored; every result (kept or not) must have string `title`, `url` and `content`, and a
/// string or null `published_date`, or the error names it (`results[1].url`).
///
/// Strings lose their control characters; `title` and `content` have their whitespace
/// collapsed and are cut to [`MAX_TITLE_CHARS`] and `max_chars` characters, the `…` that
/// marks a cut counted within the limit (`max_chars = 0`: no content). Pure.
pub fn read_results(
    body: &[u8],
    max_results: usize,
    max_chars: usize,
) -> Result<Vec<SearchHit>, SearchError> {
    let invalid = |what: String| SearchError::Body(what);
    if body.len() > MAX_BODY_BYTES {
        return Err(invalid(format!(
            "the answer is {} bytes, more than {MAX_BODY_BYTES}",
            body.len()
        )));
    }
    let Members(top) = serde_json::from_slice(body)
        .map_err(|e| invalid(format!("not a JSON object: {}", short(&e.to_string()))))?;
    let results =
        only(&top, "results", "")?.ok_or_else(|| invalid("no `results` key".to_string()))?;
    if kind_of(results.get()) != "an array" {
        return Err(invalid(format!(
            "`results` is {}, expected an array",
            kind_of(results.get())
        )));
    }
    let items: Vec<&RawValue> = serde_json::from_str(results.get())
        .map_err(|e| invalid(format!("`results`: {}", short(&e.to_string()))))?;
    let mut hits = Vec::with_capacity(items.len().min(max_results));
    for (i, item) in items.iter().enumerate() {
        let hit = read_hit(item, i, max_chars)?;
        if hits.len() < max_results {
            hits.push(hit);
        }
    }
    Ok(hits)
}

/// The result `results[i]`, cleaned.
fn read_hit(item: &RawValue, i: usize, max_chars: usize) -> Result<SearchHit, SearchError> {
    let at = format!("results[{i}]");
    if kind_of(item.get()) != "an object" {
        return Err(SearchError::Body(format!(
            "`{at}` is {}, expected an object",
            kind_of(item.get())
        )));
    }
    let Members(fields) = serde_json::from_str(item.get())
        .map_err(|e| SearchError::Body(format!("`{at}`: {}", short(&e.to_string()))))?;
    let text = |key: &str| -> Result<String, SearchError> {
        match only(&fields, key, &at)? {
            Some(value) => string(value, &at, key),
            None => Err(SearchError::Body(format!("`{at}.{key}` is missing"))),
        }
    };
    let (title, url, content) = (text("title")?, text("url")?, text("content")?);
    let published = match only(&fields, "published_date", &at)? {
        Some(value) if value.get() != "null" => {
            Some(strip_controls(&string(value, &at, "published_date")?))
        }
        _ => None,
    };
    Ok(SearchHit {
        title: cut(&collapse(&title), MAX_TITLE_CHARS),
        url: strip_controls(&url),
        content: cut(&collapse(&content), max_chars),
        published,
    })
}

/// The one member `key` of `members`, if any; a repeated key is an error.
fn only<'a>(
    members: &'a [(String, Box<RawValue>)],
    key: &str,
    at: &str,
) -> Result<Option<&'a RawValue>, SearchError> {
    let mut found = members.iter().filter(|(k, _)| k == key).map(|(_, v)| &**v);
    let first = found.next();
    if found.next().is_some() {
        let path = if at.is_empty() {
            key.to_string()
        } else {
            format!("{at}.{key}")
        };
        return Err(SearchError::Body(format!("`{path}` appears twice")));
    }
    Ok(first)
}

/// The JSON string `value` of `at.key`.
fn string(value: &RawValue, at: &str, key: &str) -> Result<String, SearchError> {
    let wrong = || {
        SearchError::Body(format!(
            "`{at}.{key}` is {}, expected a string",
            kind_of(value.get())
        ))
    };
    if kind_of(value.get()) != "a string" {
        return Err(wrong());
    }
    serde_json::from_str(value.get()).map_err(|_| wrong())
}

/// `text` without control characters, trimmed.
fn strip_controls(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .to_string()
}

/// `text` with its whitespace runs (line breaks and tabs included) made one space, other
/// control characters removed, trimmed.
fn collapse(text: &str) -> String {
    let kept: String = text
        .chars()
        .filter(|c| !c.is_control() || c.is_whitespace())
        .collect();
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `text` cut to at most `max` characters, the last of them `…` when it was cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let kept: String = text.chars().take(max - 1).collect();
    format!("{}…", kept.trim_end())
}

/// An error message kept short (serde's may quote the input).
fn short(message: &str) -> String {
    let mut kept: String = message.chars().take(200).collect();
    if kept.len() < message.len() {
        kept.push('…');
    }
    kept
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A Tavily answer as the API sends it (fields keel ignores included).
    pub(in crate::search) const TAVILY: &str = r#"{
        "query": "BTC cryptocurrency news",
        "follow_up_questions": null,
        "answer": null,
        "images": [],
        "results": [
            {
                "title": "Bitcoin ETF inflows\n  reach a record",
                "url": "https://news.example/btc-etf",
                "content": "Spot bitcoin ETFs took in\t$1.2bn on Monday,\u0007 the most since launch.",
                "score": 0.91,
                "raw_content": null,
                "published_date": "Mon, 04 Mar 2024 15:02:11 GMT"
            },
            {
                "title": "Exchange halts withdrawals",
                "url": "https://news.example/halt",
                "content": "An exchange paused withdrawals after a suspected hack.",
                "score": 0.55,
                "raw_content": null,
                "published_date": null
            },
            {
                "title": "Miners sell after the halving",
                "url": "https://news.example/miners",
                "content": "Miner reserves fell.",
                "score": 0.31
            }
        ],
        "response_time": 1.42
    }"#;

    fn hit(title: &str, url: &str, content: &str, published: Option<&str>) -> SearchHit {
        SearchHit {
            title: title.into(),
            url: url.into(),
            content: content.into(),
            published: published.map(Into::into),
        }
    }

    fn error(body: &str) -> String {
        read_results(body.as_bytes(), 10, 500)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_tavily_answer_reads_in_order_and_cleaned() {
        let hits = read_results(TAVILY.as_bytes(), 10, 500).unwrap();
        assert_eq!(
            hits,
            [
                hit(
                    "Bitcoin ETF inflows reach a record",
                    "https://news.example/btc-etf",
                    "Spot bitcoin ETFs took in $1.2bn on Monday, the most since launch.",
                    Some("Mon, 04 Mar 2024 15:02:11 GMT"),
                ),
                hit(
                    "Exchange halts withdrawals",
                    "https://news.example/halt",
                    "An exchange paused withdrawals after a suspected hack.",
                    None,
                ),
                hit(
                    "Miners sell after the halving",
                    "https://news.example/miners",
                    "Miner reserves fell.",
                    None,
                ),
            ]
        );
    }

    #[test]
    fn results_and_content_are_cut() {
        let hits = read_results(TAVILY.as_bytes(), 2, 20).unwrap();
        assert_eq!(hits.len(), 2);
        assert_eq!(hits[0].content, "Spot bitcoin ETFs t…");
        assert_eq!(hits[0].content.chars().count(), 20);
        // The cut falls on a space: it is not kept before the mark.
        assert_eq!(hits[1].content, "An exchange paused…");
        // Exactly at the limit: not cut.
        assert_eq!(
            read_results(TAVILY.as_bytes(), 3, 20).unwrap()[2].content,
            "Miner reserves fell."
        );
        let none = read_results(TAVILY.as_bytes(), 1, 0).unwrap();
        assert_eq!((none.len(), none[0].content.as_str()), (1, ""));
        assert!(read_results(TAVILY.as_bytes(), 0, 10).unwrap().is_empty());
    }

    #[test]
    fn multibyte_text_is_cut_on_char_boundaries() {
        let long = "é".repeat(400);
        let body = format!(r#"{{"results":[{{"title":"{long}","url":"u","content":"ü€😀ab"}}]}}"#);
        let hits = read_results(body.as_bytes(), 1, 3).unwrap();
        assert_eq!(hits[0].content, "ü€…");
        assert_eq!(hits[0].title.chars().count(), MAX_TITLE_CHARS);
        assert!(hits[0].title.ends_with("é…"));
    }

    #[test]
    fn a_missing_or_mistyped_field_is_named() {
        let body = r#"{"results":[
            {"title":"a","url":"u","content":"c"},
            {"title":"b","content":"c"}]}"#;
        assert_eq!(
            error(body),
            "invalid search answer: `results[1].url` is missing"
        );
        let body = r#"{"results":[{"title":"a","url":7,"content":"c"}]}"#;
        assert_eq!(
            error(body),
            "invalid search answer: `results[0].url` is a number, expected a string"
        );
        let body = r#"{"results":[{"title":"a","url":"u","content":"c","published_date":1}]}"#;
        assert!(error(body).contains("`results[0].published_date` is a number"));
        let body = r#"{"results":[{"title":"a","title":"b","url":"u","content":"c"}]}"#;
        assert!(error(body).contains("`results[0].title` appears twice"));
        // A bad result beyond `max_results` is still an error, not dropped silently.
        let body = r#"{"results":[{"title":"a","url":"u","content":"c"},["x"]]}"#;
        let err = read_results(body.as_bytes(), 1, 10)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`results[1]` is an array, expected an object"),
            "{err}"
        );
    }

    #[test]
    fn a_body_that_is_not_an_answer_is_refused() {
        assert!(error(r#"[{"results":[]}]"#).contains("not a JSON object"));
        assert!(error("results").contains("not a JSON object"));
        assert_eq!(
            error(r#"{"results":{"title":"a"}}"#),
            "invalid search answer: `results` is an object, expected an array"
        );
        assert_eq!(
            error(r#"{"answer":"x"}"#),
            "invalid search answer: no `results` key"
        );
        assert!(read_results(br#"{"results":[]}"#, 3, 10)
            .unwrap()
            .is_empty());
        let huge = format!(r#"{{"results":[],"pad":"{}"}}"#, "x".repeat(MAX_BODY_BYTES));
        assert!(error(&huge).contains("more than 1048576"));
    }

    #[test]
    fn control_characters_leave_every_string() {
        let body = r#"{"results":[{"title":"a\u0000b","url":" https://x.example/\u001b[2J ","content":"c\u0085d\r\ne","published_date":"2024\u0000-03-04"}]}"#;
        let hits = read_results(body.as_bytes(), 1, 50).unwrap();
        assert_eq!(
            hits[0],
            hit("ab", "https://x.example/[2J", "c d e", Some("2024-03-04"))
        );
    }
}
