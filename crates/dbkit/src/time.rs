//! One clock for everything written to the database.

use chrono::{DateTime, SubsecRound, Utc};

/// The current time, truncated to microseconds.
///
/// PostgreSQL keeps microseconds; SQLite keeps the text it is given. Truncating here
/// means a value read back equals the value written on both backends, and text
/// timestamps on SQLite keep comparing in time order.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
