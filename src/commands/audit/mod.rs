//! `keel audit`: prints an audit trail (the JSON lines `keel run` and `keel backtest` write)
//! as a table, filtered by symbol, time and kind of event.
//!
//! A line that is not an audit event stops the command with an error naming the file and the
//! line: a trail with a hole in it would mislead. The one exception is an unterminated last
//! line (a write cut short when the process was killed), which is skipped with a warning.

mod read;
mod table;

use std::io::Write;

use anyhow::{anyhow, Context};
use keel_model::{DomainEvent, Symbol, Timestamp};

use crate::cli::{AuditArgs, AuditKind};

pub use read::{read_trail, AuditLine};
pub use table::render;

/// Runs `keel audit`.
pub fn run(args: &AuditArgs) -> anyhow::Result<()> {
    let filter = Filter::from_args(args)?;
    let lines = read_trail(&args.paths)?;
    let rows: Vec<&DomainEvent> = lines
        .iter()
        .map(|line| &line.event)
        .filter(|event| filter.keeps(event))
        .collect();
    let text = render(&rows);
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        // `keel audit ... | head` is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("writing the table"),
    }
}

/// Which events to print.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    symbols: Vec<Symbol>,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
    kinds: Vec<AuditKind>,
}

impl Filter {
    fn from_args(args: &AuditArgs) -> anyhow::Result<Self> {
        let symbols = args
            .symbol
            .iter()
            .map(|s| Symbol::parse(s).map_err(|e| anyhow!("--symbol `{s}`: {e}")))
            .collect::<anyhow::Result<_>>()?;
        Ok(Self {
            symbols,
            since: args
                .since
                .as_deref()
                .map(|t| parse_time("--since", t))
                .transpose()?,
            until: args
                .until
                .as_deref()
                .map(|t| parse_time("--until", t))
                .transpose()?,
            kinds: args.kind.clone(),
        })
    }

    /// Whether `event` passes every filter given.
    pub fn keeps(&self, event: &DomainEvent) -> bool {
        let ts = event.ts();
        // An account-wide event (a risk alert) concerns every symbol.
        (self.symbols.is_empty() || event.symbol().is_none_or(|s| self.symbols.contains(s)))
            && self.since.is_none_or(|since| ts >= since)
            && self.until.is_none_or(|until| ts < until)
            && (self.kinds.is_empty() || self.kinds.contains(&kind_of(event)))
    }
}

fn kind_of(event: &DomainEvent) -> AuditKind {
    match event {
        DomainEvent::Decision(_) => AuditKind::Decision,
        DomainEvent::Refused { .. } => AuditKind::Refused,
        DomainEvent::Approved { .. } => AuditKind::Approved,
        DomainEvent::Order(_) | DomainEvent::StopMoved { .. } => AuditKind::Order,
        DomainEvent::Fill { .. } => AuditKind::Fill,
        DomainEvent::TradeClosed { .. } => AuditKind::Trade,
        DomainEvent::RegimeChanged { .. } => AuditKind::Regime,
        DomainEvent::RiskAlert { .. } => AuditKind::Alert,
    }
}

/// A UTC date or date-time ([`Timestamp::parse_utc`]'s forms), or milliseconds since the
/// epoch.
fn parse_time(flag: &str, text: &str) -> anyhow::Result<Timestamp> {
    text.trim()
        .parse::<i64>()
        .ok()
        .map(Timestamp)
        .or_else(|| Timestamp::parse_utc(text))
        .ok_or_else(|| {
            anyhow!("{flag} `{text}` is neither a UTC date such as 2018-03-01 (or 2018-03-01T12:00:00Z) nor milliseconds since the epoch")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_dates_date_times_or_milliseconds() {
        assert_eq!(parse_time("--since", "1000").unwrap(), Timestamp(1000));
        assert_eq!(
            parse_time("--since", "1970-01-02").unwrap(),
            Timestamp(86_400_000)
        );
        assert_eq!(
            parse_time("--since", "1970-01-01T00:00:01Z").unwrap(),
            Timestamp(1000)
        );
        let err = parse_time("--until", "yesterday").unwrap_err().to_string();
        assert!(err.contains("--until `yesterday`"), "{err}");
    }
}
