//! Regular expressions in filter patterns, written between `%` signs.
//!
//! AWS accepts a restricted syntax: letters and digits, the symbols `: _ # = @ / ; , -`, the
//! operators `^ $ ? [ ] { } | \ * + .`, and spaces (its own example `%^shutting down%` has
//! one). Parentheses are refused ("You cannot use parentheses to define a subpattern"; `\x28`
//! matches one), as are multi-byte characters. A regular expression matches anywhere in the
//! text it is applied to: `%AUTHORIZED%` matches `UNAUTHORIZED REQUEST`.

use super::PatternError;

const SYMBOLS: &str = ":_#=@/;,- ";
const OPERATORS: &str = "^$?[]{}|\\*+.";
/// Bounds the compiled program, so one request cannot make the emulator build a huge automaton.
const COMPILED_SIZE_LIMIT: usize = 1 << 20;

#[derive(Clone, Debug)]
pub struct RegexTerm {
    regex: regex::Regex,
}

impl RegexTerm {
    /// `body` is the text between the two `%` signs.
    pub fn parse(body: &str) -> Result<Self, PatternError> {
        if body.is_empty() {
            return Err(PatternError::syntax("empty regular expression"));
        }
        if let Some(c) = body.chars().find(|c| {
            !(c.is_ascii_alphanumeric() || SYMBOLS.contains(*c) || OPERATORS.contains(*c))
        }) {
            return Err(PatternError::syntax(format!(
                "'{c}' is not allowed in a regular expression"
            )));
        }
        let regex = regex::RegexBuilder::new(body)
            .size_limit(COMPILED_SIZE_LIMIT)
            .build()
            .map_err(|e| PatternError::syntax(format!("invalid regular expression: {e}")))?;
        Ok(Self { regex })
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(body: &str, text: &str) -> bool {
        RegexTerm::parse(body).unwrap().is_match(text)
    }

    /// The operator examples of AWS's "Supported regular expressions (regex) syntax".
    #[test]
    fn the_documented_operators_behave_as_documented() {
        assert!(matches("^[hc]at", "hat trick") && !matches("^[hc]at", "the cat"));
        assert!(matches("[hc]at$", "the cat") && !matches("[hc]at$", "cat nap"));
        assert!(matches("colou?r", "color") && matches("colou?r", "colour"));
        assert!(matches("[abcx-z]", "y") && !matches("[abcx-z]", "d"));
        assert!(matches("a{3,5}", "aaaa") && !matches("a{3,5}", "aa"));
        assert!(matches("gra|ey", "grey") && matches("gra|ey", "gray"));
        assert!(matches(
            "^starting|^initializing|^shutting down",
            "shutting down now"
        ));
        assert!(!matches(
            "^starting|^initializing|^shutting down",
            "skipping initializing"
        ));
        assert!(matches(r"\[.\]", "[7]") && !matches(r"\[.\]", "[]"));
        assert!(matches(r"10\.10\.0\.1", "10.10.0.1") && !matches(r"10\.10\.0\.1", "10010,051"));
        assert!(matches("10.10.0.1", "10010,051"));
        assert!(matches("ab*c", "ac") && matches("ab*c", "abbbc"));
        assert!(matches("ab+c", "abbc") && !matches("ab+c", "ac"));
        assert!(matches(".at", " at"));
        assert!(matches(r"\d", "7") && !matches(r"\D", "7"));
        assert!(matches(r"\s", "a b") && matches(r"\S", " a "));
        assert!(matches(r"\w", "_") && !matches(r"\W", "a_1"));
        assert!(matches(r"\x3A", "a:b") && matches(r"\x28", "f(x)"));
        assert!(matches("AUTHORIZED", "[ERROR 401] UNAUTHORIZED REQUEST"));
    }

    #[test]
    fn parentheses_and_unsupported_symbols_are_refused() {
        for body in ["(a|b)", "something!", "caf\u{e9}", "a\"b", ""] {
            assert!(RegexTerm::parse(body).is_err(), "{body:?} must be refused");
        }
        assert!(RegexTerm::parse("[").is_err(), "unbalanced class");
    }
}
