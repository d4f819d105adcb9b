//! PgBouncer (Debian's 1.18, installed by `scripts/pgbouncer.sh install`) in transaction
//! mode in front of the shared PostgreSQL, on a free port, with a database of its own
//! (a pooler passes no `options`, so the tests' usual per-schema databases cannot go
//! through it). Everything is stopped and dropped with it.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use sea_orm::{ConnectionTrait, Database};
use uuid::Uuid;

use crate::helpers::postgres_base_url;
use crate::private_pg::as_postgres;
use crate::process::free_port;

const PGBOUNCER: &str = "/usr/sbin/pgbouncer";

/// A running PgBouncer and the database behind it.
pub struct PgBouncer {
    dir: PathBuf,
    port: u16,
    database: String,
}

impl PgBouncer {
    /// Starts one lending at most `servers` server connections per database.
    pub async fn start(servers: u32) -> Self {
        assert!(
            Path::new(PGBOUNCER).exists(),
            "no {PGBOUNCER}: run scripts/pgbouncer.sh install"
        );
        let tag = Uuid::now_v7().simple();
        let dir = std::env::temp_dir().join(format!("lp-pgbouncer-{tag}"));
        std::fs::create_dir(&dir).expect("create the pooler's dir");
        // PgBouncer refuses to run as root: as root it runs as `postgres`, who writes here.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777))
            .expect("open the dir");
        let bouncer = Self {
            port: free_port(),
            database: format!("lp_pooled_{tag}"),
            dir,
        };
        bouncer
            .admin(&format!("CREATE DATABASE {}", bouncer.database))
            .await;
        let (host, port) = upstream();
        std::fs::write(bouncer.dir.join("users.txt"), "\"postgres\" \"\"\n").expect("users");
        std::fs::write(
            bouncer.dir.join("pgbouncer.ini"),
            bouncer.config(&host, port, servers),
        )
        .expect("config");
        let started = as_postgres(Path::new(PGBOUNCER))
            .args(["-d", &bouncer.path("pgbouncer.ini")])
            .output()
            .expect("run pgbouncer");
        assert!(
            started.status.success(),
            "pgbouncer did not start: {}{}",
            String::from_utf8_lossy(&started.stderr),
            std::fs::read_to_string(bouncer.dir.join("pgbouncer.log")).unwrap_or_default()
        );
        bouncer.until_listening().await;
        bouncer
    }

    /// The database through the pooler.
    pub fn url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{}",
            self.port, self.database
        )
    }

    /// The same database on the server itself.
    pub fn direct_url(&self) -> String {
        let (host, port) = upstream();
        format!("postgres://postgres@{host}:{port}/{}", self.database)
    }

    fn config(&self, host: &str, port: u16, servers: u32) -> String {
        format!(
            "[databases]\n\
             * = host={host} port={port}\n\
             [pgbouncer]\n\
             listen_addr = 127.0.0.1\n\
             listen_port = {}\n\
             unix_socket_dir =\n\
             auth_type = trust\n\
             auth_file = {}\n\
             pool_mode = transaction\n\
             default_pool_size = {servers}\n\
             max_client_conn = 500\n\
             ignore_startup_parameters = extra_float_digits\n\
             server_reset_query = DEALLOCATE ALL\n\
             server_reset_query_always = 1\n\
             logfile = {}\n\
             pidfile = {}\n",
            self.port,
            self.path("users.txt"),
            self.path("pgbouncer.log"),
            self.path("pgbouncer.pid"),
        )
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    async fn until_listening(&self) {
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("pgbouncer does not listen on {}", self.port);
    }

    async fn admin(&self, sql: &str) {
        let db = Database::connect(postgres_base_url())
            .await
            .expect("connect");
        db.execute_unprepared(sql).await.expect(sql);
        db.close().await.expect("close");
    }
}

/// Host and port of the shared PostgreSQL.
fn upstream() -> (String, u16) {
    let url = url::Url::parse(&postgres_base_url()).expect("TEST_DATABASE_URL");
    (
        url.host_str().unwrap_or("127.0.0.1").to_owned(),
        url.port().unwrap_or(5432),
    )
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(self.dir.join("pgbouncer.pid")) {
            let _ = Command::new("kill").args(["-KILL", pid.trim()]).output();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        dbkit::testing::on_postgres_now(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.database
        ));
    }
}
