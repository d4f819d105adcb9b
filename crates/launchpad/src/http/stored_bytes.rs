//! Answering a GET or HEAD for a stored file, streamed from storage: the whole file, one
//! range of it (206, so that a download can resume), 304 for a copy the client already
//! has, or 416 for a range outside it. A stored file never changes, so its SHA-256 is a
//! strong ETag. As before with files on local disk, a request for several ranges gets
//! the whole file.

use std::ops::RangeInclusive;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;

use crate::error::AppError;
use crate::storage::Area;

/// What part of a file of `size` bytes a request asks for.
#[derive(Debug, PartialEq, Eq)]
enum Part {
    Whole,
    Range(RangeInclusive<u64>),
    NotModified,
    Unsatisfiable,
}

fn part(headers: &HeaderMap, size: u64, etag: &HeaderValue) -> Part {
    let matches = |v: &HeaderValue| {
        v.to_str()
            .is_ok_and(|v| v.split(',').any(|t| t.trim() == "*" || t.trim() == etag))
    };
    if headers.get(header::IF_NONE_MATCH).is_some_and(matches) {
        return Part::NotModified;
    }
    let Some(range) = headers.get(header::RANGE) else {
        return Part::Whole;
    };
    // A range of another version of the file: send this version whole.
    if headers.get(header::IF_RANGE).is_some_and(|v| v != etag) {
        return Part::Whole;
    }
    let Ok(parsed) = range
        .to_str()
        .map_err(drop)
        .and_then(|r| http_range_header::parse_range_header(r).map_err(drop))
    else {
        return Part::Unsatisfiable;
    };
    if parsed.ranges.len() > 1 {
        return Part::Whole;
    }
    match parsed.validate(size).map(|mut ranges| ranges.pop()) {
        Ok(Some(range)) => Part::Range(range),
        _ => Part::Unsatisfiable,
    }
}

/// The answer to `method` with `headers` for the object `key` in `area`, `size` bytes
/// with SHA-256 `sha256`; `None` if storage has no such object.
pub async fn answer(
    area: &Area,
    key: &str,
    size: u64,
    sha256: &str,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Option<Response>, AppError> {
    let etag = HeaderValue::from_str(&format!("\"{sha256}\""))
        .map_err(|_| AppError::Internal(format!("stored file {key} has a bad digest")))?;
    let part = part(headers, size, &etag);
    let response = Response::builder()
        .header(header::ETAG, &etag)
        .header(header::ACCEPT_RANGES, "bytes");
    let (response, range) = match part {
        Part::NotModified => (response.status(StatusCode::NOT_MODIFIED), None),
        Part::Unsatisfiable => (
            response
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{size}")),
            None,
        ),
        Part::Whole => (
            response
                .status(StatusCode::OK)
                .header(header::CONTENT_LENGTH, size),
            Some(0..size),
        ),
        Part::Range(range) => (
            response
                .status(StatusCode::PARTIAL_CONTENT)
                .header(header::CONTENT_LENGTH, range.end() - range.start() + 1)
                .header(
                    header::CONTENT_RANGE,
                    format!("bytes {}-{}/{size}", range.start(), range.end()),
                ),
            Some(*range.start()..range.end() + 1),
        ),
    };
    // Even an answer without bytes says whether the file is there.
    let body = match range {
        Some(range) if method != Method::HEAD && !range.is_empty() => {
            match area.get(key, Some(range)).await? {
                Some(bytes) => Body::from_stream(bytes),
                None => return Ok(None),
            }
        }
        _ if !area.exists(key).await? => return Ok(None),
        _ => Body::empty(),
    };
    response
        .body(body)
        .map(Some)
        .map_err(|e| AppError::Internal(format!("download answer: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(pairs: &[(header::HeaderName, &str)]) -> Part {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(name, HeaderValue::from_str(value).expect("value"));
        }
        part(&headers, 100, &HeaderValue::from_static("\"abc\""))
    }

    #[test]
    fn a_request_gets_the_part_it_asks_for() {
        use header::{IF_NONE_MATCH, IF_RANGE, RANGE};
        assert_eq!(asked(&[]), Part::Whole);
        assert_eq!(asked(&[(RANGE, "bytes=0-9")]), Part::Range(0..=9));
        assert_eq!(asked(&[(RANGE, "bytes=90-")]), Part::Range(90..=99));
        assert_eq!(asked(&[(RANGE, "bytes=-5")]), Part::Range(95..=99));
        assert_eq!(asked(&[(RANGE, "bytes=0-1,5-6")]), Part::Whole);
        assert_eq!(asked(&[(RANGE, "bytes=100-")]), Part::Unsatisfiable);
        assert_eq!(asked(&[(RANGE, "pages=1")]), Part::Unsatisfiable);
        assert_eq!(asked(&[(IF_NONE_MATCH, "\"abc\"")]), Part::NotModified);
        assert_eq!(
            asked(&[(IF_NONE_MATCH, "\"x\", \"abc\"")]),
            Part::NotModified
        );
        assert_eq!(asked(&[(IF_NONE_MATCH, "\"x\"")]), Part::Whole);
        assert_eq!(
            asked(&[(RANGE, "bytes=0-9"), (IF_RANGE, "\"abc\"")]),
            Part::Range(0..=9)
        );
        assert_eq!(
            asked(&[(RANGE, "bytes=0-9"), (IF_RANGE, "\"old\"")]),
            Part::Whole
        );
    }
}
