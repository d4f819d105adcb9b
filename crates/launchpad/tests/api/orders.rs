//! Tests of `orders`: not written yet.
