//! Devnet gateway HTTP API.

use std::time::Duration;

use wharf::chain::devnet::DevnetAdapter;
use wharf::chain::wire::decode_block;
use wharf::chain::ChainAdapter;
use wharf::feeder::{FetchError, GatewayClient};

use crate::helpers::{feeder_config, gateway, wait_until};

#[tokio::test]
async fn serves_head_blocks_and_key_and_keeps_minting() {
    let gw = gateway(5, Duration::from_millis(50)).await;
    let client = GatewayClient::new(&feeder_config(gw.url())).unwrap();
    let key = client.public_key().await.unwrap();
    let adapter = DevnetAdapter::from_key_bytes(&hex::decode(&key.public_key).unwrap()).unwrap();
    let head = client.head().await.unwrap();
    assert!(head.number >= 5);
    let block = decode_block(&adapter, &client.block(head.number).await.unwrap()).unwrap();
    assert_eq!(adapter.verify_block(&block, None).unwrap().hash, head.hash);
    let missing = client.block(head.number + 1000).await.unwrap_err();
    assert!(
        matches!(missing, FetchError::Status(s) if s.as_u16() == 404),
        "{missing}"
    );
    let chain = gw.chain().clone();
    wait_until("two more minted blocks", || {
        chain.head().unwrap().0 >= head.number + 2
    })
    .await;
    gw.stop().await;
    let down = client.head().await.unwrap_err();
    assert_eq!(down.kind(), "connect");
}
