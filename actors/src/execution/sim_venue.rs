//! The in-process [`SimExchange`] behind the exchange port: it answers at once, and keeps its
//! state in the journal after every change that produced a report, before the report can
//! reach the order manager, together with the call it answered. A call delivered again after
//! the execution actor failed (the venue had applied it, its answer was lost) gets the same
//! answer: the venue is an idempotent receiver, so nothing is applied twice or lost.

use std::future::ready;

use tracing::error;

use super::{Venue, VenueAnswer, VenueFuture};
use crate::journal::{AnsweredCall, Journal, SledStore, VenueCall};
use crate::model::{Candle, ExecutionReport, Symbol, Timestamp};
use crate::runtime::RehydrateError;
use keel_core::execution::{SimExchange, VenueSnapshot};
use keel_core::order_manager::OrderCommand;

/// The simulated venue and the journal it keeps its state in.
pub struct SimVenue {
    exchange: SimExchange,
    journal: Option<Journal<SledStore>>,
    /// The last call that changed the venue, and its answer (as journalled).
    answered: Option<AnsweredCall>,
}

impl SimVenue {
    /// `exchange` (fresh or restored), journalled into `journal` when given.
    pub fn new(exchange: SimExchange, journal: Option<Journal<SledStore>>) -> Self {
        Self {
            exchange,
            journal,
            answered: None,
        }
    }

    /// The answer already given to `call`, when it is the last call the venue answered.
    fn answer_again(&self, call: &VenueCall) -> Option<VenueAnswer> {
        let answered = self.answered.as_ref().filter(|a| a.call == *call)?;
        Some(VenueAnswer::of(answered.reports.clone()))
    }

    /// Makes the venue's state durable with the call it answered, before its reports reach
    /// the order manager. A failed write is logged: the exchange goes on (it is the market,
    /// not keel's bookkeeping).
    fn save(&mut self, call: VenueCall, reports: &[ExecutionReport]) {
        let answered = AnsweredCall {
            call,
            reports: reports.to_vec(),
        };
        if let Some(journal) = &mut self.journal {
            if let Err(err) = journal.save_venue(&self.exchange, &answered) {
                error!(actor = "execution", error = %err, "saving the venue's state failed");
            }
        }
        self.answered = Some(answered);
    }
}

impl Venue for SimVenue {
    fn name(&self) -> &'static str {
        "sim"
    }

    fn execute<'a>(
        &'a mut self,
        commands: &'a [OrderCommand],
        now: Timestamp,
    ) -> VenueFuture<'a, VenueAnswer> {
        let call = VenueCall::Execute {
            now,
            commands: commands.to_vec(),
        };
        if let Some(answer) = self.answer_again(&call) {
            return Box::pin(ready(Ok(answer)));
        }
        let reports: Vec<ExecutionReport> = commands
            .iter()
            .flat_map(|c| self.exchange.apply(c, now))
            .collect();
        fail::fail_point!("venue.after_accept");
        self.save(call, &reports);
        Box::pin(ready(Ok(VenueAnswer::of(reports))))
    }

    fn bar_closed<'a>(&'a mut self, candle: &'a Candle) -> VenueFuture<'a, VenueAnswer> {
        let call = VenueCall::Bar {
            symbol: candle.symbol.clone(),
            close_time: candle.close_time(),
        };
        if let Some(answer) = self.answer_again(&call) {
            return Box::pin(ready(Ok(answer)));
        }
        let reports = self.exchange.on_candle(candle);
        if !reports.is_empty() {
            self.save(call, &reports);
        }
        Box::pin(ready(Ok(VenueAnswer::of(reports))))
    }

    fn bar_is_call(&self, _: &Symbol) -> bool {
        false
    }

    /// In process, there is nothing to reach: the trial always succeeds.
    fn probe<'a>(&'a mut self, _: &'a Symbol) -> VenueFuture<'a, VenueAnswer> {
        Box::pin(ready(Ok(VenueAnswer::default())))
    }

    fn snapshot<'a>(&'a mut self, _: &'a [Symbol], _: Timestamp) -> VenueFuture<'a, VenueSnapshot> {
        Box::pin(ready(Ok(VenueSnapshot::of_sim(&self.exchange))))
    }

    /// The state comes back from the journal (saved after every change that produced a
    /// report; a bar that filled nothing changes nothing that matters), with the call it
    /// last answered.
    fn reload(&mut self) -> Result<(), RehydrateError> {
        let journal = self
            .journal
            .as_ref()
            .ok_or(RehydrateError::NoJournal("the venue"))?;
        let (state, answered) = journal.venue_state()?;
        let config = self.exchange.config().clone();
        self.exchange = match state {
            Some(state) => {
                SimExchange::from_state(config, state).map_err(|e| RehydrateError::Invalid {
                    what: "the venue",
                    why: e.to_string(),
                })?
            }
            None => SimExchange::new(config),
        };
        self.answered = answered;
        Ok(())
    }

    /// The in-process venue never halts.
    fn resume(&mut self) -> VenueFuture<'_, ()> {
        Box::pin(ready(Ok(())))
    }
}
