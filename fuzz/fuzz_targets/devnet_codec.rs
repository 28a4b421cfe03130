//! Coverage-guided driver of `wharf::fuzz::devnet_codec` (the invariants are documented there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wharf::fuzz::devnet_codec(data));
