//! Which contract classes a Starknet block brings, from its state diff.
//!
//! The rule (the one Juno's `fetchUnknownClasses` and Pathfinder's L2 sync apply): a block
//! brings every class it declares (`declared_classes`, Sierra; `old_declared_contracts`,
//! Cairo 0) and every class its `deployed_contracts` use that is not stored yet. The second
//! part matters for old blocks only: before Starknet 0.9.0 there was no DECLARE transaction,
//! and until 0.11.0 removed it a `DEPLOY` transaction could deploy a Cairo 0 class that no block
//! had declared; from then on a deployed class was always declared earlier, so the deployed
//! part never adds anything (on Sepolia, which started at 0.12, it never does). Whether a
//! deployed class is "not stored yet" depends on the store, so a block's class list is checked
//! against [`ClassNeeds`]: declared classes must be listed, deployed ones may be.
//! `replaced_classes` are not included: `replace_class` only takes a declared class.

use super::felt::from_json;
use super::state_diff::StateDiff;
use super::Felt;
use crate::chain::{ClassHash, ClassNeeds, VerifyError};

/// The classes a block whose state diff is `state_diff` (the `state-diffs` component) brings.
pub fn class_needs(state_diff: &[u8]) -> Result<ClassNeeds, VerifyError> {
    let diff: StateDiff = from_json("state_diffs", state_diff)?;
    let (declared, deployed) = diff.class_hashes();
    let mut needs = ClassNeeds::default();
    for hash in declared.iter().map(Felt::to_bytes_be) {
        push_unique(&mut needs.declared, hash);
    }
    for hash in deployed.iter().map(Felt::to_bytes_be) {
        if !needs.declared.contains(&hash) {
            push_unique(&mut needs.deployed, hash);
        }
    }
    Ok(needs)
}

fn push_unique(list: &mut Vec<ClassHash>, hash: ClassHash) {
    if !list.contains(&hash) {
        list.push(hash);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::classes::parse_class_hash;

    fn fixture(n: u64) -> Vec<u8> {
        let path = format!(
            "{}/tests/fixtures/starknet/sepolia/state_update/{n}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let update: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        serde_json::to_vec(&update["state_diff"]).unwrap()
    }

    fn hash(s: &str) -> ClassHash {
        parse_class_hash(s).unwrap()
    }

    /// Sepolia block 0 declares two Cairo 0 classes and deploys three contracts of them:
    /// the deployed part adds nothing.
    #[test]
    fn sepolia_genesis_brings_its_two_declared_classes() {
        let needs = class_needs(&fixture(0)).unwrap();
        assert_eq!(
            needs.declared,
            [
                hash("0xd0e183745e9dae3e4e78a8ffedcce0903fc4900beace4e0abf192d4c202da3"),
                hash("0x5c478ee27f2112411f86f207605b2e2c58cdb647bac0df27f660ef2252359c6"),
            ]
        );
        assert!(needs.deployed.is_empty());
    }

    /// Block 3 deploys contracts of the classes blocks 1 and 2 declared: they may be listed only
    /// if not stored yet (the feeder will find them stored).
    #[test]
    fn deployed_classes_of_earlier_declarations_are_optional() {
        let needs = class_needs(&fixture(3)).unwrap();
        assert!(needs.declared.is_empty());
        assert_eq!(needs.deployed.len(), 2);
        assert!(class_needs(&fixture(4)).unwrap() == ClassNeeds::default());
    }
}
