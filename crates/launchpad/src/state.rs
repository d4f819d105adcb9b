//! What every handler can reach.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::FromRef;
use sea_orm::DatabaseConnection;
use webkit::auth::Auth;

use crate::config::Settings;
use crate::metrics::Metrics;

/// Shared application state; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub auth: Auth,
    pub started: Instant,
    pub metrics: Arc<Metrics>,
}

impl FromRef<AppState> for Auth {
    fn from_ref(state: &AppState) -> Auth {
        state.auth.clone()
    }
}
