//! Coverage-guided driver of `wharf::fuzz::head_message` (the invariants are documented there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wharf::fuzz::head_message(data));
