//! Tests of `meetings`: not written yet.
