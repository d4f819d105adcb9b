//! Request extractors that answer in the API's error shape, and the caller as an actor
//! of the activity log.

use std::net::SocketAddr;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use dbkit::Actor;
use serde::de::DeserializeOwned;

use crate::AppError;

/// A JSON body; malformed JSON is a 400, wrong types or missing fields a 422. A whole
/// number written with a fraction (`4.0`) is taken where an integer is expected: JSON
/// Schema, and so every client generated from the document, counts it an integer.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        if !is_json(req.headers()) {
            return Err(AppError::UnsupportedMediaType(
                "expected Content-Type: application/json",
            ));
        }
        let bytes = match Bytes::from_request(req, state).await {
            Ok(bytes) => bytes,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(AppError::PayloadTooLarge);
            }
            Err(e) => return Err(AppError::BadRequest(e.body_text())),
        };
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(JsonRejection::JsonDataError(e)) => match with_whole_numbers(&bytes) {
                Some(value) => Ok(Json(value)),
                None => {
                    let message = e.body_text();
                    let details = match error_field(&message) {
                        Some(field) => serde_json::json!({ "field": field }),
                        None => serde_json::json!({}),
                    };
                    Err(AppError::Validation { message, details })
                }
            },
            Err(e) => Err(AppError::BadRequest(e.body_text())),
        }
    }
}

/// `application/json`, or a `+json` type, with any parameters.
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(essence) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
    else {
        return false;
    };
    let essence = essence.trim().to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The body as `T` once every whole number written with a fraction is an integer;
/// `None` if it has none, or `T` still does not fit.
fn with_whole_numbers<T: DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    fn whole(value: &mut serde_json::Value) -> bool {
        match value {
            serde_json::Value::Number(n) if n.is_f64() => {
                match n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15) {
                    Some(f) => {
                        *value = (f as i64).into();
                        true
                    }
                    None => false,
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().fold(false, |c, v| whole(v) | c),
            serde_json::Value::Object(map) => map.values_mut().fold(false, |c, v| whole(v) | c),
            _ => false,
        }
    }
    let mut value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    whole(&mut value)
        .then(|| T::deserialize(value).ok())
        .flatten()
}

/// Query-string parameters; anything that does not parse, or holds a NUL, is a 422.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        if let Some(field) = parts.uri.query().and_then(nul_parameter) {
            return Err(AppError::invalid(
                &field,
                format!("{field} contains a NUL character"),
            ));
        }
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| Query(v))
            .map_err(|e: QueryRejection| {
                let message = e.body_text();
                let details = match error_field(&message) {
                    Some(field) => serde_json::json!({ "field": field }),
                    None => serde_json::json!({}),
                };
                AppError::Validation { message, details }
            })
    }
}

/// The name of the first query parameter holding a NUL character, if any. PostgreSQL
/// cannot store or compare text with NUL (SQLite can), so a filter holding one would
/// fail on one backend only; it is refused on both. In a URI a NUL can only come
/// percent-encoded, as `%00` (a literal `%` is `%25`, so `%2500` is not one).
fn nul_parameter(query: &str) -> Option<String> {
    let pair = query.split('&').find(|pair| pair.contains("%00"))?;
    let name = pair
        .split('=')
        .next()
        .unwrap_or_default()
        .replace("%00", "");
    Some(if name.is_empty() {
        "query".to_owned()
    } else {
        name
    })
}

/// Path parameters; a malformed id is a 422 naming the parameter.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| Path(v))
            .map_err(|e: PathRejection| AppError::invalid("path", e.body_text()))
    }
}

/// Who is calling, from where: anonymous callers get an [`Actor`] too (for the log).
pub struct Client(pub Actor);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        Ok(Client(actor_from(parts)))
    }
}

/// The anonymous actor of a request: its client's address and user agent.
pub fn actor_from(parts: &Parts) -> Actor {
    let ip = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string());
    let user_agent = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Actor {
        user_id: None,
        ip,
        user_agent,
        started: Instant::now(),
    }
}

/// The field a JSON body or query string error is about: serde names it as a path prefix
/// (`tech_stack[0]: invalid type …`) or inside the message (``unknown field `amount` ``).
fn error_field(message: &str) -> Option<String> {
    let detail = ["target type: ", "query string: "]
        .iter()
        .find_map(|marker| message.split_once(marker))
        .map_or(message, |(_, d)| d);
    for marker in ["unknown field `", "missing field `"] {
        if let Some((_, rest)) = detail.split_once(marker) {
            return rest.split('`').next().map(str::to_owned);
        }
    }
    let (path, _) = detail.split_once(": ")?;
    (!path.is_empty() && !path.contains(' ') && path != ".").then(|| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::error_field;

    #[test]
    fn query_parameters_holding_a_nul_are_named() {
        use super::nul_parameter;
        assert_eq!(nul_parameter("a=1&action=x%00y").as_deref(), Some("action"));
        assert_eq!(nul_parameter("%00=1").as_deref(), Some("query"));
        assert_eq!(nul_parameter("search=100%2500"), None);
        assert_eq!(nul_parameter("search=a%2000"), None);
    }

    #[test]
    fn query_string_errors_name_their_field() {
        let message = "Failed to deserialize query string: created_after: must be a time \
                       between the years 1 and 9999";
        assert_eq!(error_field(message).as_deref(), Some("created_after"));
    }

    #[test]
    fn json_errors_name_their_field() {
        let prefix = "Failed to deserialize the JSON body into the target type: ";
        let cases = [
            (
                "unknown field `amount`, expected `plan_id` at line 1 column 9",
                Some("amount"),
            ),
            ("missing field `title` at line 1 column 2", Some("title")),
            (
                "email: invalid type: integer `5`, expected a string at line 1 column 10",
                Some("email"),
            ),
            (
                "tech_stack[0]: invalid type: integer `1`, expected a string",
                Some("tech_stack[0]"),
            ),
            (
                "invalid type: sequence, expected struct X at line 1 column 0",
                None,
            ),
        ];
        for (detail, field) in cases {
            assert_eq!(
                error_field(&format!("{prefix}{detail}")).as_deref(),
                field,
                "{detail}"
            );
        }
    }
}
