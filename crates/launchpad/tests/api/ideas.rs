//! Tests of `ideas`: not written yet.
