//! Folded text: the form lists search and sort by, the same on every backend.
//!
//! Accents and case must not change what a search finds or where a row sorts, and both
//! databases must agree. Their own tools disagree — SQLite's `lower()` knows only ASCII,
//! FTS5 strips diacritics where PostgreSQL's `simple` configuration does not, their
//! tokenizers split words differently, and PostgreSQL orders text by whatever collation
//! the database was created with — so the folding is done here, in Rust, when a row is
//! written: every free-text column a list searches or sorts has a *twin* column holding
//! its [`fold`] (or, for full-text search, its [`word_list`]), and lists compare twins
//! byte by byte (`COLLATE "C"` on PostgreSQL, `BINARY` on SQLite), which both backends
//! do alike.
//!
//! An entity names its twins with [`crate::row_behaviour!`]; its writes fill them
//! ([`fill`] for an `ActiveModel`, [`twin_values`] and [`set_text`] for an update of
//! chosen columns); [`refill`] finds (and sets right) twins written some other way.

use std::collections::HashSet;

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue, ConnectionTrait, DbErr, EntityTrait, IdenStatic, UpdateMany,
    Value,
};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use uuid::Uuid;

/// The longest word a [`word_list`] keeps, in characters; longer words are cut. A search
/// is at most [`crate::list::MAX_SEARCH_LEN`] characters, so a cut word still matches
/// every prefix a search word can be; PostgreSQL refuses lexemes over 2 kB.
pub const MAX_WORD_CHARS: usize = 200;

/// `text` as searches and sorts compare it: lowercase, compatibility forms decomposed
/// (`ﬁ` → `fi`, full-width `Ａ` → `a`), the generic diacritics Latin, Greek and Cyrillic
/// letters carry removed (`Éclair` → `eclair`, `Ῥόδος` → `ροδοσ`), a few letters without a
/// decomposition spelt out (`ß` → `ss`, `æ` → `ae`, `ø` → `o`, `ł` → `l`, final `ς` → `σ`),
/// then recomposed (NFC). The marks of scripts whose marks are letters' parts — the
/// vowel signs and virama of Devanagari (`स्मार्ट`), the Japanese voicing marks — are kept.
pub fn fold(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(text.len());
    // Lowercase before decomposing (`İ` lowers to `i` + a dot to remove) and after
    // (`ℌ` decomposes to an uppercase `H`).
    for c in text.to_lowercase().nfkd().flat_map(char::to_lowercase) {
        match c {
            c if is_generic_diacritic(c) => {}
            'ß' => out.push_str("ss"),
            'æ' => out.push_str("ae"),
            'œ' => out.push_str("oe"),
            'þ' => out.push_str("th"),
            'ø' => out.push('o'),
            'ł' => out.push('l'),
            'đ' | 'ð' => out.push('d'),
            'ħ' => out.push('h'),
            'ı' => out.push('i'),
            'ς' => out.push('σ'),
            c => out.push(c),
        }
    }
    out.nfc().collect()
}

/// The combining marks of the blocks shared by Latin, Greek and Cyrillic (Combining
/// Diacritical Marks, its Extended and Supplement blocks, the marks for symbols and the
/// half marks). Other scripts' marks live in their own blocks and are kept.
fn is_generic_diacritic(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE20}'..='\u{FE2F}')
}

/// The words of `text`, folded: runs of letters and digits with the marks that go with
/// them (a Devanagari word stays one word). Everything else — spaces, punctuation,
/// quotes, `%`, `_`, symbols, emoji — only separates words. Each word is cut to
/// [`MAX_WORD_CHARS`].
pub fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    for c in fold(text).chars() {
        if c.is_alphanumeric() || (!word.is_empty() && is_combining_mark(c)) {
            word.push(c);
        } else if !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    for word in &mut words {
        if let Some((cut, _)) = word.char_indices().nth(MAX_WORD_CHARS) {
            word.truncate(cut);
        }
    }
    words
}

/// The distinct [`words`] of `text`, separated by single spaces: what a full-text twin
/// holds. Both backends index exactly these words (PostgreSQL splits at the spaces,
/// SQLite's `ascii` tokenizer at ASCII non-alphanumerics, which the words do not hold).
pub fn word_list(text: &str) -> String {
    let mut seen = HashSet::new();
    let words = words(text);
    let distinct: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .filter(|w| seen.insert(*w))
        .collect();
    distinct.join(" ")
}

/// What a twin column holds of its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// [`fold`]: for substring search and sorting.
    Fold,
    /// [`word_list`]: for full-text search.
    Words,
}

impl Form {
    /// The twin of the source text `text`.
    pub fn of(self, text: &str) -> String {
        match self {
            Form::Fold => fold(text),
            Form::Words => word_list(text),
        }
    }

    /// The twin of a source column's value: NULL for NULL.
    pub fn of_value(self, value: &Value) -> Value {
        match value {
            Value::String(Some(text)) => Value::String(Some(self.of(text))),
            _ => Value::String(None),
        }
    }
}

/// One twin: `column` holds `form` of `source`.
#[derive(Debug, Clone, Copy)]
pub struct Twin<C> {
    /// The free-text column.
    pub source: C,
    /// Its twin.
    pub column: C,
    /// What the twin holds.
    pub form: Form,
}

/// An entity whose free-text columns have twins ([`crate::row_behaviour!`] says which).
pub trait Folded: EntityTrait {
    /// Its twins; none for most entities.
    fn twins() -> &'static [Twin<Self::Column>];
}

/// Sets the twins of the source columns `model` sets: what every `ActiveModel` insert
/// and update does before it is written ([`crate::row_behaviour!`]).
pub fn fill<A>(model: &mut A)
where
    A: ActiveModelTrait,
    A::Entity: Folded,
{
    for twin in <A::Entity as Folded>::twins() {
        if let ActiveValue::Set(value) = model.get(twin.source) {
            model.set(twin.column, twin.form.of_value(&value));
        }
    }
}

/// The twin columns to set, and their values, when an update sets `column` to `value`.
pub fn twin_values<E: Folded>(column: E::Column, value: &Value) -> Vec<(E::Column, Value)> {
    E::twins()
        .iter()
        .filter(|twin| twin.source.as_str() == column.as_str())
        .map(|twin| (twin.column, twin.form.of_value(value)))
        .collect()
}

/// Rows of `E` whose twins do not hold what their sources fold to (written by hand, or
/// by an older fold); with `repair`, set right. How many rows differed.
pub async fn refill<E: Folded>(conn: &impl ConnectionTrait, repair: bool) -> Result<u64, DbErr> {
    let twins: Vec<(&str, &str, Form)> = E::twins()
        .iter()
        .map(|t| (t.source.as_str(), t.column.as_str(), t.form))
        .collect();
    if twins.is_empty() {
        return Ok(0);
    }
    refill_table(conn, E::default().table_name(), &twins, repair).await
}

/// [`refill`] by names, for code without the entity (a migration's new twins): walks
/// `table` in `id` order, [`REFILL_BATCH`] rows a round trip, comparing each twin
/// `(source, twin, form)` with what its source folds to; with `repair`, writes the rows
/// that differ, each only if its text is still the text read. The fold is Rust's, so this
/// cannot be one SQL statement.
pub async fn refill_table(
    conn: &impl ConnectionTrait,
    table: &str,
    twins: &[(&str, &str, Form)],
    repair: bool,
) -> Result<u64, DbErr> {
    let mut after: Option<Uuid> = None;
    let mut differing = 0;
    loop {
        let mut select = Query::select();
        select
            .column("id")
            .columns(twins.iter().map(|(source, _, _)| Alias::new(*source)))
            .columns(twins.iter().map(|(_, twin, _)| Alias::new(*twin)))
            .from(Alias::new(table))
            .order_by("id", Order::Asc)
            .limit(REFILL_BATCH);
        if let Some(last) = after {
            select.and_where(Expr::col("id").gt(last));
        }
        let rows = conn.query_all(&select).await?;
        for row in &rows {
            let id: Uuid = row.try_get_by_index(0)?;
            after = Some(id);
            let mut update = Query::update();
            let mut differs = false;
            for (i, (source_column, twin, form)) in twins.iter().enumerate() {
                let source: Option<String> = row.try_get_by_index(1 + i)?;
                let stored: Option<String> = row.try_get_by_index(1 + twins.len() + i)?;
                let due = source.as_deref().map(|text| form.of(text));
                differs |= stored != due;
                update.value(Alias::new(*twin), Value::String(due));
                // Only over the text read: a write that changed it since (with its own
                // twins) must not get these back.
                let source_column = Expr::col(Alias::new(*source_column));
                update.and_where(match source {
                    Some(text) => source_column.eq(text),
                    None => source_column.is_null(),
                });
            }
            if differs {
                differing += 1;
                if repair {
                    update
                        .table(Alias::new(table))
                        .and_where(Expr::col("id").eq(id));
                    conn.execute(&update).await?;
                }
            }
        }
        if (rows.len() as u64) < REFILL_BATCH {
            return Ok(differing);
        }
    }
}

/// Rows [`refill_table`] reads a round trip.
pub const REFILL_BATCH: u64 = 500;

/// `update` setting `column` to `value` and its twins: for updates written by hand.
pub fn set_text<E: Folded>(
    update: UpdateMany<E>,
    column: E::Column,
    value: impl Into<Value>,
) -> UpdateMany<E> {
    let value = value.into();
    let mut update = update;
    for (twin, folded) in twin_values::<E>(column, &value) {
        update = update.col_expr(twin, Expr::value(folded));
    }
    update.col_expr(column, Expr::value(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_and_case_fold_away_in_latin_greek_and_cyrillic() {
        for (text, folded) in [
            ("Café ordering app", "cafe ordering app"),
            ("ÉCLAIR éclat", "eclair eclat"),
            ("Straße ŁÓDŹ Øresund Æsir", "strasse lodz oresund aesir"),
            ("Tiếng Việt", "tieng viet"),
            ("İstanbul", "istanbul"),
            ("ΟΔΟΣ Ῥόδος", "οδοσ ροδοσ"),
            ("Ёлка", "елка"),
            ("ﬁle ＡＢＣ ℌ ①", "file abc h 1"),
            ("50% off_now \\ 'q'", "50% off_now \\ 'q'"),
        ] {
            assert_eq!(fold(text), folded, "{text}");
        }
    }

    #[test]
    fn other_scripts_and_emoji_keep_their_marks() {
        assert_eq!(fold("स्मार्ट कृषि प्रणाली"), "स्मार्ट कृषि प्रणाली");
        assert_eq!(fold("がぎ カフェ"), "がぎ カフェ");
        assert_eq!(fold("한국어"), "한국어");
        assert_eq!(fold("Rocket 🚀 launch 👩🏽‍💻"), "rocket 🚀 launch 👩🏽‍💻");
    }

    #[test]
    fn folding_twice_changes_nothing() {
        for text in [
            "Café",
            "İİ",
            "ℌℍ",
            "ǅungla",
            "ﷺ",
            "Ǆ",
            "ß ẞ",
            "स्मार्ट",
            "Ῥόδος",
            "ᾼ",
        ] {
            let once = fold(text);
            assert_eq!(fold(&once), once, "{text}");
        }
    }

    #[test]
    fn words_keep_devanagari_whole_and_split_on_everything_else() {
        assert_eq!(words("स्मार्ट कृषि प्रणाली"), ["स्मार्ट", "कृषि", "प्रणाली"]);
        assert_eq!(
            words("It's 100% \"Café\" x_y; example.com 🚀v2"),
            ["it", "s", "100", "cafe", "x", "y", "example", "com", "v2"]
        );
        assert_eq!(words("%_' — 🚀"), Vec::<String>::new());
        let long = "a".repeat(MAX_WORD_CHARS + 50);
        assert_eq!(words(&long)[0].chars().count(), MAX_WORD_CHARS);
        assert_eq!(word_list("Rust rust RUST-lang"), "rust lang");
    }
}
