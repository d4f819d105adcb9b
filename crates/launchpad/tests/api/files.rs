//! Tests of `files`: not written yet.
