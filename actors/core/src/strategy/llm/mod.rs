//! The `llm` strategy: at each decision point a model is shown the market, the indicators,
//! the position, the account and the news as JSON data, and answers buy, sell, close or
//! hold with its confidence, proposed exits and reasons. Its answer is a signal like
//! fusion's: risk sizes it, bounds its exits and may refuse it. Asking is the drivers' part
//! (`keel-news` holds the client, the cache and the replay); this is the pure rest.

mod config;
mod context;
mod decide;

pub use config::{Fallback, LlmStrategyConfig, SearchConfig};
pub use context::{AccountFacts, DecisionContext, PairMemory, SearchHit, Searched};
pub use decide::{Answer, Ask, Concluded, LlmStage, LlmStats};
