//! Moving the oldest part of the chain out of the database while keeping the rest
//! verifiable: the archived rows are deleted and the anchor moves to the last of them,
//! so the live chain starts from that row's hash.

use std::ops::RangeInclusive;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DbErr, Order};

use super::{Head, Row, fetch, head_table, select_rows, table};

/// The `seq` range to archive for `cutoff`: the longest run of rows after the anchor
/// that were all created before `cutoff`. A chain can only lose a prefix, so a row stays
/// while any row before it is younger (rows are chained in commit order, which can differ
/// from `created_at` order by the length of a transaction).
pub async fn archivable(
    conn: &impl ConnectionTrait,
    head: &Head,
    cutoff: DateTime<Utc>,
) -> Result<Option<RangeInclusive<i64>>, DbErr> {
    let first_young = Query::select()
        .from(table())
        .expr_as(Expr::col(Alias::new("seq")).min(), Alias::new("seq"))
        .and_where(Expr::col(Alias::new("created_at")).gte(cutoff))
        .and_where(Expr::col(Alias::new("seq")).gt(head.anchor_seq))
        .to_owned();
    let first_young: Option<i64> = match conn.query_one(&first_young).await? {
        Some(row) => row.try_get("", "seq")?,
        None => None,
    };
    let last = first_young.map_or(head.seq, |s| s - 1);
    let first = head.anchor_seq + 1;
    Ok((last >= first).then_some(first..=last))
}

/// Up to `limit` rows of `range` after `after`, in `seq` order.
pub async fn rows(
    conn: &impl ConnectionTrait,
    range: &RangeInclusive<i64>,
    after: i64,
    limit: u64,
) -> Result<Vec<Row>, DbErr> {
    let select = select_rows()
        .and_where(Expr::col(Alias::new("seq")).gt(Ord::max(after, *range.start() - 1)))
        .and_where(Expr::col(Alias::new("seq")).lte(*range.end()))
        .order_by(Alias::new("seq"), Order::Asc)
        .limit(limit)
        .to_owned();
    fetch(conn, &select).await
}

/// Deletes the rows of `range` and moves the anchor to its last row, whose hash is
/// `last_hash`. Returns the rows deleted.
pub async fn cut(
    conn: &impl ConnectionTrait,
    range: &RangeInclusive<i64>,
    last_hash: &str,
) -> Result<u64, DbErr> {
    let delete = Query::delete()
        .from_table(table())
        .and_where(Expr::col(Alias::new("seq")).between(*range.start(), *range.end()))
        .to_owned();
    let deleted = conn.execute(&delete).await?.rows_affected();
    let anchor = Query::update()
        .table(head_table())
        .value(Alias::new("anchor_seq"), *range.end())
        .value(Alias::new("anchor_hash"), last_hash)
        .and_where(Expr::col(Alias::new("id")).eq(1))
        .to_owned();
    conn.execute(&anchor).await?;
    Ok(deleted)
}
