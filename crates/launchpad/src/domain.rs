//! Launchpad's input rules: the kit's ([`webkit::rules`]) and the few that are its own.
//! Requests are parsed into these at the edge, so handlers only see valid data. Limits
//! match the columns in the migrations.

pub use webkit::rules::*;

use crate::error::AppError;

/// The steps of signing up, in order.
pub const SIGNUP_STEPS: &[&str] = &[
    "basic_info",
    "plan_selection",
    "synopsis",
    "idea_generation",
    "completed",
];

/// One of [`SIGNUP_STEPS`].
pub fn signup_step(raw: &str) -> Result<String, AppError> {
    one_of("signup_step", raw, SIGNUP_STEPS).map(str::to_owned)
}
