//! Tests of `synopsis`: not written yet.
