//! The rules of query and path parameters, stated in the OpenAPI document from the
//! definitions the server enforces them with: a list's `sort_by` and `status` are
//! enums of its own [`ListSpec`](dbkit::list::ListSpec), `page`, `per_page` and
//! `search` are bounded as `dbkit::list` bounds them, and no text parameter may hold a
//! NUL. Generated clients and Swagger UI then offer exactly what the server accepts.

use dbkit::list::{ListRules, MAX_PAGE, MAX_PER_PAGE, MAX_SEARCH_LEN};
use utoipa::openapi::path::{Operation, Parameter, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{OpenApi, RefOr};

use crate::http::activity_logs;
use crate::resources::{
    admin_requests, catalog, chat, files, ideas, meetings, orders, projects, subscriptions,
    synopsis, users,
};
use crate::tables::REGISTRY;

/// Every list operation (a GET) and the spec its handler validates with.
fn lists() -> Vec<(&'static str, ListRules)> {
    vec![
        ("/api/activity-logs", activity_logs::LOG_LIST.rules()),
        ("/api/activity-logs/me", activity_logs::LOG_LIST.rules()),
        ("/api/requests", admin_requests::REQUEST_LIST.rules()),
        ("/api/plans", catalog::PLAN_LIST.rules()),
        ("/api/admin/plans", catalog::PLAN_LIST.rules()),
        ("/api/services", catalog::SERVICE_LIST.rules()),
        ("/api/admin/services", catalog::SERVICE_LIST.rules()),
        (
            "/api/chatbot/sessions/{session_id}/messages",
            chat::MESSAGE_LIST.rules(),
        ),
        ("/api/projects/{id}/files", files::FILE_LIST.rules()),
        ("/api/ideas", ideas::IDEA_LIST.rules()),
        ("/api/meetings", meetings::MEETING_LIST.rules()),
        ("/api/orders", orders::ORDER_LIST.rules()),
        ("/api/projects", projects::LIST.rules()),
        (
            "/api/subscriptions",
            subscriptions::SUBSCRIPTION_LIST.rules(),
        ),
        ("/api/synopsis", synopsis::SYNOPSIS_LIST.rules()),
        ("/api/admin/users", users::USER_LIST.rules()),
    ]
}

/// Parameters, other than a list's own, that hold one of a closed set: (path, whether
/// the operation is a POST rather than a GET, name, set).
fn closed_params() -> Vec<(&'static str, bool, &'static str, Vec<&'static str>)> {
    let entity_types = REGISTRY.entity_types();
    vec![
        (
            "/api/projects/{id}/files",
            false,
            "kind",
            files::KINDS.to_vec(),
        ),
        (
            "/api/admin/trash",
            false,
            "entity_type",
            entity_types.clone(),
        ),
        (
            "/api/admin/trash/{entity_type}/{id}/restore",
            true,
            "entity_type",
            entity_types,
        ),
    ]
}

/// Writes each list's rules into its parameters, and bounds `per_page` everywhere.
pub fn state_list_rules(openapi: &mut OpenApi) {
    for (path, rules) in lists() {
        let Some(operation) = openapi
            .paths
            .paths
            .get_mut(path)
            .and_then(|item| item.get.as_mut())
        else {
            continue;
        };
        set_enum(operation, "sort_by", &rules.sort_by);
        match rules.statuses {
            Some(statuses) => set_enum(operation, "status", statuses),
            // Nothing to filter by: the parameter is not there (and so is refused).
            None => {
                if let Some(parameters) = operation.parameters.as_mut() {
                    parameters.retain(|p| !matches!(p, RefOr::T(p) if p.name == "status"));
                }
            }
        }
    }
    for (path, post, name, values) in closed_params() {
        let item = openapi.paths.paths.get_mut(path);
        let operation = item.and_then(|i| {
            if post {
                i.post.as_mut()
            } else {
                i.get.as_mut()
            }
        });
        if let Some(operation) = operation {
            set_enum(operation, name, &values);
        }
    }
    for operation in openapi
        .paths
        .paths
        .values_mut()
        .filter_map(|i| i.get.as_mut())
    {
        bound_integer(operation, "per_page", MAX_PER_PAGE);
        bound_integer(operation, "page", MAX_PAGE);
        if let Some(search) = parameter(operation, "search") {
            search.schema = Some(RefOr::T(Schema::Object(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .max_length(Some(MAX_SEARCH_LEN))
                    .build(),
            )));
        }
        refuse_nul_in_query(operation);
    }
}

fn parameter<'a>(operation: &'a mut Operation, name: &str) -> Option<&'a mut Parameter> {
    operation
        .parameters
        .iter_mut()
        .flatten()
        .find_map(|p| match p {
            RefOr::T(p) if p.name == name => Some(p),
            _ => None,
        })
}

/// No query parameter may hold a NUL character (`extract::Query` refuses one, as
/// PostgreSQL cannot compare text holding it): each free text parameter says so.
fn refuse_nul_in_query(operation: &mut Operation) {
    for parameter in operation.parameters.iter_mut().flatten() {
        if let RefOr::T(parameter) = parameter
            && matches!(parameter.parameter_in, ParameterIn::Query)
            && let Some(RefOr::T(Schema::Object(text))) = parameter.schema.as_mut()
            && matches!(&text.schema_type, SchemaType::Type(Type::String))
            && text.enum_values.is_none()
            && text.format.is_none()
        {
            text.pattern = Some(r"^[^\x00]*$".to_owned());
        }
    }
}

/// Makes the parameter `name`, if there, an integer from 1 to `max`.
fn bound_integer(operation: &mut Operation, name: &str, max: u64) {
    if let Some(parameter) = parameter(operation, name) {
        parameter.schema = Some(RefOr::T(Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .maximum(Some(max))
                .build(),
        )));
    }
}

fn set_enum(operation: &mut Operation, name: &str, values: &[&str]) {
    if let Some(parameter) = parameter(operation, name) {
        parameter.schema = Some(RefOr::T(Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(values.iter().copied()))
                .build(),
        )));
    }
}
