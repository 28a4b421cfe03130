//! The six parts a block is split into, so a joining peer can fetch each from a
//! different relay: the header, four bodies the header commits to, and the contract classes
//! the block brings (empty on chains without classes).

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
    /// The contract classes the block brings (a class bundle, see [`crate::chain::classes`]);
    /// bound to the block by its state diff, not by a header commitment.
    Classes,
}

impl Component {
    /// Every component, in protocol order.
    pub const ALL: [Component; 6] = [
        Component::Headers,
        Component::Transactions,
        Component::Receipts,
        Component::Events,
        Component::StateDiffs,
        Component::Classes,
    ];

    /// The name used in protocol ids (`/wharf/<network>/sync/<name>/1.0.0`) and metrics labels.
    pub fn name(self) -> &'static str {
        match self {
            Component::Headers => "headers",
            Component::Transactions => "transactions",
            Component::Receipts => "receipts",
            Component::Events => "events",
            Component::StateDiffs => "state-diffs",
            Component::Classes => "classes",
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
