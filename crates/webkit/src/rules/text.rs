//! Text fields, each stated once as a [`Text`] rule: the check the server makes, and the
//! `minLength`, `maxLength` and `pattern` the OpenAPI document gives the field
//! (an app's OpenAPI document), so a client generated from the document accepts exactly what the
//! server does.
//!
//! Lengths count characters (code points). `max` bounds the text as sent; `min` bounds
//! it after trimming, so `"  ab  "` is two characters for `min` and six for `max`. The
//! patterns use only `\xHH` and `\uHHHH` escapes and classes, which ECMAScript, Python
//! and Rust regexes read alike.

use crate::error::AppError;

/// A text field's rule.
#[derive(Debug, Clone, Copy)]
pub struct Text {
    /// The field's name, for messages.
    pub field: &'static str,
    /// Fewest characters after trimming.
    pub min: usize,
    /// Most characters as sent.
    pub max: usize,
    pub form: Form,
}

/// What a text may hold besides its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// One line: trimmed, no control characters.
    Line,
    /// Lines (descriptions, notes, messages): trimmed; tabs and line breaks kept, other
    /// control characters refused.
    Lines,
    /// An `http://` or `https://` URL, trimmed: a host name (letters, digits, dots,
    /// dashes), an optional port, an optional path of visible characters. `min` should
    /// be 8, the shortest such URL (`http://a`), as the pattern does not count.
    HttpUrl,
    /// Taken as sent: only the length is checked (passwords).
    Verbatim,
}

/// Whitespace as Rust's `trim` sees it (Unicode `White_Space`), spelled out: a regex's
/// `\s` differs between engines.
const SPACE: &str = r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
/// Control characters (Unicode `Cc`).
const CONTROL: &str = r"\x00-\x1f\x7f-\x9f";
/// Control characters other than tab, line feed and carriage return.
const CONTROL_IN_LINES: &str = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f";

impl Text {
    pub const fn line(field: &'static str, min: usize, max: usize) -> Self {
        Self::new(field, min, max, Form::Line)
    }

    pub const fn lines(field: &'static str, min: usize, max: usize) -> Self {
        Self::new(field, min, max, Form::Lines)
    }

    pub const fn new(field: &'static str, min: usize, max: usize, form: Form) -> Self {
        Self {
            field,
            min,
            max,
            form,
        }
    }

    /// The text, trimmed (unless verbatim), if it keeps the rule; a 422 naming the
    /// field otherwise.
    pub fn check(&self, raw: &str) -> Result<String, AppError> {
        let field = self.field;
        let value = if self.form == Form::Verbatim {
            raw
        } else {
            raw.trim()
        };
        if value.chars().count() < self.min || raw.chars().count() > self.max {
            return Err(AppError::invalid(
                field,
                format!("{field} must be {} to {} characters", self.min, self.max),
            ));
        }
        let forbidden = |c: char| match self.form {
            Form::Line | Form::HttpUrl => c.is_control(),
            Form::Lines => c.is_control() && !matches!(c, '\n' | '\r' | '\t'),
            Form::Verbatim => false,
        };
        if value.chars().any(forbidden) {
            return Err(AppError::invalid(
                field,
                format!("{field} must not contain control characters"),
            ));
        }
        if self.form == Form::HttpUrl && !is_http_url(value) {
            return Err(AppError::invalid(
                field,
                format!("{field} must be an http(s) URL"),
            ));
        }
        Ok(value.to_owned())
    }

    /// [`check`](Self::check) for a field that may be absent (or `null`): absent stays
    /// absent.
    pub fn optional(&self, raw: Option<&str>) -> Result<Option<String>, AppError> {
        raw.map(|raw| self.check(raw)).transpose()
    }

    /// The rule as a regular expression over the text as sent (lengths aside from
    /// `min`, which counts the trimmed text); `None` when any text of the right length
    /// will do.
    pub fn pattern(&self) -> Option<String> {
        let visible = format!("[^{SPACE}{CONTROL}]");
        let inner = match self.form {
            Form::Line => format!("[^{CONTROL}]"),
            Form::Lines => format!("[^{CONTROL_IN_LINES}]"),
            Form::HttpUrl => {
                return Some(format!(
                    "^[{SPACE}]*https?://[A-Za-z0-9.-]+(?::[0-9]{{1,5}})?(?:/{visible}*)?[{SPACE}]*$"
                ));
            }
            Form::Verbatim => return None,
        };
        // The trimmed text runs from the first visible character to the last.
        let trimmed = match self.min {
            0 => format!("(?:{visible}(?:{inner}*{visible})?)?"),
            1 => format!("{visible}(?:{inner}*{visible})?"),
            min => format!("{visible}{inner}{{{},}}{visible}", min - 2),
        };
        Some(format!("^[{SPACE}]*{trimmed}[{SPACE}]*$"))
    }
}

fn is_http_url(value: &str) -> bool {
    let Some(rest) = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
    else {
        return false;
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    let port_ok =
        port.is_none_or(|p| (1..=5).contains(&p.len()) && p.chars().all(|c| c.is_ascii_digit()));
    host_ok && port_ok && !path.contains(char::is_whitespace)
}

/// Most entries in a list of labels ([`tags`]).
pub const MAX_TAGS: usize = 20;

/// A short list of short labels (a tech stack): at most [`MAX_TAGS`], each keeping
/// `rule`.
pub fn tags(rule: &Text, raw: &[String]) -> Result<Vec<String>, AppError> {
    if raw.len() > MAX_TAGS {
        let field = rule.field;
        return Err(AppError::invalid(
            field,
            format!("{field} has more than {MAX_TAGS} entries"),
        ));
    }
    raw.iter().map(|t| rule.check(t)).collect()
}

/// A password: 8–128 characters, taken as sent. Only its hash is ever stored.
pub const PASSWORD: Text = Text::new("password", 8, 128, Form::Verbatim);

/// A display name.
pub const NAME: Text = Text::line("name", 2, 100);

/// Most characters of a phone number as sent.
pub const PHONE_MAX: usize = 32;

/// A phone number (trimmed): 6 to 20 digits, with `+`, spaces, dashes and parentheses
/// between them, as a pattern.
pub fn phone_pattern() -> String {
    format!(r"^[{SPACE}]*[ +()-]*(?:[0-9][ +()-]*){{6,20}}[{SPACE}]*$")
}

/// A phone number keeping [`phone_pattern`], trimmed.
pub fn phone(raw: &str) -> Result<String, AppError> {
    let value = raw.trim();
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let allowed = value
        .chars()
        .all(|c| c.is_ascii_digit() || " +-()".contains(c));
    if !allowed || !(6..=20).contains(&digits) || raw.chars().count() > PHONE_MAX {
        return Err(AppError::invalid("phone", "phone must be 6 to 20 digits"));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Texts that probe each edge of the rules: whitespace of every kind around and
    /// inside, controls, the URL schemes, lengths at and beside the bounds.
    fn samples() -> Vec<String> {
        let mut samples: Vec<String> = [
            "",
            " ",
            "a",
            "ab",
            "abc",
            " abc ",
            "a c",
            "  a  ",
            "\ta\tb\t",
            "a\nb",
            "a\rb",
            "a\u{0}b",
            "a\u{7f}b",
            "a\u{85}b",
            "\u{85}abc",
            "abc\u{a0}",
            "\u{3000}abc",
            "a\u{200b}b",
            "\u{1c}abc",
            "abc\u{1f}",
            "é🙂ü",
            "http://x.io",
            "https://x.io",
            "https://",
            "http://a b",
            " https://example.com/meeting ",
            "ftp://x.io/a/b",
            "https://ex\tample.com",
            "line\u{2028}sep",
            "http://[::1]/x",
            "http://a",
            "http://a:",
            "https://meet.example.com:8443/r/1?x=[1]",
            "https://a:123456",
            "https://a.b?x",
            "http://a/\u{3000}",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        for n in [9, 10, 11, 49, 50, 51] {
            samples.push("x".repeat(n));
            samples.push(format!(" {} ", "y".repeat(n)));
            samples.push(format!("https://{}", "z".repeat(n)));
        }
        samples
    }

    #[test]
    fn each_pattern_with_the_lengths_accepts_exactly_what_the_check_accepts() {
        let rules = [
            Text::line("a", 0, 50),
            Text::line("b", 1, 50),
            Text::line("c", 3, 10),
            Text::lines("d", 0, 50),
            Text::lines("e", 1, 10),
            Text::new("f", 8, 50, Form::HttpUrl),
            Text::new("g", 8, 11, Form::HttpUrl),
        ];
        for rule in rules {
            let pattern = rule.pattern().expect("a pattern");
            let regex = regex::Regex::new(&pattern).expect(&pattern);
            for sample in samples() {
                let by_document = regex.is_match(&sample)
                    && sample.chars().count() >= rule.min
                    && sample.chars().count() <= rule.max;
                assert_eq!(
                    by_document,
                    rule.check(&sample).is_ok(),
                    "{rule:?} on {sample:?} (pattern {pattern})"
                );
            }
        }
    }

    #[test]
    fn the_phone_pattern_accepts_exactly_what_the_check_accepts() {
        let regex = regex::Regex::new(&phone_pattern()).expect("the phone pattern");
        for sample in [
            "",
            "12345",
            "123456",
            "+1 (555) 010-2030",
            " 123456 ",
            "123456789012345678901",
            "12345678901234567890",
            "12a456",
            "１２３４５６",
            "123\u{a0}456",
            "--123456--",
            "(((((((((((((((((((123456)))))))",
            "123456\n",
            "\t123456",
            "\u{1c}123456",
        ] {
            let by_document = regex.is_match(sample) && sample.chars().count() <= PHONE_MAX;
            assert_eq!(by_document, phone(sample).is_ok(), "{sample:?}");
        }
    }

    #[test]
    fn names_passwords_and_phones_have_bounds_in_characters_not_bytes() {
        assert!(NAME.check("Ém").is_ok());
        assert!(NAME.check("É").is_err());
        assert!(NAME.check(&"é".repeat(100)).is_ok());
        assert!(NAME.check(&"é".repeat(101)).is_err());
        assert!(NAME.check("a\u{0}b").is_err());
        assert!(PASSWORD.check("short").is_err());
        assert!(PASSWORD.check("long enough").is_ok());
        assert!(PASSWORD.check(&"x".repeat(129)).is_err());
        assert!(phone("+91 98765-43210").is_ok());
        assert!(phone("call me").is_err());
    }

    #[test]
    fn lengths_count_characters_min_after_trimming_max_as_sent() {
        let title = Text::line("title", 3, 5);
        assert_eq!(title.check("  abc  ").ok(), None, "7 characters sent");
        assert_eq!(title.check(" abc ").ok().as_deref(), Some("abc"));
        assert!(title.check(" ab ").is_err(), "2 after trimming");
        assert_eq!(title.check("éèê").ok().as_deref(), Some("éèê"));
        assert_eq!(PASSWORD.check(" 1234567").ok().as_deref(), Some(" 1234567"));
    }
}
