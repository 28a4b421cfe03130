//! Transactions as the feeder gateway writes them, and their hashes recomputed per
//! kind and version: Pedersen for INVOKE v0/v1, DECLARE v0/v1/v2, DEPLOY_ACCOUNT v1,
//! DEPLOY and L1_HANDLER; Poseidon for the v3 kinds (with the `L1_DATA` resource bound
//! when the transaction has one). Anything else is [`HashCheck::Unknown`]: the caller
//! trusts its `transaction_hash` (bound by the transaction commitment) and counts it.

use std::borrow::Cow;

use serde::de::{self, Deserializer};
use serde::Deserialize;
use starknet_crypto::{PedersenHasher, PoseidonHasher};

use super::felt::{felts, Felt, F};

/// One gateway transaction (fields every kind may have; unknown ones are ignored).
#[derive(Debug, Deserialize)]
pub struct Tx<'a> {
    /// `INVOKE_FUNCTION`, `DECLARE`, `DEPLOY`, `DEPLOY_ACCOUNT`, `L1_HANDLER`.
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    /// Transaction version (absent on the oldest: 0).
    #[serde(default)]
    pub version: F,
    /// The hash the gateway states.
    pub transaction_hash: F,
    /// Account signature (absent for DEPLOY and L1_HANDLER).
    #[serde(default)]
    pub signature: Vec<F>,
    sender_address: Option<F>,
    contract_address: Option<F>,
    entry_point_selector: Option<F>,
    calldata: Option<Vec<F>>,
    constructor_calldata: Option<Vec<F>>,
    class_hash: Option<F>,
    compiled_class_hash: Option<F>,
    contract_address_salt: Option<F>,
    max_fee: Option<F>,
    nonce: Option<F>,
    nonce_data_availability_mode: Option<DaMode>,
    fee_data_availability_mode: Option<DaMode>,
    resource_bounds: Option<ResourceBounds>,
    tip: Option<F>,
    paymaster_data: Option<Vec<F>>,
    account_deployment_data: Option<Vec<F>>,
}

/// Data-availability mode of a v3 transaction: `0`/`L1` or `1`/`L2`.
#[derive(Debug, Clone, Copy)]
pub struct DaMode(u64);

impl<'de> Deserialize<'de> for DaMode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = DaMode;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a data availability mode (0, 1, L1 or L2)")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<DaMode, E> {
                match n {
                    0 | 1 => Ok(DaMode(n)),
                    _ => Err(E::custom("data availability mode must be 0 or 1")),
                }
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<DaMode, E> {
                match s {
                    "L1" => Ok(DaMode(0)),
                    "L2" => Ok(DaMode(1)),
                    _ => Err(E::custom("data availability mode must be L1 or L2")),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// v3 resource bounds; `L1_DATA_GAS` only on transactions that carry it.
#[derive(Debug, Deserialize)]
struct ResourceBounds {
    #[serde(rename = "L1_GAS")]
    l1_gas: Bound,
    #[serde(rename = "L2_GAS")]
    l2_gas: Bound,
    #[serde(rename = "L1_DATA_GAS")]
    l1_data_gas: Option<Bound>,
}

#[derive(Debug, Deserialize)]
struct Bound {
    max_amount: F,
    max_price_per_unit: F,
}

/// Outcome of recomputing a transaction hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashCheck {
    /// Recomputed and equal to the stated hash.
    Match,
    /// Recomputed and different.
    Mismatch,
    /// Kind or version without a known formula: trusted by hash only.
    Unknown,
}

/// Recomputes `tx`'s hash for `chain_id`; `Err` names a missing or invalid field.
pub fn check_hash(tx: &Tx<'_>, chain_id: &Felt) -> Result<HashCheck, String> {
    let stated = tx.transaction_hash.0;
    let Some(primary) = primary_hash(tx, chain_id)? else {
        return Ok(HashCheck::Unknown);
    };
    if primary == stated || legacy_hashes(tx, chain_id)?.contains(&stated) {
        return Ok(HashCheck::Match);
    }
    Ok(HashCheck::Mismatch)
}

/// Whether the kind is an invoke (the only kind whose signature entered pre-0.11.1 leaves).
pub fn is_invoke(kind: &str) -> bool {
    matches!(kind, "INVOKE_FUNCTION" | "INVOKE")
}

/// Whether the kind has no account signature (DEPLOY, L1_HANDLER).
pub fn is_unsigned(kind: &str) -> bool {
    matches!(kind, "DEPLOY" | "L1_HANDLER")
}

fn version(tx: &Tx<'_>) -> Option<u8> {
    [Felt::ZERO, Felt::ONE, Felt::TWO, Felt::THREE]
        .iter()
        .position(|v| *v == tx.version.0)
        .map(|v| v as u8)
}

fn primary_hash(tx: &Tx<'_>, chain: &Felt) -> Result<Option<Felt>, String> {
    let Some(v) = version(tx) else {
        return Ok(None);
    };
    let hash = match (tx.kind.as_ref(), v) {
        ("INVOKE_FUNCTION" | "INVOKE", 0) => invoke_v0(tx, chain)?,
        ("INVOKE_FUNCTION" | "INVOKE", 1) => invoke_v1(tx, chain)?,
        ("INVOKE_FUNCTION" | "INVOKE", 3) => invoke_v3(tx, chain)?,
        ("DECLARE", 0..=2) => declare_v0_v2(tx, v, chain)?,
        ("DECLARE", 3) => declare_v3(tx, chain)?,
        ("DEPLOY_ACCOUNT", 1) => deploy_account_v1(tx, chain)?,
        ("DEPLOY_ACCOUNT", 3) => deploy_account_v3(tx, chain)?,
        ("DEPLOY", 0 | 1) => deploy(tx, chain)?,
        ("L1_HANDLER", 0) => match tx.nonce {
            Some(nonce) => l1_handler(tx, chain, &nonce.0)?,
            None => return Ok(Some(l1_handler_legacy(tx, chain)?)),
        },
        _ => return Ok(None),
    };
    Ok(Some(hash))
}

/// Hashes of blocks from before Starknet 0.8 (no version or nonce), still valid there.
fn legacy_hashes(tx: &Tx<'_>, chain: &Felt) -> Result<Vec<Felt>, String> {
    let v = version(tx);
    Ok(match (tx.kind.as_ref(), v) {
        ("INVOKE_FUNCTION" | "INVOKE", Some(0)) => {
            let data = pedersen_list(list(&tx.calldata, "calldata")?);
            vec![legacy(
                b"invoke",
                &address(tx)?,
                &req(tx.entry_point_selector, "entry_point_selector")?,
                &data,
                chain,
                None,
            )]
        }
        ("DEPLOY", _) => {
            let data = pedersen_list(list(&tx.constructor_calldata, "constructor_calldata")?);
            vec![legacy(
                b"deploy",
                &req(tx.contract_address, "contract_address")?,
                &CONSTRUCTOR,
                &data,
                chain,
                None,
            )]
        }
        ("L1_HANDLER", _) => {
            let mut out = vec![l1_handler_legacy(tx, chain)?];
            if let Some(nonce) = tx.nonce {
                let data = pedersen_list(list(&tx.calldata, "calldata")?);
                let (addr, sel) = (
                    req(tx.contract_address, "contract_address")?,
                    req(tx.entry_point_selector, "entry_point_selector")?,
                );
                out.push(legacy(
                    b"l1_handler",
                    &addr,
                    &sel,
                    &data,
                    chain,
                    Some(&nonce.0),
                ));
            }
            out
        }
        _ => Vec::new(),
    })
}

fn req(field: Option<F>, name: &str) -> Result<Felt, String> {
    field
        .map(|f| f.0)
        .ok_or_else(|| format!("missing field `{name}`"))
}

fn list<'t>(field: &'t Option<Vec<F>>, name: &str) -> Result<&'t [F], String> {
    field
        .as_deref()
        .ok_or_else(|| format!("missing field `{name}`"))
}

/// The account / contract address: `sender_address`, or `contract_address` on old invokes.
fn address(tx: &Tx<'_>) -> Result<Felt, String> {
    req(tx.sender_address.or(tx.contract_address), "sender_address")
}

fn prefix(name: &[u8]) -> Felt {
    Felt::from_bytes_be_slice(name)
}

/// `starknet_keccak("constructor")`, the constructor entry point selector.
const CONSTRUCTOR: Felt =
    Felt::from_hex_unchecked("0x28ffe4ff0f226a9107253e17a904099aa4f63a02a5621de0576e5aa71bc5194");

fn pedersen_list(items: &[F]) -> Felt {
    pedersen_chain(felts(items))
}

/// Pedersen hash chain `h(h(h(0, a), b), ..., n)` over `items`.
pub fn pedersen_chain<'a>(items: impl IntoIterator<Item = &'a Felt>) -> Felt {
    let mut h = PedersenHasher::new();
    for item in items {
        h.update(*item);
    }
    h.finalize()
}

fn poseidon_list(items: &[F]) -> Felt {
    starknet_crypto::poseidon_hash_many(felts(items))
}

/// `pedersen_chain([prefix, version, address, selector, data, max_fee, chain_id, extra...])`
/// with `fields = [address, selector, data, max_fee]`.
fn pre_v3(name: &[u8], version: u8, fields: [Felt; 4], chain: &Felt, extra: &[Felt]) -> Felt {
    let [address, selector, data, max_fee] = fields;
    let head = [
        prefix(name),
        Felt::from(version),
        address,
        selector,
        data,
        max_fee,
        *chain,
    ];
    pedersen_chain(head.iter().chain(extra))
}

fn legacy(
    name: &[u8],
    address: &Felt,
    selector: &Felt,
    data: &Felt,
    chain: &Felt,
    nonce: Option<&Felt>,
) -> Felt {
    let head = [prefix(name), *address, *selector, *data, *chain];
    pedersen_chain(head.iter().chain(nonce))
}

fn invoke_v0(tx: &Tx<'_>, chain: &Felt) -> Result<Felt, String> {
    let data = pedersen_list(list(&tx.calldata, "calldata")?);
    let selector = req(tx.entry_point_selector, "entry_point_selector")?;
    let max_fee = tx.max_fee.unwrap_or_default().0;
    Ok(pre_v3(
        b"invoke",
        0,
        [address(tx)?, selector, data, max_fee],
        chain,
        &[],
    ))
}

fn invoke_v1(tx: &Tx<'_>, chain: &Felt) -> Result<Felt, String> {
    let data = pedersen_list(list(&tx.calldata, "calldata")?);
    let (fee, nonce) = (req(tx.max_fee, "max_fee")?, req(tx.nonce, "nonce")?);
    Ok(pre_v3(
        b"invoke",
        1,
        [address(tx)?, Felt::ZERO, data, fee],
        chain,
        &[nonce],
    ))
}

fn declare_v0_v2(tx: &Tx<'_>, v: u8, chain: &Felt) -> Result<Felt, String> {
    let class = req(tx.class_hash, "class_hash")?;
    let fee = tx.max_fee.unwrap_or_default().0;
    let sender = address(tx)?;
    if v == 0 {
        let empty = pedersen_chain([]);
        return Ok(pre_v3(
            b"declare",
            0,
            [sender, Felt::ZERO, empty, fee],
            chain,
            &[class],
        ));
    }
    let data = pedersen_chain([&class]);
    let nonce = req(tx.nonce, "nonce")?;
    if v == 1 {
        return Ok(pre_v3(
            b"declare",
            1,
            [sender, Felt::ZERO, data, fee],
            chain,
            &[nonce],
        ));
    }
    let compiled = req(tx.compiled_class_hash, "compiled_class_hash")?;
    Ok(pre_v3(
        b"declare",
        2,
        [sender, Felt::ZERO, data, fee],
        chain,
        &[nonce, compiled],
    ))
}

fn deploy_account_v1(tx: &Tx<'_>, chain: &Felt) -> Result<Felt, String> {
    let class = req(tx.class_hash, "class_hash")?;
    let salt = req(tx.contract_address_salt, "contract_address_salt")?;
    let ctor = list(&tx.constructor_calldata, "constructor_calldata")?;
    let data = pedersen_chain([&class, &salt].into_iter().chain(felts(ctor)));
    let (fee, nonce) = (req(tx.max_fee, "max_fee")?, req(tx.nonce, "nonce")?);
    let addr = req(tx.contract_address, "contract_address")?;
    Ok(pre_v3(
        b"deploy_account",
        1,
        [addr, Felt::ZERO, data, fee],
        chain,
        &[nonce],
    ))
}

fn deploy(tx: &Tx<'_>, chain: &Felt) -> Result<Felt, String> {
    let data = pedersen_list(list(&tx.constructor_calldata, "constructor_calldata")?);
    let addr = req(tx.contract_address, "contract_address")?;
    let v = version(tx).unwrap_or(0);
    Ok(pre_v3(
        b"deploy",
        v,
        [addr, CONSTRUCTOR, data, Felt::ZERO],
        chain,
        &[],
    ))
}

fn l1_handler(tx: &Tx<'_>, chain: &Felt, nonce: &Felt) -> Result<Felt, String> {
    let data = pedersen_list(list(&tx.calldata, "calldata")?);
    let addr = req(tx.contract_address, "contract_address")?;
    let selector = req(tx.entry_point_selector, "entry_point_selector")?;
    Ok(pre_v3(
        b"l1_handler",
        0,
        [addr, selector, data, Felt::ZERO],
        chain,
        &[*nonce],
    ))
}

/// Pre-0.7 L1 handlers were hashed as invokes without version or nonce.
fn l1_handler_legacy(tx: &Tx<'_>, chain: &Felt) -> Result<Felt, String> {
    let data = pedersen_list(list(&tx.calldata, "calldata")?);
    let addr = req(tx.contract_address, "contract_address")?;
    let selector = req(tx.entry_point_selector, "entry_point_selector")?;
    Ok(legacy(b"invoke", &addr, &selector, &data, chain, None))
}

/// The fields every v3 kind hashes first, ending with the packed DA modes.
fn v3_common(
    tx: &Tx<'_>,
    name: &[u8],
    sender: &Felt,
    chain: &Felt,
) -> Result<PoseidonHasher, String> {
    let bounds = tx
        .resource_bounds
        .as_ref()
        .ok_or("missing field `resource_bounds`")?;
    let mut fees = PoseidonHasher::new();
    fees.update(req(tx.tip, "tip")?);
    fees.update(pack_bound(b"L1_GAS", &bounds.l1_gas)?);
    fees.update(pack_bound(b"L2_GAS", &bounds.l2_gas)?);
    if let Some(data_gas) = &bounds.l1_data_gas {
        fees.update(pack_bound(b"L1_DATA", data_gas)?);
    }
    let nonce_da = tx
        .nonce_data_availability_mode
        .ok_or("missing field `nonce_data_availability_mode`")?;
    let fee_da = tx
        .fee_data_availability_mode
        .ok_or("missing field `fee_data_availability_mode`")?;
    let mut h = PoseidonHasher::new();
    for felt in [
        prefix(name),
        Felt::THREE,
        *sender,
        fees.finalize(),
        poseidon_list(list(&tx.paymaster_data, "paymaster_data")?),
        *chain,
        req(tx.nonce, "nonce")?,
        Felt::from((nonce_da.0 << 32) + fee_da.0),
    ] {
        h.update(felt);
    }
    Ok(h)
}

/// `resource name (8 bytes) | max_amount (u64) | max_price_per_unit (u128)` as one felt.
fn pack_bound(name: &[u8], bound: &Bound) -> Result<Felt, String> {
    let amount = bound.max_amount.0.to_bytes_be();
    let price = bound.max_price_per_unit.0.to_bytes_be();
    if amount[..24].iter().any(|b| *b != 0) || price[..16].iter().any(|b| *b != 0) {
        return Err("resource bound out of range (max_amount u64, max_price_per_unit u128)".into());
    }
    let mut buf = [0u8; 32];
    buf[8 - name.len()..8].copy_from_slice(name);
    buf[8..16].copy_from_slice(&amount[24..]);
    buf[16..].copy_from_slice(&price[16..]);
    Ok(Felt::from_bytes_be(&buf))
}

fn invoke_v3(tx: &Tx<'_>, chain: &Felt) -> Result<Felt, String> {
    let mut h = v3_common(tx, b"invoke", &address(tx)?, chain)?;
    h.update(poseidon_list(list(
        &tx.account_deployment_data,
        "account_deployment_data",
    )?));
    h.update(poseidon_list(list(&tx.calldata, "calldata")?));
    Ok(h.finalize())
}

fn declare_v3(tx: &Tx<'_>, chain: &Felt) -> Result<Felt, String> {
    let mut h = v3_common(tx, b"declare", &address(tx)?, chain)?;
    h.update(poseidon_list(list(
        &tx.account_deployment_data,
        "account_deployment_data",
    )?));
    h.update(req(tx.class_hash, "class_hash")?);
    h.update(req(tx.compiled_class_hash, "compiled_class_hash")?);
    Ok(h.finalize())
}

fn deploy_account_v3(tx: &Tx<'_>, chain: &Felt) -> Result<Felt, String> {
    let addr = req(tx.contract_address, "contract_address")?;
    let mut h = v3_common(tx, b"deploy_account", &addr, chain)?;
    h.update(poseidon_list(list(
        &tx.constructor_calldata,
        "constructor_calldata",
    )?));
    h.update(req(tx.class_hash, "class_hash")?);
    h.update(req(tx.contract_address_salt, "contract_address_salt")?);
    Ok(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::starknet::felt::short_string;

    /// Checks a gateway-style transaction (JSON) against its known hash on `chain`.
    fn check(chain: &str, json: &str) -> HashCheck {
        let tx: Tx<'_> = serde_json::from_str(json).unwrap();
        check_hash(&tx, &short_string(chain).unwrap()).unwrap()
    }

    // Vectors: pathfinder `crates/common/src/transaction.rs` tests (real transactions).

    #[test]
    fn deploy_v0_and_legacy() {
        let deploy = r#"{"type":"DEPLOY","version":"0x0",
            "transaction_hash":"0x3d7623443283d9a0cec946492db78b06d57642a551745ddfac8d3f1f4fcc2a8",
            "contract_address":"0x54c6883e459baeac4a9052ee109b86b9f81adbcdcb1f65a05dceec4c34d5cf9",
            "contract_address_salt":"0x655a594122f68f5e821834e606e1243b249a88555fac2d548f7acbee7863f62",
            "class_hash":"0x3523d31a077d891b4d888f9d3c7d33bdac2c0a06f89c08307a7f7b68f681c98",
            "constructor_calldata":["0x734d2849eb47e10c59e5a433d425675849cb37338b1d7c4c4afb1e0ca42133",
                "0xffad0128dbd859ef97a246a2d2c00680dedc8d850ff9b6ebcc8b94ee9625bb"]}"#;
        assert_eq!(check("SN_GOERLI", deploy), HashCheck::Match);
        let legacy = r#"{"type":"DEPLOY","version":"0x0",
            "transaction_hash":"0x45c61314be4da85f0e13df53d18062e002c04803218f08061e4b274d4b38537",
            "contract_address":"0x2f40faa63fdd5871415b2dcfb1a5e3e1ca06435b3dda6e2ba9df3f726fd3251",
            "contract_address_salt":"0x7284a0367fdd636434f76da25532785690d5f27db40ba38b0cfcbc89a472507",
            "class_hash":"0x10455c752b86932ce552f2b0fe81a880746649b9aee7e0d842bf3f52378f9f8",
            "constructor_calldata":["0x635b73abaa9efff71570cb08f3e5014424788470c3b972b952368fb3fc27cc3",
                "0x7e92479a573a24241ee6f3e4ade742ff37bae4a60bacef5be1caaff5e7e04f3"]}"#;
        assert_eq!(check("SN_GOERLI", legacy), HashCheck::Match);
        assert_eq!(check("SN_MAIN", legacy), HashCheck::Mismatch);
    }

    #[test]
    fn invoke_v0_and_legacy() {
        let legacy = r#"{"type":"INVOKE_FUNCTION","version":"0x0",
            "transaction_hash":"0x493d8fab73af67e972788e603aee18130facd3c7685f16084ecd98b07153e24",
            "contract_address":"0x639322e9822149638b70f6de65bc18f3563bd6fa16f0106e8162618eb72f7e",
            "entry_point_selector":"0x317eb442b72a9fae758d4fb26830ed0d9f31c8e7da4dbff4e8c59ea6a158e7f",
            "calldata":["0x49e2e40a0b61a4d6fe4c85cbbf61b5ba372427c852f88509350c4b1eeb88426","0x2",
                "0x1576521d9ed09609f55b86740de4ae6abdb2837d5d960ae71083ccd39c715d2",
                "0x6897cf3003dc45dd016a34ee4309fc97f3bd471513553e64bc070b4eedf4eae"]}"#;
        assert_eq!(check("SN_GOERLI", legacy), HashCheck::Match);
    }

    #[test]
    fn l1_handler_v0() {
        let tx = r#"{"type":"L1_HANDLER","version":"0x0",
            "transaction_hash":"0x8d7d99f96167a01f2406ae25dd6bdeb4f903fd4ed433d96dcf2564b7ab0a8f",
            "contract_address":"0x73314940630fd6dcda0d772d4c972c4e0a9946bef9dabf4ef84eda8ef542b82",
            "entry_point_selector":"0x2d757788a8d8d6f21d1cd40bce38a8222d70654214e96ff95d8086e684fbee5",
            "nonce":"0x18cb20",
            "calldata":["0xae0ee0a63a2ce6baeeffe56e7714fb4efe48d419",
                "0x13f55ae8d173a036cf8bdf0448f04b835a5d42cda5fe6b4678217ed92cabc94","0xd7621dc58210000","0x0"]}"#;
        assert_eq!(check("SN_MAIN", tx), HashCheck::Match);
    }

    #[test]
    fn declare_v3_and_deploy_account_v3() {
        let declare = r#"{"type":"DECLARE","version":"0x3",
            "transaction_hash":"0x41d1f5206ef58a443e7d3d1ca073171ec25fa75313394318fc83a074a6631c3",
            "sender_address":"0x2fab82e4aef1d8664874e1f194951856d48463c3e6bf9a8c68e234a629a6f50",
            "class_hash":"0x5ae9d09292a50ed48c5930904c880dab56e85b825022a7d689cfc9e65e01ee7",
            "compiled_class_hash":"0x1add56d64bebf8140f3b8a38bdf102b7874437f0c861ab4ca7526ec33b4d0f8",
            "nonce":"0x1","nonce_data_availability_mode":"L1","fee_data_availability_mode":"L1",
            "resource_bounds":{"L1_GAS":{"max_amount":"0x186a0","max_price_per_unit":"0x2540be400"},
                "L2_GAS":{"max_amount":"0x0","max_price_per_unit":"0x0"}},
            "tip":"0x0","paymaster_data":[],"account_deployment_data":[],"signature":[]}"#;
        assert_eq!(check("SN_GOERLI", declare), HashCheck::Match);
        let deploy_account = r#"{"type":"DEPLOY_ACCOUNT","version":"0x3",
            "transaction_hash":"0x29fd7881f14380842414cdfdd8d6c0b1f2174f8916edcfeb1ede1eb26ac3ef0",
            "contract_address":"0x2fab82e4aef1d8664874e1f194951856d48463c3e6bf9a8c68e234a629a6f50",
            "class_hash":"0x2338634f11772ea342365abd5be9d9dc8a6f44f159ad782fdebd3db5d969738",
            "contract_address_salt":"0x0",
            "constructor_calldata":["0x5cd65f3d7daea6c63939d659b8473ea0c5cd81576035a4d34e52fb06840196c"],
            "nonce":"0x0","nonce_data_availability_mode":0,"fee_data_availability_mode":0,
            "resource_bounds":{"L1_GAS":{"max_amount":"0x186a0","max_price_per_unit":"0x5af3107a4000"},
                "L2_GAS":{"max_amount":"0x0","max_price_per_unit":"0x0"}},
            "tip":"0x0","paymaster_data":[]}"#;
        assert_eq!(check("SN_GOERLI", deploy_account), HashCheck::Match);
    }

    #[test]
    fn unknown_kinds_and_missing_fields() {
        let unknown = r#"{"type":"FUTURE_KIND","version":"0x1","transaction_hash":"0x1"}"#;
        assert_eq!(check("SN_MAIN", unknown), HashCheck::Unknown);
        let query = r#"{"type":"INVOKE_FUNCTION","version":"0x100000000000000000000000000000001","transaction_hash":"0x1"}"#;
        assert_eq!(check("SN_MAIN", query), HashCheck::Unknown);
        let tx: Tx<'_> = serde_json::from_str(
            r#"{"type":"INVOKE_FUNCTION","version":"0x1","transaction_hash":"0x1"}"#,
        )
        .unwrap();
        let err = check_hash(&tx, &Felt::ONE).unwrap_err();
        assert!(err.contains("calldata"), "{err}");
    }
}
