//! Chain data path: devnet adapter, block store, gateway and feeder, end to end on
//! 127.0.0.1.

#[path = "chain/adapter.rs"]
mod adapter;
#[path = "common/child.rs"]
mod child;
#[path = "chain/crash.rs"]
mod crash;
#[path = "chain/feeder.rs"]
mod feeder;
#[path = "chain/gateway.rs"]
mod gateway;
#[path = "chain/helpers.rs"]
mod helpers;
#[path = "chain/store.rs"]
mod store;
#[path = "chain/surface.rs"]
mod surface;
#[path = "chain/upstream_limits.rs"]
mod upstream_limits;
#[path = "common/wait.rs"]
mod wait;
