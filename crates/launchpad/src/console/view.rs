//! What every console page is made of — the frame around it, a table of rows each with
//! the forms of its legal moves — and how a page, a row or an error is answered.

use askama::Template;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use webkit::AppError;
use webkit::pages::guard::CsrfToken;

use super::Admin;

/// The console's sections, in the navigation's order.
pub const NAV: &[(&str, &str)] = &[
    ("/admin", "Overview"),
    ("/admin/synopses", "Synopses"),
    ("/admin/meetings", "Meetings"),
    ("/admin/orders", "Orders"),
    ("/admin/requests", "Requests"),
    ("/admin/trash", "Trash"),
    ("/admin/activity", "Activity log"),
    ("/admin/users", "Users"),
    ("/admin/stats", "Stats"),
];

/// What surrounds every page: its title, the section it is in, who is signed in and
/// the token its forms carry.
pub struct Frame {
    pub title: String,
    pub section: &'static str,
    pub admin: String,
    pub csrf: String,
}

impl Frame {
    pub fn new(section: &'static str, admin: &Admin, csrf: CsrfToken) -> Self {
        Self {
            title: section.to_owned(),
            section,
            admin: admin.user.email.clone(),
            csrf: csrf.0,
        }
    }

    /// The same frame, with a page title of its own.
    pub fn titled(self, title: &str) -> Self {
        Self {
            title: title.to_owned(),
            ..self
        }
    }

    pub fn nav(&self) -> &'static [(&'static str, &'static str)] {
        NAV
    }
}

/// One cell of a row.
pub enum Cell {
    Text(String),
    /// A status, styled by its name.
    Status(String),
    /// A link to another console page.
    Link(String, String),
    /// A file to download (a real navigation: htmx leaves it alone).
    Download(String, String),
}

impl Cell {
    pub fn text(value: impl std::fmt::Display) -> Self {
        Cell::Text(value.to_string())
    }

    pub fn maybe(value: Option<impl std::fmt::Display>) -> Self {
        Cell::Text(value.map_or_else(|| "—".to_owned(), |v| v.to_string()))
    }

    pub fn time(at: &chrono::DateTime<chrono::Utc>) -> Self {
        Cell::Text(at.format("%Y-%m-%d %H:%M UTC").to_string())
    }
}

/// An input of an action's form.
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    /// The input's `type` (`text`, `datetime-local`, `url`, `email`).
    pub kind: &'static str,
    pub required: bool,
    /// For a choice: the values offered (a `select`).
    pub choices: &'static [&'static str],
}

impl Field {
    pub const fn text(name: &'static str, label: &'static str) -> Self {
        Self {
            name,
            label,
            kind: "text",
            required: false,
            choices: &[],
        }
    }

    pub const fn required(self) -> Self {
        Self {
            required: true,
            ..self
        }
    }

    pub const fn kind(self, kind: &'static str) -> Self {
        Self { kind, ..self }
    }

    pub const fn choices(self, choices: &'static [&'static str]) -> Self {
        Self { choices, ..self }
    }
}

/// A move a row offers: a form posted to `url`, its button named by the verb.
pub struct Action {
    pub verb: &'static str,
    pub url: String,
    pub fields: Vec<Field>,
    /// Hidden values the form always sends (`status=paid`).
    pub fixed: Vec<(&'static str, &'static str)>,
}

impl Action {
    pub fn new(verb: &'static str, url: String) -> Self {
        Self {
            verb,
            url,
            fields: Vec::new(),
            fixed: Vec::new(),
        }
    }

    pub fn field(mut self, field: Field) -> Self {
        self.fields.push(field);
        self
    }

    pub fn fixed(mut self, name: &'static str, value: &'static str) -> Self {
        self.fixed.push((name, value));
        self
    }
}

/// One row of a table: its cells, its moves (and links to pages of its own), and what
/// the last move said.
pub struct Row {
    pub id: String,
    pub cells: Vec<Cell>,
    pub actions: Vec<Action>,
    pub links: Vec<(String, &'static str)>,
    pub message: Option<String>,
}

impl Row {
    pub fn new(id: impl std::fmt::Display, cells: Vec<Cell>) -> Self {
        Self {
            id: id.to_string(),
            cells,
            actions: Vec::new(),
            links: Vec::new(),
            message: None,
        }
    }

    pub fn action(mut self, action: Action) -> Self {
        self.actions.push(action);
        self
    }

    pub fn link(mut self, href: String, text: &'static str) -> Self {
        self.links.push((href, text));
        self
    }

    pub fn said(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// The status the row shows, if it has one.
    fn status(&self) -> Option<&str> {
        self.cells.iter().find_map(|c| match c {
            Cell::Status(s) => Some(s.as_str()),
            _ => None,
        })
    }
}

/// A filter a list page offers above its table.
pub struct Filter {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: &'static str,
    pub value: String,
    pub choices: Vec<&'static str>,
}

/// A page holding one table, paged by the API's cursors.
#[derive(Template)]
#[template(path = "console/table.html")]
pub struct TablePage {
    pub frame: Frame,
    pub intro: Option<String>,
    pub filters: Vec<Filter>,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Row>,
    /// The next page's address, when there is one.
    pub next: Option<String>,
}

/// A row alone, after one of its moves.
#[derive(Template)]
#[template(path = "console/row.html")]
pub struct RowFragment<'a> {
    pub row: &'a Row,
    pub csrf: &'a str,
}

/// An error in a row's status line.
#[derive(Template)]
#[template(
    source = r#"<span class="error" role="alert">{{ message }}</span>"#,
    ext = "html"
)]
struct ErrorFragment<'a> {
    message: &'a str,
}

/// Renders a template; a template that fails to render is a bug (500).
pub fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => AppError::Internal(format!("template: {e}")).into_response(),
    }
}

/// The answer to a row's move: the row, replaced in place; without scripts, back to
/// the page it was on.
pub fn moved(headers: &HeaderMap, row: Row, csrf: &CsrfToken, back: &str) -> Response {
    if webkit::pages::is_fragment(headers) {
        render(&RowFragment {
            row: &row,
            csrf: &csrf.0,
        })
    } else {
        webkit::pages::redirect(headers, back)
    }
}

/// The answer to a move the API refused: its message in the row's status line, with
/// the API's status; without scripts, a page saying it.
pub fn refused(headers: &HeaderMap, row_id: impl std::fmt::Display, error: AppError) -> Response {
    if !webkit::pages::is_fragment(headers) {
        // Without scripts: the kit answers the error as a page of its own.
        return error.into_response();
    }
    let (status, message) = said(error);
    let mut response = render(&ErrorFragment { message: &message });
    if let Ok(target) = HeaderValue::from_str(&format!("#msg-{row_id}")) {
        response.headers_mut().insert("hx-retarget", target);
        response
            .headers_mut()
            .insert("hx-reswap", HeaderValue::from_static("innerHTML"));
    }
    *response.status_mut() = status;
    response
}

/// The query of a list page: a status (none given: the page's work queue; empty: any),
/// a search, and the API's cursor.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Listing {
    pub status: Option<String>,
    pub search: Option<String>,
    pub cursor: Option<String>,
}

/// Rows per console page.
const PER_PAGE: u64 = 20;

impl Listing {
    /// The API's list parameters for it: cursor paging, `queue` when no status is given.
    pub fn params(&self, queue: Option<&str>) -> dbkit::list::ListParams {
        dbkit::list::ListParams {
            cursor: Some(self.cursor.clone().unwrap_or_default()),
            per_page: Some(PER_PAGE),
            status: self.status(queue),
            search: self.search.clone().filter(|s| !s.trim().is_empty()),
            ..Default::default()
        }
    }

    fn status(&self, queue: Option<&str>) -> Option<String> {
        match &self.status {
            None => queue.map(str::to_owned),
            Some(s) if s.is_empty() => None,
            Some(s) => Some(s.clone()),
        }
    }

    /// The status filter, showing what is applied.
    pub fn status_filter(&self, queue: Option<&str>, choices: &'static [&'static str]) -> Filter {
        Filter {
            name: "status",
            label: "Status",
            kind: "text",
            value: self.status(queue).unwrap_or_default(),
            choices: choices.to_vec(),
        }
    }

    /// The search filter.
    pub fn search_filter(&self, label: &'static str) -> Filter {
        Filter {
            name: "search",
            label,
            kind: "search",
            value: self.search.clone().unwrap_or_default(),
            choices: Vec::new(),
        }
    }

    /// The address of the page after `meta`'s, with the same filters.
    pub fn next(
        &self,
        path: &str,
        queue: Option<&str>,
        meta: &dbkit::list::PageMeta,
    ) -> Option<String> {
        let status = self.status(queue).unwrap_or_default();
        let mut filters = vec![("status", status.as_str())];
        filters.extend(self.search.as_deref().map(|s| ("search", s)));
        next_page(path, &filters, meta)
    }
}

/// The address of the page after `meta`'s (none on the last page): `path` with the same
/// `filters` and the API's next cursor.
pub fn next_page(
    path: &str,
    filters: &[(&str, &str)],
    meta: &dbkit::list::PageMeta,
) -> Option<String> {
    let cursor = meta.cursor.clone().flatten()?;
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(filters)
        .append_pair("cursor", &cursor)
        .finish();
    Some(format!("{path}?{query}"))
}

/// A work queue's page: one resource's rows, filtered by status (its queue unless the
/// admin picks another), paged by the API's cursors.
pub struct Queue {
    pub section: &'static str,
    pub path: &'static str,
    pub intro: &'static str,
    /// The status the page opens on.
    pub queue: Option<&'static str>,
    pub statuses: &'static [&'static str],
    /// The label of a search box, for a resource the API searches.
    pub search: Option<&'static str>,
    pub columns: &'static [&'static str],
}

impl Queue {
    /// The API's list parameters for `listing`.
    pub fn params(&self, listing: &Listing) -> dbkit::list::ListParams {
        listing.params(self.queue)
    }

    /// The page of `rows`, the page after `meta`'s a link away.
    pub fn page(
        &self,
        admin: &Admin,
        csrf: CsrfToken,
        listing: &Listing,
        rows: Vec<Row>,
        meta: &dbkit::list::PageMeta,
    ) -> Response {
        let mut filters = vec![listing.status_filter(self.queue, self.statuses)];
        filters.extend(self.search.map(|label| listing.search_filter(label)));
        render(&TablePage {
            frame: Frame::new(self.section, admin, csrf),
            intro: Some(self.intro.to_owned()),
            filters,
            columns: self.columns.to_vec(),
            rows,
            next: listing.next(self.path, self.queue, meta),
        })
    }
}

/// What an error says to an admin, with its status; an internal error's cause is
/// logged, never shown.
pub fn said(error: AppError) -> (StatusCode, String) {
    if let AppError::Internal(cause) = &error {
        tracing::error!(%cause, "internal error");
    }
    (error.status(), error.to_string())
}

/// The one row of `rows` (a moved row, read back).
pub fn only(mut rows: Vec<Row>, noun: &'static str) -> Result<Row, AppError> {
    rows.pop().ok_or(AppError::NotFound(noun))
}

/// The answer to a row's move: the row as the move left it, or the API's refusal.
pub fn answer(
    headers: &HeaderMap,
    csrf: &CsrfToken,
    id: impl std::fmt::Display,
    done: Result<Row, AppError>,
    back: &str,
) -> Response {
    match done {
        Ok(row) => {
            let row = match (&row.message, row.status()) {
                (None, Some(status)) => {
                    let said = format!("Now {status}.");
                    row.said(said)
                }
                _ => row,
            };
            moved(headers, row, csrf, back)
        }
        Err(error) => refused(headers, id, error),
    }
}
