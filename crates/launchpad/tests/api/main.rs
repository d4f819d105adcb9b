//! Integration tests through the real HTTP API, each on SQLite and on PostgreSQL.

mod helpers;

mod activity_logs;
mod admin_requests;
mod auth;
mod bad_input;
mod brute_force;
mod canary;
mod catalog;
mod chatbot;
mod cli;
mod cursor;
mod demo_seed;
mod errors;
mod files;
mod health;
mod ideas;
mod injection;
mod isolation;
mod meetings;
mod metrics;
mod migrations;
mod openapi;
mod orders;
mod projects;
mod queries;
mod query_plans;
mod search;
mod soft_delete;
mod stats;
mod subscriptions;
mod synopsis;
mod tokens;
mod trash;
mod users;
