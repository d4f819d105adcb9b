//! Tests of `trash`: not written yet.
