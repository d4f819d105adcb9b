//! One list-query module for every list endpoint: whitelisted sorting, status and date
//! filters, search (escaped `LIKE` or full text), and paging — by offset with a total, or
//! by keyset cursor ([`crate::cursor`]) whose cost does not grow with depth.

use sea_orm::sea_query::NullOrdering;
use sea_orm::sea_query::{Expr, LikeExpr, Query, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult,
    ModelTrait, Order, PaginatorTrait, QueryFilter, QueryOrder, QueryResult, QuerySelect,
    QueryTrait, Select,
};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize};

pub use crate::cursor::SortOrder;
use crate::cursor::{self, Cursor};
use crate::time::Timestamp;

/// The most rows one page may hold.
pub const MAX_PER_PAGE: u64 = 100;
/// Rows per page when the client does not say.
pub const DEFAULT_PER_PAGE: u64 = 20;
/// The largest row offset a page may start at: what a signed 64-bit OFFSET holds.
const MAX_OFFSET: u64 = i64::MAX as u64;
/// The last page number accepted: its rows start within [`MAX_OFFSET`] at any
/// `per_page` (both databases take a signed 64-bit OFFSET).
pub const MAX_PAGE: u64 = MAX_OFFSET / MAX_PER_PAGE + 1;
/// The longest search string accepted.
pub const MAX_SEARCH_LEN: usize = 200;

/// The query-string parameters every list endpoint takes.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct ListParams {
    /// 1-based page number (offset paging). Not together with `cursor`.
    pub page: Option<u64>,
    /// Keyset paging: `next_cursor` from the previous page, or empty (`cursor=`) for the
    /// first page. The answer's `meta` then holds `per_page` and `next_cursor` (null on
    /// the last page) instead of `total`, `page` and `total_pages`. The cursor is opaque
    /// and only valid with the `sort_by`/`sort_order` it was made for. Not together
    /// with `page`.
    pub cursor: Option<String>,
    /// Rows per page (the document states the bounds).
    pub per_page: Option<u64>,
    /// A field from the resource's sort whitelist (the document lists them).
    pub sort_by: Option<String>,
    /// `asc` or `desc`.
    pub sort_order: Option<SortOrder>,
    /// Only rows created at or after this instant (RFC 3339, years 1 to 9999).
    #[cfg_attr(feature = "openapi", param(value_type = Option<String>, format = DateTime))]
    pub created_after: Option<Timestamp>,
    /// Only rows created at or before this instant (RFC 3339, years 1 to 9999).
    #[cfg_attr(feature = "openapi", param(value_type = Option<String>, format = DateTime))]
    pub created_before: Option<Timestamp>,
    /// Only rows with this status.
    pub status: Option<String>,
    /// Text looked for in the resource's searchable fields, ignoring case and accents:
    /// literally (substring) for most resources; by word prefix where the resource has
    /// full-text search (every word of the text must start a word of the row).
    pub search: Option<String>,
}

/// What a resource allows in its lists.
pub struct ListSpec<E: EntityTrait> {
    /// Sortable fields by the name clients use; the first is the default. A free-text
    /// field sorts by its [`Form::Fold`](crate::fold::Form::Fold) twin, so case and
    /// accents do not change the order (ties go by `id`).
    pub sort_fields: &'static [(&'static str, E::Column)],
    /// The default direction.
    pub default_order: SortOrder,
    /// How `search` looks for text.
    pub search: Search<E::Column>,
    /// The status column and its allowed values, if the resource has a status.
    pub status: Option<(E::Column, &'static [&'static str])>,
    /// The creation timestamp.
    pub created_at: E::Column,
    /// The primary key: the tie-breaker that makes every order total.
    pub id: E::Column,
}

/// What a list accepts, as its documentation states it.
#[derive(Debug, Clone)]
pub struct ListRules {
    /// The `sort_by` names, the default first.
    pub sort_by: Vec<&'static str>,
    /// The `status` values, if the resource has a status.
    pub statuses: Option<&'static [&'static str]>,
}

impl<E: EntityTrait> ListSpec<E> {
    /// The rules this spec enforces, for the API document.
    pub fn rules(&self) -> ListRules {
        ListRules {
            sort_by: self.sort_fields.iter().map(|(name, _)| *name).collect(),
            statuses: self.status.as_ref().map(|(_, allowed)| *allowed),
        }
    }
}

/// How a resource's `search` works. Both kinds compare folded text ([`crate::fold`]):
/// accents and case change nothing, alike on both backends.
pub enum Search<C: 'static> {
    /// Literal substring of the folded search in any of these columns (`LIKE`, escaped):
    /// [`Form::Fold`](crate::fold::Form::Fold) twins, or columns of lowercase ASCII codes
    /// (which are their own fold).
    Like(&'static [C]),
    /// Word-prefix full-text search over an index the migrations keep (see
    /// [`FullText`]).
    FullText(FullText),
}

/// Where a table's full-text index lives. dbkit only builds the query; the index is the
/// migrations' business. It indexes [`Form::Words`](crate::fold::Form::Words) twins —
/// words the kit has already split and folded — so neither database's tokenizer decides
/// what a word is:
///
/// - PostgreSQL: `table.vector_column` is a `tsvector` made of exactly those words
///   (`array_to_tsvector`; a generated column with a GIN index).
/// - SQLite: `fts_table` is an FTS5 table (`ascii` tokenizer) over the twins whose
///   `rowid` is the `rowid` of `table` (an external-content table kept in sync by
///   triggers).
#[derive(Debug, Clone, Copy)]
pub struct FullText {
    /// The searched table.
    pub table: &'static str,
    /// The FTS5 table (SQLite).
    pub fts_table: &'static str,
    /// The `tsvector` column (PostgreSQL).
    pub vector_column: &'static str,
}

/// A PostgreSQL `tsquery` text: every word a quoted prefix lexeme (`'w':*`), ANDed. The
/// lexemes are taken as written (no parser, no dictionary), as the indexed words were.
pub fn tsquery(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("'{}':*", w.replace('\\', "\\\\").replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(" & ")
}

/// An FTS5 `MATCH` text: every word a quoted prefix term (`"word"*`), ANDed. Quotes are
/// doubled (words hold none, but the escaping does not rely on that).
pub fn fts5_query(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("\"{}\"*", w.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" ")
}

impl FullText {
    /// The condition "the row matches every word" on `backend`; the text is a bound
    /// parameter. No words: nothing matches.
    pub fn condition(&self, backend: DbBackend, text: &str) -> Expr {
        let words = crate::fold::words(text);
        if words.is_empty() {
            return Expr::cust("1 = 0");
        }
        let FullText {
            table,
            fts_table,
            vector_column,
        } = self;
        match backend {
            DbBackend::Postgres => Expr::cust_with_values(
                format!("\"{table}\".\"{vector_column}\" @@ $1::tsquery"),
                [tsquery(&words)],
            ),
            _ => Expr::cust_with_values(
                format!(
                    "\"{table}\".rowid IN \
                     (SELECT rowid FROM \"{fts_table}\" WHERE \"{fts_table}\" MATCH ?)"
                ),
                [fts5_query(&words)],
            ),
        }
    }
}

/// A list parameter the client got wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidParam {
    /// The parameter.
    pub field: &'static str,
    /// What is wrong with it.
    pub message: String,
    /// The values it may take, when there is a fixed set.
    pub allowed: Vec<&'static str>,
}

/// One page of results with its metadata: the shape every list answers.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    /// The rows.
    pub data: Vec<T>,
    /// Where this page sits.
    pub meta: PageMeta,
}

/// Paging metadata. Offset pages answer `total`, `page`, `per_page`, `total_pages`;
/// cursor pages answer only `per_page` and `next_cursor` (no count is made).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PageMeta {
    /// Rows matching the filters, on all pages (offset paging only).
    #[cfg_attr(feature = "openapi", schema(required = false))]
    pub total: u64,
    /// This page's number, from 1 (offset paging only).
    #[cfg_attr(feature = "openapi", schema(required = false))]
    pub page: u64,
    /// Rows per page.
    pub per_page: u64,
    /// Pages in all (offset paging only).
    #[cfg_attr(feature = "openapi", schema(required = false))]
    pub total_pages: u64,
    /// Cursor paging only: the `cursor` of the next page, null on the last page.
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<String>, rename = "next_cursor", required = false)
    )]
    pub cursor: Option<Option<String>>,
}

impl PageMeta {
    /// The metadata of offset page `page` of `total` rows.
    pub fn offset(total: u64, page: u64, per_page: u64) -> Self {
        Self {
            total,
            page,
            per_page,
            total_pages: total.div_ceil(per_page),
            cursor: None,
        }
    }

    /// The metadata of a cursor page.
    pub fn cursor(per_page: u64, next_cursor: Option<String>) -> Self {
        Self {
            total: 0,
            page: 0,
            per_page,
            total_pages: 0,
            cursor: Some(next_cursor),
        }
    }
}

impl Serialize for PageMeta {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.cursor {
            None => {
                let mut map = serializer.serialize_map(Some(4))?;
                map.serialize_entry("total", &self.total)?;
                map.serialize_entry("page", &self.page)?;
                map.serialize_entry("per_page", &self.per_page)?;
                map.serialize_entry("total_pages", &self.total_pages)?;
                map.end()
            }
            Some(next) => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("per_page", &self.per_page)?;
                map.serialize_entry("next_cursor", next)?;
                map.end()
            }
        }
    }
}

/// How a list request pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// `page` (1-based) and `per_page`, with a total.
    Offset(u64, u64),
    /// Keyset paging, `per_page` rows after the cursor (if any); no total.
    Cursor(u64),
}

/// The paging asked for, validated: `cursor` (even empty) means cursor paging.
pub fn paging(params: &ListParams) -> Result<Paging, InvalidParam> {
    if params.cursor.is_some() {
        if params.page.is_some() {
            return Err(invalid("cursor", "use either page or cursor, not both"));
        }
        let (_, per_page) = page_request(params)?;
        return Ok(Paging::Cursor(per_page));
    }
    let (page, per_page) = page_request(params)?;
    Ok(Paging::Offset(page, per_page))
}

/// A list request that failed: the client's parameters or the database.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    /// A parameter is invalid (answer 422).
    #[error(transparent)]
    Invalid(#[from] InvalidParam),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl<T> Page<T> {
    /// The same page with its rows converted.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            data: self.data.into_iter().map(f).collect(),
            meta: self.meta,
        }
    }
}

/// Escapes `%`, `_` and `\` so the text matches literally in `LIKE … ESCAPE '\'`.
pub fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> InvalidParam {
    InvalidParam {
        field,
        message: message.into(),
        allowed: Vec::new(),
    }
}

impl<E: EntityTrait> ListSpec<E> {
    /// Validates `params`, pages `query` by offset or cursor and runs it: the one call a
    /// list handler makes. Cursor pages fetch `per_page + 1` rows to know whether there
    /// is a next page and make no count.
    pub async fn fetch<M>(
        &self,
        conn: &impl ConnectionTrait,
        query: Select<E>,
        params: &ListParams,
    ) -> Result<Page<M>, ListError>
    where
        E: EntityTrait<Model = M>,
        M: ModelTrait<Entity = E> + FromQueryResult + Send + Sync,
    {
        let paging = paging(params)?;
        let query = self.apply(conn.get_database_backend(), query, params)?;
        match paging {
            Paging::Offset(page, per_page) => Ok(fetch_page(conn, query, (page, per_page)).await?),
            Paging::Cursor(per_page) => {
                let (name, column, _) = self.order(params)?;
                if !cursor::supports(&column.def()) || !cursor::supports(&self.id.def()) {
                    return Err(invalid(
                        "cursor",
                        format!("cannot page by cursor when sorting by {name}"),
                    )
                    .into());
                }
                let mut data = query.limit(per_page + 1).all(conn).await?;
                let next = if data.len() as u64 > per_page {
                    data.truncate(per_page as usize);
                    data.last()
                        .map(|last| self.cursor_after(params, last))
                        .transpose()?
                } else {
                    None
                };
                Ok(Page {
                    data,
                    meta: PageMeta::cursor(per_page, next),
                })
            }
        }
    }

    /// The cursor that continues after `last` in the order `params` ask for.
    fn cursor_after(&self, params: &ListParams, last: &E::Model) -> Result<String, InvalidParam>
    where
        E::Model: ModelTrait<Entity = E>,
    {
        let (name, column, order) = self.order(params)?;
        Cursor {
            sort: name.to_owned(),
            order: sort_order(&order),
            value: cursor::to_json(last.get(column)),
            id: cursor::to_json(last.get(self.id)),
        }
        .encode()
        .ok_or_else(|| {
            invalid(
                "cursor",
                format!("cannot page by cursor when sorting by {name}"),
            )
        })
    }

    /// The keyset condition "after the cursor's row" for the order `params` ask for.
    fn after_cursor(&self, params: &ListParams, text: &str) -> Result<Condition, InvalidParam> {
        let bad = |why: &str| invalid("cursor", format!("invalid cursor: {why}"));
        let (name, column, order) = self.order(params)?;
        let cursor = Cursor::decode(text).ok_or_else(|| bad("not a cursor of this list"))?;
        if cursor.sort != name || cursor.order != sort_order(&order) {
            return Err(bad("it was made for another sort_by or sort_order"));
        }
        let nullable = column.def().is_null();
        let value = cursor::from_json(&column.def(), &cursor.value, nullable)
            .ok_or_else(|| bad("the sort value does not fit the column"))?;
        let id = cursor::from_json(&self.id.def(), &cursor.id, false)
            .ok_or_else(|| bad("the id does not fit the column"))?;
        let (beyond, beyond_id) = match order {
            Order::Asc => (column.gt(value.clone()), self.id.gt(id)),
            _ => (column.lt(value.clone()), self.id.lt(id)),
        };
        // Order: column (NULLs last when nullable), then id; the next rows come after
        // (value, id) in it.
        if serde_json::Value::is_null(&cursor.value) {
            return Ok(Condition::all().add(column.is_null()).add(beyond_id));
        }
        let after = Condition::any().add(beyond).add(
            Condition::all()
                .add(column.eq(value.clone()))
                .add(beyond_id),
        );
        if nullable {
            return Ok(after.add(column.is_null()));
        }
        // The same rows, plus a bound an index range can start from: neither planner
        // derives one from the OR above, so without it a deep cursor walked the index from
        // its first entry (bench: page 1,000 by cursor ran at a sixth of page 1's rate).
        let bound = match order {
            Order::Asc => column.gte(value),
            _ => column.lte(value),
        };
        Ok(Condition::all().add(bound).add(after))
    }

    /// Validates `params` and applies filters, search, the cursor (if any) and order to
    /// `query`. The full-text search needs the `backend`.
    pub fn apply(
        &self,
        backend: DbBackend,
        query: Select<E>,
        params: &ListParams,
    ) -> Result<Select<E>, InvalidParam> {
        let mut query = query;
        if let Some(status) = &params.status {
            let Some((column, allowed)) = self.status else {
                return Err(invalid("status", "this resource has no status"));
            };
            if !allowed.contains(&status.as_str()) {
                return Err(InvalidParam {
                    allowed: allowed.to_vec(),
                    ..invalid("status", format!("unknown status '{status}'"))
                });
            }
            query = query.filter(column.eq(status.as_str()));
        }
        if let (Some(after), Some(before)) = (params.created_after, params.created_before)
            && after > before
        {
            return Err(invalid(
                "created_after",
                "created_after is later than created_before",
            ));
        }
        if let Some(after) = params.created_after {
            query = query.filter(self.created_at.gte(after.get()));
        }
        if let Some(before) = params.created_before {
            query = query.filter(self.created_at.lte(before.get()));
        }
        if let Some(search) = params
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            query = query.filter(self.search_condition(backend, search)?);
        }
        if let Some(text) = params.cursor.as_deref().filter(|c| !c.is_empty()) {
            query = query.filter(self.after_cursor(params, text)?);
        }
        let (_, column, order) = self.order(params)?;
        // SQLite puts NULLs first ascending, PostgreSQL last: say it, so pages agree. Only
        // for nullable columns — on NOT NULL ones it would stop PostgreSQL from walking
        // an index backwards for a descending order.
        let query = if column.def().is_null() {
            query.order_by_with_nulls(column, order.clone(), NullOrdering::Last)
        } else {
            query.order_by(column, order.clone())
        };
        Ok(query.order_by(self.id, order))
    }

    fn search_condition(
        &self,
        backend: DbBackend,
        search: &str,
    ) -> Result<Condition, InvalidParam> {
        if search.chars().count() > MAX_SEARCH_LEN {
            return Err(invalid(
                "search",
                format!("search is longer than {MAX_SEARCH_LEN} characters"),
            ));
        }
        if search.contains('\0') {
            return Err(invalid("search", "search contains a NUL character"));
        }
        match &self.search {
            Search::Like(columns) => {
                let pattern = format!("%{}%", escape_like(&crate::fold::fold(search)));
                Ok(columns.iter().fold(Condition::any(), |any, column| {
                    any.add(column.like(LikeExpr::new(pattern.clone()).escape('\\')))
                }))
            }
            Search::FullText(full_text) => {
                Ok(Condition::all().add(full_text.condition(backend, search)))
            }
        }
    }

    fn order(&self, params: &ListParams) -> Result<(&'static str, E::Column, Order), InvalidParam> {
        let (name, column) = match params.sort_by.as_deref() {
            None => self.sort_fields[0],
            Some(name) => self
                .sort_fields
                .iter()
                .find(|(n, _)| *n == name)
                .copied()
                .ok_or_else(|| InvalidParam {
                    allowed: self.sort_fields.iter().map(|(n, _)| *n).collect(),
                    ..invalid("sort_by", format!("cannot sort by '{name}'"))
                })?,
        };
        let order = match params.sort_order.unwrap_or(self.default_order) {
            SortOrder::Asc => Order::Asc,
            SortOrder::Desc => Order::Desc,
        };
        Ok((name, column, order))
    }
}

fn sort_order(order: &Order) -> SortOrder {
    match order {
        Order::Asc => SortOrder::Asc,
        _ => SortOrder::Desc,
    }
}

/// The page number and size asked for, validated.
pub fn page_request(params: &ListParams) -> Result<(u64, u64), InvalidParam> {
    let page = params.page.unwrap_or(1);
    let per_page = params.per_page.unwrap_or(DEFAULT_PER_PAGE);
    if page == 0 || page > MAX_PAGE {
        return Err(invalid("page", format!("page must be 1 to {MAX_PAGE}")));
    }
    if per_page == 0 || per_page > MAX_PER_PAGE {
        return Err(invalid(
            "per_page",
            format!("per_page must be between 1 and {MAX_PER_PAGE}"),
        ));
    }
    Ok((page, per_page))
}

/// One offset page and the total, in one statement: the page's rows each carry the
/// total as a scalar subquery, which both backends evaluate once (an init plan on
/// PostgreSQL, a cached subquery on SQLite). Only a page past the end, which has no row
/// to carry it, needs a separate count.
pub async fn fetch_page<E, M>(
    conn: &impl ConnectionTrait,
    query: Select<E>,
    (page, per_page): (u64, u64),
) -> Result<Page<M>, DbErr>
where
    E: EntityTrait<Model = M>,
    M: FromQueryResult + Send + Sync,
{
    let offset = (page - 1).saturating_mul(per_page);
    let count = Query::select()
        .expr(Expr::cust("COUNT(*)"))
        .from_subquery(
            query.clone().into_query().clear_order_by().to_owned(),
            "page_total",
        )
        .to_owned();
    let rows = query
        .clone()
        .offset(offset)
        .limit(per_page)
        .expr_as(SimpleExpr::SubQuery(None, Box::new(count.into())), TOTAL)
        .into_model::<Counted<M>>()
        .all(conn)
        .await?;
    let total = match rows.first() {
        Some(first) => first.total,
        None if offset == 0 => 0,
        None => query.count(conn).await?,
    };
    Ok(Page {
        data: rows.into_iter().map(|row| row.model).collect(),
        meta: PageMeta::offset(total, page, per_page),
    })
}

/// The column carrying the total in [`fetch_page`]'s statement.
const TOTAL: &str = "page_total_rows";

/// A row of [`fetch_page`]'s statement: the model and the total it carries.
struct Counted<M> {
    model: M,
    total: u64,
}

impl<M: FromQueryResult> FromQueryResult for Counted<M> {
    fn from_query_result(row: &QueryResult, prefix: &str) -> Result<Self, DbErr> {
        let total: i64 = row.try_get(prefix, TOTAL)?;
        Ok(Self {
            model: M::from_query_result(row, prefix)?,
            total: u64::try_from(total).unwrap_or(0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_past_the_largest_offset_is_refused() {
        let params = |page: u64, per_page: u64| ListParams {
            page: Some(page),
            per_page: Some(per_page),
            ..Default::default()
        };
        let last = i64::MAX as u64 / 100 + 1;
        assert_eq!(page_request(&params(last, 100)), Ok((last, 100)));
        assert_eq!(
            page_request(&params(last + 1, 100)).map_err(|e| e.field),
            Err("page")
        );
        assert_eq!(
            page_request(&params(u64::MAX, 1)).map_err(|e| e.field),
            Err("page")
        );
    }

    #[test]
    fn like_metacharacters_are_escaped() {
        assert_eq!(escape_like(r"50%_off\now"), r"50\%\_off\\now");
    }

    #[test]
    fn page_bounds_are_enforced() {
        let p = |page, per_page| ListParams {
            page,
            per_page,
            ..Default::default()
        };
        assert_eq!(page_request(&p(None, None)), Ok((1, DEFAULT_PER_PAGE)));
        assert_eq!(
            page_request(&p(Some(0), None)).map_err(|e| e.field),
            Err("page")
        );
        assert_eq!(
            page_request(&p(None, Some(101))).map_err(|e| e.field),
            Err("per_page")
        );
        assert_eq!(page_request(&p(None, Some(100))), Ok((1, 100)));
    }

    #[test]
    fn a_cursor_means_cursor_paging_and_excludes_page() {
        let p = |page, cursor: Option<&str>| ListParams {
            page,
            cursor: cursor.map(str::to_owned),
            ..Default::default()
        };
        assert_eq!(
            paging(&p(None, None)),
            Ok(Paging::Offset(1, DEFAULT_PER_PAGE))
        );
        assert_eq!(
            paging(&p(None, Some(""))),
            Ok(Paging::Cursor(DEFAULT_PER_PAGE))
        );
        assert_eq!(
            paging(&p(Some(1), Some(""))).map_err(|e| e.field),
            Err("cursor")
        );
    }
}

#[cfg(test)]
mod full_text_tests {
    use super::*;
    use sea_orm::sea_query::{PostgresQueryBuilder, Query, SqliteQueryBuilder};

    const FT: FullText = FullText {
        table: "things",
        fts_table: "things_fts",
        vector_column: "search_vector",
    };

    #[test]
    fn user_text_becomes_bound_prefix_terms() {
        let words = crate::fold::words("It's 100% \"quoted\" x_y; DROP--");
        assert_eq!(words, ["it", "s", "100", "quoted", "x", "y", "drop"]);
        assert_eq!(tsquery(&words[..2]), "'it':* & 's':*");
        assert_eq!(tsquery(&["a'b\\".into()]), "'a''b\\\\':*");
        assert_eq!(fts5_query(&words[..2]), "\"it\"* \"s\"*");
        let sql = |backend| {
            let mut q = Query::select();
            q.expr(Expr::val(1))
                .and_where(FT.condition(backend, "Ab'c"));
            match backend {
                DbBackend::Postgres => q.build(PostgresQueryBuilder),
                _ => q.build(SqliteQueryBuilder),
            }
        };
        let (pg, pg_values) = sql(DbBackend::Postgres);
        assert_eq!(
            pg,
            "SELECT $1 WHERE \"things\".\"search_vector\" @@ $2::tsquery"
        );
        assert!(
            format!("{pg_values:?}").contains("'ab':* & 'c':*"),
            "{pg_values:?}"
        );
        let (lite, lite_values) = sql(DbBackend::Sqlite);
        assert_eq!(
            lite,
            "SELECT ? WHERE \"things\".rowid IN (SELECT rowid FROM \"things_fts\" WHERE \"things_fts\" MATCH ?)"
        );
        assert!(
            format!("{lite_values:?}").contains(r#"\"ab\"* \"c\"*"#),
            "{lite_values:?}"
        );
        let (none, _) = {
            let mut q = Query::select();
            q.expr(Expr::val(1))
                .and_where(FT.condition(DbBackend::Sqlite, "%_'"));
            q.build(SqliteQueryBuilder)
        };
        assert!(none.ends_with("WHERE 1 = 0"), "{none}");
    }
}
