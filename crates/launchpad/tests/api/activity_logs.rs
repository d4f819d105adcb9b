//! Tests of `activity_logs`: not written yet.
