//! Coverage-guided driver of `wharf::fuzz::starknet_p2p` (the invariants are documented there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wharf::fuzz::starknet_p2p(data));
