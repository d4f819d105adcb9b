//! The rules inputs and states keep, each stated once: text fields ([`Text`]: the check
//! and the OpenAPI `minLength`/`maxLength`/`pattern` from one rule), email addresses (one
//! visible address is one account), whole numbers ([`Whole`]), choices ([`one_of`]), UUIDs
//! given as text, and the legal moves of a status ([`Transitions`]). Each refusal is a
//! 422 (a move, a 409) naming the field, so that handlers only see valid data.

use serde_json::json;

use crate::error::AppError;

pub mod text;
pub use text::{Form, Text, phone, tags};

/// A normalised email address: one visible address is one account. Trimmed, in Unicode
/// compatibility form (NFKC: full-width letters and `ſ` become plain ones) and lower
/// case; refused if it holds a character nobody can see (zero-width spaces, direction
/// overrides, controls).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

/// An email address's length in characters, after normalising.
pub const EMAIL_LENGTH: (usize, usize) = (5, 320);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let bad = |why: &str| Err(AppError::invalid("email", why.to_owned()));
        let (min, max) = EMAIL_LENGTH;
        let length = format!("email must be {min} to {max} characters");
        if raw.len() > 4 * max {
            return bad(&length);
        }
        let email = fold(raw.trim());
        if email.chars().any(invisible) {
            return bad("email must not contain invisible or control characters");
        }
        if email.chars().count() < min || email.len() > max {
            return bad(&length);
        }
        let Some((local, domain)) = email.split_once('@') else {
            return bad("email must look like name@example.com");
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@');
        if local.is_empty() || !domain_ok || email.chars().any(char::is_whitespace) {
            return bad("email must look like name@example.com");
        }
        Ok(Email(email))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// `text` in compatibility form, lower case: NFKC, then lower case, then NFKC again
/// (lowering can undo the normal form).
fn fold(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let lower: String = text.nfkc().flat_map(char::to_lowercase).collect();
    lower.nfkc().collect()
}

/// Characters a reader cannot see, or that change how the rest is seen: controls, format
/// characters (zero-width spaces and joiners, direction overrides such as U+202E, the
/// byte-order mark), separators other than the plain space, unassigned and private-use
/// code points, variation selectors and the Hangul fillers.
pub fn invisible(c: char) -> bool {
    use unicode_properties::{GeneralCategory as G, UnicodeGeneralCategory};
    if c == ' ' {
        return false;
    }
    matches!(
        c.general_category(),
        G::Control
            | G::Format
            | G::Surrogate
            | G::PrivateUse
            | G::Unassigned
            | G::SpaceSeparator
            | G::LineSeparator
            | G::ParagraphSeparator
    ) || matches!(
        c,
        '\u{034F}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FFA0}'
            | '\u{E0100}'..='\u{E01EF}'
    )
}

/// A UUID given as text (in a form or query string); a 422 naming `field` otherwise.
pub fn uuid(field: &str, raw: &str) -> Result<uuid::Uuid, AppError> {
    uuid::Uuid::parse_str(raw.trim())
        .map_err(|_| AppError::invalid(field, format!("{field} must be a UUID")))
}

/// `raw` if it is one of `allowed`; a 422 listing them otherwise.
pub fn one_of(field: &str, raw: &str, allowed: &[&'static str]) -> Result<&'static str, AppError> {
    allowed
        .iter()
        .copied()
        .find(|a| *a == raw)
        .ok_or_else(|| AppError::Validation {
            message: format!("unknown {field} '{raw}'"),
            details: json!({ "field": field, "allowed": allowed }),
        })
}

/// A whole-number field's bounds, stated once: the check the server makes, and the
/// `minimum` and `maximum` the document gives the field (an app's OpenAPI document).
#[derive(Debug)]
pub struct Whole {
    pub field: &'static str,
    pub min: i64,
    pub max: i64,
}

impl Whole {
    /// `value` if it is within bounds; a 422 naming the field otherwise.
    pub fn check(&self, value: i64) -> Result<i64, AppError> {
        if (self.min..=self.max).contains(&value) {
            return Ok(value);
        }
        let (field, min, max) = (self.field, self.min, self.max);
        let message = if max == i64::MAX {
            format!("{field} must be at least {min}")
        } else {
            format!("{field} must be {min} to {max}")
        };
        Err(AppError::invalid(field, message))
    }
}

/// The legal moves of a status: from each state, the states it may go to.
#[derive(Debug)]
pub struct Transitions {
    /// What moves (`order`), for messages.
    pub noun: &'static str,
    /// `(from, [to, …])`; a state with no entry is final.
    pub moves: &'static [(&'static str, &'static [&'static str])],
}

impl Transitions {
    /// Where a row in state `from` may go.
    pub fn allowed(&self, from: &str) -> &'static [&'static str] {
        self.moves
            .iter()
            .find(|(f, _)| *f == from)
            .map(|(_, to)| *to)
            .unwrap_or(&[])
    }

    /// Ok if `from → to` is legal; otherwise the 409 that says what is allowed.
    pub fn check(&self, from: &str, to: &str) -> Result<(), AppError> {
        if self.allowed(from).contains(&to) {
            Ok(())
        } else {
            Err(self.conflict(from, to))
        }
    }

    /// "a meeting", "an order".
    fn a_noun(&self) -> String {
        let article = if self.noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        format!("{article} {}", self.noun)
    }

    /// The 409 for an illegal (or lost) move.
    pub fn conflict(&self, from: &str, to: &str) -> AppError {
        let allowed = self.allowed(from);
        let message = if allowed.is_empty() {
            format!("{} that is {from} cannot change any more", self.a_noun())
        } else {
            format!(
                "{} that is {from} can only become {}",
                self.a_noun(),
                allowed.join(" or ")
            )
        };
        AppError::Conflict {
            message,
            details: json!({ "from": from, "to": to, "allowed": allowed }),
        }
    }
}

/// For PATCH fields where `null` means "clear": absent → `None`, `null` → `Some(None)`.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ")
                .map(Email::into_inner)
                .ok(),
            Some("ada@example.com".into())
        );
        for bad in [
            "",
            "a@b",
            "no-at.example.com",
            "a@.com",
            "a b@example.com",
            "@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(320))).is_err());
    }

    #[test]
    fn lookalike_emails_are_one_address_and_invisible_characters_are_refused() {
        for lookalike in [
            "ſtudent@test.com",
            "ＳＴＵＤＥＮＴ@ｔｅｓｔ．ｃｏｍ",
            "Student@TEST.com",
            "stu\u{0064}\u{0065}nt@test.com",
        ] {
            assert_eq!(
                Email::parse(lookalike)
                    .map(Email::into_inner)
                    .ok()
                    .as_deref(),
                Some("student@test.com"),
                "{lookalike:?}"
            );
        }
        for hidden in [
            "student@test.com\u{200B}",
            "stu\u{200D}dent@test.com",
            "student\u{202E}@test.com",
            "\u{FEFF}student@test.com",
            "stu\u{00AD}dent@test.com",
            "student@test.com\u{3164}",
            "stu\u{00A0}dent@test.com",
        ] {
            assert!(Email::parse(hidden).is_err(), "{hidden:?} accepted");
        }
    }

    const ORDER: Transitions = Transitions {
        noun: "order",
        moves: &[
            ("pending", &["paid", "cancelled"]),
            ("paid", &["completed", "cancelled"]),
        ],
    };

    #[test]
    fn transitions_allow_only_listed_moves_and_say_what_is_allowed() {
        assert!(ORDER.check("pending", "paid").is_ok());
        let err = ORDER
            .check("pending", "completed")
            .expect_err("skips a step");
        assert!(
            matches!(&err, AppError::Conflict { details, .. } if details["allowed"] == json!(["paid", "cancelled"]))
        );
        let err = ORDER.check("completed", "paid").expect_err("final state");
        assert!(err.to_string().contains("cannot change"), "{err}");
    }
}
