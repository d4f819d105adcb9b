//! Connections to this machine's PostgreSQL go without TLS (its bytes never leave the
//! kernel; encrypting them is pure CPU), unless the operator names a mode.

use sea_orm::{ConnectionTrait, DbBackend, Statement};

/// Whether the pool's connection to `url` uses TLS, as PostgreSQL sees it.
async fn uses_tls(url: &str) -> bool {
    let settings = dbkit::DbSettings {
        pool_size: 1,
        max_overflow: 0,
        ..dbkit::DbSettings::new(url)
    };
    let db = dbkit::connect(&settings).await.expect("connect");
    let sql = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .expect("query")
        .expect("a row");
    row.try_get_by_index(0).expect("ssl")
}

#[tokio::test]
async fn loopback_postgres_goes_without_tls_unless_the_url_names_a_mode() {
    let base = dbkit::testing::postgres_base_url();
    assert!(!uses_tls(&base).await, "{base}");
    // The machine's PostgreSQL has TLS on (Debian's default): a URL that asks for it
    // gets it, so the default above is this crate's choice, not the server's.
    let separator = if base.contains('?') { '&' } else { '?' };
    assert!(uses_tls(&format!("{base}{separator}sslmode=require")).await);
}
