//! The rules the server enforces on request bodies, stated in the OpenAPI document
//! from the definitions it enforces them with: every closed set a field is checked
//! against (`domain::one_of`) is that field's enum, every text field states its
//! [`Text`] rule as `minLength`, `maxLength` and `pattern`, every whole number its
//! [`Whole`] bounds, rules between fields are `if`/`then`, and a form takes only its
//! fields. Generated clients then send exactly what the server accepts.

use serde_json::json;
use utoipa::openapi::encoding::Encoding;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayItems, KnownFormat, Object, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{OpenApi, RefOr};

use crate::domain::text::{MAX_TAGS, NAME, PASSWORD, PHONE_MAX, phone_pattern};
use crate::domain::{EMAIL_LENGTH, SIGNUP_STEPS, Text, Whole};
use crate::http::activity_logs;
use crate::resources::{
    admin_requests, catalog, chat, files, ideas, meetings, orders, projects, subscriptions,
    synopsis, users,
};
use crate::storage;

/// States every rule of the request bodies (and the closed sets of the answers).
pub fn state_body_rules(openapi: &mut OpenApi) {
    state_closed_sets(openapi);
    state_text_rules(openapi);
    state_whole_rules(openapi);
    state_field_dependencies(openapi);
    state_forms(openapi);
}

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
    ("MessageIn", "message_type", chat::MESSAGE_TYPES),
    ("MessageOut", "message_type", chat::MESSAGE_TYPES),
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

/// Makes each field of [`CLOSED_SETS`] an enum of its set (keeping `null` where the
/// field is optional).
fn state_closed_sets(openapi: &mut OpenApi) {
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

/// How a text field of a body is checked; the field is named by its rule.
enum Bound {
    Text(&'static Text),
    /// A list of labels, each keeping the rule.
    Tags(&'static Text),
    /// `phone`.
    Phone,
    /// `email`.
    Email,
}

impl Bound {
    fn field(&self) -> &'static str {
        match self {
            Bound::Text(rule) | Bound::Tags(rule) => rule.field,
            Bound::Phone => "phone",
            Bound::Email => "email",
        }
    }
}

/// Every text field of every request body, by schema, and how the server checks it.
const TEXT_FIELDS: &[(&str, &[Bound])] = &[
    (
        "RegisterIn",
        &[
            Bound::Email,
            Bound::Text(&NAME),
            Bound::Text(&PASSWORD),
            Bound::Phone,
        ],
    ),
    ("UpdateMeIn", &[Bound::Text(&NAME), Bound::Phone]),
    ("ChangePasswordIn", &[Bound::Text(&users::NEW_PASSWORD)]),
    ("CreateProjectIn", PROJECT_TEXTS),
    ("UpdateProjectIn", PROJECT_TEXTS),
    ("CreateIdeaIn", IDEA_TEXTS),
    ("RefineIdeaIn", IDEA_TEXTS),
    (
        "CreatePlanIn",
        &[
            CATALOG_NAME,
            CATALOG_DESCRIPTION,
            Bound::Tags(&catalog::FEATURES),
        ],
    ),
    (
        "UpdatePlanIn",
        &[
            CATALOG_NAME,
            CATALOG_DESCRIPTION,
            Bound::Tags(&catalog::FEATURES),
        ],
    ),
    ("CreateServiceIn", &[CATALOG_NAME, CATALOG_DESCRIPTION]),
    ("UpdateServiceIn", &[CATALOG_NAME, CATALOG_DESCRIPTION]),
    (
        "RequestMeetingIn",
        &[Bound::Text(&meetings::TOPIC), Bound::Text(&meetings::NOTES)],
    ),
    ("ScheduleIn", &[Bound::Text(&meetings::MEETING_LINK)]),
    ("CompleteIn", &[Bound::Text(&meetings::NOTES)]),
    ("OrderStatusIn", &[Bound::Text(&orders::PAYMENT_REFERENCE)]),
    (
        "FileRequestIn",
        &[
            Bound::Text(&admin_requests::REQUEST_TYPE),
            Bound::Text(&admin_requests::MESSAGE),
        ],
    ),
    ("ResolveIn", &[Bound::Text(&admin_requests::NOTE)]),
    ("SynopsisUpload", &[Bound::Text(&synopsis::TITLE)]),
    ("ReviewIn", &[Bound::Text(&synopsis::COMMENT)]),
    (
        "MessageIn",
        &[Bound::Text(&chat::MESSAGE), Bound::Text(&chat::INTENT)],
    ),
];

const PROJECT_TEXTS: &[Bound] = &[
    Bound::Text(&projects::TITLE),
    Bound::Text(&projects::DESCRIPTION),
    Bound::Text(&projects::CATEGORY),
    Bound::Tags(&projects::TECH_STACK),
];
const IDEA_TEXTS: &[Bound] = &[
    Bound::Text(&ideas::TITLE),
    Bound::Text(&ideas::DESCRIPTION),
    Bound::Text(&ideas::CATEGORY),
    Bound::Tags(&ideas::TECH_STACK),
];
const CATALOG_NAME: Bound = Bound::Text(&catalog::NAME);
const CATALOG_DESCRIPTION: Bound = Bound::Text(&catalog::DESCRIPTION);

/// Writes each text field's bounds into its schema (the items' schema for a list of
/// labels, which is also bounded to [`MAX_TAGS`] entries).
fn state_text_rules(openapi: &mut OpenApi) {
    let Some(components) = openapi.components.as_mut() else {
        return;
    };
    for (schema, bounds) in TEXT_FIELDS {
        let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(*schema) else {
            continue;
        };
        for bound in *bounds {
            state_text_rule(object, bound);
        }
    }
}

/// Writes one text field's bounds into the object schema that holds it.
fn state_text_rule(object: &mut Object, bound: &Bound) {
    match (object.properties.get_mut(bound.field()), bound) {
        (Some(RefOr::T(Schema::Array(list))), Bound::Tags(rule)) => {
            list.max_items = Some(MAX_TAGS);
            if let ArrayItems::RefOrSchema(items) = &mut list.items
                && let RefOr::T(Schema::Object(item)) = items.as_mut()
            {
                bound_text(item, rule);
            }
        }
        (Some(RefOr::T(Schema::Object(text))), Bound::Text(rule)) => bound_text(text, rule),
        (Some(RefOr::T(Schema::Object(text))), Bound::Phone) => {
            text.max_length = Some(PHONE_MAX);
            text.pattern = Some(phone_pattern());
            text.examples = vec![json!("+1 555 010 2030")];
        }
        (Some(RefOr::T(Schema::Object(text))), Bound::Email) => {
            (text.min_length, text.max_length) = (Some(EMAIL_LENGTH.0), Some(EMAIL_LENGTH.1));
            text.format = Some(SchemaFormat::KnownFormat(KnownFormat::Email));
        }
        _ => {}
    }
}

fn bound_text(schema: &mut Object, rule: &Text) {
    schema.min_length = Some(rule.min);
    schema.max_length = Some(rule.max);
    schema.pattern = rule.pattern();
}

/// Every whole-number field of a request body and its bounds.
const WHOLE_FIELDS: &[(&str, &Whole)] = &[
    ("CreatePlanIn", &catalog::PRICE),
    ("UpdatePlanIn", &catalog::PRICE),
    ("CreateServiceIn", &catalog::PRICE),
    ("UpdateServiceIn", &catalog::PRICE),
    ("CreatePlanIn", &catalog::MAX_PROJECTS),
    ("UpdatePlanIn", &catalog::MAX_PROJECTS),
    ("RateIn", &ideas::RATING),
];

/// Writes each whole-number field's bounds into its schema.
fn state_whole_rules(openapi: &mut OpenApi) {
    let Some(components) = openapi.components.as_mut() else {
        return;
    };
    for (schema, whole) in WHOLE_FIELDS {
        if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(*schema)
            && let Some(RefOr::T(Schema::Object(field))) = object.properties.get_mut(whole.field)
        {
            field.minimum = Some(whole.min.into());
            field.maximum = (whole.max != i64::MAX).then(|| whole.max.into());
        }
    }
}

/// Rules that tie one field of a body to another, as JSON Schema's `if`/`then`/`else`:
/// a rejected synopsis needs a comment; a payment reference is only recorded with the
/// status that records payment.
fn state_field_dependencies(openapi: &mut OpenApi) {
    let comment = Text {
        min: 1,
        ..synopsis::COMMENT
    };
    let rejected = json!({ "properties": { "decision": { "const": synopsis::NEEDS_COMMENT } } });
    let commented = json!({
        "required": ["comment"],
        "properties": { "comment": { "type": "string", "pattern": comment.pattern() } },
    });
    let paid = json!({ "properties": { "status": { "const": orders::RECORDS_PAYMENT } } });
    let no_reference = json!({ "properties": { "payment_reference": { "type": "null" } } });
    let Some(components) = openapi.components.as_mut() else {
        return;
    };
    for (schema, keywords) in [
        ("ReviewIn", [("if", rejected), ("then", commented)]),
        ("OrderStatusIn", [("if", paid), ("else", no_reference)]),
    ] {
        if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(schema) {
            // utoipa's schema model has no `if`; its extensions serialise inline.
            object
                .extensions
                .get_or_insert_with(Default::default)
                .extend(keywords.map(|(k, v)| (k.to_owned(), v)));
        }
    }
}

/// A form (`multipart/form-data`) is read field by field, and any field it does not
/// name is refused (`storage::read_form`): its schema says so. Its file may be any of
/// the types uploads accept, which its encoding lists.
fn state_forms(openapi: &mut OpenApi) {
    let mut forms = Vec::new();
    for item in openapi.paths.paths.values_mut() {
        for operation in [&mut item.post, &mut item.put, &mut item.patch]
            .into_iter()
            .flatten()
        {
            let Some(RefOr::T(body)) = operation.request_body.as_mut() else {
                continue;
            };
            let Some(RefOr::T(form)) = body.content.get_mut("multipart/form-data") else {
                continue;
            };
            let file_types = Encoding::builder()
                .content_type(Some(storage::ALLOWED_TYPES.join(", ")))
                .build();
            form.encoding
                .insert(storage::FILE_FIELD.to_owned(), file_types);
            if let Some(RefOr::Ref(schema)) = &form.schema {
                forms.push(
                    schema
                        .ref_location
                        .rsplit('/')
                        .next()
                        .unwrap_or_default()
                        .to_owned(),
                );
            }
        }
    }
    let Some(components) = openapi.components.as_mut() else {
        return;
    };
    for name in forms {
        if let Some(RefOr::T(Schema::Object(form))) = components.schemas.get_mut(&name) {
            form.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
        }
    }
}
