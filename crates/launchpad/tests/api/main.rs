//! Integration tests through the real HTTP API, each on SQLite and on PostgreSQL.

mod helpers;

mod auth;
mod health;
