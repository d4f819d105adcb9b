//! Launchpad's accounts as the sign-in kit ([`webkit::auth`]) reads them, and what ends
//! an account's sessions.

pub mod accounts;
pub mod sessions;
