//! Tests of `subscriptions`: not written yet.
