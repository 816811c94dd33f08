//! The composite alarm rule language: parsing, limits and evaluation.
//!
//! Grammar (API reference, `PutCompositeAlarm` `AlarmRule`):
//! `ALARM(name)`, `OK(name)`, `INSUFFICIENT_DATA(name)` — the name quoted with `"` or bare,
//! and either an alarm name or an alarm ARN; the literals `TRUE` and `FALSE`; the operators
//! `NOT`, `AND`, `OR` (binding in that order, tightest first) and parentheses. A rule names
//! at most 100 distinct alarms and has at most 500 elements (alarm functions, literals and
//! parenthesised groups). Errors read like AWS's: `Unsupported token ')' at char 1`.

/// Which state an alarm function tests for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateFunction {
    Alarm,
    Ok,
    InsufficientData,
}

impl StateFunction {
    /// The alarm state value the function is TRUE for.
    pub fn state_value(self) -> &'static str {
        match self {
            StateFunction::Alarm => "ALARM",
            StateFunction::Ok => "OK",
            StateFunction::InsufficientData => "INSUFFICIENT_DATA",
        }
    }
}

/// A parsed rule.
#[derive(Clone, Debug, PartialEq)]
pub enum Rule {
    Literal(bool),
    State(StateFunction, String),
    Not(Box<Rule>),
    And(Box<Rule>, Box<Rule>),
    Or(Box<Rule>, Box<Rule>),
}

/// Most alarms one rule may name.
pub const MAX_CHILDREN: usize = 100;
/// Most elements one rule may have.
pub const MAX_ELEMENTS: usize = 500;

/// A syntax error, positioned by character index from 0 as AWS reports it.
#[derive(Debug, PartialEq, Eq)]
pub struct RuleError(pub String);

impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Open,
    Close,
    Word(String),
    Quoted(String),
}

struct Parser {
    tokens: Vec<(Token, usize)>,
    pos: usize,
    end: usize,
    elements: usize,
}

fn tokenize(text: &str) -> Result<Vec<(Token, usize)>, RuleError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            tokens.push((Token::Open, i));
            i += 1;
            // The argument of an alarm function may be a bare name running to the next ')'.
            if let Some((Token::Word(w), _)) = tokens.iter().rev().nth(1)
                && function_of(w).is_some()
            {
                let mut j = i;
                while j < chars.len() && chars[j].is_whitespace() {
                    j += 1;
                }
                if j < chars.len() && chars[j] != '"' {
                    let start = j;
                    while j < chars.len() && chars[j] != ')' {
                        j += 1;
                    }
                    let name: String = chars[start..j].iter().collect();
                    tokens.push((Token::Quoted(name.trim().to_string()), start));
                    i = j;
                }
            }
        } else if c == ')' {
            tokens.push((Token::Close, i));
            i += 1;
        } else if c == '"' {
            let start = i;
            i += 1;
            let mut value = String::new();
            loop {
                match chars.get(i) {
                    None => {
                        return Err(RuleError(format!("Unterminated string at char {start}")));
                    }
                    Some('"') => {
                        i += 1;
                        break;
                    }
                    Some('\\') if chars.get(i + 1).is_some() => {
                        value.push(chars[i + 1]);
                        i += 2;
                    }
                    Some(other) => {
                        value.push(*other);
                        i += 1;
                    }
                }
            }
            tokens.push((Token::Quoted(value), start));
        } else {
            let start = i;
            while i < chars.len() && !chars[i].is_whitespace() && !"()\"".contains(chars[i]) {
                i += 1;
            }
            tokens.push((Token::Word(chars[start..i].iter().collect()), start));
        }
    }
    Ok(tokens)
}

fn function_of(word: &str) -> Option<StateFunction> {
    match word {
        "ALARM" => Some(StateFunction::Alarm),
        "OK" => Some(StateFunction::Ok),
        "INSUFFICIENT_DATA" => Some(StateFunction::InsufficientData),
        _ => None,
    }
}

fn describe(token: &Token) -> String {
    match token {
        Token::Open => "(".into(),
        Token::Close => ")".into(),
        Token::Word(w) => w.clone(),
        Token::Quoted(q) => format!("\"{q}\""),
    }
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|(t, _)| t)
    }

    fn unsupported(&self) -> RuleError {
        match self.tokens.get(self.pos) {
            Some((token, at)) => RuleError(format!(
                "Unsupported token '{}' at char {at}",
                describe(token)
            )),
            None => RuleError(format!("Unexpected end of rule at char {}", self.end)),
        }
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w == word)
    }

    fn or(&mut self) -> Result<Rule, RuleError> {
        let mut left = self.and()?;
        while self.is_word("OR") {
            self.pos += 1;
            left = Rule::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Rule, RuleError> {
        let mut left = self.unary()?;
        while self.is_word("AND") {
            self.pos += 1;
            left = Rule::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Rule, RuleError> {
        if self.is_word("NOT") {
            self.pos += 1;
            return Ok(Rule::Not(Box::new(self.unary()?)));
        }
        self.primary()
    }

    fn expect_close(&mut self) -> Result<(), RuleError> {
        if self.peek() == Some(&Token::Close) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unsupported())
        }
    }

    fn primary(&mut self) -> Result<Rule, RuleError> {
        match self.peek().cloned() {
            Some(Token::Open) => {
                self.pos += 1;
                self.elements += 1;
                let inner = self.or()?;
                self.expect_close()?;
                Ok(inner)
            }
            Some(Token::Word(w)) if w == "TRUE" || w == "FALSE" => {
                self.pos += 1;
                self.elements += 1;
                Ok(Rule::Literal(w == "TRUE"))
            }
            Some(Token::Word(w)) if function_of(&w).is_some() => {
                let function = function_of(&w).expect("checked above");
                self.pos += 1;
                if self.peek() != Some(&Token::Open) {
                    return Err(self.unsupported());
                }
                self.pos += 1;
                let name = match self.peek().cloned() {
                    Some(Token::Quoted(name)) if !name.is_empty() => name,
                    _ => return Err(self.unsupported()),
                };
                self.pos += 1;
                self.expect_close()?;
                self.elements += 1;
                Ok(Rule::State(function, name))
            }
            _ => Err(self.unsupported()),
        }
    }
}

impl Rule {
    /// Parses a rule and checks its size limits.
    pub fn parse(text: &str) -> Result<Rule, RuleError> {
        let tokens = tokenize(text)?;
        let mut parser = Parser {
            tokens,
            pos: 0,
            end: text.chars().count(),
            elements: 0,
        };
        let rule = parser.or()?;
        if parser.pos < parser.tokens.len() {
            return Err(parser.unsupported());
        }
        let children = rule.children();
        if children.len() > MAX_CHILDREN {
            return Err(RuleError(format!(
                "The alarm rule can reference at most {MAX_CHILDREN} alarms, found {}",
                children.len()
            )));
        }
        if parser.elements > MAX_ELEMENTS {
            return Err(RuleError(format!(
                "The alarm rule can have at most {MAX_ELEMENTS} elements, found {}",
                parser.elements
            )));
        }
        Ok(rule)
    }

    /// The alarms the rule names, distinct, in order of first appearance.
    pub fn children(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        self.visit(&mut |name| {
            if !out.iter().any(|n| n == name) {
                out.push(name.to_string());
            }
        });
        out
    }

    fn visit(&self, f: &mut impl FnMut(&str)) {
        match self {
            Rule::Literal(_) => {}
            Rule::State(_, name) => f(name),
            Rule::Not(inner) => inner.visit(f),
            Rule::And(a, b) | Rule::Or(a, b) => {
                a.visit(f);
                b.visit(f);
            }
        }
    }

    /// Evaluates the rule given each child's current state value.
    pub fn evaluate(&self, state_of: &impl Fn(&str) -> Option<String>) -> bool {
        match self {
            Rule::Literal(value) => *value,
            Rule::State(function, name) => {
                state_of(name).as_deref() == Some(function.state_value())
            }
            Rule::Not(inner) => !inner.evaluate(state_of),
            Rule::And(a, b) => a.evaluate(state_of) && b.evaluate(state_of),
            Rule::Or(a, b) => a.evaluate(state_of) || b.evaluate(state_of),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(name: &str) -> Rule {
        Rule::State(StateFunction::Alarm, name.into())
    }

    #[test]
    fn parses_quoted_and_bare_names() {
        assert_eq!(
            Rule::parse("ALARM(CPUUtilizationTooHigh) AND ALARM(\"DiskReadOpsTooHigh\")").unwrap(),
            Rule::And(
                Box::new(state("CPUUtilizationTooHigh")),
                Box::new(state("DiskReadOpsTooHigh"))
            )
        );
    }

    #[test]
    fn not_binds_tighter_than_and_which_binds_tighter_than_or() {
        let rule = Rule::parse("ALARM(a) OR ALARM(b) AND NOT ALARM(c)").unwrap();
        assert_eq!(
            rule,
            Rule::Or(
                Box::new(state("a")),
                Box::new(Rule::And(
                    Box::new(state("b")),
                    Box::new(Rule::Not(Box::new(state("c"))))
                ))
            )
        );
    }

    #[test]
    fn children_are_distinct_in_order_and_include_arns() {
        let rule = Rule::parse(
            "(ALARM(b) OR OK(a)) AND INSUFFICIENT_DATA(b) AND \
             ALARM(\"arn:aws:cloudwatch:us-east-1:123456789012:alarm:c\") OR TRUE",
        )
        .unwrap();
        assert_eq!(
            rule.children(),
            vec![
                "b",
                "a",
                "arn:aws:cloudwatch:us-east-1:123456789012:alarm:c"
            ]
        );
    }

    #[test]
    fn bare_names_may_contain_spaces_and_are_trimmed() {
        let rule = Rule::parse("ALARM( my alarm )").unwrap();
        assert_eq!(rule.children(), vec!["my alarm"]);
    }

    #[test]
    fn empty_parentheses_are_refused_like_aws() {
        assert_eq!(
            Rule::parse("()").unwrap_err().0,
            "Unsupported token ')' at char 1"
        );
    }

    #[test]
    fn lower_case_operators_and_trailing_tokens_are_refused() {
        assert!(Rule::parse("ALARM(a) and ALARM(b)").is_err());
        assert!(Rule::parse("ALARM(a) ALARM(b)").is_err());
        assert!(Rule::parse("ALARM()").is_err());
        assert!(Rule::parse("ALARM(\"a)").is_err());
        assert!(Rule::parse("").is_err());
    }

    #[test]
    fn more_than_one_hundred_children_is_refused() {
        let text = (0..101)
            .map(|i| format!("ALARM(a{i})"))
            .collect::<Vec<_>>()
            .join(" OR ");
        assert!(
            Rule::parse(&text)
                .unwrap_err()
                .0
                .contains("at most 100 alarms")
        );
        let text = (0..100)
            .map(|i| format!("ALARM(a{i})"))
            .collect::<Vec<_>>()
            .join(" OR ");
        assert_eq!(Rule::parse(&text).unwrap().children().len(), 100);
    }

    #[test]
    fn more_than_five_hundred_elements_is_refused() {
        let text = (0..501).map(|_| "TRUE").collect::<Vec<_>>().join(" AND ");
        assert!(
            Rule::parse(&text)
                .unwrap_err()
                .0
                .contains("at most 500 elements")
        );
    }

    #[test]
    fn evaluation_follows_child_states() {
        let rule = Rule::parse("ALARM(a) AND NOT OK(b)").unwrap();
        let states = |a: &'static str, b: &'static str| {
            move |name: &str| Some(if name == "a" { a } else { b }.to_string())
        };
        assert!(rule.evaluate(&states("ALARM", "ALARM")));
        assert!(!rule.evaluate(&states("ALARM", "OK")));
        assert!(!rule.evaluate(&states("OK", "ALARM")));
        assert!(Rule::parse("TRUE").unwrap().evaluate(&|_| None));
    }
}
