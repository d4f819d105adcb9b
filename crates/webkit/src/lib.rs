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
//! - [`rules`]: the rules inputs and states keep (text, email, numbers, choices, status
//!   moves), each stated once, each refusal naming its field.
//!
//! An app names itself once per process with [`configure`], first thing:
//!
//! ```
//! webkit::configure(webkit::Settings { realm: "tasks", constraints: &[] }).unwrap();
//! let e = webkit::AppError::invalid("title", "title must not be empty");
//! assert_eq!(e.status().as_u16(), 422);
//! ```

pub mod auth;
pub mod error;
pub mod extract;
pub mod response;
pub mod rules;

use std::sync::OnceLock;

use dbkit::error::ConstraintRule;

pub use error::AppError;
pub use response::{ErrorResponse, render_errors};

/// What the kit needs to know about the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// The realm of the `WWW-Authenticate` challenge a 401 carries.
    pub realm: &'static str,
    /// What each named constraint of the app's schema means to a client. A violation of
    /// one not listed is explained generically, with the constraint's name.
    pub constraints: &'static [ConstraintRule],
}

impl Settings {
    /// An app that configures nothing.
    pub const DEFAULT: Settings = Settings {
        realm: "api",
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
