//! Tests of `projects`: not written yet.
