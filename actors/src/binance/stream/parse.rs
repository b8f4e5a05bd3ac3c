//! The stream's hot path: a combined-stream kline message to its closed bar, borrowing from
//! the text (no allocation; decimals parse straight from the message's strings).

use serde::Deserialize;

use crate::binance::wire::{KlineBody, KlineEvent};

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    data: KlineEvent<'a>,
}

/// Parses one combined-stream message (`{"stream":..,"data":{"e":"kline",..}}`):
/// `Ok(Some(bar))` for a closed bar (`x == true`), `Ok(None)` for a bar still open, and an
/// error naming the problem for anything else (not a kline, malformed, a non-decimal price
/// such as `"NaN"`). The bar's prices are checked by [`KlineBody::to_candle`].
pub fn parse_kline(text: &str) -> Result<Option<KlineBody<'_>>, String> {
    let env: Envelope<'_> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let event = env.data;
    if event.event_type != "kline" {
        return Err(format!("event `{}` is not a kline", event.event_type));
    }
    if event.kline.symbol != event.symbol {
        return Err(format!(
            "the bar's symbol {} differs from the event's {}",
            event.kline.symbol, event.symbol
        ));
    }
    Ok(event.kline.closed.then_some(event.kline))
}

/// Whether a message announces that the server is about to close the connection.
pub fn is_server_shutdown(text: &str) -> bool {
    text.contains("\"serverShutdown\"")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::Symbol;
    use rust_decimal_macros::dec;

    /// A closed 1h BTCUSDT bar opening at `open_ms`, with `close` as its close.
    pub(crate) fn closed(open_ms: i64, close: &str) -> String {
        format!(
            r#"{{"stream":"btcusdt@kline_1h","data":{{"e":"kline","E":{e},"s":"BTCUSDT","k":{{"t":{open_ms},"T":{t},"s":"BTCUSDT","i":"1h","f":1,"L":2,"o":"100.5","c":"{close}","h":"110","l":"90","v":"12.5","n":2,"x":true,"q":"1250","V":"6","Q":"600","B":"0"}}}}}}"#,
            e = open_ms + 3_600_000,
            t = open_ms + 3_599_999,
        )
    }

    #[test]
    fn a_closed_bar_parses_to_a_checked_candle() {
        let text = closed(1_700_000_000_000 - 1_700_000_000_000 % 3_600_000, "101.25");
        let bar = parse_kline(&text).unwrap().unwrap();
        let candle = bar.to_candle(&Symbol::parse("BTCUSDT").unwrap()).unwrap();
        assert_eq!(candle.close, dec!(101.25));
        assert_eq!(candle.open, dec!(100.5));
    }

    #[test]
    fn an_open_bar_is_not_delivered() {
        let text = closed(0, "101").replace("\"x\":true", "\"x\":false");
        assert_eq!(parse_kline(&text), Ok(None));
    }

    #[test]
    fn malformed_messages_are_errors_not_panics() {
        let nan = closed(0, "NaN");
        assert!(parse_kline(&nan).is_err(), "NaN is not a decimal");
        let bad_close = closed(0, "200"); // above the high: parses, refused as a candle
        let bar = parse_kline(&bad_close).unwrap().unwrap();
        assert!(bar
            .to_candle(&Symbol::parse("BTCUSDT").unwrap())
            .unwrap_err()
            .contains("close 200"));
        for text in [
            "",
            "{",
            "not json",
            r#"{"result":null,"id":1}"#,
            r#"{"stream":"x","data":{"e":"trade","E":1,"s":"BTCUSDT"}}"#,
            &closed(0, "1").replace("\"t\":0,", ""),
            &closed(0, "1").replace("\"s\":\"BTCUSDT\",\"i\"", "\"s\":\"ETHUSDT\",\"i\""),
        ] {
            assert!(parse_kline(text).is_err(), "{text}");
        }
        assert!(is_server_shutdown(r#"{"e":"serverShutdown","E":1}"#));
    }
}
