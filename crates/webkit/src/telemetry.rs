//! Structured logging: JSON lines in production, readable lines in development.

use axum::http::Request;
use tracing::Span;
use tracing_subscriber::EnvFilter;

use crate::config::{ConfigError, LogFormat};

/// Installs the global subscriber. `level` is a level or `EnvFilter` directives.
pub fn init(level: &str, format: LogFormat) -> Result<(), ConfigError> {
    let filter = EnvFilter::try_new(level).map_err(|e| ConfigError {
        variable: "LOG_LEVEL",
        reason: e.to_string(),
    })?;
    // Logs go to stderr: stdout is for command output (`migrate up --dry-run > up.sql`).
    // Colour only on a terminal: `serve 2> file` gets plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let installed = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
    // A second init (tests build many apps in one process) keeps the first subscriber.
    drop(installed);
    Ok(())
}

/// The span of one request: its id, method and path. Never headers or the query string,
/// which can hold tokens or personal data.
pub fn request_span<B>(request: &Request<B>) -> Span {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %request.method(),
        path = %request.uri().path(),
    )
}
