//! The signed-in users a server has checked, kept between requests, so that a request
//! with a known token costs no statement of its own (on PostgreSQL, a round trip and a
//! fifth of the database's CPU per list request).
//!
//! A cached user stands only while nothing may have changed it:
//! - every write about a user this process commits ([`dbkit::write::user_writes`]) drops
//!   the whole cache, so a logout, a deactivation or a password change served here ends
//!   access at once (a write about anything else — a project — keeps it);
//! - a change made anywhere else — another node, the CLI, someone in `psql` — reaches the
//!   app through PostgreSQL: a trigger on the users table notifies a channel when the
//!   change commits, and the cache is dropped when the notification arrives (within
//!   milliseconds; a request that reads the user meanwhile sees it as it was, as a request
//!   started a moment earlier would have);
//! - the cache is used only while that listener is connected: after its connection is
//!   lost, nothing is cached until it listens again, and what was cached is dropped.
//!
//! With no listener (SQLite, or an app that does not call [`UserCache::listen`]) nothing
//! is cached: every request reads its user.

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::sqlx::postgres::{PgListener, PgPoolOptions};
use sea_orm::{DatabaseConnection, DbBackend};
use uuid::Uuid;

/// A user's key: the account and the token version its access token carries.
pub type Key = (Uuid, i32);

/// When a cached user was read: valid while both counts stay the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stamp {
    user_writes: u64,
    changes: u64,
}

/// Users read since the last change; see the module's documentation.
#[derive(Default)]
pub struct UserCache {
    entries: Mutex<Entries>,
    /// Notifications seen (and reconnections: what came meanwhile is unknown).
    changes: AtomicU64,
    listening: AtomicBool,
}

#[derive(Default)]
struct Entries {
    stamp: Stamp,
    users: HashMap<Key, Arc<dyn Any + Send + Sync>>,
}

/// Users kept at most; the cache starts over beyond (a burst of new tokens).
const MAX_USERS: usize = 10_000;

/// How long the listener waits before connecting again.
const RECONNECT: Duration = Duration::from_secs(1);

impl UserCache {
    /// Now, if the cache may be used: `None` while nobody listens for changes.
    pub fn stamp(&self) -> Option<Stamp> {
        self.listening.load(Ordering::Acquire).then(|| Stamp {
            user_writes: dbkit::write::user_writes(),
            changes: self.changes.load(Ordering::Acquire),
        })
    }

    /// The user `key` as read at `stamp` (from [`UserCache::stamp`], just now).
    pub fn get<U: Clone + 'static>(&self, key: Key, stamp: Stamp) -> Option<U> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.stamp != stamp {
            return None;
        }
        entries.users.get(&key)?.downcast_ref::<U>().cloned()
    }

    /// Keeps `user`, read after `stamp` was taken — unless something changed since.
    pub fn put<U: Send + Sync + 'static>(&self, key: Key, user: U, stamp: Stamp) {
        if self.stamp() != Some(stamp) {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.stamp != stamp || entries.users.len() >= MAX_USERS {
            entries.users.clear();
            entries.stamp = stamp;
        }
        entries.users.insert(key, Arc::new(user));
    }

    fn changed(&self) {
        self.changes.fetch_add(1, Ordering::AcqRel);
    }

    /// Listens on `channel` (PostgreSQL; nothing on other backends) on a connection of
    /// its own, until `db`'s pool closes; the cache is used only while it listens.
    pub fn listen(self: &Arc<Self>, db: &DatabaseConnection, channel: &'static str) {
        if db.get_database_backend() != DbBackend::Postgres {
            return;
        }
        let pool = db.get_postgres_connection_pool();
        let closed = pool.close_event();
        let options = pool.connect_options();
        let cache = self.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = cache.keep_listening(&options, channel) => {}
                () = closed => {}
            }
            cache.listening.store(false, Ordering::Release);
        });
    }

    async fn keep_listening(
        &self,
        options: &sea_orm::sqlx::postgres::PgConnectOptions,
        channel: &str,
    ) {
        loop {
            let own = PgPoolOptions::new()
                .max_connections(1)
                .connect_lazy_with(options.clone());
            let lost = self.listen_on(&own, channel).await;
            self.listening.store(false, Ordering::Release);
            self.changed();
            tracing::warn!(error = %lost, "not listening for changes to users; not caching them");
            own.close().await;
            tokio::time::sleep(RECONNECT).await;
        }
    }

    /// Listens until the connection is lost; says why.
    async fn listen_on(&self, pool: &sea_orm::sqlx::PgPool, channel: &str) -> String {
        let mut listener = match PgListener::connect_with(pool).await {
            Ok(listener) => listener,
            Err(e) => return e.to_string(),
        };
        if let Err(e) = listener.listen(channel).await {
            return e.to_string();
        }
        // Whatever changed before this is unknown: start afresh.
        self.changed();
        self.listening.store(true, Ordering::Release);
        loop {
            match listener.try_recv().await {
                Ok(Some(_)) => self.changed(),
                Ok(None) => return "the connection was lost".into(),
                Err(e) => return e.to_string(),
            }
        }
    }
}
