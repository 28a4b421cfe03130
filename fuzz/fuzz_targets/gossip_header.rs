//! Coverage-guided driver of `wharf::fuzz::gossip_header` (the invariants are documented there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wharf::fuzz::gossip_header(data));
