//! Tests of `admin_requests`: not written yet.
