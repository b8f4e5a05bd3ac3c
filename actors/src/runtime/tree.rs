//! The supervision tree as data, declared in one place ([`TreeSpec::pipeline`]): which
//! supervisor holds which actors, in start order, with which strategy. [`Supervision`]
//! is built from it, and `keel run --print-tree` prints it.
//!
//! [`Supervision`]: super::Supervision

use std::fmt::Write as _;

use keel_model::Symbol;
use keel_supervision::{RestartType, Strategy, SupervisorConfig};

use super::Deadlines;

/// The news poller's name in the tree.
pub const NEWS_POLLER: &str = "news_poller";

/// A supervisor and its children, in start order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeSpec {
    /// The supervisor's name in events and reports.
    pub name: String,
    /// Which children restart together.
    pub strategy: Strategy,
    /// Its children, in start order.
    pub children: Vec<ChildSpec>,
}

/// A supervisor's child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChildSpec {
    /// An actor, by the name it registers under.
    Actor {
        /// The actor's name.
        name: String,
        /// When it is restarted.
        restart: RestartType,
    },
    /// A nested supervisor.
    Supervisor(TreeSpec),
}

impl TreeSpec {
    /// keel's pipeline (DESIGN §2): the root (`root_strategy`) holds the sentiment actor, the
    /// news poller when there is one (`news_poller`: feeds are polled), and the trading group; trading (rest_for_one: a later stage depends on the earlier ones)
    /// holds the symbol group, fusion, risk, the order manager and execution; the symbol
    /// group (one_for_one) holds one actor per symbol. Every actor is permanent.
    pub fn pipeline(root_strategy: Strategy, symbols: &[Symbol], news_poller: bool) -> Self {
        let actor = |name: String| ChildSpec::Actor {
            name,
            restart: RestartType::Permanent,
        };
        let symbol_group = TreeSpec {
            name: "symbols".into(),
            strategy: Strategy::OneForOne,
            children: symbols
                .iter()
                .map(|s| actor(format!("symbol:{s}")))
                .collect(),
        };
        let mut trading = vec![ChildSpec::Supervisor(symbol_group)];
        trading.extend(
            ["fusion", "risk", "order_manager", "execution"].map(|name| actor(name.to_string())),
        );
        let mut root = vec![actor("sentiment".into())];
        if news_poller {
            root.push(actor(NEWS_POLLER.into()));
        }
        root.push(ChildSpec::Supervisor(TreeSpec {
            name: "trading".into(),
            strategy: Strategy::RestForOne,
            children: trading,
        }));
        TreeSpec {
            name: "root".into(),
            strategy: root_strategy,
            children: root,
        }
    }

    /// One supervisor holding the permanent actors `names`, in that order.
    pub fn flat(name: &str, strategy: Strategy, names: &[&str]) -> Self {
        TreeSpec {
            name: name.into(),
            strategy,
            children: names
                .iter()
                .map(|name| ChildSpec::Actor {
                    name: name.to_string(),
                    restart: RestartType::Permanent,
                })
                .collect(),
        }
    }

    /// Every actor's name, in start order (depth first).
    pub fn actors(&self) -> Vec<&str> {
        let mut names = Vec::new();
        for child in &self.children {
            match child {
                ChildSpec::Actor { name, .. } => names.push(name.as_str()),
                ChildSpec::Supervisor(group) => names.extend(group.actors()),
            }
        }
        names
    }

    /// The tree as text, one line per supervisor and actor, with each supervisor's strategy,
    /// the restart intensity and backoff every supervisor applies (`config`), and each
    /// actor's deadline per message.
    pub fn render(&self, config: &SupervisorConfig, deadlines: &Deadlines) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "supervision tree (every supervisor: at most {} restarts in {} ms, then it escalates; \
             backoff {} ms doubling by {} up to {} ms)",
            config.intensity.max_restarts,
            config.intensity.window_ms,
            config.backoff.base_ms,
            config.backoff.factor,
            config.backoff.cap_ms
        );
        self.render_into(&mut out, "", "", deadlines);
        out
    }

    /// Writes this supervisor's line after `head`, and its children's lines after `indent`.
    fn render_into(&self, out: &mut String, head: &str, indent: &str, deadlines: &Deadlines) {
        let _ = writeln!(out, "{head}{} (supervisor, {})", self.name, self.strategy);
        let last = self.children.len().saturating_sub(1);
        for (i, child) in self.children.iter().enumerate() {
            let (branch, deeper) = if i == last {
                ("└─ ", "   ")
            } else {
                ("├─ ", "│  ")
            };
            match child {
                ChildSpec::Actor { name, restart } => {
                    let deadline = deadlines.by_actor.get(name).unwrap_or(&deadlines.default);
                    let _ = writeln!(
                        out,
                        "{indent}{branch}{name} ({}, deadline {} ms)",
                        restart.as_str(),
                        deadline.as_millis()
                    );
                }
                ChildSpec::Supervisor(group) => group.render_into(
                    out,
                    &format!("{indent}{branch}"),
                    &format!("{indent}{deeper}"),
                    deadlines,
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pipeline_tree_lists_every_actor_in_start_order_under_its_supervisor() {
        let symbols = [
            Symbol::parse("BTCUSDT").unwrap(),
            Symbol::parse("ETHUSDT").unwrap(),
        ];
        let tree = TreeSpec::pipeline(Strategy::RestForOne, &symbols, false);
        assert_eq!(
            tree.actors(),
            [
                "sentiment",
                "symbol:BTCUSDT",
                "symbol:ETHUSDT",
                "fusion",
                "risk",
                "order_manager",
                "execution"
            ]
        );
        let deadlines = Deadlines {
            by_actor: [("execution".to_string(), std::time::Duration::from_secs(60))].into(),
            ..Deadlines::default()
        };
        let text = tree.render(&SupervisorConfig::default(), &deadlines);
        let expected = "\
root (supervisor, rest_for_one)
├─ sentiment (permanent, deadline 10000 ms)
└─ trading (supervisor, rest_for_one)
   ├─ symbols (supervisor, one_for_one)
   │  ├─ symbol:BTCUSDT (permanent, deadline 10000 ms)
   │  └─ symbol:ETHUSDT (permanent, deadline 10000 ms)
   ├─ fusion (permanent, deadline 10000 ms)
   ├─ risk (permanent, deadline 10000 ms)
   ├─ order_manager (permanent, deadline 10000 ms)
   └─ execution (permanent, deadline 60000 ms)
";
        assert_eq!(text.split_once('\n').unwrap().1, expected, "{text}");
        assert!(
            text.starts_with("supervision tree (every supervisor: at most 10 restarts in 60000 ms")
        );
    }

    #[test]
    fn a_run_that_polls_news_has_the_poller_under_the_root() {
        let tree = TreeSpec::pipeline(
            Strategy::OneForOne,
            &[Symbol::parse("BTCUSDT").unwrap()],
            true,
        );
        assert_eq!(&tree.actors()[..2], ["sentiment", NEWS_POLLER]);
    }
}
