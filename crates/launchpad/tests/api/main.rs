//! Integration tests through the real HTTP API, each on SQLite and on PostgreSQL.

mod helpers;

mod auth;
mod bad_input;
mod catalog;
mod cli;
mod errors;
mod health;
mod migrations;
mod openapi;
mod soft_delete;
mod users;
