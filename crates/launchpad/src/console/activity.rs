//! The activity log: filtered by who, what, which entity, outcome and time; each
//! entity's history a click away; and the hash chain's state.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use chrono::{NaiveDate, NaiveTime};
use dbkit::activity::{self as logs, STATUSES};
use dbkit::chain::verify::Report;
use dbkit::list::ListParams;
use dbkit::time::Timestamp;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::Deserialize;
use uuid::Uuid;
use webkit::AppError;
use webkit::activity::LogFilters;
use webkit::extract::Query;
use webkit::pages::guard::CsrfToken;

use super::view::{self, Cell, Filter, Frame, Row};
use super::{SignedInAdmin, lookup};
use crate::entity::users;
use crate::state::AppState;

const PAGE: &str = "/admin/activity";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/activity", get(list))
        .route("/activity/chain", get(chain))
}

/// The log's filters, as the page's form sends them (every one may be blank).
#[derive(Debug, Default, Deserialize, serde::Serialize)]
struct LogListing {
    user: Option<String>,
    action: Option<String>,
    entity_type: Option<String>,
    entity_id: Option<String>,
    status: Option<String>,
    /// A day (`YYYY-MM-DD`, UTC), from its start.
    since: Option<String>,
    /// A day, to its end.
    until: Option<String>,
    cursor: Option<String>,
}

#[derive(Template)]
#[template(path = "console/activity.html")]
struct ActivityPage {
    frame: Frame,
    intro: Option<String>,
    filters: Vec<Filter>,
    columns: Vec<&'static str>,
    rows: Vec<Row>,
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "console/chain.html")]
struct ChainState {
    report: Report,
}

async fn list(
    State(state): State<AppState>,
    SignedInAdmin(admin): SignedInAdmin,
    csrf: CsrfToken,
    Query(listing): Query<LogListing>,
) -> Result<Response, AppError> {
    let listing = listing.blanks_absent();
    let params = ListParams {
        cursor: Some(listing.cursor.clone().unwrap_or_default()),
        per_page: Some(25),
        status: listing.status.clone(),
        created_after: day(listing.since.as_deref(), "since", 0)?,
        created_before: day(listing.until.as_deref(), "until", 1)?,
        ..Default::default()
    };
    let filters = LogFilters {
        action: listing.action.clone(),
        entity_type: listing.entity_type.clone(),
        entity_id: listing.entity_id.clone(),
    };
    let mut rows = logs::Entity::find();
    if let Some(user) = &listing.user {
        rows = rows.filter(logs::Column::UserId.eq(user_id(&state.db, user).await?));
    }
    let page = webkit::activity::models(&state.db, rows, &params, &filters).await?;
    let emails = lookup::emails(&state.db, page.data.iter().filter_map(|l| l.user_id)).await?;
    let next = view::next_page(PAGE, &listing.pairs(), &page.meta);
    Ok(view::render(&ActivityPage {
        frame: Frame::new("Activity log", &admin, csrf),
        intro: None,
        filters: listing.filters(),
        columns: vec![
            "When", "Who", "Action", "Entity", "Status", "Details", "Address",
        ],
        rows: page.data.iter().map(|l| row(l, &emails)).collect(),
        next,
    }))
}

async fn chain(
    State(state): State<AppState>,
    SignedInAdmin(_): SignedInAdmin,
) -> Result<Response, AppError> {
    let report = dbkit::chain::verify::verify(&state.db).await?;
    Ok(view::render(&ChainState { report }))
}

impl LogListing {
    fn blanks_absent(self) -> Self {
        let keep = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        Self {
            user: keep(self.user),
            action: keep(self.action),
            entity_type: keep(self.entity_type),
            entity_id: keep(self.entity_id),
            status: keep(self.status),
            since: keep(self.since),
            until: keep(self.until),
            cursor: keep(self.cursor),
        }
    }

    /// The filters given, as query pairs (for the next page's address).
    fn pairs(&self) -> Vec<(&'static str, &str)> {
        [
            ("user", &self.user),
            ("action", &self.action),
            ("entity_type", &self.entity_type),
            ("entity_id", &self.entity_id),
            ("status", &self.status),
            ("since", &self.since),
            ("until", &self.until),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.as_deref().map(|v| (name, v)))
        .collect()
    }

    fn filters(&self) -> Vec<Filter> {
        let value = |v: &Option<String>| v.clone().unwrap_or_default();
        let filter = |name, label, kind, v: &Option<String>| Filter {
            name,
            label,
            kind,
            value: value(v),
            choices: Vec::new(),
        };
        vec![
            filter("user", "User (email or id)", "text", &self.user),
            filter("action", "Action", "text", &self.action),
            filter("entity_type", "Entity type", "text", &self.entity_type),
            filter("entity_id", "Entity id", "text", &self.entity_id),
            Filter {
                choices: STATUSES.to_vec(),
                ..filter("status", "Status", "text", &self.status)
            },
            filter("since", "From", "date", &self.since),
            filter("until", "To", "date", &self.until),
        ]
    }
}

/// The start of `text`'s day plus `days`, UTC.
fn day(text: Option<&str>, field: &str, days: u64) -> Result<Option<Timestamp>, AppError> {
    let Some(text) = text else { return Ok(None) };
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.checked_add_days(chrono::Days::new(days)))
        .and_then(|d| Timestamp::new(d.and_time(NaiveTime::MIN).and_utc()))
        .map(Some)
        .ok_or_else(|| AppError::invalid(field, format!("{field} must be a day, YYYY-MM-DD")))
}

/// The account a filter names by email or id; an unknown email matches no one.
async fn user_id(db: &DatabaseConnection, user: &str) -> Result<Uuid, AppError> {
    if let Ok(id) = Uuid::parse_str(user) {
        return Ok(id);
    }
    let email = webkit::rules::Email::parse(user).map(webkit::rules::Email::into_inner);
    let found = match email {
        Ok(email) => users::Entity::find()
            .filter(users::Column::Email.eq(email))
            .one(db)
            .await?
            .map(|u| u.id),
        Err(_) => None,
    };
    Ok(found.unwrap_or(Uuid::nil()))
}

fn row(l: &logs::Model, emails: &std::collections::HashMap<Uuid, String>) -> Row {
    let entity = match (&l.entity_type, l.entity_id) {
        (Some(t), Some(id)) => Cell::Link(
            format!("{PAGE}?entity_type={t}&entity_id={id}"),
            format!("{t} {id}"),
        ),
        (Some(t), None) => Cell::text(t),
        _ => Cell::text("—"),
    };
    let mut details = l.details.to_string();
    if details.chars().count() > 160 {
        details = details.chars().take(160).collect::<String>() + "…";
    }
    let cells = vec![
        Cell::Text(l.created_at.format("%Y-%m-%d %H:%M:%S").to_string()),
        Cell::maybe(l.user_id.map(|u| lookup::email(emails, u))),
        Cell::text(&l.action),
        entity,
        Cell::Status(l.status.clone()),
        Cell::Text(if details == "{}" {
            String::new()
        } else {
            details
        }),
        Cell::maybe(l.ip_address.as_deref()),
    ];
    Row::new(l.id, cells)
}
