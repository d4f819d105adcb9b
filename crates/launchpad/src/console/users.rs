//! Users: search, deactivate and reactivate, restore from the trash, and erase — after
//! a page that says what erasure does and cannot undo, confirmed by typing the address.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use uuid::Uuid;
use webkit::AppError;
use webkit::extract::{Path, Query};
use webkit::pages::Form;
use webkit::pages::guard::CsrfToken;

use super::view::{self, Action, Cell, Filter, Frame, Listing, Row, TablePage};
use super::{Act, SignedInAdmin};
use crate::entity::users::Model;
use crate::resources::users::{self, UserFilters};
use crate::state::AppState;

const PAGE: &str = "/admin/users";
const STATES: &[&str] = &["active", "deactivated", "deleted"];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(list))
        .route("/users/{id}/erase", get(erase_page).post(erase))
        .route("/users/{id}/{verb}", post(change))
}

async fn list(
    State(state): State<AppState>,
    SignedInAdmin(admin): SignedInAdmin,
    csrf: CsrfToken,
    Query(listing): Query<Listing>,
) -> Result<Response, AppError> {
    // The page's `status` is the account's state; the API's list has no status of its own.
    let account_state = listing.status.clone().unwrap_or_default();
    let filters = match account_state.as_str() {
        "active" => UserFilters::new(Some(true), false),
        "deactivated" => UserFilters::new(Some(false), false),
        "deleted" => UserFilters::new(None, true),
        _ => UserFilters::new(None, false),
    };
    let params = Listing {
        status: Some(String::new()),
        ..listing.clone()
    }
    .params(None);
    let page = users::list(&state.db, &params, filters).await?;
    let next = listing.next(PAGE, None, &page.meta);
    Ok(view::render(&TablePage {
        frame: Frame::new("Users", &admin, csrf),
        intro: None,
        filters: vec![
            Filter {
                name: "search",
                label: "Email or name",
                kind: "search",
                value: params.search.clone().unwrap_or_default(),
                choices: Vec::new(),
            },
            Filter {
                name: "status",
                label: "State",
                kind: "text",
                value: account_state,
                choices: STATES.to_vec(),
            },
        ],
        columns: vec!["Email", "Name", "Role", "Joined", "Last sign-in", "State"],
        rows: page.data.iter().map(|u| row(u, &admin.user)).collect(),
        next,
    }))
}

/// Deactivates, reactivates or restores an account, as its row's button says.
async fn change(
    State(state): State<AppState>,
    act: Act,
    Path((id, verb)): Path<(Uuid, String)>,
) -> Response {
    let db = &state.db;
    let done = match verb.as_str() {
        "deactivate" => users::set_active(db, act.caller(), id, false)
            .await
            .map(|u| (u, "Deactivated; their sessions ended.")),
        "activate" => users::set_active(db, act.caller(), id, true)
            .await
            .map(|u| (u, "Active again.")),
        "restore" => users::restore(db, act.caller(), id)
            .await
            .map(|u| (u, "Restored, with what its deletion took.")),
        _ => Err(AppError::NotFound("action")),
    };
    let done = done.map(|(user, said)| row(&user, act.admin()).said(said));
    act.answer(id, done, PAGE)
}

#[derive(Template)]
#[template(path = "console/erase.html")]
struct ErasePage {
    frame: Frame,
    user: Model,
    error: Option<String>,
}

async fn erase_page(
    State(state): State<AppState>,
    SignedInAdmin(admin): SignedInAdmin,
    csrf: CsrfToken,
    Path(id): Path<Uuid>,
) -> Result<Response, AppError> {
    let user = crate::access::reload::<crate::entity::users::Entity>(&state.db, id).await?;
    Ok(view::render(&ErasePage {
        frame: Frame::new("Users", &admin, csrf).titled("Erase an account"),
        user,
        error: None,
    }))
}

#[derive(Deserialize)]
struct Confirmation {
    #[serde(default)]
    confirm: String,
}

async fn erase(
    State(state): State<AppState>,
    SignedInAdmin(admin): SignedInAdmin,
    csrf: CsrfToken,
    Path(id): Path<Uuid>,
    form: Result<Form<Confirmation>, AppError>,
) -> Result<Response, AppError> {
    let user = crate::access::reload::<crate::entity::users::Entity>(&state.db, id).await?;
    let confirmed = form.is_ok_and(|Form(c)| c.confirm.trim() == user.email);
    let result = if confirmed {
        users::erase(&state.db, admin.caller(), id).await.map(drop)
    } else {
        Err(AppError::invalid(
            "confirm",
            "type the account's email address to confirm",
        ))
    };
    let error = match result {
        Ok(()) => {
            let page = ErasedPage {
                frame: Frame::new("Users", &admin, csrf).titled("Account erased"),
            };
            return Ok(view::render(&page));
        }
        Err(e) => e,
    };
    let (status, message) = view::said(error);
    let page = ErasePage {
        frame: Frame::new("Users", &admin, csrf).titled("Erase an account"),
        user,
        error: Some(message),
    };
    Ok((status, view::render(&page)).into_response())
}

#[derive(Template)]
#[template(
    source = r#"{% extends "console/base.html" %}{% block content %}<p role="status">The account is erased. Files and archived rows go within seconds, by background jobs.</p><p><a href="/admin/users">Back to users</a></p>{% endblock %}"#,
    ext = "html"
)]
struct ErasedPage {
    frame: Frame,
}

fn row(u: &Model, admin: &Model) -> Row {
    let state = match (u.deleted_at, u.is_active) {
        (Some(_), _) => "deleted",
        (None, true) => "active",
        (None, false) => "deactivated",
    };
    let cells = vec![
        Cell::text(&u.email),
        Cell::text(&u.name),
        Cell::text(if u.is_admin { "admin" } else { "student" }),
        Cell::time(&u.created_at),
        Cell::maybe(u.last_login_at.map(|t| t.format("%Y-%m-%d %H:%M"))),
        Cell::Status(state.to_owned()),
    ];
    let mut row = Row::new(u.id, cells);
    if u.id == admin.id {
        return row;
    }
    let url = |verb: &str| format!("{PAGE}/{}/{verb}", u.id);
    row = match state {
        "active" => row.action(Action::new("Deactivate", url("deactivate"))),
        "deactivated" => row.action(Action::new("Activate", url("activate"))),
        _ => row.action(Action::new("Restore", url("restore"))),
    };
    row.link(url("erase"), "Erase…")
}
