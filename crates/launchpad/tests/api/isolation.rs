//! Tests of `isolation`: not written yet.
