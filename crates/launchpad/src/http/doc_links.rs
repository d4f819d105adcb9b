//! OpenAPI links from each "create" to the operations on what it created, so that clients
//! (and the fuzzer's stateful phase) know that the `id` of `POST /api/things`'s 201 body
//! is the `{id}` of `/api/things/{id}` and of everything under it.

use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::{OpenApi, RefOr};

/// Adds, to the 201 answer of every `POST <collection>`, a link to each operation on
/// `<collection>/{id}` and below (but `restore`), whose `id` is the created resource's `id`.
pub fn link_created_resources(openapi: &mut OpenApi) {
    let targets: Vec<(String, String)> = openapi
        .paths
        .paths
        .iter()
        .flat_map(|(path, item)| {
            let methods = [
                ("get", item.get.is_some()),
                ("put", item.put.is_some()),
                ("post", item.post.is_some()),
                ("delete", item.delete.is_some()),
                ("patch", item.patch.is_some()),
            ];
            methods
                .into_iter()
                .filter(|(_, present)| *present)
                .map(|(method, _)| (path.clone(), method.to_owned()))
                .collect::<Vec<_>>()
        })
        .collect();
    for (collection, item) in openapi.paths.paths.iter_mut() {
        let Some(create) = item.post.as_mut() else {
            continue;
        };
        let Some(RefOr::T(created)) = create.responses.responses.get_mut("201") else {
            continue;
        };
        let prefix = format!("{collection}/{{id}}");
        for (path, method) in &targets {
            let below = path == &prefix || path.starts_with(&format!("{prefix}/"));
            // Only `{id}` may be filled from the created row; `…/restore` acts on deleted
            // rows only (a live one is 404 there), so it is no follow-up of a create.
            if !below || path.matches('{').count() != 1 || path.ends_with("/restore") {
                continue;
            }
            let link = LinkBuilder::new()
                .operation_ref(format!("#/paths/{}/{method}", pointer_escape(path)))
                .parameter("id", "$response.body#/id")
                .build();
            let name = format!("{method}{}", path.replace(['/', '{', '}', '-'], "_"));
            created.links.insert(name, RefOr::T(link));
        }
    }
}

/// A path as one JSON-pointer segment (`~` → `~0`, `/` → `~1`).
fn pointer_escape(path: &str) -> String {
    path.replace('~', "~0").replace('/', "~1")
}
