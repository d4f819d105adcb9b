//! `webkit`: the HTTP side of a service built on `dbkit`, with axum.
//!
//! - [`error`]: one error type for every layer, with nothing of HTTP in it; database
//!   errors become errors a client can act on (a violated constraint explained by the
//!   app's rules, an outage a 503, a full disk a 507);
//! - [`response`]: the one place that error becomes a response — its status, the one
//!   JSON shape `{"error", "details", "path", "request_id"}` and the middleware that
//!   gives every error (axum's own 404s and 405s too) that shape;
//! - [`extract`]: JSON, query and path extractors that answer in that shape (a
//!   malformed body 400, a wrong field 422 naming it), and the caller as an audit actor;
//! - [`auth`]: sign-in with rotating refresh tokens, brute-force brakes and the
//!   [`auth::CurrentUser`] extractor, over the app's users table;
//! - [`layers`]: request ids, one span per request, every error in the one shape, panics
//!   as 500s, a deadline, CORS, a body limit; [`telemetry`] installs the logging;
//! - [`metrics`]: Prometheus metrics per route, of the pool and statements, Argon2 runs,
//!   and the app's own counters;
//! - [`reads`]: reads on replicas as requests meet them — the [`reads::Reading`]
//!   extractor, write marks after a write, a failed replica read answered again;
//! - [`ops`]: `/health` (database, schema, storage, pool, replicas), `/health/live`,
//!   `/health/ready` and `/metrics`, the details behind `OPS_TOKEN`;
//! - [`openapi`]: the bearer scheme, `/docs`, and the error answers every operation can
//!   give added to the document; [`query_guard`] refuses a query parameter the document
//!   does not list for the operation;
//! - [`config`] and [`cli`]: the settings every service takes (the same environment
//!   names in every app), opening the database for a command, and `migrate`;
//! - [`serve`]: serving until SIGTERM, then draining requests in flight for a bounded time;
//! - [`resource`]: the one path to an app's rows — live only, owner-scoped, 404
//!   otherwise; create, update (`Changes`), status moves guarded by the old status, soft
//!   delete and restore, each one transaction with the log row it derives;
//! - [`trash`]: the admin's trash over the app's soft-delete registry — list per entity
//!   type, restore with what the delete took;
//! - [`activity`]: the activity log as a client reads it (shape, filters, a page);
//! - [`pages`]: server-rendered pages beside the API (an admin console): a cookie
//!   session over the same sign-in, CSRF and Origin checks, a strict CSP, forms read
//!   into the API's input types, htmx embedded;
//! - [`rules`]: the rules inputs and states keep (text, email, numbers, choices, status
//!   moves), each stated once, each refusal naming its field.
//!
//! An app names itself once per process with [`configure`], first thing:
//!
//! ```
//! webkit::configure(webkit::Settings { app: "tasks", constraints: &[] }).unwrap();
//! let e = webkit::AppError::invalid("title", "title must not be empty");
//! assert_eq!(e.status().as_u16(), 422);
//! ```

pub mod activity;
pub mod auth;
pub mod cli;
pub mod config;
pub mod error;
pub mod extract;
pub mod layers;
pub mod metrics;
pub mod openapi;
pub mod ops;
pub mod pages;
pub mod query_guard;
pub mod reads;
pub mod resource;
pub mod response;
pub mod rules;
pub mod serve;
pub mod telemetry;
pub mod trash;

use std::sync::OnceLock;

use dbkit::error::ConstraintRule;

pub use error::AppError;
pub use response::{ErrorResponse, render_errors};

/// What the kit needs to know about the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// The app's name: the realm of the `WWW-Authenticate` challenge a 401 carries, the
    /// issuer of its access tokens, its SQLite file (`<app>.db`) unless told otherwise.
    pub app: &'static str,
    /// What each named constraint of the app's schema means to a client. A violation of
    /// one not listed is explained generically, with the constraint's name.
    pub constraints: &'static [ConstraintRule],
}

impl Settings {
    /// An app that configures nothing.
    pub const DEFAULT: Settings = Settings {
        app: "api",
        constraints: &[],
    };
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

/// Other settings were already in use in this process.
#[derive(Debug, thiserror::Error)]
#[error("webkit is already configured otherwise: configure it before any other call")]
pub struct AlreadyConfigured;

/// Sets the app's settings for this process; again with the same ones is fine.
pub fn configure(settings: Settings) -> Result<(), AlreadyConfigured> {
    let current = SETTINGS.get_or_init(|| settings);
    if *current == settings {
        Ok(())
    } else {
        Err(AlreadyConfigured)
    }
}

/// The settings in use (the defaults, from the first call on, if none were configured).
pub fn settings() -> &'static Settings {
    SETTINGS.get_or_init(|| Settings::DEFAULT)
}
