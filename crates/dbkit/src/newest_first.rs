//! Lists with one fixed order, newest first — a timestamp, then an id, both descending —
//! written as plain `SELECT`s rather than entity queries: the trash, chat sessions. Paged
//! by offset (with a total) or by cursor, like every other list ([`crate::list`]).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, SelectStatement};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Value};
use serde_json::Value as Json;
use uuid::Uuid;

use crate::cursor::{self, Cursor};
use crate::list::{
    InvalidParam, ListError, ListParams, Page, PageMeta, Paging, SortOrder, invalid, paging,
};

/// The order, and the name its cursors give the timestamp.
pub struct NewestFirst {
    /// The timestamp's name in the cursor.
    pub sort: &'static str,
}

/// A list in that order.
pub struct RawList {
    /// Every row, ordered, without paging.
    pub rows: SelectStatement,
    /// One row holding the number of rows in column `n` (for offset pages).
    pub count: SelectStatement,
    /// The timestamp and the id the order is on.
    pub key: (Expr, Expr),
    /// Whether the key is an aggregate, so that the cursor's condition is a `HAVING`.
    pub aggregate: bool,
}

impl NewestFirst {
    /// The page `params` ask for, its rows read as `T`; `key` gives a row's timestamp and
    /// id. Cursor pages fetch `per_page + 1` rows to know whether there is a next page,
    /// and make no count.
    pub async fn fetch<T: FromQueryResult>(
        &self,
        conn: &impl ConnectionTrait,
        list: RawList,
        params: &ListParams,
        key: impl Fn(&T) -> (DateTime<Utc>, Uuid),
    ) -> Result<Page<T>, ListError> {
        let RawList {
            mut rows,
            count,
            key: (at, id),
            aggregate,
        } = list;
        match paging(params)? {
            Paging::Offset(page, per_page) => {
                let total: i64 = match conn.query_one(&count).await? {
                    Some(row) => row.try_get("", "n")?,
                    None => 0,
                };
                rows.limit(per_page)
                    .offset((page - 1).saturating_mul(per_page));
                Ok(Page {
                    data: read(conn, &rows).await?,
                    meta: PageMeta::offset(
                        u64::try_from(total).unwrap_or_default(),
                        page,
                        per_page,
                    ),
                })
            }
            Paging::Cursor(per_page) => {
                if let Some(text) = params.cursor.as_deref().filter(|c| !c.is_empty()) {
                    let after = self.after(text, at, id)?;
                    if aggregate {
                        rows.cond_having(after);
                    } else {
                        rows.cond_where(after);
                    }
                }
                rows.limit(per_page + 1);
                Ok(self.page(read(conn, &rows).await?, per_page, key))
            }
        }
    }

    /// The rows after the cursor `text`, as a condition on `at` and `id`.
    fn after(&self, text: &str, at: Expr, id: Expr) -> Result<Condition, InvalidParam> {
        let (value, last) = self
            .decode(text)
            .ok_or_else(|| invalid("cursor", "invalid cursor: not a cursor of this list"))?;
        // `at <= value` repeats what the OR implies: it gives an index range its start
        // (see `ListSpec::after_cursor`).
        Ok(Condition::all().add(at.clone().lte(value)).add(
            Condition::any()
                .add(at.clone().lt(value))
                .add(Condition::all().add(at.eq(value)).add(id.lt(last))),
        ))
    }

    /// The page of `rows` (fetched with `LIMIT per_page + 1`) and its next cursor.
    fn page<T>(
        &self,
        mut rows: Vec<T>,
        per_page: u64,
        key: impl Fn(&T) -> (DateTime<Utc>, Uuid),
    ) -> Page<T> {
        let next = if rows.len() as u64 > per_page {
            rows.truncate(per_page as usize);
            rows.last().and_then(|last| self.encode(key(last)))
        } else {
            None
        };
        Page {
            data: rows,
            meta: PageMeta::cursor(per_page, next),
        }
    }

    fn encode(&self, (at, id): (DateTime<Utc>, Uuid)) -> Option<String> {
        Cursor {
            sort: self.sort.to_owned(),
            order: SortOrder::Desc,
            value: cursor::to_json(Value::ChronoDateTimeUtc(Some(at))),
            id: Json::from(id.to_string()),
        }
        .encode()
    }

    fn decode(&self, text: &str) -> Option<(DateTime<Utc>, Uuid)> {
        let cursor = Cursor::decode(text)?;
        if cursor.sort != self.sort || cursor.order != SortOrder::Desc {
            return None;
        }
        let at = DateTime::parse_from_rfc3339(cursor.value.as_str()?).ok()?;
        let id = Uuid::parse_str(cursor.id.as_str()?).ok()?;
        Some((at.with_timezone(&Utc), id))
    }
}

async fn read<T: FromQueryResult>(
    conn: &impl ConnectionTrait,
    select: &SelectStatement,
) -> Result<Vec<T>, DbErr> {
    conn.query_all(select)
        .await?
        .iter()
        .map(|row| T::from_query_result(row, ""))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_name_their_list_and_pages_end_with_none() {
        let trash = NewestFirst { sort: "deleted_at" };
        let at = DateTime::parse_from_rfc3339("2026-11-22T05:49:58.123456Z")
            .expect("time")
            .with_timezone(&Utc);
        let id = Uuid::parse_str("0190c6a0-0000-7000-8000-000000000000").expect("uuid");
        let text = trash.encode((at, id)).expect("encodes");
        assert_eq!(trash.decode(&text), Some((at, id)));
        assert_eq!(
            NewestFirst {
                sort: "last_message_at"
            }
            .decode(&text),
            None
        );
        let page = trash.page(vec![1, 2, 3], 2, |_| (at, id));
        assert_eq!(
            (page.data, page.meta.cursor),
            (vec![1, 2], Some(Some(text)))
        );
        let last = trash.page(vec![1, 2], 2, |_| (at, id));
        assert_eq!(last.meta.cursor, Some(None));
    }
}
