//! Keyset-paging cursors: where a page ended, as an opaque string.
//!
//! A cursor is base64url (no padding) of a small JSON object
//! `{"s": sort field, "o": "asc"|"desc", "v": last sort value, "id": last id}`. It is not
//! signed: it only says where to resume, and every query still applies the caller's
//! filters and visibility, so a forged cursor can at most start a list elsewhere. It is
//! validated instead: the sort field and order must be the request's, and both values
//! must have the type of their column (`null` only for a nullable column), or the list
//! answers 422 `cursor`.

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::sea_query::ColumnType;
use sea_orm::{ColumnDef, Value};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// Sort direction.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    /// Smallest first. (`ASC` and `Asc` are read too, as older clients send them.)
    #[serde(alias = "ASC", alias = "Asc")]
    Asc,
    /// Largest first. (`DESC` and `Desc` likewise.)
    #[serde(alias = "DESC", alias = "Desc")]
    Desc,
}

/// The longest cursor accepted, in bytes: a sort value is at most a few hundred
/// characters (a title).
pub const MAX_CURSOR_LEN: usize = 4096;

/// The decoded content of a cursor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cursor {
    /// The sort field's name (as clients write it in `sort_by`).
    #[serde(rename = "s")]
    pub sort: String,
    /// The direction.
    #[serde(rename = "o")]
    pub order: SortOrder,
    /// The sort column's value in the page's last row.
    #[serde(rename = "v")]
    pub value: Json,
    /// The last row's id.
    pub id: Json,
}

impl Cursor {
    /// The opaque text.
    pub fn encode(&self) -> Option<String> {
        let json = serde_json::to_vec(self).ok()?;
        Some(base64url_encode(&json))
    }

    /// The cursor in `text`, or `None` if it is not one.
    pub fn decode(text: &str) -> Option<Self> {
        if text.len() > MAX_CURSOR_LEN {
            return None;
        }
        serde_json::from_slice(&base64url_decode(text)?).ok()
    }
}

/// A column value as cursor JSON: `Null` for a NULL or a type cursors do not carry.
pub fn to_json(value: Value) -> Json {
    match value {
        Value::Bool(v) => v.map_or(Json::Null, Json::from),
        Value::TinyInt(v) => v.map_or(Json::Null, Json::from),
        Value::SmallInt(v) => v.map_or(Json::Null, Json::from),
        Value::Int(v) => v.map_or(Json::Null, Json::from),
        Value::BigInt(v) => v.map_or(Json::Null, Json::from),
        Value::String(v) => v.map_or(Json::Null, Json::from),
        Value::Uuid(v) => v.map_or(Json::Null, |u| Json::from(u.to_string())),
        Value::ChronoDateTimeUtc(v) => v.map_or(Json::Null, |t| {
            Json::from(t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
        }),
        _ => Json::Null,
    }
}

/// Whether cursors can carry values of `column` (see [`to_json`]).
pub fn supports(column: &ColumnDef) -> bool {
    matches!(
        column.get_column_type(),
        ColumnType::Boolean
            | ColumnType::TinyInteger
            | ColumnType::SmallInteger
            | ColumnType::Integer
            | ColumnType::BigInteger
            | ColumnType::String(_)
            | ColumnType::Text
            | ColumnType::Char(_)
            | ColumnType::Uuid
            | ColumnType::TimestampWithTimeZone
            | ColumnType::Timestamp
            | ColumnType::DateTime
    )
}

/// Cursor JSON back as a value of `column`'s type; `None` if it does not fit (wrong
/// type, out of range, or `null` for a NOT NULL column).
pub fn from_json(column: &ColumnDef, json: &Json, nullable: bool) -> Option<Value> {
    let null = json.is_null();
    if null && !nullable {
        return None;
    }
    let int = |json: &Json| json.as_i64();
    Some(match column.get_column_type() {
        ColumnType::Boolean => Value::Bool(if null { None } else { Some(json.as_bool()?) }),
        ColumnType::TinyInteger => Value::TinyInt(if null {
            None
        } else {
            Some(i8::try_from(int(json)?).ok()?)
        }),
        ColumnType::SmallInteger => Value::SmallInt(if null {
            None
        } else {
            Some(i16::try_from(int(json)?).ok()?)
        }),
        ColumnType::Integer => Value::Int(if null {
            None
        } else {
            Some(i32::try_from(int(json)?).ok()?)
        }),
        ColumnType::BigInteger => Value::BigInt(if null { None } else { Some(int(json)?) }),
        ColumnType::String(_) | ColumnType::Text | ColumnType::Char(_) => Value::String(if null {
            None
        } else {
            let s = json.as_str()?;
            if s.contains('\0') {
                return None;
            }
            Some(s.to_owned())
        }),
        ColumnType::Uuid => Value::Uuid(if null {
            None
        } else {
            Some(uuid::Uuid::parse_str(json.as_str()?).ok()?)
        }),
        ColumnType::TimestampWithTimeZone | ColumnType::Timestamp | ColumnType::DateTime => {
            Value::ChronoDateTimeUtc(if null {
                None
            } else {
                Some(
                    DateTime::parse_from_rfc3339(json.as_str()?)
                        .ok()?
                        .with_timezone(&Utc),
                )
            })
        }
        _ => return None,
    })
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64url without padding.
pub fn base64url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// Decodes base64url without padding; `None` on any other character or a bad length.
pub fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| ALPHABET.iter().position(|&a| a == c).map(|p| p as u32);
    let bytes = text.as_bytes();
    if bytes.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3 + 2);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= digit(c)? << (18 - 6 * i);
        }
        let produced = chunk.len() - 1;
        for i in 0..produced {
            out.push(((n >> (16 - 8 * i)) & 0xff) as u8);
        }
    }
    // Canonical form only (no stray bits in the last character).
    if base64url_encode(&out) != text {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_round_trips_and_rejects_garbage() {
        for bytes in [
            &b""[..],
            b"f",
            b"fo",
            b"foo",
            b"foob",
            b"fooba",
            b"foobar",
            &[0xff, 0xfe, 0x00],
        ] {
            let text = base64url_encode(bytes);
            assert!(!text.contains(['+', '/', '=']));
            assert_eq!(base64url_decode(&text).as_deref(), Some(bytes), "{text}");
        }
        assert_eq!(base64url_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64url_decode("Zm9vYg"), Some(b"foob".to_vec()));
        for bad in ["Z", "Zm9v!", "Zm9v Yg", "Zm9vYh", "Zm9vYg=="] {
            assert_eq!(base64url_decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = Cursor {
            sort: "title".into(),
            order: SortOrder::Asc,
            value: Json::from("A \"quoted\" title"),
            id: Json::from("0190c6a0-0000-7000-8000-000000000000"),
        };
        let text = c.encode().expect("encodes");
        assert_eq!(Cursor::decode(&text), Some(c));
        assert_eq!(Cursor::decode("not a cursor"), None);
        assert_eq!(Cursor::decode(&base64url_encode(b"{\"s\":1}")), None);
        assert_eq!(Cursor::decode(&"A".repeat(MAX_CURSOR_LEN + 4)), None);
    }
}
