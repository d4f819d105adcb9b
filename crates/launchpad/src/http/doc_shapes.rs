//! The shapes of the OpenAPI document as generators read them: objects whose keys vary
//! say what their values are, a page's rows are its item schema, and a download lists
//! the types it serves.

use utoipa::openapi::schema::{AdditionalProperties, ArrayItems, Schema, SchemaType, Type};
use utoipa::openapi::{OpenApi, Ref, RefOr};

use crate::storage;

/// States the shapes.
pub fn state_shapes(openapi: &mut OpenApi) {
    state_open_objects(openapi);
    state_page_items(openapi);
    state_download_types(openapi);
}

/// An object whose keys vary (an event's details, an error's) holds any JSON values:
/// said outright (`additionalProperties: true`), or generators read `type: object`
/// alone as an object that may hold nothing.
fn state_open_objects(openapi: &mut OpenApi) {
    fn open(schema: &mut RefOr<Schema>) {
        match schema {
            RefOr::T(Schema::Object(object)) => {
                let is_object = matches!(&object.schema_type, SchemaType::Type(Type::Object))
                    || matches!(&object.schema_type, SchemaType::Array(t) if t.contains(&Type::Object));
                if is_object
                    && object.properties.is_empty()
                    && object.additional_properties.is_none()
                {
                    object.additional_properties =
                        Some(Box::new(AdditionalProperties::FreeForm(true)));
                }
                object.properties.values_mut().for_each(open);
            }
            RefOr::T(Schema::Array(list)) => {
                if let ArrayItems::RefOrSchema(items) = &mut list.items {
                    open(items);
                }
            }
            _ => {}
        }
    }
    if let Some(components) = openapi.components.as_mut() {
        components.schemas.values_mut().for_each(open);
    }
}

/// A page's rows are its item schema by reference (`Page_ProjectOut.data` holds
/// `ProjectOut`s), not a copy: generated classes then match, and the item's stated
/// rules (its enums) hold in lists too.
fn state_page_items(openapi: &mut OpenApi) {
    let Some(components) = openapi.components.as_mut() else {
        return;
    };
    let items: Vec<String> = components.schemas.keys().cloned().collect();
    for item in items {
        let Some(RefOr::T(Schema::Object(page))) =
            components.schemas.get_mut(&format!("Page_{item}"))
        else {
            continue;
        };
        if let Some(RefOr::T(Schema::Array(data))) = page.properties.get_mut("data") {
            data.items =
                ArrayItems::RefOrSchema(Box::new(RefOr::Ref(Ref::from_schema_name(&item))));
        }
    }
}

/// A download answers with the type detected at upload, one of the types uploads
/// accept: the document lists each, with the bytes' schema, instead of one generic type.
fn state_download_types(openapi: &mut OpenApi) {
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
