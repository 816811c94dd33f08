//! Patterns for JSON log events: `{ $.level = "ERROR" && $.latency > 500 }`.
//!
//! A condition names a value with a property selector (`$.eventType`, `$.users[0].email`,
//! `$.coordinates[0][1]`, `$.arrayKey[*]`, `$.*`, `$.['cluster.name']`) and tests it with a
//! comparison, `IS NULL`, `IS TRUE`, `IS FALSE` or `NOT EXISTS`; conditions combine with `&&`
//! and `||` (`&&` binds tighter) and parentheses. As AWS documents: a selector that points at
//! an array or object matches no comparison; a missing value matches none either (`!=`
//! included) and is what `NOT EXISTS` tests; a selector holds at most one wildcard and a
//! pattern at most three; `EXISTS` and `IS NOT` are not supported.

use serde_json::Value as Json;

use super::PatternError;
use super::condition::{Comparison, Value};
use super::cursor::Cursor;

const MAX_WILDCARDS_PER_SELECTOR: usize = 1;
const MAX_WILDCARDS_PER_PATTERN: usize = 3;

#[derive(Clone, Debug, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
    AnyKey,
    AnyIndex,
}

/// A property selector: `$.` followed by keys, indexes and wildcards.
#[derive(Clone, Debug, PartialEq)]
pub struct Selector {
    steps: Vec<Step>,
}

impl Selector {
    /// A whole string as a selector (a metric value or dimension such as `$.latency`).
    pub fn parse_all(text: &str) -> Result<Self, PatternError> {
        let mut cursor = Cursor::new(text);
        let selector = Self::parse(&mut cursor)?;
        if !cursor.at_end() {
            return Err(PatternError::syntax("unexpected text after the selector"));
        }
        Ok(selector)
    }

    fn parse(cursor: &mut Cursor<'_>) -> Result<Self, PatternError> {
        if !cursor.eat("$") {
            return Err(PatternError::syntax("a property selector starts with '$.'"));
        }
        let mut steps = Vec::new();
        loop {
            if cursor.eat(".") {
                steps.push(if cursor.eat("*") {
                    Step::AnyKey
                } else if cursor.eat("['") {
                    let key = cursor.take_while(|c| c != '\'');
                    if key.is_empty() || !cursor.eat("']") {
                        return Err(PatternError::syntax("expected ['key'] after '.'"));
                    }
                    Step::Key(key.to_string())
                } else {
                    let key = cursor.take_while(|c| c.is_alphanumeric() || c == '_' || c == '-');
                    if key.is_empty() {
                        return Err(PatternError::syntax("expected a property name after '.'"));
                    }
                    Step::Key(key.to_string())
                });
            } else if cursor.peek() == Some('[') {
                if steps.is_empty() {
                    return Err(PatternError::syntax(
                        "an array index must follow a property",
                    ));
                }
                cursor.bump();
                steps.push(if cursor.eat("*]") {
                    Step::AnyIndex
                } else {
                    let digits = cursor.take_while(|c| c.is_ascii_digit());
                    let index = digits.parse().ok().filter(|_| cursor.eat("]"));
                    Step::Index(
                        index.ok_or_else(|| PatternError::syntax("expected [number] or [*]"))?,
                    )
                });
            } else {
                break;
            }
        }
        if steps.is_empty() {
            return Err(PatternError::syntax("a property selector starts with '$.'"));
        }
        let selector = Self { steps };
        if selector.wildcards() > MAX_WILDCARDS_PER_SELECTOR {
            return Err(PatternError::syntax(
                "at most one wildcard per property selector",
            ));
        }
        Ok(selector)
    }

    fn wildcards(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| matches!(s, Step::AnyKey | Step::AnyIndex))
            .count()
    }

    /// The values the selector reaches in `root` (several with a wildcard, none when missing).
    pub fn resolve<'a>(&self, root: &'a Json) -> Vec<&'a Json> {
        let mut current = vec![root];
        for step in &self.steps {
            current = current
                .into_iter()
                .flat_map(|value| -> Vec<&'a Json> {
                    match (step, value) {
                        (Step::Key(key), Json::Object(map)) => map.get(key).into_iter().collect(),
                        (Step::Index(i), Json::Array(items)) => items.get(*i).into_iter().collect(),
                        (Step::AnyKey, Json::Object(map)) => map.values().collect(),
                        (Step::AnyIndex, Json::Array(items)) => items.iter().collect(),
                        _ => Vec::new(),
                    }
                })
                .collect();
        }
        current
    }
}

/// The text and number of a JSON value node; arrays, objects and null have none.
pub fn scalar(value: &Json) -> Option<Value<'_>> {
    match value {
        Json::String(s) => Some(Value {
            text: s.as_str().into(),
            number: None,
        }),
        Json::Number(n) => Some(Value {
            text: n.to_string().into(),
            number: n.as_f64(),
        }),
        Json::Bool(b) => Some(Value {
            text: if *b { "true" } else { "false" }.into(),
            number: None,
        }),
        Json::Null | Json::Array(_) | Json::Object(_) => None,
    }
}

#[derive(Clone, Debug)]
enum Test {
    Compare(Comparison),
    IsNull,
    IsBool(bool),
    NotExists,
}

#[derive(Clone, Debug)]
struct Condition {
    selector: Selector,
    test: Test,
}

impl Condition {
    fn holds(&self, root: &Json) -> bool {
        let values = self.selector.resolve(root);
        match &self.test {
            Test::NotExists => values.is_empty(),
            Test::IsNull => values.iter().any(|v| v.is_null()),
            Test::IsBool(b) => values.iter().any(|v| v.as_bool() == Some(*b)),
            Test::Compare(comparison) => values
                .iter()
                .filter_map(|v| scalar(v))
                .any(|v| comparison.holds(&v)),
        }
    }
}

#[derive(Clone, Debug)]
enum Expr {
    Condition(Condition),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

impl Expr {
    fn holds(&self, root: &Json) -> bool {
        match self {
            Expr::Condition(c) => c.holds(root),
            Expr::And(a, b) => a.holds(root) && b.holds(root),
            Expr::Or(a, b) => a.holds(root) || b.holds(root),
        }
    }
}

#[derive(Clone, Debug)]
pub struct JsonPattern {
    expr: Expr,
    regexes: usize,
}

impl JsonPattern {
    /// `text` is the whole pattern, braces included.
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        let inner = text
            .strip_prefix('{')
            .and_then(|t| t.strip_suffix('}'))
            .ok_or_else(|| PatternError::syntax("a JSON pattern is enclosed in { }"))?;
        let mut parser = Parser {
            cursor: Cursor::new(inner),
            regexes: 0,
            wildcards: 0,
        };
        let expr = parser.or_expr()?;
        parser.cursor.skip_whitespace();
        if !parser.cursor.at_end() {
            return Err(PatternError::syntax(format!(
                "unexpected '{}'",
                parser.cursor.rest()
            )));
        }
        if parser.wildcards > MAX_WILDCARDS_PER_PATTERN {
            return Err(PatternError::syntax(
                "at most three wildcard selectors per pattern",
            ));
        }
        Ok(Self {
            expr,
            regexes: parser.regexes,
        })
    }

    pub fn regex_count(&self) -> usize {
        self.regexes
    }

    /// Whether the message is JSON that satisfies the pattern.
    pub fn matches(&self, message: &str) -> bool {
        serde_json::from_str::<Json>(message).is_ok_and(|root| self.expr.holds(&root))
    }
}

struct Parser<'a> {
    cursor: Cursor<'a>,
    regexes: usize,
    wildcards: usize,
}

impl Parser<'_> {
    fn or_expr(&mut self) -> Result<Expr, PatternError> {
        let mut expr = self.and_expr()?;
        loop {
            self.cursor.skip_whitespace();
            if !self.cursor.eat("||") {
                return Ok(expr);
            }
            expr = Expr::Or(Box::new(expr), Box::new(self.and_expr()?));
        }
    }

    fn and_expr(&mut self) -> Result<Expr, PatternError> {
        let mut expr = self.primary()?;
        loop {
            self.cursor.skip_whitespace();
            if !self.cursor.eat("&&") {
                return Ok(expr);
            }
            expr = Expr::And(Box::new(expr), Box::new(self.primary()?));
        }
    }

    fn primary(&mut self) -> Result<Expr, PatternError> {
        self.cursor.skip_whitespace();
        if self.cursor.eat("(") {
            let expr = self.or_expr()?;
            self.cursor.skip_whitespace();
            if !self.cursor.eat(")") {
                return Err(PatternError::syntax("expected ')'"));
            }
            return Ok(expr);
        }
        self.condition().map(Expr::Condition)
    }

    fn condition(&mut self) -> Result<Condition, PatternError> {
        let selector = Selector::parse(&mut self.cursor)?;
        self.wildcards += selector.wildcards();
        self.cursor.skip_whitespace();
        let test = if self.cursor.eat_keyword("IS") {
            self.cursor.skip_whitespace();
            if self.cursor.eat_keyword("NULL") {
                Test::IsNull
            } else if self.cursor.eat_keyword("TRUE") {
                Test::IsBool(true)
            } else if self.cursor.eat_keyword("FALSE") {
                Test::IsBool(false)
            } else {
                return Err(PatternError::syntax("IS takes NULL, TRUE or FALSE"));
            }
        } else if self.cursor.eat_keyword("NOT") {
            self.cursor.skip_whitespace();
            if !self.cursor.eat_keyword("EXISTS") {
                return Err(PatternError::syntax("expected NOT EXISTS"));
            }
            Test::NotExists
        } else {
            let comparison = Comparison::parse(&mut self.cursor, |c| "()&|".contains(c))?;
            if comparison.operand.is_regex() {
                self.regexes += 1;
            }
            Test::Compare(comparison)
        };
        Ok(Condition { selector, test })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The JSON log event of AWS's "Using filter patterns to match terms in JSON log events".
    const EVENT: &str = r#"{"eventType": "UpdateTrail", "sourceIPAddress": "111.111.111.111",
        "arrayKey": ["value", "another value"],
        "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
        "SomeObject": null, "cluster.name": "c", "ThisFlag": true}"#;

    /// The compound-expression event of the same page.
    const USERS: &str = r#"{"user": {"id": 1, "email": "John.Stiles@example.com"},
        "users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}],
        "actions": ["GET", "PUT", "DELETE"],
        "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]]}"#;

    fn matches(pattern: &str, event: &str) -> bool {
        JsonPattern::parse(pattern)
            .unwrap_or_else(|e| panic!("{pattern}: {e:?}"))
            .matches(event)
    }

    #[test]
    fn the_documented_selectors_match_the_documented_event() {
        for pattern in [
            r#"{ $.eventType = "UpdateTrail" }"#,
            "{ $.sourceIPAddress != 123.123.* }",
            r#"{ $.arrayKey[0] = "value" }"#,
            "{ $.objectList[1].id = 2 }",
            "{ $.eventType = %Trail% }",
            "{ $.arrayKey[*] = %val.{2}% }",
            r"{ $.* = %111\.111\.111\.1[0-9]{1,2}% }",
            r#"{ $.['cluster.name'] = "c" }"#,
            "{ $.SomeObject IS NULL }",
            "{ $.SomeOtherObject NOT EXISTS }",
            "{ $.ThisFlag IS TRUE }",
            r#"{ $.eventType = "*" && $.sourceIPAddress != 123.123.* }"#,
        ] {
            assert!(matches(pattern, EVENT), "{pattern}");
        }
        for pattern in [
            r#"{ $.eventType = "Update" }"#,
            r"{ $.* = %222\.222\.222% }",
            r#"{ $.['cluster.name'] = "d" }"#,
            "{ $.eventType IS NULL }",
            "{ $.ThisFlag IS FALSE }",
            "{ $.eventType NOT EXISTS }",
            r#"{ $.ThisFlag[0] = "value" }"#,
            "{ $.objectList[1].number = 2 }",
        ] {
            assert!(!matches(pattern, EVENT), "{pattern}");
        }
    }

    #[test]
    fn compound_expressions_follow_the_documented_precedence() {
        assert!(matches(
            r#"{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }"#,
            USERS
        ));
        assert!(matches(
            r#"{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch" && $.actions[2] = "nonmatch" }"#,
            USERS
        ));
        assert!(!matches(
            r#"{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch") && $.actions[2] = "nonmatch" }"#,
            USERS
        ));
        assert!(!matches(
            r#"{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }"#,
            USERS
        ));
        assert!(matches("{ $.coordinates[2][0] = 7 }", USERS));
    }

    #[test]
    fn a_selector_must_reach_a_value_node() {
        let event = r#"{"users": [1, 2, 3], "meta": {"a": 1}}"#;
        for pattern in ["{ $.users = 1 }", "{ $.users != 1 }", "{ $.meta != 1 }"] {
            assert!(!matches(pattern, event), "{pattern}");
        }
        assert!(!matches(r#"{ $.missing != "x" }"#, event));
    }

    #[test]
    fn numeric_comparisons_take_the_documented_number_forms() {
        let event = r#"{"latency": 1500, "numbers": [0.001], "processes": [0,0,0,0,{"averageRuntime": 55.5}],
            "errorCode": 400, "bandwidth": 80, "refreshRate": 60, "responseTime": 5, "number": [1000]}"#;
        for pattern in [
            "{ $.latency >= 500 }",
            "{ $.numbers[0] < 10e3 }",
            "{ $.numbers[0] < 10e-2 }",
            "{ $.processes[4].averageRuntime <= 55.5 }",
            "{ $.errorCode = 400}",
            "{ $.errorCode != 500 }",
            "{ $.latency > +1000 }",
            "{ $.bandwidth > 75 }",
            "{ $.refreshRate >= 60 }",
            "{ $.responseTime <= 5 }",
            "{ $.number[0] = 1e+3 }",
            "{ $.number[0] != 1e-3 }",
            "{ $.latency = * }",
        ] {
            assert!(matches(pattern, event), "{pattern}");
        }
        assert!(!matches("{ $.latency < 50 }", event));
        assert!(!matches(
            r#"{ $.eventType >= 123 }"#,
            r#"{"eventType": "123"}"#
        ));
    }

    #[test]
    fn non_json_messages_never_match() {
        assert!(!matches("{ $.a = * }", "plain text"));
        assert!(!matches("{ $.a NOT EXISTS }", "plain text"));
    }

    #[test]
    fn malformed_patterns_are_refused() {
        for pattern in [
            "{}",
            "{ $.a }",
            "{ a = 1 }",
            "{ $ = 1 }",
            "{ $[0] = 1 }",
            "{ $.a = 1",
            "{ $.a = 1 && }",
            "{ ($.a = 1 }",
            "{ $.a EXISTS }",
            "{ $.a IS NOT NULL }",
            "{ $.a > \"x\" }",
            "{ $.a[*].b[*] = 1 }",
            "{ $.a[*] = 1 || $.b[*] = 1 || $.c[*] = 1 || $.d[*] = 1 }",
            r#"{ $.["cluster.name"] = "c" }"#,
            "{ $.a = 1 } extra",
            "{ $.a = x@y }",
        ] {
            assert!(
                JsonPattern::parse(pattern).is_err(),
                "{pattern} must be refused"
            );
        }
        assert!(JsonPattern::parse("{ $.a[*] = 1 || $.b[*] = 1 || $.c.* = 1 }").is_ok());
    }

    #[test]
    fn regular_expressions_are_counted() {
        let pattern = JsonPattern::parse("{ $.a = %x% && $.b = %y% || $.c = 1 }").unwrap();
        assert_eq!(pattern.regex_count(), 2);
    }
}
