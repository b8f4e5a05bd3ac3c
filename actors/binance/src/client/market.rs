//! Market-data and venue-information endpoints: ping, time, exchangeInfo (weight limit and
//! symbol filters), klines.

use serde::Deserialize;

use super::query::Query;
use super::transport::{lock, Endpoint, EXCHANGE_INFO, KLINES, PING, TIME};
use super::{BinanceClient, VenueError};
use crate::model::{Candle, Interval, Symbol, Timestamp};
use crate::wire::{ExchangeInfo, KlineRow, ServerTime};
use crate::SymbolFilters;

/// The most klines one request returns.
pub const KLINES_MAX_LIMIT: u16 = 1000;

#[derive(Deserialize)]
struct Empty {}

impl BinanceClient {
    /// `GET /api/v3/ping`.
    pub async fn ping(&self) -> Result<(), VenueError> {
        self.read::<Empty>(PING, Query::new()).await.map(|_| ())
    }

    /// `GET /api/v3/time`: the venue's clock (ms).
    pub async fn server_time(&self) -> Result<Timestamp, VenueError> {
        let t: ServerTime = self.read(TIME, Query::new()).await?;
        Ok(Timestamp(t.server_time))
    }

    /// `GET /api/v3/exchangeInfo` for `symbols` (all when empty). Takes the `REQUEST_WEIGHT`
    /// per-minute limit as the weight budget's limit and caches each symbol's filters for
    /// order rounding; a symbol whose filters are incomplete is an error.
    pub async fn exchange_info(&self, symbols: &[Symbol]) -> Result<ExchangeInfo, VenueError> {
        let mut q = Query::new();
        match symbols {
            [] => {}
            [one] => {
                q.push("symbol", one.as_str());
            }
            many => {
                let list: Vec<String> = many.iter().map(|s| format!("\"{s}\"")).collect();
                q.push("symbols", format!("[{}]", list.join(",")));
            }
        }
        let info: ExchangeInfo = self.read(EXCHANGE_INFO, q).await?;
        if let Some(limit) = info
            .rate_limits
            .iter()
            .find(|r| r.rate_limit_type == "REQUEST_WEIGHT" && r.interval == "MINUTE")
            .map(|r| r.limit / r.interval_num.max(1))
        {
            lock(&self.0.gate).set_limit(limit);
        }
        let mut cache = lock(&self.0.filters);
        for s in &info.symbols {
            let filters = SymbolFilters::from_info(s).map_err(|e| VenueError::Decode {
                endpoint: EXCHANGE_INFO.name,
                reason: e.to_string(),
            })?;
            cache.insert(s.symbol.clone(), filters);
        }
        Ok(info)
    }

    /// The filters of `symbol`, from the cache or else from exchangeInfo.
    pub async fn filters(&self, symbol: &Symbol) -> Result<SymbolFilters, VenueError> {
        if let Some(f) = lock(&self.0.filters).get(symbol.as_str()) {
            return Ok(f.clone());
        }
        self.exchange_info(std::slice::from_ref(symbol)).await?;
        lock(&self.0.filters)
            .get(symbol.as_str())
            .cloned()
            .ok_or_else(|| VenueError::Decode {
                endpoint: EXCHANGE_INFO.name,
                reason: format!("exchangeInfo does not list {symbol}"),
            })
    }

    /// `GET /api/v3/klines`: up to `limit` (≤ 1000) bars of `symbol` opening in
    /// `[start, end]`, oldest first, each checked (span, prices) and in strictly increasing
    /// open time. The last may still be open: compare its close time with
    /// [`server_now`](Self::server_now).
    pub async fn klines(
        &self,
        symbol: &Symbol,
        interval: Interval,
        start: Option<Timestamp>,
        end: Option<Timestamp>,
        limit: u16,
    ) -> Result<Vec<Candle>, VenueError> {
        let limit = limit.clamp(1, KLINES_MAX_LIMIT);
        // Binance weighs klines by the page size.
        let weight = match limit {
            0..=100 => 2,
            101..=500 => 5,
            _ => 10,
        };
        let mut q = Query::new();
        q.push("symbol", symbol.as_str())
            .push("interval", interval)
            .push_opt("startTime", start.map(|t| t.0))
            .push_opt("endTime", end.map(|t| t.0))
            .push("limit", limit);
        let rows: Vec<KlineRow> = self.read(Endpoint { weight, ..KLINES }, q).await?;
        candles_of_page(symbol, interval, &rows)
    }
}

/// A page of klines as candles: each row checked (span, prices), open times strictly
/// increasing; the first bad row fails the page, naming its bar.
pub(crate) fn candles_of_page(
    symbol: &Symbol,
    interval: Interval,
    rows: &[KlineRow],
) -> Result<Vec<Candle>, VenueError> {
    let mut out: Vec<Candle> = Vec::with_capacity(rows.len());
    for row in rows {
        let candle = row
            .to_candle(symbol, interval)
            .map_err(|e| VenueError::Decode {
                endpoint: KLINES.name,
                reason: format!("{symbol} bar {}: {e}", row.0),
            })?;
        if let Some(prev) = out.last() {
            if candle.open_time <= prev.open_time {
                return Err(VenueError::Decode {
                    endpoint: KLINES.name,
                    reason: format!(
                        "{symbol}: bar {} follows bar {} (not increasing)",
                        candle.open_time.0, prev.open_time.0
                    ),
                });
            }
        }
        out.push(candle);
    }
    Ok(out)
}
