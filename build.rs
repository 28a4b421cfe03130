//! Compiles the public protobuf contracts in `proto/` with protox (pure Rust, no system protoc):
//! Wharf's own sync protocol and the Starknet P2P sync messages.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let fds = protox::compile(["wharf/sync/v1/sync.proto"], ["proto"])?;
    prost_build::Config::new().bytes(["."]).compile_fds(fds)?;
    let starknet = [
        "starknet/sync/header.proto",
        "starknet/sync/state.proto",
        "starknet/sync/class.proto",
        "starknet/sync/transaction.proto",
        "starknet/sync/event.proto",
    ];
    let fds = protox::compile(starknet, ["proto"])?;
    prost_build::Config::new()
        .include_file("starknet_proto.rs")
        .compile_fds(fds)?;
    Ok(())
}
