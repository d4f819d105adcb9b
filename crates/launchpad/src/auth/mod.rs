//! Credentials: password hashing, access tokens (JWT) and refresh tokens.

pub mod jwt;
pub mod limits;
pub mod password;
pub mod refresh;
pub mod sessions;
