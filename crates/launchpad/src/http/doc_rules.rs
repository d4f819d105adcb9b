//! The rules the server enforces on list parameters, stated in the OpenAPI document from
//! the definitions it enforces them with: `sort_by` and `status` are enums of each list's
//! own [`ListSpec`](dbkit::list::ListSpec), `per_page` is bounded by
//! [`MAX_PER_PAGE`](dbkit::list::MAX_PER_PAGE). Generated clients and Swagger UI then
//! offer exactly what the server accepts.

use dbkit::list::{ListRules, MAX_PER_PAGE};
use utoipa::openapi::path::{Operation, Parameter};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{OpenApi, RefOr};

use crate::http::{
    activity_logs, admin_requests, catalog, chatbot, files, ideas, meetings, orders, projects,
    subscriptions, synopsis, users,
};

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
            chatbot::MESSAGE_LIST.rules(),
        ),
        ("/api/projects/{id}/files", files::FILE_LIST.rules()),
        ("/api/ideas", ideas::IDEA_LIST.rules()),
        ("/api/meetings", meetings::MEETING_LIST.rules()),
        ("/api/orders", orders::ORDER_LIST.rules()),
        ("/api/projects", projects::PROJECT_LIST.rules()),
        (
            "/api/subscriptions",
            subscriptions::SUBSCRIPTION_LIST.rules(),
        ),
        ("/api/synopsis", synopsis::SYNOPSIS_LIST.rules()),
        ("/api/admin/users", users::USER_LIST.rules()),
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
        if let Some(statuses) = rules.statuses {
            set_enum(operation, "status", statuses);
        }
    }
    for item in openapi.paths.paths.values_mut() {
        if let Some(per_page) = item.get.as_mut().and_then(|op| parameter(op, "per_page")) {
            per_page.schema = Some(RefOr::T(Schema::Object(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1))
                    .maximum(Some(MAX_PER_PAGE))
                    .build(),
            )));
        }
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
