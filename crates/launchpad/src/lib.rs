//! Launchpad: the backend of the student-project mentoring platform.
//!
//! `main` parses the command line and calls [`commands::run`]; `serve` and the tests
//! both start the service through [`startup::Application::build`].

/// The kit's resource layer, which Launchpad's handlers go through for every owned row.
pub use webkit::resource as access;
pub mod auth;
pub mod cli;
pub mod commands;
pub mod config;
pub mod console;
pub mod constraints;
pub mod domain;
pub mod entity;
pub mod erasure;
pub mod error;
pub mod http;
pub mod jobs;
pub mod kits;
pub mod resources;
pub mod retention;
pub mod seed;
pub mod startup;
pub mod state;
pub mod storage;
pub mod tables;
