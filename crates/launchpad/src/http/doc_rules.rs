//! The rules the server enforces, stated in the OpenAPI document from the definitions it
//! enforces them with: a list's `sort_by` and `status` are enums of its own
//! [`ListSpec`](dbkit::list::ListSpec), `per_page` is bounded by
//! [`MAX_PER_PAGE`](dbkit::list::MAX_PER_PAGE), and every closed set a body field is
//! checked against (`domain::one_of`) is that field's enum. Generated clients and
//! Swagger UI then offer exactly what the server accepts.

use dbkit::list::{ListRules, MAX_PER_PAGE};
use utoipa::openapi::path::{Operation, Parameter};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{OpenApi, RefOr};

use crate::domain::SIGNUP_STEPS;
use crate::http::{
    activity_logs, admin_requests, catalog, chatbot, files, ideas, meetings, orders, projects,
    subscriptions, synopsis, users,
};
use crate::storage;

/// Every body and answer field that holds one of a closed set, and the set the server
/// checks it against (or writes it from).
const CLOSED_SETS: &[(&str, &str, &[&str])] = &[
    ("OrderStatusIn", "status", orders::STATUSES),
    ("OrderOut", "status", orders::STATUSES),
    ("ResolveIn", "status", admin_requests::RESOLUTIONS),
    ("RequestOut", "status", admin_requests::STATUSES),
    ("ReviewIn", "decision", synopsis::DECISIONS),
    ("SynopsisOut", "status", synopsis::STATUSES),
    ("CreateIdeaIn", "complexity", ideas::COMPLEXITIES),
    ("RefineIdeaIn", "complexity", ideas::COMPLEXITIES),
    ("IdeaOut", "complexity", ideas::COMPLEXITIES),
    ("MessageIn", "message_type", chatbot::MESSAGE_TYPES),
    ("MessageOut", "message_type", chatbot::MESSAGE_TYPES),
    ("CreatePlanIn", "support_level", catalog::SUPPORT_LEVELS),
    ("UpdatePlanIn", "support_level", catalog::SUPPORT_LEVELS),
    ("PlanOut", "support_level", catalog::SUPPORT_LEVELS),
    ("FileUpload", "kind", files::UPLOAD_KINDS),
    ("FileOut", "kind", files::KINDS),
    ("UpdateMeIn", "signup_step", SIGNUP_STEPS),
    ("UserOut", "signup_step", SIGNUP_STEPS),
    ("ProjectStatusIn", "status", projects::STATUSES),
    ("ProjectOut", "status", projects::STATUSES),
    ("SubscriptionStatusIn", "status", subscriptions::STATUSES),
    ("MeetingOut", "status", meetings::STATUSES),
    ("SubscriptionOut", "status", subscriptions::STATUSES),
    ("ActivityLogOut", "status", activity_logs::STATUSES),
];

/// A download answers with the type detected at upload, one of the types uploads
/// accept: the document lists each, with the bytes' schema, instead of one generic type.
pub fn state_download_types(openapi: &mut OpenApi) {
    let Some(RefOr::T(ok)) = openapi
        .paths
        .paths
        .get_mut("/api/files/{id}")
        .and_then(|item| item.get.as_mut())
        .and_then(|op| op.responses.responses.get_mut("200"))
    else {
        return;
    };
    let Some((_, bytes)) = ok.content.shift_remove_index(0) else {
        return;
    };
    for content_type in storage::ALLOWED_TYPES {
        ok.content.insert((*content_type).to_owned(), bytes.clone());
    }
}

/// Makes each field of [`CLOSED_SETS`] an enum of its set (keeping `null` where the
/// field is optional).
pub fn state_closed_sets(openapi: &mut OpenApi) {
    let Some(components) = openapi.components.as_mut() else {
        return;
    };
    for (schema, field, values) in CLOSED_SETS {
        let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(*schema) else {
            continue;
        };
        let Some(RefOr::T(Schema::Object(property))) = object.properties.get_mut(*field) else {
            continue;
        };
        let nullable = matches!(&property.schema_type, SchemaType::Array(types) if types.contains(&Type::Null));
        let mut allowed: Vec<serde_json::Value> = values.iter().map(|v| (*v).into()).collect();
        if nullable {
            allowed.push(serde_json::Value::Null);
        }
        property.enum_values = Some(allowed);
    }
}

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

/// Query parameters, other than a list's own, that hold one of a closed set.
const CLOSED_PARAMS: &[(&str, &str, &[&str])] =
    &[("/api/projects/{id}/files", "kind", files::KINDS)];

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
    for (path, name, values) in CLOSED_PARAMS {
        if let Some(operation) = openapi
            .paths
            .paths
            .get_mut(*path)
            .and_then(|i| i.get.as_mut())
        {
            set_enum(operation, name, values);
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
