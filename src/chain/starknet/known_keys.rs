//! The object keys a Starknet component may hold. Components are stored and served as they are,
//! and no hash covers a key verification does not read, so a relay could pad a block with
//! unknown keys (up to the frame limit) that every relay after it would keep. The feeder drops
//! keys outside these lists when it maps the gateway's answers ([`strip`]); a component from a
//! peer holding one is refused ([`check`]).
//!
//! The lists are every key of the feeder-gateway answers in `tests/fixtures/starknet` (Sepolia,
//! Sepolia-integration, mainnet from genesis to 0.13.x) plus every field verification reads.
//! Keys that are data, not names (contract addresses in `storage_diffs` and `nonces`, builtin
//! names in `builtin_instance_counter`) are checked by their shape instead.

use serde_json::Value;

use crate::chain::{Component, VerifyError};

const TRANSACTION: &[&str] = &[
    "L1_DATA_GAS",
    "L1_GAS",
    "L2_GAS",
    "account_deployment_data",
    "calldata",
    "class_hash",
    "compiled_class_hash",
    "constructor_calldata",
    "contract_address",
    "contract_address_salt",
    "entry_point_selector",
    "entry_point_type",
    "fee_data_availability_mode",
    "max_amount",
    "max_fee",
    "max_price_per_unit",
    "nonce",
    "nonce_data_availability_mode",
    "paymaster_data",
    "resource_bounds",
    "sender_address",
    "signature",
    "tip",
    "transaction_hash",
    "type",
    "version",
];

const RECEIPT: &[&str] = &[
    "actual_fee",
    "builtin_instance_counter",
    "data_availability",
    "execution_resources",
    "execution_status",
    "from_address",
    "l1_data_gas",
    "l1_gas",
    "l1_to_l2_consumed_message",
    "l2_gas",
    "l2_to_l1_messages",
    "n_memory_holes",
    "n_steps",
    "nonce",
    "payload",
    "revert_error",
    "selector",
    "to_address",
    "total_gas_consumed",
    "transaction_hash",
    "transaction_index",
];

const EVENTS: &[&str] = &["data", "events", "from_address", "keys", "transaction_hash"];

const STATE_DIFF: &[&str] = &[
    "address",
    "class_hash",
    "compiled_class_hash",
    "declared_classes",
    "deployed_contracts",
    "key",
    "migrated_compiled_classes",
    "nonces",
    "old_declared_contracts",
    "replaced_classes",
    "storage_diffs",
    "value",
];

/// Most entries of a `builtin_instance_counter` (there are about a dozen builtins).
const MAX_BUILTINS: usize = 32;

/// What an object's keys must be.
#[derive(Clone, Copy)]
enum Keys {
    /// Names from the component's list.
    Named(&'static [&'static str]),
    /// Contract addresses (`0x` hex).
    Felts,
    /// Builtin names (`…_builtin`), at most [`MAX_BUILTINS`].
    Builtins,
}

fn names(component: Component) -> &'static [&'static str] {
    match component {
        Component::Transactions => TRANSACTION,
        Component::Receipts => RECEIPT,
        Component::Events => EVENTS,
        _ => STATE_DIFF,
    }
}

/// The rule for the children of key `key`.
fn child_rule(component: Component, key: &str) -> Keys {
    match key {
        "storage_diffs" | "nonces" if component == Component::StateDiffs => Keys::Felts,
        "builtin_instance_counter" => Keys::Builtins,
        _ => Keys::Named(names(component)),
    }
}

fn allowed(rule: Keys, key: &str, len: usize) -> bool {
    match rule {
        Keys::Named(list) => list.contains(&key),
        Keys::Felts => {
            let hex = key.strip_prefix("0x").unwrap_or("");
            !hex.is_empty() && hex.len() <= 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())
        }
        Keys::Builtins => {
            let name = key.strip_suffix("_builtin").unwrap_or("");
            len <= MAX_BUILTINS
                && !name.is_empty()
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        }
    }
}

/// Refuses a component holding a key outside its lists, naming the key.
pub fn check(component: Component, value: &Value) -> Result<(), VerifyError> {
    walk(
        component,
        value,
        Keys::Named(names(component)),
        &mut |key| {
            Err(VerifyError::malformed(
                component.name(),
                format_args!("unknown key `{key}`"),
            ))
        },
    )
}

/// Drops every key outside the component's lists (the feeder's side).
pub fn strip(component: Component, value: &mut Value) {
    strip_in(component, value, Keys::Named(names(component)));
}

fn walk(
    component: Component,
    value: &Value,
    rule: Keys,
    bad: &mut impl FnMut(&str) -> Result<(), VerifyError>,
) -> Result<(), VerifyError> {
    match value {
        Value::Array(items) => items.iter().try_for_each(|v| walk(component, v, rule, bad)),
        Value::Object(map) => map.iter().try_for_each(|(key, v)| {
            if !allowed(rule, key, map.len()) {
                bad(key)?;
            }
            walk(component, v, child_rule(component, key), bad)
        }),
        _ => Ok(()),
    }
}

fn strip_in(component: Component, value: &mut Value, rule: Keys) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(|v| strip_in(component, v, rule)),
        Value::Object(map) => {
            let len = map.len();
            map.retain(|key, _| allowed(rule, key, len));
            for (key, v) in map.iter_mut() {
                strip_in(component, v, child_rule(component, key));
            }
        }
        _ => {}
    }
}
