//! The state diff of a block (`get_state_update`'s `state_diff`), its length and its
//! two commitments: `STARKNET_STATE_DIFF0` (in the 0.13.2+ block hash) and the legacy
//! formula signed by the legacy signature form (`signature_input.state_diff_commitment`).

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use starknet_crypto::{poseidon_hash_many, PoseidonHasher};

use super::felt::{Felt, F};

/// A gateway state diff. Sorted and checked for duplicates by [`StateDiff::normalize`].
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StateDiff {
    storage_diffs: Pairs<Vec<StorageEntry>>,
    nonces: Pairs<F>,
    deployed_contracts: Vec<AddressClass>,
    old_declared_contracts: Vec<F>,
    declared_classes: Vec<DeclaredClass>,
    replaced_classes: Vec<AddressClass>,
}

/// A JSON object `{felt: value}` kept as a list of pairs (duplicates are detected).
#[derive(Debug)]
struct Pairs<V>(Vec<(Felt, V)>);

impl<V> Default for Pairs<V> {
    fn default() -> Self {
        Pairs(Vec::new())
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Pairs<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct PairVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for PairVisitor<V> {
            type Value = Pairs<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object keyed by felts")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs<V>, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some((k, v)) = map.next_entry::<F, V>()? {
                    out.push((k.0, v));
                }
                Ok(Pairs(out))
            }
        }
        d.deserialize_map(PairVisitor(PhantomData))
    }
}

#[derive(Debug, Deserialize)]
struct StorageEntry {
    key: F,
    value: F,
}

#[derive(Debug, Deserialize)]
struct AddressClass {
    address: F,
    class_hash: F,
}

#[derive(Debug, Deserialize)]
struct DeclaredClass {
    class_hash: F,
    compiled_class_hash: F,
}

/// A state diff sorted the way both commitments hash it.
#[derive(Debug)]
pub struct SortedDiff {
    /// Deployed and replaced contracts: (address, class hash) by address.
    updated: Vec<(Felt, Felt)>,
    /// Declared Sierra classes: (class hash, compiled class hash) by class hash.
    declared: Vec<(Felt, Felt)>,
    /// Declared Cairo 0 classes, sorted.
    old_declared: Vec<Felt>,
    /// Contracts with storage updates, by address; each with (key, value) by key.
    storage: Vec<(Felt, Vec<(Felt, Felt)>)>,
    /// (address, nonce) by address.
    nonces: Vec<(Felt, Felt)>,
}

fn sort_unique<T>(items: &mut [T], key: impl Fn(&T) -> [u8; 32], what: &str) -> Result<(), String> {
    items.sort_unstable_by_key(&key);
    match items.windows(2).any(|w| key(&w[0]) == key(&w[1])) {
        true => Err(format!("duplicate entry in {what}")),
        false => Ok(()),
    }
}

fn by_first(pair: &(Felt, Felt)) -> [u8; 32] {
    pair.0.to_bytes_be()
}

impl StateDiff {
    /// The class hashes the diff declares (Sierra `declared_classes`, then Cairo 0
    /// `old_declared_contracts`) and those its `deployed_contracts` use, in the gateway's order.
    pub fn class_hashes(&self) -> (Vec<Felt>, Vec<Felt>) {
        let sierra = self.declared_classes.iter().map(|c| c.class_hash.0);
        let cairo0 = self.old_declared_contracts.iter().map(|f| f.0);
        let deployed = self.deployed_contracts.iter().map(|c| c.class_hash.0);
        (sierra.chain(cairo0).collect(), deployed.collect())
    }

    /// Sorts every part by felt value; `Err` on duplicates (the sequencer never emits any).
    pub fn normalize(self) -> Result<SortedDiff, String> {
        let pairs = |v: Vec<AddressClass>| v.into_iter().map(|e| (e.address.0, e.class_hash.0));
        let mut updated: Vec<_> = pairs(self.deployed_contracts)
            .chain(pairs(self.replaced_classes))
            .collect();
        sort_unique(
            &mut updated,
            by_first,
            "deployed_contracts/replaced_classes",
        )?;
        let mut declared: Vec<_> = self
            .declared_classes
            .into_iter()
            .map(|c| (c.class_hash.0, c.compiled_class_hash.0))
            .collect();
        sort_unique(&mut declared, by_first, "declared_classes")?;
        let mut old_declared: Vec<Felt> = self
            .old_declared_contracts
            .into_iter()
            .map(|f| f.0)
            .collect();
        sort_unique(
            &mut old_declared,
            Felt::to_bytes_be,
            "old_declared_contracts",
        )?;
        let mut storage = Vec::with_capacity(self.storage_diffs.0.len());
        for (address, entries) in self.storage_diffs.0 {
            let mut kv: Vec<_> = entries.into_iter().map(|e| (e.key.0, e.value.0)).collect();
            sort_unique(&mut kv, by_first, "storage_diffs keys")?;
            if !kv.is_empty() {
                storage.push((address, kv));
            }
        }
        storage.sort_unstable_by_key(|(a, _)| a.to_bytes_be());
        if storage.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err("duplicate address in storage_diffs".into());
        }
        let mut nonces: Vec<(Felt, Felt)> =
            self.nonces.0.into_iter().map(|(a, n)| (a, n.0)).collect();
        sort_unique(&mut nonces, by_first, "nonces")?;
        Ok(SortedDiff {
            updated,
            declared,
            old_declared,
            storage,
            nonces,
        })
    }
}

impl SortedDiff {
    /// `state_diff_length`: storage entries + nonces + deployed + replaced + declared + old declared.
    pub fn length(&self) -> u64 {
        let storage: usize = self.storage.iter().map(|(_, kv)| kv.len()).sum();
        (storage
            + self.nonces.len()
            + self.updated.len()
            + self.declared.len()
            + self.old_declared.len()) as u64
    }

    /// `STARKNET_STATE_DIFF0`: `poseidon("STARKNET_STATE_DIFF0", updated, declared,
    /// old_declared, 1, 0, storage, nonces)`, each part flattened with its length first.
    pub fn commitment(&self) -> Felt {
        let mut h = PoseidonHasher::new();
        h.update(Felt::from_bytes_be_slice(b"STARKNET_STATE_DIFF0"));
        self.chain_classes(&mut h);
        h.update(Felt::ONE);
        h.update(Felt::ZERO);
        self.chain_storage_and_nonces(&mut h);
        h.finalize()
    }

    /// The legacy commitment: `poseidon(0, H(updated), H(declared), H(old_declared), 1, 0,
    /// H(storage, nonces))` where each `H` is a Poseidon hash of the flattened part(s).
    pub fn legacy_commitment(&self) -> Felt {
        let part = |f: &dyn Fn(&mut PoseidonHasher)| {
            let mut h = PoseidonHasher::new();
            f(&mut h);
            h.finalize()
        };
        poseidon_hash_many(&[
            Felt::ZERO,
            part(&|h| chain_pairs(h, &self.updated)),
            part(&|h| chain_pairs(h, &self.declared)),
            part(&|h| chain_list(h, &self.old_declared)),
            Felt::ONE,
            Felt::ZERO,
            part(&|h| self.chain_storage_and_nonces(h)),
        ])
    }

    fn chain_classes(&self, h: &mut PoseidonHasher) {
        chain_pairs(h, &self.updated);
        chain_pairs(h, &self.declared);
        chain_list(h, &self.old_declared);
    }

    fn chain_storage_and_nonces(&self, h: &mut PoseidonHasher) {
        h.update(Felt::from(self.storage.len() as u64));
        for (address, kv) in &self.storage {
            h.update(*address);
            chain_pairs(h, kv);
        }
        chain_pairs(h, &self.nonces);
    }
}

fn chain_pairs(h: &mut PoseidonHasher, pairs: &[(Felt, Felt)]) {
    h.update(Felt::from(pairs.len() as u64));
    for (a, b) in pairs {
        h.update(*a);
        h.update(*b);
    }
}

fn chain_list(h: &mut PoseidonHasher, items: &[Felt]) {
    h.update(Felt::from(items.len() as u64));
    items.iter().for_each(|i| h.update(*i));
}
