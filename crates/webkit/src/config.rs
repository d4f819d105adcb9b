//! The settings every service on the kits takes, in groups an app flattens into its own
//! (`#[command(flatten)]`): each both a flag and an environment variable, with the same
//! names in every app (`DATABASE_URL`, `API_PORT`, `AUTO_MIGRATE`, …). A bad value stops
//! start-up with a message naming the variable.

use std::net::IpAddr;
use std::time::Duration;

use axum::http::HeaderValue;
use clap::{Args, ValueEnum};

/// A setting whose value cannot work.
#[derive(Debug, thiserror::Error)]
#[error("invalid {variable}: {reason}")]
pub struct ConfigError {
    /// The environment variable to fix.
    pub variable: &'static str,
    /// Why.
    pub reason: String,
}

/// Where the service runs; production refuses insecure defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AppEnv {
    Development,
    Test,
    Production,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line (production).
    Json,
    /// Human-readable lines.
    Pretty,
}

/// The headings settings are grouped under in `--help`, after a command's own options.
const DATABASE: &str = "Settings: environment and database";
const LOGGING: &str = "Settings: logging";
const SIGN_IN: &str = "Settings: sign-in";
const SERVER: &str = "Settings: HTTP server";

/// The environment and the database. Durations are in seconds unless the name says
/// otherwise.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Deployment environment.
    #[arg(help_heading = DATABASE, long, env = "APP_ENV", value_enum, default_value = "development", global = true)]
    pub app_env: AppEnv,
    /// `sqlite://file.db` (embedded: by default `<app>.db` in the working directory) or
    /// `postgres://user@host/db`.
    #[arg(help_heading = DATABASE, long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Read replicas of a PostgreSQL primary, comma-separated `postgres://` URLs. List and
    /// get reads go to one that has replayed the reader's own last write and is no more
    /// than `DATABASE_REPLICA_MAX_LAG_MS` behind; everything else to the primary.
    #[arg(help_heading = DATABASE, long, env = "DATABASE_REPLICA_URL", value_delimiter = ',', global = true)]
    pub database_replica_url: Vec<String>,
    /// How far behind the primary a replica may be, in milliseconds, and still serve reads.
    #[arg(help_heading = DATABASE, long, env = "DATABASE_REPLICA_MAX_LAG_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=3_600_000), global = true)]
    pub database_replica_max_lag_ms: u64,
    /// `DATABASE_URL` is a transaction-mode pooler (PgBouncer `pool_mode = transaction`):
    /// no statement cache, every checkout one transaction. Needs `DATABASE_DIRECT_URL`.
    #[arg(help_heading = DATABASE, long, env = "DB_TRANSACTION_POOLER", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub db_transaction_pooler: bool,
    /// The PostgreSQL server itself, when `DATABASE_URL` is a pooler: migrations, the
    /// locks that span a session, `LISTEN`, and every CLI command use it.
    #[arg(help_heading = DATABASE, long, env = "DATABASE_DIRECT_URL", global = true)]
    pub database_direct_url: Option<String>,
    /// Connections kept open in the pool.
    #[arg(help_heading = DATABASE, long, env = "DB_POOL_SIZE", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000), global = true)]
    pub db_pool_size: u32,
    /// Extra connections opened under load.
    #[arg(help_heading = DATABASE, long, env = "DB_MAX_OVERFLOW", default_value_t = 20, value_parser = clap::value_parser!(u32).range(0..=1000), global = true)]
    pub db_max_overflow: u32,
    /// Seconds a request waits for a free connection before answering 503.
    #[arg(help_heading = DATABASE, long, env = "DB_POOL_TIMEOUT", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=300), global = true)]
    pub db_pool_timeout: u64,
    /// Seconds after which a connection is replaced.
    #[arg(help_heading = DATABASE, long, env = "DB_POOL_RECYCLE", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub db_pool_recycle: u64,
    /// PostgreSQL statement timeout in milliseconds (0 = none).
    #[arg(help_heading = DATABASE, long, env = "DB_STATEMENT_TIMEOUT", default_value_t = 30_000, global = true)]
    pub db_statement_timeout: u64,
    /// Queries slower than this many milliseconds are logged with their SQL.
    #[arg(help_heading = DATABASE, long, env = "SLOW_QUERY_THRESHOLD_MS", default_value_t = 500, global = true)]
    pub slow_query_threshold_ms: u64,
    /// Apply pending migrations when `serve` starts (default: on for SQLite, off for PostgreSQL).
    #[arg(help_heading = DATABASE, long, env = "AUTO_MIGRATE", global = true)]
    pub auto_migrate: Option<bool>,
}

impl DatabaseArgs {
    /// The database's URL: `DATABASE_URL`, or `sqlite://<app>.db`.
    pub fn url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}.db", crate::settings().app))
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if dbkit::connect::backend_of(&self.url()).is_none() {
            return Err(ConfigError {
                variable: "DATABASE_URL",
                reason: "must start with sqlite: or postgres://".into(),
            });
        }
        let direct = self
            .database_direct_url
            .as_deref()
            .filter(|url| !url.trim().is_empty());
        if self.db_transaction_pooler
            && dbkit::connect::backend_of(&self.url()) != Some(sea_orm::DbBackend::Postgres)
        {
            return Err(ConfigError {
                variable: "DB_TRANSACTION_POOLER",
                reason: "a pooler stands in front of PostgreSQL (DATABASE_URL=postgres://…)".into(),
            });
        }
        if self.db_transaction_pooler && direct.is_none() {
            return Err(ConfigError {
                variable: "DATABASE_DIRECT_URL",
                reason: "DB_TRANSACTION_POOLER needs the server's own URL too, for migrations, \
                         session locks and LISTEN"
                    .into(),
            });
        }
        if let Some(direct) = direct
            && dbkit::connect::backend_of(direct) != dbkit::connect::backend_of(&self.url())
        {
            return Err(ConfigError {
                variable: "DATABASE_DIRECT_URL",
                reason: "must be a URL of the same kind as DATABASE_URL".into(),
            });
        }
        let replicas = self.replica_urls();
        if !replicas.is_empty()
            && dbkit::connect::backend_of(&self.url()) != Some(sea_orm::DbBackend::Postgres)
        {
            return Err(ConfigError {
                variable: "DATABASE_REPLICA_URL",
                reason: "replicas need a PostgreSQL primary (DATABASE_URL=postgres://…)".into(),
            });
        }
        if replicas
            .iter()
            .any(|url| dbkit::connect::backend_of(url) != Some(sea_orm::DbBackend::Postgres))
        {
            return Err(ConfigError {
                variable: "DATABASE_REPLICA_URL",
                reason: "each replica must be a postgres:// URL".into(),
            });
        }
        Ok(())
    }

    /// The replicas' URLs (an empty `DATABASE_REPLICA_URL` names none).
    pub fn replica_urls(&self) -> Vec<String> {
        self.database_replica_url
            .iter()
            .map(|url| url.trim())
            .filter(|url| !url.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Whether `serve` applies pending migrations itself.
    pub fn auto_migrate(&self) -> bool {
        self.auto_migrate
            .unwrap_or(dbkit::connect::backend_of(&self.url()) == Some(sea_orm::DbBackend::Sqlite))
    }

    /// Pool settings for `dbkit`.
    pub fn db(&self) -> dbkit::DbSettings {
        dbkit::DbSettings {
            url: self.url(),
            pool_size: self.db_pool_size,
            max_overflow: self.db_max_overflow,
            acquire_timeout: Duration::from_secs(self.db_pool_timeout),
            recycle: Duration::from_secs(self.db_pool_recycle),
            statement_timeout: (self.db_statement_timeout > 0)
                .then(|| Duration::from_millis(self.db_statement_timeout)),
            slow_query_threshold: Duration::from_millis(self.slow_query_threshold_ms),
            lazy: false,
            transaction_pooler: self.db_transaction_pooler,
        }
    }

    /// Pool settings for the server itself: `DATABASE_DIRECT_URL`, or `DATABASE_URL`
    /// when there is no pooler in between.
    pub fn direct(&self) -> dbkit::DbSettings {
        let url = self
            .database_direct_url
            .clone()
            .filter(|url| !url.trim().is_empty())
            .unwrap_or_else(|| self.url());
        dbkit::DbSettings {
            url,
            transaction_pooler: false,
            ..self.db()
        }
    }
}

/// Logging.
#[derive(Debug, Clone, Args)]
pub struct LogArgs {
    /// Log filter: a level (`info`) or directives (`info,launchpad=debug`).
    #[arg(help_heading = LOGGING, long, env = "LOG_LEVEL", default_value = "info,sea_orm_migration=warn", global = true)]
    pub log_level: String,
    /// `json` or `pretty`.
    #[arg(help_heading = LOGGING, long, env = "LOG_FORMAT", value_enum, default_value = "pretty", global = true)]
    pub log_format: LogFormat,
}

/// Signing in ([`crate::auth`]).
#[derive(Debug, Clone, Args)]
pub struct SignInArgs {
    /// HMAC secret for access tokens; required (32+ bytes) in production.
    #[arg(help_heading = SIGN_IN, long, env = "JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<String>,
    /// Access-token lifetime.
    #[arg(help_heading = SIGN_IN, long, env = "ACCESS_TOKEN_EXPIRE_MINUTES", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=1440), global = true)]
    pub access_token_expire_minutes: u64,
    /// Refresh-token lifetime.
    #[arg(help_heading = SIGN_IN, long, env = "REFRESH_TOKEN_EXPIRE_DAYS", default_value_t = 7, value_parser = clap::value_parser!(u64).range(1..=365), global = true)]
    pub refresh_token_expire_days: u64,
    /// Login and register attempts per minute from one IP address (then 429).
    #[arg(help_heading = SIGN_IN, long, env = "AUTH_RATE_LIMIT_PER_IP", default_value = "30", global = true)]
    pub auth_rate_limit_per_ip: std::num::NonZeroU32,
    /// Login attempts per minute on one account, whoever makes them (then 429).
    #[arg(help_heading = SIGN_IN, long, env = "AUTH_RATE_LIMIT_PER_ACCOUNT", default_value = "10", global = true)]
    pub auth_rate_limit_per_account: std::num::NonZeroU32,
    /// Keep signed-in users between requests (PostgreSQL; dropped on every change, which
    /// PostgreSQL notifies); `false` reads the user on every request.
    #[arg(help_heading = SIGN_IN, long, env = "AUTH_USER_CACHE", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub auth_user_cache: bool,
}

/// Used when no secret is configured outside production: tokens still work, and a
/// warning says they are forgeable.
const DEV_JWT_SECRET: &str = "development-secret-not-for-production";
const MIN_SECRET_LEN: usize = 32;

impl SignInArgs {
    pub fn validate(&self, env: AppEnv) -> Result<(), ConfigError> {
        match (&self.jwt_secret, env) {
            (Some(s), _) if s.len() < MIN_SECRET_LEN => Err(ConfigError {
                variable: "JWT_SECRET",
                reason: format!("must be at least {MIN_SECRET_LEN} bytes"),
            }),
            (None, AppEnv::Production) => Err(ConfigError {
                variable: "JWT_SECRET",
                reason: "is required when APP_ENV=production".into(),
            }),
            _ => Ok(()),
        }
    }

    /// The secret that signs access tokens.
    pub fn jwt_secret(&self) -> &str {
        self.jwt_secret.as_deref().unwrap_or(DEV_JWT_SECRET)
    }

    /// The settings of [`crate::auth::Auth`].
    pub fn auth(&self) -> crate::auth::Settings<'_> {
        crate::auth::Settings {
            secret: self.jwt_secret(),
            access_token_minutes: self.access_token_expire_minutes,
            refresh_token_days: self.refresh_token_expire_days,
            attempts_per_ip: self.auth_rate_limit_per_ip,
            attempts_per_account: self.auth_rate_limit_per_account,
        }
    }
}

/// The HTTP server.
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// Address to listen on.
    #[arg(help_heading = SERVER, long, env = "API_HOST", default_value = "127.0.0.1", global = true)]
    pub api_host: IpAddr,
    /// Port to listen on (0 = any free port).
    #[arg(help_heading = SERVER, long, env = "API_PORT", default_value_t = 8000, global = true)]
    pub api_port: u16,
    /// Seconds a request may take, its body's upload included, before it is answered 408.
    #[arg(help_heading = SERVER, long, env = "REQUEST_TIMEOUT_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600), global = true)]
    pub request_timeout_secs: u64,
    /// Comma-separated origins allowed by CORS (empty = no cross-origin access).
    #[arg(help_heading = SERVER, long, env = "CORS_ORIGINS", default_value = "", global = true)]
    pub cors_origins: String,
    /// Bearer token that `/metrics` and the details of `/health` then require (16+ bytes;
    /// empty = open to anyone). `/health/live` and `/health/ready` stay public.
    #[arg(help_heading = SERVER, long, env = "OPS_TOKEN", default_value = "", hide_env_values = true, hide_default_value = true, global = true)]
    pub ops_token: String,
    /// Seconds `serve` lets requests in flight finish after SIGTERM before it exits
    /// anyway (below the 30 s a supervisor such as Kubernetes waits before SIGKILL).
    #[arg(help_heading = SERVER, long, env = "SHUTDOWN_TIMEOUT", default_value_t = 25, value_parser = clap::value_parser!(u64).range(1..=3600), global = true)]
    pub shutdown_timeout: u64,
}

/// What the layers need to know.
#[derive(Debug, Clone)]
pub struct Layers {
    /// A request still running after this, reading its body included, is answered 408.
    pub timeout: Duration,
    /// Origins allowed by CORS; none means no cross-origin access.
    pub cors_origins: Vec<HeaderValue>,
}

const MIN_OPS_TOKEN_LEN: usize = 16;

impl ServerArgs {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.ops_token.is_empty() && self.ops_token.len() < MIN_OPS_TOKEN_LEN {
            return Err(ConfigError {
                variable: "OPS_TOKEN",
                reason: format!("must be at least {MIN_OPS_TOKEN_LEN} bytes (or empty)"),
            });
        }
        self.cors_origin_list().map(|_| ())
    }

    /// CORS origins, parsed.
    pub fn cors_origin_list(&self) -> Result<Vec<HeaderValue>, ConfigError> {
        self.cors_origins
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(|o| {
                let ok =
                    (o.starts_with("http://") || o.starts_with("https://")) && !o.ends_with('/');
                ok.then(|| o.parse().ok())
                    .flatten()
                    .ok_or_else(|| ConfigError {
                        variable: "CORS_ORIGINS",
                        reason: format!("'{o}' is not an origin like https://example.com"),
                    })
            })
            .collect()
    }

    /// What [`crate::layers`] need.
    pub fn layers(&self) -> Layers {
        Layers {
            timeout: Duration::from_secs(self.request_timeout_secs),
            cors_origins: self.cors_origin_list().unwrap_or_default(),
        }
    }
}
