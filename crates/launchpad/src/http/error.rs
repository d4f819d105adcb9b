//! The one JSON shape every error answers, and the status of each [`AppError`]: the
//! kit's ([`webkit::response`]).

pub use webkit::response::{ErrorBody, ErrorResponse, render_errors};

pub use crate::error::AppError;
