//! A test harness for apps on `dbkit` (feature `testing`): every test runs on a fresh
//! database of each backend, in parallel with the others.
//!
//! [`both_backends!`](crate::both_backends) writes each test twice, as `<name>::sqlite`
//! and `<name>::postgres`; the type of the body's argument says what it starts from (a
//! [`Fixture`]: a [`Backend`], an empty [`TestDb`], or an app's own running server).
//! SQLite databases are temporary files; PostgreSQL ones are schemas of their own on the
//! server at `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`).
//! Both are removed when the [`TestDb`] is dropped.
//!
//! ```ignore
//! use dbkit::testing::TestDb;
//!
//! dbkit::both_backends! {
//!     async fn a_fresh_database_is_empty(db: TestDb) {
//!         let conn = db.connect().await;
//!         let tables = dbkit::schema::snapshot(&conn).await.unwrap();
//!         assert!(tables.0.is_empty());
//!     }
//! }
//! ```

pub mod plans;

use std::future::Future;

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use uuid::Uuid;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// What a [`both_backends!`](crate::both_backends) test starts from, made for one backend.
pub trait Fixture: Sized {
    fn make(backend: Backend) -> impl Future<Output = Self>;
}

impl Fixture for Backend {
    async fn make(backend: Backend) -> Self {
        backend
    }
}

impl Fixture for TestDb {
    async fn make(backend: Backend) -> Self {
        TestDb::new(backend).await
    }
}

/// The PostgreSQL server tests create their schemas in.
pub fn postgres_base_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A fresh, empty database, removed when dropped.
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    Schema(String),
    /// Someone else's database (a private cluster removes itself).
    Nothing,
}

impl TestDb {
    /// A new database: a temporary SQLite file, or a PostgreSQL schema of its own.
    pub async fn new(backend: Backend) -> Self {
        let tag = Uuid::now_v7().simple().to_string();
        match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("dbkit-test-{tag}.db"));
                Self {
                    url: format!("sqlite://{}", path.display()),
                    backend,
                    cleanup: Cleanup::File(path),
                }
            }
            Backend::Postgres => {
                let schema = format!("t_{tag}");
                let admin = Database::connect(postgres_base_url())
                    .await
                    .expect("PostgreSQL must be reachable");
                admin
                    .execute_unprepared(&format!("CREATE SCHEMA \"{schema}\""))
                    .await
                    .expect("create schema");
                admin.close().await.expect("close");
                Self {
                    url: format!("{}?options[search_path]={schema}", postgres_base_url()),
                    backend,
                    cleanup: Cleanup::Schema(schema),
                }
            }
        }
    }

    /// A database this does not own and leaves in place when dropped.
    pub fn existing(url: String) -> Self {
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        Self {
            url,
            backend,
            cleanup: Cleanup::Nothing,
        }
    }

    /// A small pool on this database (one connection kept, four more under load), opened
    /// by [`crate::connect`] as a service would open it.
    pub async fn connect(&self) -> DatabaseConnection {
        let settings = crate::DbSettings {
            pool_size: 1,
            max_overflow: 4,
            ..crate::DbSettings::new(&self.url)
        };
        crate::connect(&settings)
            .await
            .expect("connect to the test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm", ".migrate-lock", ".in-use"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
            }
            Cleanup::Schema(schema) => drop_schema(schema.clone()),
            Cleanup::Nothing => {}
        }
    }
}

fn drop_schema(schema: String) {
    on_postgres_now(format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"));
}

/// Runs `sql` on the test server ([`postgres_base_url`]) before returning, ignoring
/// failure: for clean-ups in `Drop`, which runs inside the test's runtime (a runtime of
/// its own on another thread can block on the work).
pub fn on_postgres_now(sql: String) {
    let _ = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        rt.block_on(async {
            let db = Database::connect(postgres_base_url()).await.ok()?;
            db.execute_unprepared(&sql).await.ok()?;
            db.close().await.ok()
        })
    })
    .join();
}

/// Does nothing: the setup of a test that needs none.
pub fn no_setup() {}

/// Runs each test on SQLite and on PostgreSQL, as `<name>::sqlite` and `<name>::postgres`.
/// A body's argument type says what it starts from ([`testing::Fixture`](crate::testing::Fixture)).
/// `setup = path;` first names a function every test calls before anything else (an
/// app's [`crate::configure`], say). `name => path` runs the function at `path` with the
/// [`testing::Backend`](crate::testing::Backend).
#[macro_export]
macro_rules! both_backends {
    (setup = $setup:path; $(async fn $name:ident($arg:ident: $ty:ty) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;
                async fn body($arg: $ty) $body
                // Named so as not to shadow what the body uses from `super`.
                async fn on_backend_with_fixture(backend: $crate::testing::Backend) {
                    body(<$ty as $crate::testing::Fixture>::make(backend).await).await
                }
                $crate::both_backends!(@tests $setup, on_backend_with_fixture);
            }
        )*
    };
    (setup = $setup:path; $($name:ident => $body:path),* $(,)?) => {
        $(
            mod $name {
                $crate::both_backends!(@tests $setup, $body);
            }
        )*
    };
    (@tests $setup:path, $run:path) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn sqlite() {
            $setup();
            $run($crate::testing::Backend::Sqlite).await
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn postgres() {
            $setup();
            $run($crate::testing::Backend::Postgres).await
        }
    };
    ($($rest:tt)*) => {
        $crate::both_backends!(setup = $crate::testing::no_setup; $($rest)*);
    };
}
