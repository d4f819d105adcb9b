//! The one JSON shape every error answers, `{"error", "details", "path", "request_id"}`,
//! and the status of each [`AppError`] (defined without HTTP, in [`crate::error`]): the
//! one place the domain error becomes an HTTP one.
//!
//! Handlers return [`AppError`]; its response carries an [`ErrorBody`] extension, and
//! [`render_errors`] (outermost middleware) turns that — and any bare 4xx/5xx made by a
//! layer or by axum itself — into the JSON body with the request's path and id.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::error::AppError;

/// Seconds a client is asked to wait when the database is unavailable.
const RETRY_AFTER_SECS: &str = "5";

impl AppError {
    /// The status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::WrongSecret { .. } => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::Gone(_) => StatusCode::GONE,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::StorageFull => StatusCode::INSUFFICIENT_STORAGE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The body of every error response.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorResponse {
    /// What went wrong, for a person.
    pub error: String,
    /// Machine-readable context: `field`, `allowed`, `constraint`, …
    #[schema(value_type = Object)]
    pub details: Value,
    /// The request path.
    pub path: String,
    /// The request id (also in the `x-request-id` header).
    pub request_id: Option<String>,
}

/// The message and details of an error response, before path and request id are added.
#[derive(Debug, Clone)]
pub struct ErrorBody {
    pub message: String,
    pub details: Value,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let AppError::Internal(cause) = &self {
            tracing::error!(%cause, "internal error");
        }
        let details = match &self {
            AppError::Conflict { details, .. } | AppError::Validation { details, .. } => {
                details.clone()
            }
            AppError::WrongSecret { field } => json!({ "field": field }),
            _ => json!({}),
        };
        let mut response = (
            status,
            ErrorBody {
                message: self.to_string(),
                details,
            },
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            // RFC 6750: say which scheme the client must use.
            let challenge = format!(r#"Bearer realm="{}""#, crate::settings().app);
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, value);
            }
        }
        if let AppError::TooManyRequests { retry_after_secs } = &self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
        if matches!(
            status,
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::INSUFFICIENT_STORAGE
        ) {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECS),
            );
        }
        response
    }
}

impl IntoResponse for ErrorBody {
    fn into_response(self) -> Response {
        let mut response = Response::new(Body::empty());
        response.extensions_mut().insert(self);
        response
    }
}

/// Writes every error response in the one JSON shape, adding the path and request id
/// (an HTML page answering an error of its own is left as it is).
/// Responses from layers and axum itself (404 of an unknown route, 405, 408, 413 …)
/// have no [`ErrorBody`]; they get their status's reason as the message.
pub async fn render_errors(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut response = next.run(request).await;
    let status = response.status();
    let body = match response.extensions_mut().remove::<ErrorBody>() {
        Some(body) => body,
        None if status.is_client_error() || status.is_server_error() => {
            // A body in a shape of its own — the API's JSON, or a page's HTML — stays.
            let has_shape = response
                .headers()
                .get(header::CONTENT_TYPE)
                .is_some_and(|v| {
                    v.as_bytes().starts_with(b"application/json")
                        || v.as_bytes().starts_with(b"text/html")
                });
            if has_shape {
                return response;
            }
            ErrorBody {
                message: status.canonical_reason().unwrap_or("error").to_lowercase(),
                details: json!({}),
            }
        }
        None => return response,
    };
    let json = json!({
        "error": body.message,
        "details": body.details,
        "path": path,
        "request_id": request_id,
    });
    let (mut parts, _) = response.into_parts();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(json.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_its_status() {
        let cases = [
            (AppError::BadRequest("x".into()), 400),
            (AppError::Unauthorized("x"), 401),
            (AppError::Forbidden, 403),
            (
                AppError::WrongSecret {
                    field: "current_password",
                },
                403,
            ),
            (AppError::NotFound("plan"), 404),
            (AppError::conflict("x"), 409),
            (AppError::PayloadTooLarge, 413),
            (AppError::UnsupportedMediaType("x"), 415),
            (AppError::invalid("f", "x"), 422),
            (
                AppError::TooManyRequests {
                    retry_after_secs: 3,
                },
                429,
            ),
            (AppError::Unavailable, 503),
            (AppError::Internal("boom".into()), 500),
        ];
        for (err, status) in cases {
            assert_eq!(err.status().as_u16(), status, "{err:?}");
        }
    }

    #[test]
    fn internal_errors_do_not_leak_their_cause() {
        assert_eq!(
            AppError::Internal("SELECT secret FROM x".into()).to_string(),
            "internal error"
        );
    }

    #[test]
    fn unavailable_answers_retry_after() {
        let response = AppError::Unavailable.into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], RETRY_AFTER_SECS);
    }
}
