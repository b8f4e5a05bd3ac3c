//! The body each kind of webhook expects.

use serde_json::{json, Value};

use super::alert::{Alert, Severity};
use crate::settings::WebhookFormat;

/// The JSON to POST for `alert` to a webhook of `format` (`chat_id`: Telegram's chat).
pub fn body(format: WebhookFormat, chat_id: Option<&str>, alert: &Alert) -> Value {
    let line = || {
        let level = match alert.severity {
            Severity::Critical => "CRITICAL",
            Severity::Warning => "WARNING",
            Severity::Resolved => "RESOLVED",
        };
        format!("[keel] {level} {}: {}", alert.kind.as_str(), alert.summary)
    };
    match format {
        WebhookFormat::Json => json!({
            "source": "keel",
            "kind": alert.kind,
            "severity": alert.severity,
            "summary": alert.summary,
            "at_ms": alert.at_ms,
        }),
        WebhookFormat::Slack => json!({ "text": line() }),
        WebhookFormat::Discord => json!({ "content": line() }),
        WebhookFormat::Telegram => json!({ "chat_id": chat_id, "text": line() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::AlertKind;

    #[test]
    fn each_format_carries_the_kind_the_severity_and_the_summary() {
        let alert = Alert {
            kind: AlertKind::BreakerOpened,
            severity: Severity::Warning,
            summary: "the venue breaker opened".into(),
            at_ms: 1_700_000_000_000,
        };
        assert_eq!(
            body(WebhookFormat::Json, None, &alert),
            json!({
                "source": "keel",
                "kind": "breaker_opened",
                "severity": "warning",
                "summary": "the venue breaker opened",
                "at_ms": 1_700_000_000_000u64,
            })
        );
        let line = "[keel] WARNING breaker_opened: the venue breaker opened";
        assert_eq!(
            body(WebhookFormat::Slack, None, &alert),
            json!({ "text": line })
        );
        assert_eq!(
            body(WebhookFormat::Discord, None, &alert),
            json!({ "content": line })
        );
        assert_eq!(
            body(WebhookFormat::Telegram, Some("-100123"), &alert),
            json!({ "chat_id": "-100123", "text": line })
        );
    }
}
