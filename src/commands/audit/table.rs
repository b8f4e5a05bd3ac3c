//! The audit table: one row per event, `TIME (UTC)  SYMBOL  EVENT  DETAILS`, columns aligned.

use std::fmt::Write;

use keel_model::{
    DecisionRecord, Direction, DomainEvent, OrderIntent, OrderKind, OrderPurpose, OrderRecord,
};

/// The table of `events`, with a header line, each row ending in a newline.
pub fn render(events: &[&DomainEvent]) -> String {
    let rows: Vec<[String; 4]> = events
        .iter()
        .map(|e| {
            [
                e.ts().to_string(),
                e.symbol()
                    .map_or_else(|| "(account)".to_string(), ToString::to_string),
                event_column(e),
                details(e),
            ]
        })
        .collect();
    let header = ["TIME (UTC)", "SYMBOL", "EVENT", "DETAILS"].map(str::to_string);
    let widths: Vec<usize> = (0..3)
        .map(|c| {
            rows.iter()
                .chain(std::iter::once(&header))
                .map(|r| r[c].len())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let _ = writeln!(
            out,
            "{:w0$}  {:w1$}  {:w2$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
    }
    out
}

fn event_column(event: &DomainEvent) -> String {
    match event {
        DomainEvent::Order(order) => format!("order {}", json_name(&order.status)),
        other => other.name().to_string(),
    }
}

fn details(event: &DomainEvent) -> String {
    match event {
        DomainEvent::Decision(decision) => decision_details(decision),
        DomainEvent::Refused {
            direction,
            rule,
            detail,
            ..
        } => format!("{} {rule}: {detail}", direction_name(*direction)),
        DomainEvent::Approved { intent, .. } => match intent {
            OrderIntent::Open {
                qty,
                stop,
                take_profits,
                ..
            } => {
                let mut text = format!("open qty={qty}");
                if let Some(stop) = stop {
                    let _ = write!(text, " stop={stop}");
                }
                for (i, tp) in take_profits.iter().enumerate() {
                    let _ = write!(text, " tp{}={}x{}", i + 1, tp.price, tp.fraction);
                }
                text
            }
            OrderIntent::Close { reason, .. } => format!("close reason={reason}"),
        },
        DomainEvent::Order(order) => order_details(order),
        DomainEvent::StopMoved { id, trigger, .. } => format!("stop={trigger} id={id}"),
        DomainEvent::Fill {
            id,
            trade_id,
            side,
            qty,
            price,
            fee,
            ..
        } => format!("{side} {qty} @ {price} fee={fee} id={id} trade={}", trade_id.0),
        DomainEvent::TradeClosed {
            entry_time,
            qty,
            entry_price,
            exit_price,
            pnl,
            fees,
            reason,
            ..
        } => format!(
            "pnl={pnl} reason={reason} qty={qty} entry={entry_price} exit={exit_price} fees={fees} opened={entry_time}"
        ),
        DomainEvent::RegimeChanged { from, to, .. } => {
            format!("{} -> {}", json_name(from), json_name(to))
        }
        DomainEvent::RiskAlert {
            rule,
            pct,
            equity,
            flatten,
            ..
        } => {
            let mut text = format!("{rule} at {pct}% equity={equity}");
            if !flatten.is_empty() {
                let names: Vec<String> = flatten.iter().map(ToString::to_string).collect();
                let _ = write!(text, " flatten=[{}]", names.join(","));
            }
            text
        }
    }
}

fn decision_details(d: &DecisionRecord) -> String {
    let mut text = format!("{} {}", direction_name(d.direction), d.strategy);
    match d.confidence {
        Some(c) => {
            let _ = write!(text, " confidence={c:.3}");
        }
        None => text.push_str(" confidence=n/a"),
    }
    if let Some(setup) = &d.setup {
        let _ = write!(text, " setup={:.3}", setup.score);
        if !setup.reasons.is_empty() {
            let _ = write!(text, " [{}]", setup.reasons.join(","));
        }
    }
    // `+ 0.0` turns a negative zero into zero: no `-0.000` in the table.
    if let Some(s) = d.sentiment {
        let _ = write!(text, " sentiment={:.3}", s + 0.0);
    }
    if let Some(e) = d.event_impact {
        let _ = write!(text, " events={:.3}", e + 0.0);
    }
    if d.technical_only {
        text.push_str(" technical-only");
    }
    let _ = write!(
        text,
        " regime={} price={} atr={:.4}",
        json_name(&d.regime),
        d.price,
        d.atr
    );
    text
}

fn order_details(o: &OrderRecord) -> String {
    let kind = match o.kind {
        OrderKind::Market => "market".to_string(),
        OrderKind::Limit { price } => format!("limit@{price}"),
        OrderKind::Stop { trigger } => format!("stop@{trigger}"),
    };
    let purpose = match o.purpose {
        OrderPurpose::Entry => "entry".to_string(),
        OrderPurpose::StopLoss => "stop_loss".to_string(),
        OrderPurpose::TakeProfit { level } => format!("take_profit{level}"),
        OrderPurpose::Exit { reason } => format!("exit({reason})"),
    };
    let mut text = format!("{} {} {kind} {purpose} id={}", o.side, o.qty, o.id);
    if let Some(reason) = &o.reason {
        let _ = write!(text, " reason={reason}");
    }
    text
}

fn direction_name(direction: Direction) -> &'static str {
    match direction {
        Direction::Long => "long",
        Direction::Short => "short",
    }
}

/// A unit enum's serde name (`partially_filled`, `bull`).
fn json_name(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
