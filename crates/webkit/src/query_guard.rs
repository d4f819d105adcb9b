//! No query parameter is silently ignored. The parameters each operation takes are read
//! from the OpenAPI document — the one the handlers' own types produce — and a request
//! carrying any other (an old client's `skip`/`limit`, a typo) is a 422 that names it
//! and lists what the operation takes.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{OpenApi, RefOr};

use crate::error::AppError;

/// The query parameters of every documented operation, by method and route template.
#[derive(Debug, Default)]
pub struct QueryParams(HashMap<(Method, String), BTreeSet<String>>);

impl QueryParams {
    pub fn from_document(doc: &OpenApi) -> Arc<Self> {
        let mut known = HashMap::new();
        for (path, item) in &doc.paths.paths {
            let operations = [
                (Method::GET, &item.get),
                (Method::PUT, &item.put),
                (Method::POST, &item.post),
                (Method::DELETE, &item.delete),
                (Method::PATCH, &item.patch),
            ];
            for (method, operation) in operations {
                if let Some(operation) = operation {
                    known.insert((method, path.clone()), query_names(operation));
                }
            }
        }
        Arc::new(Self(known))
    }
}

fn query_names(operation: &Operation) -> BTreeSet<String> {
    operation
        .parameters
        .iter()
        .flatten()
        .filter_map(|p| match p {
            RefOr::T(p) if p.parameter_in == ParameterIn::Query => Some(p.name.clone()),
            _ => None,
        })
        .collect()
}

/// Refuses a request whose query string holds a parameter its operation does not take.
pub async fn refuse_unknown(
    State(known): State<Arc<QueryParams>>,
    request: Request,
    next: Next,
) -> Response {
    if let (Some(query), Some(route)) = (
        request.uri().query(),
        request.extensions().get::<MatchedPath>(),
    ) && let Some(allowed) = known
        .0
        .get(&(request.method().clone(), route.as_str().to_owned()))
        && let Some(unknown) = unknown_parameter(query, allowed)
    {
        return unknown_error(&unknown, allowed).into_response();
    }
    next.run(request).await
}

/// The first parameter of `query` not in `allowed`, decoded.
fn unknown_parameter(query: &str, allowed: &BTreeSet<String>) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .map(|(name, _)| name)
        .find(|name| !allowed.contains(name.as_ref()))
        .map(|name| name.into_owned())
}

fn unknown_error(name: &str, allowed: &BTreeSet<String>) -> AppError {
    let hint = match name {
        "skip" | "limit" | "offset" => {
            " (pages are `page` and `per_page`, or `cursor` and `per_page`)"
        }
        _ => "",
    };
    AppError::Validation {
        message: format!("{name} is not a parameter of this operation{hint}"),
        details: json!({ "field": name, "allowed": allowed }),
    }
}
