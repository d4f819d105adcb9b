//! What can go wrong, in every layer: the kit's one error type ([`webkit::error`]), with
//! nothing of HTTP in it; `webkit::response` gives its status and JSON shape.

pub use webkit::AppError;
