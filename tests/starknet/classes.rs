//! Contract classes end to end over the loopback gateway (real Sepolia blocks 0-6 and the four
//! Cairo 0 classes blocks 0-2 declare): the feeder fetches each once, verifies and stores it with
//! its block; a joining relay syncs byte-identical definitions over P2P; the admin API serves
//! them; a tampered class is refused and its block not committed.

use wharf::chain::classes::parse_class_hash;
use wharf::App;

use crate::common::eventually;
use crate::harness::{api_config, read_token};
use crate::mock::{class_fixtures, MockGateway};
use crate::{head, joiner, refusals, sepolia_node, wait_head, LIMIT};

/// The classes Sepolia blocks 0, 1 and 2 declare (block 3 deploys contracts of the last two).
pub const DECLARED: [&str; 4] = [
    "0xd0e183745e9dae3e4e78a8ffedcce0903fc4900beace4e0abf192d4c202da3",
    "0x5c478ee27f2112411f86f207605b2e2c58cdb647bac0df27f660ef2252359c6",
    "0x1b661756bf7d16210fc611626e1af4569baa1781ffc964bd018f4585ae241c1",
    "0x4f23a756b221f8ce46b72e6a6b10ee7ee6cf3b59790e76e02433104f9a8c5d1",
];

fn stored(app: &App, hash: &str) -> Option<Vec<u8>> {
    let hash = parse_class_hash(hash).unwrap();
    let store = app.store.as_ref().unwrap();
    store.class(&hash).unwrap().map(|b| b.to_vec())
}

/// Every declared class is stored byte for byte as the gateway's fixture file, and no other.
fn assert_classes(app: &App, who: &str) {
    for (hash, bytes) in class_fixtures("sepolia") {
        let expected = DECLARED.contains(&hash.as_str()).then_some(bytes);
        assert_eq!(stored(app, &hash), expected, "{who}: class {hash}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeder_stores_each_class_once_and_a_joining_relay_syncs_identical_definitions() {
    let gw = MockGateway::start("sepolia", 6, 2).await;
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut cfg = sepolia_node(dirs[0].path(), &gw, &[], true);
    cfg.api.keys = vec![api_config(dirs[0].path()).api.keys.remove(0)];
    let feeder = App::start(cfg).await.unwrap();
    wait_head(&feeder, 2, "feeder").await;
    // block 3 deploys contracts of the classes blocks 1 and 2 declared: stored, so not fetched
    gw.set_head(6);
    wait_head(&feeder, 6, "feeder").await;
    assert_classes(&feeder, "feeder");
    for hash in DECLARED {
        assert_eq!(gw.class_requests(hash), 1, "{hash} fetched once");
    }

    let url = format!("http://{}/api/v1/classes/{}", feeder.api_addr, DECLARED[2]);
    let resp = reqwest::Client::new()
        .get(url)
        .bearer_auth(read_token())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.bytes().await.unwrap();
    assert_eq!(
        Some(body.to_vec()),
        class_fixtures("sepolia").remove(DECLARED[2]),
        "the API serves the definition as the gateway served it"
    );

    let joiner = joiner(dirs[1].path(), &gw, &feeder).await;
    wait_head(&joiner, 6, "joining relay").await;
    assert_classes(&joiner, "joining relay");
    joiner.shutdown().await;
    feeder.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_class_from_the_gateway_is_refused_and_its_block_not_committed() {
    let gw = MockGateway::start("sepolia", 6, 6).await;
    let real = class_fixtures("sepolia").remove(DECLARED[2]).unwrap();
    let text = String::from_utf8(real.clone()).unwrap();
    let tampered = text.replacen("\"name\"", "\"nAme\"", 1);
    assert_ne!(text, tampered);
    gw.set_class(DECLARED[2], tampered.into_bytes());
    let dir = tempfile::tempdir().unwrap();
    let feeder = App::start(sepolia_node(dir.path(), &gw, &[], true))
        .await
        .unwrap();
    eventually(LIMIT, "the tampered class is refused", || async {
        refusals(&feeder, "class_hash_mismatch").await > 0.0
    })
    .await;
    assert_eq!(
        head(&feeder),
        Some(0),
        "block 1 (declaring it) is not stored"
    );
    assert_eq!(stored(&feeder, DECLARED[2]), None, "nor is the class");

    gw.set_class(DECLARED[2], real);
    wait_head(&feeder, 6, "feeder once the real class is served").await;
    assert_classes(&feeder, "feeder");
    feeder.shutdown().await;
}
