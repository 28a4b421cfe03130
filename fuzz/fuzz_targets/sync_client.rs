//! Coverage-guided driver of `wharf::fuzz::sync_client` (the invariants are documented there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wharf::fuzz::sync_client(data));
