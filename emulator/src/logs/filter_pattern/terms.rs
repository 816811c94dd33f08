//! Patterns for unstructured log events: terms that must, may or must not appear.
//!
//! `ERROR ARGUMENTS` needs both terms, `?ERROR ?ARGUMENTS` either, `ERROR -ARGUMENTS` the
//! first without the second, `"INTERNAL SERVER ERROR"` the exact phrase. Terms match anywhere
//! in the message, case-sensitively (`ERROR` matches `ERRORCODE`). Unquoted terms are letters,
//! digits and `_`; anything else must be quoted. AWS ignores `?` terms when the pattern also
//! has plain or `-` terms, and a quoted blank (`" "`) matches everything.

use super::PatternError;
use super::cursor::Cursor;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Terms {
    required: Vec<String>,
    excluded: Vec<String>,
    optional: Vec<String>,
}

impl Terms {
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        let mut terms = Terms::default();
        let mut cursor = Cursor::new(text);
        loop {
            cursor.skip_whitespace();
            if cursor.at_end() {
                return Ok(terms);
            }
            let list = if cursor.eat("?") {
                &mut terms.optional
            } else if cursor.eat("-") {
                &mut terms.excluded
            } else {
                &mut terms.required
            };
            cursor.skip_whitespace();
            let term = parse_term(&mut cursor)?;
            if !term.trim().is_empty() {
                list.push(term);
            }
        }
    }

    pub fn matches(&self, message: &str) -> bool {
        if !self.required.is_empty() || !self.excluded.is_empty() {
            self.required.iter().all(|t| message.contains(t.as_str()))
                && !self.excluded.iter().any(|t| message.contains(t.as_str()))
        } else if !self.optional.is_empty() {
            self.optional.iter().any(|t| message.contains(t.as_str()))
        } else {
            true
        }
    }
}

fn parse_term(cursor: &mut Cursor<'_>) -> Result<String, PatternError> {
    if cursor.eat("\"") {
        let term = cursor
            .take_until_unescaped('"')
            .ok_or_else(|| PatternError::syntax("unbalanced quotes"))?;
        if cursor.peek().is_some_and(|c| !c.is_whitespace()) {
            return Err(PatternError::syntax("a quoted term must end at a space"));
        }
        return Ok(term);
    }
    let term = cursor.take_while(|c| !c.is_whitespace());
    if term.is_empty() {
        return Err(PatternError::syntax("expected a term after '?' or '-'"));
    }
    if !term.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return Err(PatternError::InvalidTerm(term.to_string()));
    }
    Ok(term.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENTS: [&str; 4] = [
        "[ERROR 400] BAD REQUEST",
        "[ERROR 401] UNAUTHORIZED REQUEST",
        "[ERROR 419] MISSING ARGUMENTS",
        "[ERROR 420] INVALID ARGUMENTS",
    ];

    fn matching(pattern: &str, events: &[&'static str]) -> Vec<&'static str> {
        let terms = Terms::parse(pattern).unwrap();
        events
            .iter()
            .copied()
            .filter(|e| terms.matches(e))
            .collect()
    }

    #[test]
    fn plain_terms_must_all_appear() {
        assert_eq!(matching("ERROR", &EVENTS), EVENTS);
        assert_eq!(matching("ERROR ARGUMENTS", &EVENTS), EVENTS[2..]);
        assert_eq!(
            matching("ERROR", &["Exiting with ERRORCODE: -1"]),
            ["Exiting with ERRORCODE: -1"]
        );
    }

    #[test]
    fn question_mark_terms_are_alternatives_unless_other_terms_are_present() {
        assert_eq!(matching("?ERROR ?ARGUMENTS", &EVENTS), EVENTS);
        let events = [
            "[INFO] REQUEST FAILED",
            "[WARN] UNAUTHORIZED REQUEST",
            "[ERROR] 400 BAD REQUEST",
            "[ERROR] 419 MISSING ARGUMENTS",
        ];
        assert_eq!(matching("?ERROR ?ARGUMENTS REQUEST", &events), events[..3]);
    }

    #[test]
    fn minus_terms_exclude_and_quotes_keep_phrases_together() {
        assert_eq!(matching("ERROR -ARGUMENTS", &EVENTS), EVENTS[..2]);
        let events = [
            "[ERROR 500] INTERNAL SERVER ERROR",
            "[ERROR 500] SERVER INTERNAL ERROR",
        ];
        assert_eq!(matching("\"INTERNAL SERVER ERROR\"", &events), events[..1]);
        assert_eq!(
            matching(r#""[ERROR]" Exception"#, &["x [ERROR] an Exception"]).len(),
            1
        );
    }

    #[test]
    fn a_quoted_blank_matches_everything() {
        assert_eq!(matching("\" \"", &EVENTS), EVENTS);
        assert_eq!(matching("\"\"", &EVENTS), EVENTS);
    }

    #[test]
    fn unquoted_punctuation_and_open_quotes_are_refused() {
        assert_eq!(
            Terms::parse("ERROR:").unwrap_err(),
            PatternError::InvalidTerm("ERROR:".into())
        );
        assert!(Terms::parse("\"open").is_err());
        assert!(Terms::parse("\"a\"b").is_err());
        assert!(Terms::parse("ERROR -").is_err());
    }
}
