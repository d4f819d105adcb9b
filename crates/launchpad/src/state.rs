//! What every handler can reach.

use std::sync::Arc;
use std::time::Instant;

use sea_orm::DatabaseConnection;

use crate::auth::jwt::Jwt;
use crate::auth::limits::AuthLimits;
use crate::config::Settings;
use crate::metrics::Metrics;

/// Shared application state; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub jwt: Arc<Jwt>,
    pub started: Instant,
    pub metrics: Arc<Metrics>,
    pub auth_limits: Arc<AuthLimits>,
}
