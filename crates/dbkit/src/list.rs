//! One list-query module for every list endpoint: whitelisted sorting, status and date
//! filters, escaped case-insensitive search, and offset paging with a total.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::NullOrdering;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, Order,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use serde::{Deserialize, Serialize};

/// The most rows one page may hold.
pub const MAX_PER_PAGE: u64 = 100;
/// Rows per page when the client does not say.
pub const DEFAULT_PER_PAGE: u64 = 20;
/// The longest search string accepted.
pub const MAX_SEARCH_LEN: usize = 200;

/// The query-string parameters every list endpoint takes.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct ListParams {
    /// 1-based page number.
    pub page: Option<u64>,
    /// Rows per page, at most [`MAX_PER_PAGE`].
    pub per_page: Option<u64>,
    /// A field from the resource's sort whitelist.
    pub sort_by: Option<String>,
    /// `asc` or `desc`.
    pub sort_order: Option<SortOrder>,
    /// Only rows created at or after this instant (RFC 3339).
    #[cfg_attr(feature = "openapi", param(value_type = Option<String>, format = DateTime))]
    pub created_after: Option<DateTime<Utc>>,
    /// Only rows created at or before this instant (RFC 3339).
    #[cfg_attr(feature = "openapi", param(value_type = Option<String>, format = DateTime))]
    pub created_before: Option<DateTime<Utc>>,
    /// Only rows with this status.
    pub status: Option<String>,
    /// Case-insensitive text matched literally in the resource's searchable fields.
    pub search: Option<String>,
}

/// Sort direction.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

/// What a resource allows in its lists.
pub struct ListSpec<E: EntityTrait> {
    /// Sortable fields by the name clients use; the first is the default.
    pub sort_fields: &'static [(&'static str, E::Column)],
    /// The default direction.
    pub default_order: SortOrder,
    /// Columns searched by `search`.
    pub search: &'static [E::Column],
    /// The status column and its allowed values, if the resource has a status.
    pub status: Option<(E::Column, &'static [&'static str])>,
    /// The creation timestamp.
    pub created_at: E::Column,
    /// The primary key: the tie-breaker that makes every order total.
    pub id: E::Column,
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

/// Paging metadata.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PageMeta {
    /// Rows matching the filters, on all pages.
    pub total: u64,
    /// This page's number, from 1.
    pub page: u64,
    /// Rows per page.
    pub per_page: u64,
    /// Pages in all.
    pub total_pages: u64,
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

fn invalid(field: &'static str, message: impl Into<String>) -> InvalidParam {
    InvalidParam {
        field,
        message: message.into(),
        allowed: Vec::new(),
    }
}

impl<E: EntityTrait> ListSpec<E> {
    /// Validates `params` and applies filters and order to `query`.
    pub fn apply(&self, query: Select<E>, params: &ListParams) -> Result<Select<E>, InvalidParam> {
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
            query = query.filter(self.created_at.gte(after));
        }
        if let Some(before) = params.created_before {
            query = query.filter(self.created_at.lte(before));
        }
        if let Some(search) = params
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            query = query.filter(self.search_condition(search)?);
        }
        let (column, order) = self.order(params)?;
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

    fn search_condition(&self, search: &str) -> Result<Condition, InvalidParam> {
        if search.chars().count() > MAX_SEARCH_LEN {
            return Err(invalid(
                "search",
                format!("search is longer than {MAX_SEARCH_LEN} characters"),
            ));
        }
        if search.contains('\0') {
            return Err(invalid("search", "search contains a NUL character"));
        }
        let pattern = format!("%{}%", escape_like(&search.to_lowercase()));
        Ok(self.search.iter().fold(Condition::any(), |any, column| {
            let lowered = Expr::expr(Func::lower(Expr::col(*column)));
            any.add(lowered.like(LikeExpr::new(pattern.clone()).escape('\\')))
        }))
    }

    fn order(&self, params: &ListParams) -> Result<(E::Column, Order), InvalidParam> {
        let column = match params.sort_by.as_deref() {
            None => self.sort_fields[0].1,
            Some(name) => self
                .sort_fields
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, c)| *c)
                .ok_or_else(|| InvalidParam {
                    allowed: self.sort_fields.iter().map(|(n, _)| *n).collect(),
                    ..invalid("sort_by", format!("cannot sort by '{name}'"))
                })?,
        };
        let order = match params.sort_order.unwrap_or(self.default_order) {
            SortOrder::Asc => Order::Asc,
            SortOrder::Desc => Order::Desc,
        };
        Ok((column, order))
    }
}

/// The page number and size asked for, validated.
pub fn page_request(params: &ListParams) -> Result<(u64, u64), InvalidParam> {
    let page = params.page.unwrap_or(1);
    let per_page = params.per_page.unwrap_or(DEFAULT_PER_PAGE);
    if page == 0 {
        return Err(invalid("page", "page starts at 1"));
    }
    if per_page == 0 || per_page > MAX_PER_PAGE {
        return Err(invalid(
            "per_page",
            format!("per_page must be between 1 and {MAX_PER_PAGE}"),
        ));
    }
    Ok((page, per_page))
}

/// Runs a filtered, ordered query for one page: a count and a page query.
pub async fn fetch_page<E, M>(
    conn: &impl ConnectionTrait,
    query: Select<E>,
    (page, per_page): (u64, u64),
) -> Result<Page<M>, DbErr>
where
    E: EntityTrait<Model = M>,
    M: FromQueryResult + Send + Sync,
{
    let total = query.clone().count(conn).await?;
    let offset = (page - 1).saturating_mul(per_page);
    let data = if offset >= total {
        Vec::new()
    } else {
        query.offset(offset).limit(per_page).all(conn).await?
    };
    Ok(Page {
        data,
        meta: PageMeta {
            total,
            page,
            per_page,
            total_pages: total.div_ceil(per_page),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
