//! What every handler can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use dbkit::replicas::Replicas;
use sea_orm::DatabaseConnection;
use webkit::auth::Auth;
use webkit::metrics::Metrics;
use webkit::ops::Ops;

use crate::config::Settings;
use crate::storage::Storage;

/// Shared application state; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    /// Where reads may go ([`webkit::reads::Reading`]); the primary alone by default.
    pub replicas: Replicas,
    pub settings: Arc<Settings>,
    pub storage: Storage,
    pub auth: Auth,
    pub ops: Ops,
    pub metrics: Arc<Metrics>,
}

impl FromRef<AppState> for Auth {
    fn from_ref(state: &AppState) -> Auth {
        state.auth.clone()
    }
}

impl FromRef<AppState> for Replicas {
    fn from_ref(state: &AppState) -> Replicas {
        state.replicas.clone()
    }
}

impl FromRef<AppState> for Ops {
    fn from_ref(state: &AppState) -> Ops {
        state.ops.clone()
    }
}
