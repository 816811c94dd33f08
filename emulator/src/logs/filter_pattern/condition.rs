//! One comparison in a JSON or space-delimited pattern: an operator and the value it compares
//! with, as both pattern forms write them.
//!
//! Values are a quoted string (`"UpdateTrail"`), a bare term (`UpdateTrail`, `123.123.*`,
//! `4*`), a number (`400`, `+1000`, `1e-3`) or a regular expression (`%Trail%`). Strings and
//! bare terms compare as text, `*` matching any run of characters; a bare number compares
//! numerically with a numeric value (`{ $.someInt = 123.0 }` matches `123`) and as text
//! otherwise, while a quoted number is always text (`{ $.someInt != "123.0" }` matches `123`).
//! `<`, `<=`, `>`, `>=` take a number only and never match a value that is not one.

use super::PatternError;
use super::cursor::Cursor;
use super::regex_term::RegexTerm;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Operator {
    /// Reads an operator at the cursor, longest first.
    pub fn parse(cursor: &mut Cursor<'_>) -> Option<Self> {
        [
            ("!=", Operator::Ne),
            ("<=", Operator::Le),
            (">=", Operator::Ge),
            ("=", Operator::Eq),
            ("<", Operator::Lt),
            (">", Operator::Gt),
        ]
        .into_iter()
        .find_map(|(text, op)| cursor.eat(text).then_some(op))
    }

    fn is_relational(self) -> bool {
        !matches!(self, Operator::Eq | Operator::Ne)
    }
}

#[derive(Clone, Debug)]
pub enum Operand {
    /// A quoted string or a bare term; `*` is a wildcard.
    Text {
        text: String,
    },
    /// A bare number.
    Number {
        text: String,
        value: f64,
    },
    Regex(RegexTerm),
}

impl Operand {
    pub fn is_regex(&self) -> bool {
        matches!(self, Operand::Regex(_))
    }
}

/// A value of the log event being compared: its text, and its number when it is one.
pub struct Value<'a> {
    pub text: std::borrow::Cow<'a, str>,
    pub number: Option<f64>,
}

/// An operator with its operand.
#[derive(Clone, Debug)]
pub struct Comparison {
    pub operator: Operator,
    pub operand: Operand,
}

impl Comparison {
    /// Reads `<operator> <value>`; `stop` tells where a bare value ends besides whitespace.
    pub fn parse(cursor: &mut Cursor<'_>, stop: fn(char) -> bool) -> Result<Self, PatternError> {
        let operator = Operator::parse(cursor)
            .ok_or_else(|| PatternError::syntax("expected a comparison operator"))?;
        cursor.skip_whitespace();
        let operand = parse_operand(cursor, stop)?;
        if operator.is_relational() && !matches!(operand, Operand::Number { .. }) {
            return Err(PatternError::syntax("a numeric comparison needs a number"));
        }
        Ok(Self { operator, operand })
    }

    pub fn holds(&self, value: &Value<'_>) -> bool {
        let equal = || match &self.operand {
            Operand::Text { text } => glob_matches(text, &value.text),
            Operand::Number { text, value: n } => match value.number {
                Some(v) => v == *n,
                None => value.text == text.as_str(),
            },
            Operand::Regex(regex) => regex.is_match(&value.text),
        };
        let ordered = |accept: fn(std::cmp::Ordering) -> bool| match (&self.operand, value.number) {
            (Operand::Number { value: n, .. }, Some(v)) => v.partial_cmp(n).is_some_and(accept),
            _ => false,
        };
        match self.operator {
            Operator::Eq => equal(),
            Operator::Ne => !equal(),
            Operator::Lt => ordered(|o| o.is_lt()),
            Operator::Le => ordered(|o| o.is_le()),
            Operator::Gt => ordered(|o| o.is_gt()),
            Operator::Ge => ordered(|o| o.is_ge()),
        }
    }
}

fn parse_operand(cursor: &mut Cursor<'_>, stop: fn(char) -> bool) -> Result<Operand, PatternError> {
    if cursor.eat("\"") {
        let text = cursor
            .take_until_unescaped('"')
            .ok_or_else(|| PatternError::syntax("unbalanced quotes"))?;
        return Ok(Operand::Text { text });
    }
    if cursor.eat("%") {
        let body = cursor.take_while(|c| c != '%');
        if !cursor.eat("%") {
            return Err(PatternError::syntax("unterminated regular expression"));
        }
        return RegexTerm::parse(body).map(Operand::Regex);
    }
    let term = cursor.take_while(|c| !c.is_whitespace() && !stop(c));
    if term.is_empty() {
        return Err(PatternError::syntax("expected a value"));
    }
    if !term.chars().all(is_bare_value_char) {
        return Err(PatternError::InvalidTerm(term.to_string()));
    }
    Ok(match parse_number(term) {
        Some(value) => Operand::Number {
            text: term.to_string(),
            value,
        },
        None => Operand::Text {
            text: term.to_string(),
        },
    })
}

/// Characters a value may use without quotes: AWS asks for quotes around anything but letters,
/// digits and `_`; numbers, IP-address prefixes and wildcards need `. + - *` as well.
fn is_bare_value_char(c: char) -> bool {
    c.is_alphanumeric() || "_.*+-".contains(c)
}

/// An integer or decimal with an optional sign and exponent (`400`, `+1000`, `55.5`, `1e-3`).
pub fn parse_number(text: &str) -> Option<f64> {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (unsigned, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    let mantissa_ok =
        digits(whole) && digits(fraction) && !(whole.is_empty() && fraction.is_empty());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    (mantissa_ok && exponent_ok)
        .then(|| text.parse::<f64>().ok())
        .flatten()
        .filter(|n| n.is_finite())
}

/// `*` matches any run of characters (including none); everything else matches itself.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comparison(text: &str) -> Comparison {
        Comparison::parse(&mut Cursor::new(text), |c| c == '}').unwrap()
    }

    fn text(t: &str) -> Value<'_> {
        Value {
            text: t.into(),
            number: None,
        }
    }

    fn number(t: &str) -> Value<'_> {
        Value {
            text: t.into(),
            number: t.parse().ok(),
        }
    }

    #[test]
    fn wildcards_match_any_run_of_characters() {
        assert!(glob_matches("*Event", "PutEvent"));
        assert!(glob_matches("Event*", "EventName"));
        assert!(glob_matches("Ev*ent", "Evxxent"));
        assert!(glob_matches("*", ""));
        assert!(glob_matches("*html*", "GET /index.html HTTP/1.0"));
        assert!(!glob_matches("4*", "500"));
        assert!(!glob_matches("a*a", "a"));
        assert!(glob_matches("exact", "exact") && !glob_matches("exact", "exactly"));
    }

    #[test]
    fn numbers_follow_the_documented_forms() {
        for (t, n) in [
            ("400", 400.0),
            ("+1000", 1000.0),
            ("-1", -1.0),
            ("55.5", 55.5),
        ] {
            assert_eq!(parse_number(t), Some(n));
        }
        assert_eq!(parse_number("10e3"), Some(10_000.0));
        assert_eq!(parse_number("1e-3"), Some(0.001));
        for t in ["", "+", "1e", "1.2.3", "12a", "123.123.*", "e3", "."] {
            assert_eq!(parse_number(t), None, "{t:?}");
        }
    }

    #[test]
    fn bare_numbers_compare_numerically_and_quoted_ones_as_text() {
        assert!(comparison("= 123.0").holds(&number("123")));
        assert!(comparison("= \"123\"").holds(&number("123")));
        assert!(comparison("!= \"123.0\"").holds(&number("123")));
        assert!(comparison("= 12").holds(&number("12.0")));
        assert!(comparison("= 400").holds(&text("400")));
        assert!(!comparison("= 400").holds(&text("400.0")));
    }

    #[test]
    fn relational_operators_need_numbers_on_both_sides() {
        assert!(comparison(">= 500").holds(&number("500")));
        assert!(comparison("< 10e3").holds(&number("9999.5")));
        assert!(!comparison("> 1").holds(&text("UpdateTrail")));
        for bad in ["> \"UpdateTrail\"", ">= UpdateTrail", "< %a%", "<= 1*"] {
            assert!(
                Comparison::parse(&mut Cursor::new(bad), |c| c == '}').is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn unquoted_values_with_special_characters_are_invalid_terms() {
        let err = Comparison::parse(&mut Cursor::new("= a@b"), |c| c == '}').unwrap_err();
        assert_eq!(err, PatternError::InvalidTerm("a@b".into()));
    }
}
