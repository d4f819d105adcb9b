//! Pieces of raw SQL that differ between the backends.

use sea_orm::DbBackend;

/// The `n`th (from 1) parameter's placeholder, numbered on both backends (`$n`, `?n`),
/// so that a statement may use one value more than once.
pub(crate) fn param(backend: DbBackend, n: usize) -> String {
    match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => format!("?{n}"),
    }
}
