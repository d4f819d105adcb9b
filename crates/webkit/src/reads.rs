//! Reads on replicas, as requests meet them ([`dbkit::replicas`]).
//!
//! A handler that may read from a replica takes [`Reading`]: the signed-in caller and the
//! connection its reads go to — a replica that has replayed the caller's last write, or
//! the primary. [`route`] (installed only when replicas are configured) does the rest:
//! after a signed-in caller's write succeeds it records their write mark, and a read
//! that failed on a replica (503: the replica went away mid-request) is answered again
//! from the primary, so a replica stopping costs no request.

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::extract::{FromRef, FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use dbkit::replicas::Replicas;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::error::AppError;

/// A signed-in caller, as a read needs to know them.
pub trait Reader {
    fn user_id(&self) -> Uuid;
}

/// The caller `C` and the connection their reads go to.
pub struct Reading<C> {
    pub who: C,
    pub db: DatabaseConnection,
}

impl<S, C> FromRequestParts<S> for Reading<C>
where
    S: Send + Sync,
    C: FromRequestParts<S, Rejection = AppError> + Reader + Send,
    Replicas: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let who = C::from_request_parts(parts, state).await?;
        let replicas = Replicas::from_ref(state);
        let read = match parts.extensions.get::<Retried>() {
            Some(_) => replicas.on_primary(),
            None => replicas.reader(who.user_id()).await?,
        };
        if let (Some(index), Some(slot)) = (read.replica, parts.extensions.get::<OnReplica>()) {
            let _ = slot.0.set(index);
        }
        Ok(Reading { who, db: read.db })
    }
}

/// Who signed in for this request, filled by [`crate::auth::CurrentUser`] when [`route`]
/// asks (so that a write can be marked after it succeeded).
#[derive(Clone, Default)]
pub struct SignedInAs(Arc<OnceLock<Uuid>>);

impl SignedInAs {
    pub fn set(&self, user: Uuid) {
        let _ = self.0.set(user);
    }
}

/// The replica a read was sent to, filled by [`Reading`].
#[derive(Clone, Default)]
struct OnReplica(Arc<OnceLock<usize>>);

/// The request is a read answered again from the primary.
#[derive(Clone)]
struct Retried;

/// Marks a signed-in caller's successful write; answers again from the primary a read
/// that a replica failed.
pub async fn route(State(replicas): State<Replicas>, request: Request, next: Next) -> Response {
    if request.method().is_safe() {
        read(&replicas, request, next).await
    } else {
        write(&replicas, request, next).await
    }
}

async fn read(replicas: &Replicas, mut request: Request, next: Next) -> Response {
    let on_replica = OnReplica::default();
    request.extensions_mut().insert(on_replica.clone());
    let (parts, body) = request.into_parts();
    let response = next
        .clone()
        .run(Request::from_parts(parts.clone(), body))
        .await;
    match on_replica.0.get() {
        Some(&index) if response.status() == StatusCode::SERVICE_UNAVAILABLE => {
            tracing::warn!(
                replica = index,
                "a read failed on a replica: answered from the primary"
            );
            replicas.failed(index);
            let mut again = Request::from_parts(parts, Body::empty());
            again.extensions_mut().insert(Retried);
            next.run(again).await
        }
        _ => response,
    }
}

async fn write(replicas: &Replicas, mut request: Request, next: Next) -> Response {
    let signed_in = SignedInAs::default();
    request.extensions_mut().insert(signed_in.clone());
    let response = next.run(request).await;
    if response.status().is_success()
        && let Some(&user) = signed_in.0.get()
        && let Err(e) = replicas.wrote(user).await
    {
        // The write stands; only this user's next reads may miss it until a replica
        // replays it (well within the allowed lag).
        tracing::warn!(error = %e, "could not record a write mark");
    }
    response
}
