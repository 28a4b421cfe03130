//! Coverage-guided driver of `wharf::fuzz::config_toml` (the invariants are documented there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wharf::fuzz::config_toml(data));
