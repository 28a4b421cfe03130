//! Wharf: bootstrap and feeder relay library.
