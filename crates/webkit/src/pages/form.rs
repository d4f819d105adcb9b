//! A form body, read into the API's own input types.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::guard::CSRF_FIELD;
use crate::AppError;

/// An `application/x-www-form-urlencoded` body as `T`, read as the API reads the same
/// fields from JSON: so a form cannot say what the API would refuse. An empty field is
/// an absent one (what a blank input means), the CSRF field is the guard's, and every
/// value is text (the API's form-backed inputs take text).
pub struct Form<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let bytes = match Bytes::from_request(req, state).await {
            Ok(bytes) => bytes,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(AppError::PayloadTooLarge);
            }
            Err(e) => return Err(AppError::BadRequest(e.body_text())),
        };
        let mut fields = Map::new();
        for (name, value) in form_urlencoded::parse(&bytes) {
            if value.contains('\0') {
                return Err(AppError::invalid(
                    &name,
                    format!("{name} contains a NUL character"),
                ));
            }
            if name != CSRF_FIELD && !value.trim().is_empty() {
                fields.insert(name.into_owned(), Value::String(value.into_owned()));
            }
        }
        T::deserialize(Value::Object(fields))
            .map(Form)
            .map_err(|e| AppError::Validation {
                message: e.to_string(),
                details: json!({}),
            })
    }
}
