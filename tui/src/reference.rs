//! Secret references, `gk://ITEM/FIELD`, for `gophkeeper run` and
//! `gophkeeper inject`: what a reference says, where a template has them,
//! and hiding the resolved values in a child's output.
//!
//! ITEM is an item's name or id, FIELD what `get --field` takes (`password`,
//! `username`, `number`, a custom field's key, ...), except that `totp`
//! gives the current code. A `/`, `%`, `}` or a space in either part is
//! written percent-encoded (`gk://Bank%2FSavings/pin`); unencoded spaces
//! are accepted too.

use std::fmt;
use std::ops::Range;

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};
use zeroize::Zeroizing;

pub const SCHEME: &str = "gk://";
/// What stands in a child's output where a secret was.
pub const CONCEALED: &str = "<concealed by gophkeeper>";

/// Characters written percent-encoded in a reference.
const RESERVED: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'/')
    .add(b'%')
    .add(b'{')
    .add(b'}')
    .add(b'"')
    .add(b'\'');

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    pub item: String,
    pub field: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReferenceError {
    #[error("{0:?} is not a secret reference: it does not start with gk://")]
    NotAReference(String),
    #[error(
        "{0:?} is not a secret reference: write gk://ITEM/FIELD (a `/` in a name is written %2F)"
    )]
    Shape(String),
    #[error("{0:?} is not a secret reference: a %-escape is not valid UTF-8")]
    Encoding(String),
    #[error("the template has `{{{{ gk://` at byte {0} without a closing `}}}}`")]
    Unclosed(usize),
}

impl Reference {
    /// Whether `text` means to be a reference (and should be resolved or
    /// refused, never passed on as is).
    pub fn looks_like(text: &str) -> bool {
        text.trim_start().starts_with(SCHEME)
    }

    pub fn parse(text: &str) -> Result<Self, ReferenceError> {
        let trimmed = text.trim();
        let rest = trimmed
            .strip_prefix(SCHEME)
            .ok_or_else(|| ReferenceError::NotAReference(text.to_owned()))?;
        let shape = || ReferenceError::Shape(text.to_owned());
        let (item, field) = rest.split_once('/').ok_or_else(shape)?;
        if item.trim().is_empty() || field.trim().is_empty() || field.contains('/') {
            return Err(shape());
        }
        let decode = |part: &str| {
            percent_decode_str(part.trim())
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| ReferenceError::Encoding(text.to_owned()))
        };
        Ok(Self {
            item: decode(item)?,
            field: decode(field)?,
        })
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{SCHEME}{}/{}",
            utf8_percent_encode(&self.item, RESERVED),
            utf8_percent_encode(&self.field, RESERVED)
        )
    }
}

/// The `{{ gk://... }}` spans of a template, in order. Other `{{ ... }}`
/// (another tool's placeholders) are left alone.
pub fn in_template(template: &str) -> Result<Vec<(Range<usize>, Reference)>, ReferenceError> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(offset) = template[from..].find("{{") {
        let start = from + offset;
        let inner_start = start + 2;
        let Some(close) = template[inner_start..].find("}}") else {
            if Reference::looks_like(&template[inner_start..]) {
                return Err(ReferenceError::Unclosed(start));
            }
            break;
        };
        let end = inner_start + close + 2;
        let inner = &template[inner_start..inner_start + close];
        if Reference::looks_like(inner) {
            found.push((start..end, Reference::parse(inner)?));
            from = end;
        } else {
            from = inner_start;
        }
    }
    Ok(found)
}

/// The template with each span replaced by its value (same order as
/// [`in_template`] gave them).
pub fn fill(template: &str, spans: &[(Range<usize>, &str)]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(template.len()));
    let mut at = 0;
    for (range, value) in spans {
        out.push_str(&template[at..range.start]);
        out.push_str(value);
        at = range.end;
    }
    out.push_str(&template[at..]);
    out
}

/// Replaces secrets in a byte stream with [`CONCEALED`], also when a secret
/// is split across two reads: a tail that could be the start of a secret
/// is held back until the next read (or the end) decides.
pub struct Masker {
    /// Longest first, so that a secret containing another is hidden whole.
    secrets: Vec<Zeroizing<Vec<u8>>>,
    carry: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for Masker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Masker")
            .field("secrets", &self.secrets.len())
            .finish_non_exhaustive()
    }
}

impl Masker {
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Self {
        let mut secrets: Vec<Zeroizing<Vec<u8>>> = secrets
            .into_iter()
            .filter(|s| !s.is_empty())
            .map(|s| Zeroizing::new(s.as_bytes().to_vec()))
            .collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup_by(|a, b| a.as_slice() == b.as_slice());
        Self {
            secrets,
            carry: Zeroizing::new(Vec::new()),
        }
    }

    /// What can be written now of `chunk` (and what was held back).
    pub fn push(&mut self, chunk: &[u8]) -> Vec<u8> {
        let mut input = Zeroizing::new(std::mem::take(&mut *self.carry));
        input.extend_from_slice(chunk);
        let (out, held) = self.scan(&input, false);
        self.carry.extend_from_slice(&input[held..]);
        out
    }

    /// The rest, at the end of the stream.
    pub fn finish(&mut self) -> Vec<u8> {
        let input = Zeroizing::new(std::mem::take(&mut *self.carry));
        self.scan(&input, true).0
    }

    /// Returns the output and where the held-back tail starts.
    fn scan(&self, input: &[u8], last: bool) -> (Vec<u8>, usize) {
        let mut out = Vec::with_capacity(input.len());
        let mut at = 0;
        while at < input.len() {
            let rest = &input[at..];
            if let Some(secret) = self.secrets.iter().find(|s| rest.starts_with(s)) {
                out.extend_from_slice(CONCEALED.as_bytes());
                at += secret.len();
                continue;
            }
            let may_continue = self
                .secrets
                .iter()
                .any(|s| s.len() > rest.len() && s.starts_with(rest));
            if may_continue && !last {
                return (out, at);
            }
            out.push(input[at]);
            at += 1;
        }
        (out, input.len())
    }
}

#[cfg(test)]
mod tests;
