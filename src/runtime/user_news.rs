//! The venue's user data stream into the graph: order updates become [`VenueNews`] for the
//! execution actor, which reads those symbols' trades and orders at once instead of at the
//! next bar's close.

use keel_actors::messages::VenueNews;
use keel_actors::runtime::{Inbox, Inflight};
use keel_binance::user_stream::UserNews;
use keel_binance::wire::user::ExecutionType;
use keel_model::Symbol;
use tokio::sync::mpsc;
use tracing::{debug, info};

/// What one batch of news asks the execution actor to read.
#[derive(Debug, Default, PartialEq)]
struct Batch {
    /// Every symbol (the stream subscribed again, or a frame could not be read).
    all: bool,
    /// The symbols whose orders changed, each once, with the earliest event time of each.
    symbols: Vec<(Symbol, i64)>,
}

impl Batch {
    /// Adds one item of news. Updates of symbols this run does not trade are left alone
    /// (another program's orders), and so are acceptances of new orders (keel placed them and
    /// knows their answer).
    fn add(&mut self, news: UserNews, traded: &[Symbol]) {
        match news {
            UserNews::Resync(why) => {
                info!(
                    why,
                    "user data stream: reading every symbol's trades and orders at the venue"
                );
                self.all = true;
            }
            UserNews::Order(update) => {
                if update.execution_type == ExecutionType::New {
                    return;
                }
                let Some(symbol) = traded.iter().find(|s| s.as_str() == update.symbol) else {
                    debug!(
                        symbol = update.symbol,
                        order_id = update.order_id,
                        "order update of a symbol keel does not trade: left alone"
                    );
                    return;
                };
                match self.symbols.iter_mut().find(|(s, _)| s == symbol) {
                    Some((_, earliest)) => *earliest = (*earliest).min(update.event_time),
                    None => self.symbols.push((symbol.clone(), update.event_time)),
                }
            }
        }
    }

    /// The messages for the execution actor: one read of everything, or one per symbol.
    fn into_news(self, inflight: &Inflight) -> Vec<VenueNews> {
        if self.all {
            return vec![VenueNews {
                symbol: None,
                event_time: None,
                ticket: inflight.ticket(),
            }];
        }
        self.symbols
            .into_iter()
            .map(|(symbol, event_time)| VenueNews {
                symbol: Some(symbol),
                event_time: Some(event_time),
                ticket: inflight.ticket(),
            })
            .collect()
    }
}

/// Forwards `news` to the execution actor until the stream ends (on the current arbiter).
/// What arrived together is read together: the several updates of one fill (the trade, the
/// other leg cancelled) make one read of their symbol.
pub fn forward_user_news(
    mut news: mpsc::Receiver<UserNews>,
    execution: Inbox<VenueNews>,
    inflight: Inflight,
    symbols: Vec<Symbol>,
) {
    actix::spawn(async move {
        while let Some(first) = news.recv().await {
            let mut batch = Batch::default();
            batch.add(first, &symbols);
            while let Ok(more) = news.try_recv() {
                batch.add(more, &symbols);
            }
            for message in batch.into_news(&inflight) {
                execution.send(message);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_binance::user_stream::OrderUpdate;
    use keel_binance::wire::OrderState;

    fn update(symbol: &str, execution_type: ExecutionType, event_time: i64) -> UserNews {
        UserNews::Order(OrderUpdate {
            symbol: symbol.into(),
            order_id: 1,
            execution_type,
            status: OrderState::Filled,
            trade_id: Some(1),
            event_time,
            received: std::time::Instant::now(),
        })
    }

    fn traded() -> Vec<Symbol> {
        ["BTCUSDT", "ETHUSDT"]
            .map(|s| Symbol::parse(s).unwrap())
            .to_vec()
    }

    #[test]
    fn the_updates_of_one_fill_make_one_read_of_their_symbol_at_the_earliest_time() {
        let mut batch = Batch::default();
        batch.add(update("BTCUSDT", ExecutionType::Trade, 20), &traded());
        batch.add(update("BTCUSDT", ExecutionType::Canceled, 10), &traded());
        batch.add(update("ETHUSDT", ExecutionType::Expired, 30), &traded());
        let news = batch.into_news(&Inflight::new());
        let read: Vec<(String, Option<i64>)> = news
            .iter()
            .map(|n| (n.symbol.as_ref().unwrap().to_string(), n.event_time))
            .collect();
        assert_eq!(
            read,
            vec![("BTCUSDT".into(), Some(10)), ("ETHUSDT".into(), Some(30))]
        );
    }

    #[test]
    fn acceptances_and_other_programs_symbols_are_left_alone() {
        let mut batch = Batch::default();
        batch.add(update("BTCUSDT", ExecutionType::New, 1), &traded());
        batch.add(update("SOLUSDT", ExecutionType::Trade, 1), &traded());
        assert_eq!(batch, Batch::default());
    }

    #[test]
    fn a_resubscription_reads_every_symbol_once() {
        let mut batch = Batch::default();
        batch.add(update("BTCUSDT", ExecutionType::Trade, 1), &traded());
        batch.add(UserNews::Resync("subscribed"), &traded());
        let news = batch.into_news(&Inflight::new());
        assert_eq!(news.len(), 1);
        assert_eq!(news[0].symbol, None);
    }
}
