//! Integration tests through the real HTTP API, each on SQLite and on PostgreSQL.

mod helpers;

mod activity_logs;
mod admin_requests;
mod auth;
mod bad_input;
mod catalog;
mod chatbot;
mod cli;
mod demo_seed;
mod errors;
mod files;
mod health;
mod ideas;
mod isolation;
mod meetings;
mod migrations;
mod openapi;
mod orders;
mod projects;
mod soft_delete;
mod stats;
mod subscriptions;
mod synopsis;
mod trash;
mod users;
