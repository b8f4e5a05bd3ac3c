//! Market data: ping, time, exchangeInfo, klines (unsigned).

use super::*;
use crate::unpoisoned;

pub(super) async fn ping(app: Data<App>, req: HttpRequest, body: Body) -> HttpResponse {
    respond(&app, &req, &body, READ, |_, _, _| Ok(serde_json::json!({}))).await
}

pub(super) async fn time(app: Data<App>, req: HttpRequest, body: Body) -> HttpResponse {
    respond(&app, &req, &body, READ, |_, _, now| {
        json(ServerTime { server_time: now })
    })
    .await
}

pub(super) async fn exchange_info(app: Data<App>, req: HttpRequest, body: Body) -> HttpResponse {
    let gate = Gate { weight: 20, ..READ };
    respond(&app, &req, &body, gate, |app, params, now| {
        let venue = unpoisoned(&app.venue);
        let wanted = params.get("symbol");
        if let Some(s) = wanted {
            venue.market(s)?;
        }
        let symbols = venue
            .markets
            .iter()
            .filter(|m| wanted.is_none_or(|s| m.symbol.as_str().eq_ignore_ascii_case(s)))
            .map(|m| SymbolInfo {
                symbol: m.symbol.as_str().to_string(),
                status: "TRADING".into(),
                base_asset: m.base.clone(),
                quote_asset: m.quote.clone(),
                order_types: vec![
                    OrderType::Limit,
                    OrderType::LimitMaker,
                    OrderType::Market,
                    OrderType::StopLoss,
                ],
                oco_allowed: true,
                filters: vec![
                    Filter::Price {
                        min_price: m.filters.tick_size,
                        max_price: crate::venue::MAX_PRICE,
                        tick_size: m.filters.tick_size,
                    },
                    Filter::LotSize {
                        min_qty: m.filters.min_qty,
                        max_qty: m.filters.max_qty,
                        step_size: m.filters.step_size,
                    },
                    Filter::Notional {
                        min_notional: m.filters.min_notional,
                    },
                ],
            })
            .collect();
        let limit = |kind: &str, interval: &str, num, limit| RateLimit {
            rate_limit_type: kind.into(),
            interval: interval.into(),
            interval_num: num,
            limit,
        };
        json(ExchangeInfo {
            timezone: "UTC".into(),
            server_time: now,
            rate_limits: vec![
                limit(
                    "REQUEST_WEIGHT",
                    "MINUTE",
                    1,
                    app.settings.weights.limit_per_minute,
                ),
                limit("ORDERS", "SECOND", 10, 100),
                limit("ORDERS", "DAY", 1, 200_000),
            ],
            symbols,
        })
    })
    .await
}

pub(super) async fn klines(app: Data<App>, req: HttpRequest, body: Body) -> HttpResponse {
    let limit_hint = Params::parse(req.query_string(), "")
        .ok()
        .and_then(|p| p.int::<u32>("limit").ok().flatten())
        .unwrap_or(500);
    let weight = match limit_hint {
        0..=100 => 2,
        101..=500 => 5,
        _ => 10,
    };
    let gate = Gate { weight, ..READ };
    respond(&app, &req, &body, gate, |app, params, _| {
        let venue = unpoisoned(&app.venue);
        let (m, market) = venue.market(params.req("symbol")?)?;
        let interval = params.req("interval")?;
        if interval != market.interval_name {
            return Err(ApiErr::bad(
                -1120,
                format!(
                    "Invalid interval: this venue serves {} bars of {} only.",
                    market.interval_name, market.symbol
                ),
            ));
        }
        let limit: usize = params.int("limit")?.unwrap_or(500);
        if !(1..=1000).contains(&limit) {
            return Err(ApiErr::bad(codes::BAD_PARAM, "Invalid limit: 1..=1000."));
        }
        let start: Option<i64> = params.int("startTime")?;
        let end: Option<i64> = params.int("endTime")?;
        let bars = venue
            .closed_bars(m)
            .iter()
            .filter(|c| start.is_none_or(|s| c.open_time.0 >= s))
            .filter(|c| end.is_none_or(|e| c.open_time.0 <= e));
        let rows: Vec<KlineRow> = if start.is_some() {
            bars.take(limit).map(KlineRow::from_candle).collect()
        } else {
            let all: Vec<_> = bars.collect();
            let skip = all.len().saturating_sub(limit);
            all[skip..]
                .iter()
                .map(|c| KlineRow::from_candle(c))
                .collect()
        };
        json(rows)
    })
    .await
}
