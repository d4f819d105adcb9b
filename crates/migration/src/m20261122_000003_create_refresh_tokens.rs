//! `refresh_tokens`: the kit's table of rotating refresh tokens
//! ([`dbkit::migrations::RefreshTokens`]), its users being Launchpad's.

use dbkit::migrations::RefreshTokens;

pub const MIGRATION: RefreshTokens =
    RefreshTokens::named("m20261122_000003_create_refresh_tokens", "users");
