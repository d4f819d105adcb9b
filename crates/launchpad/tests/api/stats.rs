//! Tests of `stats`: not written yet.
