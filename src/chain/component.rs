//! The five parts a block is split into, so a joining peer can fetch each from a
//! different relay.

use std::fmt;
use std::str::FromStr;

/// One part of a block as carried by the sync protocols and kept by the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Component {
    /// Block header plus the upstream's signature over the block hash.
    Headers,
    /// The block's transactions.
    Transactions,
    /// One receipt per transaction.
    Receipts,
    /// Events emitted by the transactions.
    Events,
    /// The state diff the block applies.
    StateDiffs,
}

impl Component {
    /// Every component, in protocol order.
    pub const ALL: [Component; 5] = [
        Component::Headers,
        Component::Transactions,
        Component::Receipts,
        Component::Events,
        Component::StateDiffs,
    ];

    /// The name used in protocol ids (`/wharf/<network>/sync/<name>/1.0.0`) and metrics labels.
    pub fn name(self) -> &'static str {
        match self {
            Component::Headers => "headers",
            Component::Transactions => "transactions",
            Component::Receipts => "receipts",
            Component::Events => "events",
            Component::StateDiffs => "state-diffs",
        }
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Component {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Component::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| format!("unknown component `{s}`"))
    }
}
