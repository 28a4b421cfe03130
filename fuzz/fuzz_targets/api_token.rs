//! Coverage-guided driver of `wharf::fuzz::api_token` (the invariants are documented there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wharf::fuzz::api_token(data));
