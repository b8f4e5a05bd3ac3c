//! News feeds over HTTP: RSS 2.0 and Atom, polled with conditional GETs (ETag and
//! Last-Modified), items deduplicated by link, id or title hash, tagged with the traded
//! symbols by their aliases. The poller that drives them (breaker, retries, the JSONL record
//! that replays as `data.headlines`) is in the runtime, `keel_actors::sentiment::poller`.

mod dates;
mod fetch;
mod items;
mod parse;

pub use dates::{parse_feed_date, parse_iso8601_utc, parse_rfc2822, parse_rfc3339, DateError};
pub use fetch::{feed_client, fetch_feed, FetchError, Fetched, Validators};
pub use items::{Intake, SeenItems};
pub use parse::{parse_feed, FeedItem, FeedParseError};

#[cfg(test)]
mod proptests;
