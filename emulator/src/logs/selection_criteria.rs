//! `fieldSelectionCriteria` of metric and subscription filters: which events a filter
//! processes, by system fields such as the source account and region of centralized logs.
//!
//! The API reference describes the syntax as comparisons of system fields with `=`, `!=`,
//! `IN` and `NOT IN`, joined by `AND` and `OR` (its example writes `or` in lower case), for
//! example `@aws.region = "us-east-1" or @aws.account IN ["123456789012", "987654321098"]`.
//! Parentheses group. The emulator checks this syntax and stores the text; it has no log
//! events to select.

use crate::logs::filter_pattern::PatternError;

/// Checks the syntax; the error explains what is wrong.
pub fn check(text: &str) -> Result<(), PatternError> {
    let mut parser = Parser { rest: text };
    parser.expression()?;
    parser.skip_whitespace();
    if parser.rest.is_empty() {
        Ok(())
    } else {
        Err(PatternError::syntax(format!(
            "unexpected '{}'",
            parser.rest
        )))
    }
}

struct Parser<'a> {
    rest: &'a str,
}

impl Parser<'_> {
    fn skip_whitespace(&mut self) {
        self.rest = self.rest.trim_start();
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip_whitespace();
        match self.rest.strip_prefix(token) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    /// A keyword in any case, followed by a non-word character.
    fn eat_keyword(&mut self, keyword: &str) -> bool {
        self.skip_whitespace();
        let n = keyword.len();
        let matches = self
            .rest
            .get(..n)
            .is_some_and(|head| head.eq_ignore_ascii_case(keyword))
            && !self.rest[n..]
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric() || c == '_');
        if matches {
            self.rest = &self.rest[n..];
        }
        matches
    }

    fn expression(&mut self) -> Result<(), PatternError> {
        self.conjunction()?;
        while self.eat_keyword("OR") {
            self.conjunction()?;
        }
        Ok(())
    }

    fn conjunction(&mut self) -> Result<(), PatternError> {
        self.comparison()?;
        while self.eat_keyword("AND") {
            self.comparison()?;
        }
        Ok(())
    }

    fn comparison(&mut self) -> Result<(), PatternError> {
        if self.eat("(") {
            self.expression()?;
            return if self.eat(")") {
                Ok(())
            } else {
                Err(PatternError::syntax("expected ')'"))
            };
        }
        self.field()?;
        if self.eat("!=") || self.eat("=") {
            return self.string();
        }
        let negated = self.eat_keyword("NOT");
        if self.eat_keyword("IN") {
            return self.list();
        }
        Err(PatternError::syntax(if negated {
            "expected IN after NOT"
        } else {
            "expected =, !=, IN or NOT IN"
        }))
    }

    fn field(&mut self) -> Result<(), PatternError> {
        self.skip_whitespace();
        let name_len = self
            .rest
            .strip_prefix('@')
            .map(|r| {
                1 + r
                    .find(|c: char| !(c.is_alphanumeric() || c == '.' || c == '_'))
                    .unwrap_or(r.len())
            })
            .unwrap_or(0);
        if name_len < 2 {
            return Err(PatternError::syntax(
                "expected a system field such as @aws.region",
            ));
        }
        self.rest = &self.rest[name_len..];
        Ok(())
    }

    fn string(&mut self) -> Result<(), PatternError> {
        if !self.eat("\"") {
            return Err(PatternError::syntax("expected a quoted value"));
        }
        match self.rest.find('"') {
            Some(end) => {
                self.rest = &self.rest[end + 1..];
                Ok(())
            }
            None => Err(PatternError::syntax("unbalanced quotes")),
        }
    }

    fn list(&mut self) -> Result<(), PatternError> {
        if !self.eat("[") {
            return Err(PatternError::syntax("expected [ after IN"));
        }
        self.string()?;
        while self.eat(",") {
            self.string()?;
        }
        if self.eat("]") {
            Ok(())
        } else {
            Err(PatternError::syntax("expected ]"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_and_its_variants_are_accepted() {
        for text in [
            r#"@aws.region = "us-east-1" or @aws.account IN ["123456789012", "987654321098"]"#,
            r#"@aws.account != "123456789012""#,
            r#"@aws.region NOT IN ["us-east-1"] AND (@aws.account = "1" OR @aws.account = "2")"#,
        ] {
            assert_eq!(check(text), Ok(()), "{text}");
        }
    }

    #[test]
    fn malformed_criteria_are_refused() {
        for text in [
            "",
            "@aws.region",
            r#"aws.region = "x""#,
            r#"@aws.region = x"#,
            r#"@aws.region IN "x""#,
            r#"@aws.region IN ["x""#,
            r#"@aws.region = "x" AND"#,
            r#"(@aws.region = "x""#,
            r#"@aws.region NOT = "x""#,
            r#"@aws.region = "x" extra"#,
        ] {
            assert!(check(text).is_err(), "{text:?} must be refused");
        }
    }
}
