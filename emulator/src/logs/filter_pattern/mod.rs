//! The CloudWatch Logs filter pattern language, shared by metric filters, subscription filters
//! and TestMetricFilter ("Filter pattern syntax for metric filters, subscription filters,
//! filter log events, and Live Tail" in the CloudWatch Logs User Guide).
//!
//! A pattern takes one of five forms, told apart by how it starts:
//! - empty: matches every event;
//! - `{ ... }`: a JSON pattern ([`json`]);
//! - `[ ... ]`: a space-delimited pattern ([`delimited`]);
//! - `%...%`: a regular expression on its own ([`regex_term`]);
//! - anything else: terms for unstructured events ([`terms`]).
//!
//! JSON and space-delimited patterns hold at most two regular expressions. Only
//! space-delimited patterns extract values (TestMetricFilter's `extractedValues` is empty for
//! the other forms, as AWS documents).

mod condition;
mod cursor;
mod delimited;
mod json;
mod regex_term;
mod terms;

use std::collections::BTreeMap;

pub use condition::parse_number;
pub use json::Selector;

use delimited::DelimitedPattern;
use json::JsonPattern;
use regex_term::RegexTerm;
use terms::Terms;

/// "There is a limit of 2 regex for each filter pattern when creating a delimited or JSON
/// filter pattern".
pub const MAX_REGEX_PER_PATTERN: usize = 2;

/// Why a pattern was refused. AWS's messages say little ("Invalid metric filter pattern");
/// the detail is kept for the emulator's own logs and tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PatternError {
    /// An unquoted term or value with characters that need quotes; AWS answers
    /// `Invalid character(s) in term '<term>'`.
    InvalidTerm(String),
    /// More regular expressions than a pattern may hold.
    TooManyRegexes(usize),
    /// Any other syntax error.
    Syntax(String),
}

impl PatternError {
    pub fn syntax(detail: impl Into<String>) -> Self {
        PatternError::Syntax(detail.into())
    }
}

#[derive(Clone, Debug)]
enum Form {
    Everything,
    Terms(Terms),
    Regex(RegexTerm),
    Json(JsonPattern),
    Delimited(DelimitedPattern),
}

/// What kind of values a pattern can reference (metric values and dimensions must use the
/// matching reference form).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatternKind {
    /// Empty, terms or a regular expression: nothing to reference.
    Text,
    /// `$.selector` references.
    Json,
    /// `$name` and `$<position>` references.
    Delimited,
}

#[derive(Clone, Debug)]
pub struct FilterPattern {
    form: Form,
}

impl FilterPattern {
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        let text = text.trim();
        let form = if text.is_empty() {
            Form::Everything
        } else if text.starts_with('{') {
            Form::Json(JsonPattern::parse(text)?)
        } else if text.starts_with('[') {
            Form::Delimited(DelimitedPattern::parse(text)?)
        } else if let Some(body) = text.strip_prefix('%') {
            let body = body
                .strip_suffix('%')
                .ok_or_else(|| PatternError::syntax("unterminated regular expression"))?;
            Form::Regex(RegexTerm::parse(body)?)
        } else {
            Form::Terms(Terms::parse(text)?)
        };
        let pattern = Self { form };
        let regexes = pattern.regex_count();
        if regexes > MAX_REGEX_PER_PATTERN {
            return Err(PatternError::TooManyRegexes(regexes));
        }
        Ok(pattern)
    }

    pub fn kind(&self) -> PatternKind {
        match self.form {
            Form::Everything | Form::Terms(_) | Form::Regex(_) => PatternKind::Text,
            Form::Json(_) => PatternKind::Json,
            Form::Delimited(_) => PatternKind::Delimited,
        }
    }

    /// Regular expressions in the pattern (AWS also limits patterns with any per log group).
    pub fn regex_count(&self) -> usize {
        match &self.form {
            Form::Everything | Form::Terms(_) => 0,
            Form::Regex(_) => 1,
            Form::Json(p) => p.regex_count(),
            Form::Delimited(p) => p.regex_count(),
        }
    }

    /// Whether `$name` names a field of a space-delimited pattern.
    pub fn names_field(&self, name: &str) -> bool {
        matches!(&self.form, Form::Delimited(p) if p.names_field(name))
    }

    /// Tests one log event: `None` when it does not match, otherwise the extracted values.
    pub fn test(&self, message: &str) -> Option<BTreeMap<String, String>> {
        match &self.form {
            Form::Everything => Some(BTreeMap::new()),
            Form::Terms(t) => t.matches(message).then(BTreeMap::new),
            Form::Regex(r) => r.is_match(message).then(BTreeMap::new),
            Form::Json(p) => p.matches(message).then(BTreeMap::new),
            Form::Delimited(p) => p.extract(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_character_decides_the_form() {
        let kind = |p: &str| FilterPattern::parse(p).unwrap().kind();
        assert_eq!(kind(""), PatternKind::Text);
        assert_eq!(kind("  "), PatternKind::Text);
        assert_eq!(kind("ERROR"), PatternKind::Text);
        assert_eq!(kind("%ERROR%"), PatternKind::Text);
        assert_eq!(kind(" { $.a = 1 } "), PatternKind::Json);
        assert_eq!(kind("[a, b]"), PatternKind::Delimited);
    }

    #[test]
    fn a_standalone_regex_matches_anywhere() {
        let pattern = FilterPattern::parse("%AUTHORIZED%").unwrap();
        assert!(pattern.test("[ERROR 401] UNAUTHORIZED REQUEST").is_some());
        assert!(pattern.test("[SUCCESS 200] AUTHORIZED REQUEST").is_some());
        assert!(pattern.test("[SUCCESS 200] OK").is_none());
        assert!(FilterPattern::parse("%open").is_err());
        assert!(
            FilterPattern::parse("%a% %b%").is_err(),
            "one regex, no '%' inside"
        );
    }

    #[test]
    fn the_empty_pattern_matches_everything_and_extracts_nothing() {
        assert_eq!(
            FilterPattern::parse("").unwrap().test("x"),
            Some(BTreeMap::new())
        );
    }

    #[test]
    fn at_most_two_regexes_per_pattern() {
        assert!(FilterPattern::parse("{ $.a = %x% && $.b = %y% }").is_ok());
        assert_eq!(
            FilterPattern::parse("{ $.a = %x% && $.b = %y% && $.c = %z% }").unwrap_err(),
            PatternError::TooManyRegexes(3)
        );
        assert_eq!(
            FilterPattern::parse("[a=%x%, b=%y%, c=%z%]").unwrap_err(),
            PatternError::TooManyRegexes(3)
        );
    }
}
