//! The composite alarm rule language: parsing, limits and evaluation.
//!
//! Grammar (API reference, `PutCompositeAlarm` `AlarmRule`; the `AT_LEAST` function added in
//! November 2025):
//!
//! ```text
//! rule      = or
//! or        = and { "OR" and }
//! and       = unary { "AND" unary }
//! unary     = "NOT" unary | primary
//! primary   = "(" or ")" | "TRUE" | "FALSE" | state "(" alarm ")"
//!           | "AT_LEAST" "(" threshold "," [ "NOT" ] state "," "(" alarm { "," alarm } ")" ")"
//! state     = "ALARM" | "OK" | "INSUFFICIENT_DATA"
//! threshold = count | percent "%"            count 1..number of alarms, percent 1..100
//! alarm     = '"' { '\"' | any but '"' } '"' | bare
//! bare      = 1*( any but whitespace, '(', ')', '"', and in AT_LEAST lists ',' )
//! ```
//!
//! An alarm is named by its name or its ARN. Keywords are upper case. A bare name ends at
//! whitespace or a parenthesis: AWS answers `ALARM(My Alarm)` with "Unsupported token 'Alarm'
//! ..., must be: ')'". `NOT` binds tighter than `AND`, which binds tighter than `OR`. A rule
//! names at most 100 distinct alarms and has at most 500 elements (alarms, `TRUE`/`FALSE` and
//! pairs of parentheses). Errors read like AWS's: `Unsupported token ')' at char 1`.

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

/// How many of an `AT_LEAST` list must be in the state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threshold {
    Count(usize),
    Percent(u8),
}

/// A parsed rule.
#[derive(Clone, Debug, PartialEq)]
pub enum Rule {
    Literal(bool),
    State(StateFunction, String),
    Not(Box<Rule>),
    And(Box<Rule>, Box<Rule>),
    Or(Box<Rule>, Box<Rule>),
    /// `AT_LEAST(threshold, [NOT] state, (alarms))`.
    AtLeast {
        threshold: Threshold,
        negated: bool,
        state: StateFunction,
        alarms: Vec<String>,
    },
}

/// Most alarms one rule may name.
pub const MAX_CHILDREN: usize = 100;
/// Most elements one rule may have.
pub const MAX_ELEMENTS: usize = 500;
/// Nesting far deeper than any rule needs; it bounds the parser's recursion.
const MAX_DEPTH: usize = 64;

/// A syntax error, positioned by character index from 0 as AWS reports it.
#[derive(Debug, PartialEq, Eq)]
pub struct RuleError(pub String);

impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn function_of(word: &str) -> Option<StateFunction> {
    match word {
        "ALARM" => Some(StateFunction::Alarm),
        "OK" => Some(StateFunction::Ok),
        "INSUFFICIENT_DATA" => Some(StateFunction::InsufficientData),
        _ => None,
    }
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    elements: usize,
    depth: usize,
}

impl Parser {
    fn skip_whitespace(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }

    /// The token starting at the cursor (after whitespace), as AWS names it in errors.
    fn token(&self) -> Option<String> {
        let rest = &self.chars[self.pos.min(self.chars.len())..];
        let first = *rest.first()?;
        let token: String = if first == '"' {
            let end = rest[1..]
                .iter()
                .position(|c| *c == '"')
                .map_or(rest.len(), |i| i + 2);
            rest[..end].iter().collect()
        } else if is_word_char(first) {
            rest.iter().take_while(|c| is_word_char(**c)).collect()
        } else if "(),".contains(first) {
            first.to_string()
        } else {
            rest.iter()
                .take_while(|c| !c.is_whitespace() && !"(),\"".contains(**c))
                .collect()
        };
        Some(token)
    }

    fn unsupported(&mut self, expected: Option<&str>) -> RuleError {
        self.skip_whitespace();
        let at = self.pos;
        let mut message = match self.token() {
            Some(token) => format!("Unsupported token '{token}' at char {at}"),
            None => format!("Unexpected end of rule at char {at}"),
        };
        if let Some(expected) = expected {
            message.push_str(&format!(", must be: {expected}"));
        }
        RuleError(message)
    }

    /// The keyword at the cursor, if the next token is exactly `word`.
    fn at_word(&mut self, word: &str) -> bool {
        self.skip_whitespace();
        let len = word.chars().count();
        let matches = self.chars[self.pos..]
            .iter()
            .take(len)
            .copied()
            .eq(word.chars());
        matches
            && !self
                .chars
                .get(self.pos + len)
                .is_some_and(|c| is_word_char(*c))
    }

    fn eat_word(&mut self, word: &str) -> bool {
        let found = self.at_word(word);
        if found {
            self.pos += word.chars().count();
        }
        found
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_whitespace();
        let found = self.chars.get(self.pos) == Some(&c);
        if found {
            self.pos += 1;
        }
        found
    }

    fn expect(&mut self, c: char) -> Result<(), RuleError> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.unsupported(Some(&format!("'{c}'"))))
        }
    }

    fn nested(&mut self, f: fn(&mut Self) -> Result<Rule, RuleError>) -> Result<Rule, RuleError> {
        if self.depth >= MAX_DEPTH {
            self.skip_whitespace();
            return Err(RuleError(format!(
                "The alarm rule is nested too deeply at char {}",
                self.pos
            )));
        }
        self.depth += 1;
        let rule = f(self);
        self.depth -= 1;
        rule
    }

    fn or(&mut self) -> Result<Rule, RuleError> {
        let mut left = self.and()?;
        while self.eat_word("OR") {
            left = Rule::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Rule, RuleError> {
        let mut left = self.unary()?;
        while self.eat_word("AND") {
            left = Rule::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Rule, RuleError> {
        if self.eat_word("NOT") {
            return Ok(Rule::Not(Box::new(self.nested(Self::unary)?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Rule, RuleError> {
        if self.eat('(') {
            self.elements += 1;
            let inner = self.nested(Self::or)?;
            self.expect(')')?;
            return Ok(inner);
        }
        for (word, value) in [("TRUE", true), ("FALSE", false)] {
            if self.eat_word(word) {
                self.elements += 1;
                return Ok(Rule::Literal(value));
            }
        }
        if self.eat_word("AT_LEAST") {
            return self.at_least();
        }
        for word in ["ALARM", "OK", "INSUFFICIENT_DATA"] {
            if self.eat_word(word) {
                let function = function_of(word).expect("a state function");
                self.expect('(')?;
                let name = self.alarm(false)?;
                self.expect(')')?;
                self.elements += 1;
                return Ok(Rule::State(function, name));
            }
        }
        Err(self.unsupported(None))
    }

    /// An alarm name or ARN, quoted or bare; `in_list` also ends a bare name at a comma.
    fn alarm(&mut self, in_list: bool) -> Result<String, RuleError> {
        self.skip_whitespace();
        let start = self.pos;
        if self.chars.get(start) == Some(&'"') {
            let mut value = String::new();
            let mut i = start + 1;
            loop {
                match self.chars.get(i) {
                    None => {
                        return Err(RuleError(format!("Unterminated string at char {start}")));
                    }
                    Some('"') => break,
                    Some('\\') if self.chars.get(i + 1) == Some(&'"') => {
                        value.push('"');
                        i += 2;
                    }
                    Some(c) => {
                        value.push(*c);
                        i += 1;
                    }
                }
            }
            self.pos = i + 1;
            if value.is_empty() {
                self.pos = start;
                return Err(self.unsupported(Some("an alarm name or ARN")));
            }
            return Ok(value);
        }
        let stops = if in_list { "()\"," } else { "()\"" };
        let mut end = start;
        while self
            .chars
            .get(end)
            .is_some_and(|c| !c.is_whitespace() && !stops.contains(*c))
        {
            end += 1;
        }
        if end == start {
            return Err(self.unsupported(Some("an alarm name or ARN")));
        }
        self.pos = end;
        Ok(self.chars[start..end].iter().collect())
    }

    /// `AT_LEAST(threshold, [NOT] state, (alarm, ...))`, after the keyword.
    fn at_least(&mut self) -> Result<Rule, RuleError> {
        self.expect('(')?;
        self.skip_whitespace();
        let at = self.pos;
        let digits: String = self.chars[self.pos..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        if digits.is_empty() {
            return Err(self.unsupported(Some("a count or a percentage")));
        }
        self.pos += digits.len();
        let percent = self.chars.get(self.pos) == Some(&'%');
        if percent {
            self.pos += 1;
        }
        let number: usize = digits.parse().unwrap_or(usize::MAX);
        self.expect(',')?;
        let negated = self.eat_word("NOT");
        let state = ["ALARM", "OK", "INSUFFICIENT_DATA"]
            .into_iter()
            .find(|word| self.eat_word(word))
            .and_then(function_of)
            .ok_or_else(|| self.unsupported(Some("ALARM, OK or INSUFFICIENT_DATA")))?;
        self.expect(',')?;
        self.expect('(')?;
        self.elements += 1;
        let mut alarms = vec![self.alarm(true)?];
        while self.eat(',') {
            alarms.push(self.alarm(true)?);
        }
        self.expect(')')?;
        self.expect(')')?;
        self.elements += alarms.len();
        let threshold = if percent {
            if !(1..=100).contains(&number) {
                return Err(RuleError(format!(
                    "The AT_LEAST percentage must be from 1% to 100% at char {at}"
                )));
            }
            Threshold::Percent(number as u8)
        } else {
            if !(1..=alarms.len()).contains(&number) {
                return Err(RuleError(format!(
                    "The AT_LEAST count must be from 1 to the number of alarms ({}) at char {at}",
                    alarms.len()
                )));
            }
            Threshold::Count(number)
        };
        Ok(Rule::AtLeast {
            threshold,
            negated,
            state,
            alarms,
        })
    }
}

impl Rule {
    /// Parses a rule and checks its size limits.
    pub fn parse(text: &str) -> Result<Rule, RuleError> {
        let mut parser = Parser {
            chars: text.chars().collect(),
            pos: 0,
            elements: 0,
            depth: 0,
        };
        let rule = parser.or()?;
        parser.skip_whitespace();
        if parser.pos < parser.chars.len() {
            return Err(parser.unsupported(None));
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
            Rule::AtLeast { alarms, .. } => alarms.iter().for_each(|a| f(a)),
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
            Rule::AtLeast {
                threshold,
                negated,
                state,
                alarms,
            } => {
                let matching = alarms
                    .iter()
                    .filter(|a| (state_of(a).as_deref() == Some(state.state_value())) != *negated)
                    .count();
                match threshold {
                    Threshold::Count(count) => matching >= *count,
                    Threshold::Percent(percent) => {
                        matching * 100 >= alarms.len() * *percent as usize
                    }
                }
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

    fn error(text: &str) -> String {
        Rule::parse(text).unwrap_err().0
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
        assert_eq!(
            Rule::parse("ALARM(\"my \\\"quoted\\\" alarm\\n\")").unwrap(),
            state("my \"quoted\" alarm\\n"),
            "\\\" is a quote; other backslashes are kept"
        );
    }

    #[test]
    fn the_documented_examples_parse() {
        for text in [
            "ALARM(CPUUtilizationTooHigh) AND ALARM(DiskReadOpsTooHigh)",
            "ALARM(CPUUtilizationTooHigh) AND NOT ALARM(DeploymentInProgress)",
            "(ALARM(CPUUtilizationTooHigh) OR ALARM(DiskReadOpsTooHigh)) AND OK(NetworkOutTooHigh)",
            "TRUE",
            "FALSE",
            "AT_LEAST(2, ALARM, (arn:aws:cloudwatch:us-east-1:123456789012:alarm:a, b, \"c d\"))",
            "AT_LEAST(60%, NOT OK, (a, b, c)) OR INSUFFICIENT_DATA(d)",
        ] {
            Rule::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        }
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
    fn children_are_distinct_in_order_and_include_arns_and_at_least_lists() {
        let rule = Rule::parse(
            "(ALARM(b) OR OK(a)) AND INSUFFICIENT_DATA(b) AND \
             ALARM(\"arn:aws:cloudwatch:us-east-1:123456789012:alarm:c\") OR \
             AT_LEAST(1, ALARM, (d, a))",
        )
        .unwrap();
        assert_eq!(
            rule.children(),
            vec![
                "b",
                "a",
                "arn:aws:cloudwatch:us-east-1:123456789012:alarm:c",
                "d"
            ]
        );
    }

    #[test]
    fn a_bare_name_ends_at_whitespace_as_in_aws() {
        assert_eq!(
            error("ALARM(My Alarm)"),
            "Unsupported token 'Alarm' at char 9, must be: ')'"
        );
        assert_eq!(Rule::parse("ALARM( padded )").unwrap(), state("padded"));
    }

    #[test]
    fn malformed_rules_are_refused_where_they_break() {
        for (text, message) in [
            ("()", "Unsupported token ')' at char 1"),
            ("", "Unexpected end of rule at char 0"),
            ("ALARM(a) and ALARM(b)", "Unsupported token 'and' at char 9"),
            ("ALARM(a) ALARM(b)", "Unsupported token 'ALARM' at char 9"),
            (
                "ALARM(a) ANDD ALARM(b)",
                "Unsupported token 'ANDD' at char 9",
            ),
            (
                "ALARM()",
                "Unsupported token ')' at char 6, must be: an alarm name or ARN",
            ),
            (
                "ALARM(\"\")",
                "Unsupported token '\"\"' at char 6, must be: an alarm name or ARN",
            ),
            ("ALARM(\"a)", "Unterminated string at char 6"),
            ("ALARM a", "Unsupported token 'a' at char 6, must be: '('"),
            ("alarm(a)", "Unsupported token 'alarm' at char 0"),
            ("NOT", "Unexpected end of rule at char 3"),
            (
                "(ALARM(a)",
                "Unexpected end of rule at char 9, must be: ')'",
            ),
            ("TRUE)", "Unsupported token ')' at char 4"),
            (
                "ATLEAST(1, ALARM, (a))",
                "Unsupported token 'ATLEAST' at char 0",
            ),
            (
                "AT_LEAST(ALARM, (a))",
                "Unsupported token 'ALARM' at char 9, must be: a count or a percentage",
            ),
            (
                "AT_LEAST(1, ALRM, (a))",
                "Unsupported token 'ALRM' at char 12, must be: ALARM, OK or INSUFFICIENT_DATA",
            ),
            (
                "AT_LEAST(1, ALARM, a)",
                "Unsupported token 'a' at char 19, must be: '('",
            ),
            (
                "AT_LEAST(1, ALARM, ())",
                "Unsupported token ')' at char 20, must be: an alarm name or ARN",
            ),
            (
                "AT_LEAST(3, ALARM, (a, b))",
                "The AT_LEAST count must be from 1 to the number of alarms (2) at char 9",
            ),
            (
                "AT_LEAST(0, OK, (a))",
                "The AT_LEAST count must be from 1 to the number of alarms (1) at char 9",
            ),
            (
                "AT_LEAST(101%, OK, (a))",
                "The AT_LEAST percentage must be from 1% to 100% at char 9",
            ),
        ] {
            assert_eq!(error(text), message, "{text}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing_the_stack() {
        let deep = format!("{}TRUE{}", "(".repeat(60), ")".repeat(60));
        assert!(Rule::parse(&deep).is_ok());
        let deeper = format!("{}TRUE{}", "(".repeat(3000), ")".repeat(3000));
        assert!(error(&deeper).contains("nested too deeply"));
        assert!(error(&format!("{}TRUE", "NOT ".repeat(2000))).contains("nested too deeply"));
    }

    #[test]
    fn more_than_one_hundred_children_is_refused() {
        let text = (0..101)
            .map(|i| format!("ALARM(a{i})"))
            .collect::<Vec<_>>()
            .join(" OR ");
        assert!(error(&text).contains("at most 100 alarms"));
        let text = (0..100)
            .map(|i| format!("ALARM(a{i})"))
            .collect::<Vec<_>>()
            .join(" OR ");
        assert_eq!(Rule::parse(&text).unwrap().children().len(), 100);
        let list = (0..101)
            .map(|i| format!("a{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        assert!(error(&format!("AT_LEAST(1, ALARM, ({list}))")).contains("at most 100 alarms"));
    }

    #[test]
    fn more_than_five_hundred_elements_is_refused() {
        let text = (0..501).map(|_| "TRUE").collect::<Vec<_>>().join(" AND ");
        assert!(error(&text).contains("at most 500 elements"));
        let text = (0..500).map(|_| "TRUE").collect::<Vec<_>>().join(" AND ");
        assert!(Rule::parse(&text).is_ok());
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

    #[test]
    fn at_least_counts_alarms_in_or_out_of_the_state() {
        let firing = |names: &'static [&'static str]| {
            move |name: &str| Some(if names.contains(&name) { "ALARM" } else { "OK" }.to_string())
        };
        let two = Rule::parse("AT_LEAST(2, ALARM, (a, b, c))").unwrap();
        assert!(!two.evaluate(&firing(&["a"])));
        assert!(two.evaluate(&firing(&["a", "c"])));
        let most = Rule::parse("AT_LEAST(60%, ALARM, (a, b, c))").unwrap();
        assert!(!most.evaluate(&firing(&["a"])), "1 of 3 is 33%");
        assert!(most.evaluate(&firing(&["a", "b"])), "2 of 3 is 67%");
        let not_ok = Rule::parse("AT_LEAST(1, NOT OK, (a, b))").unwrap();
        assert!(!not_ok.evaluate(&firing(&[])));
        assert!(not_ok.evaluate(&firing(&["b"])));
    }

    mod properties {
        use super::super::Rule;
        use proptest::prelude::*;

        fn rule_soup() -> impl Strategy<Value = String> {
            let pieces = prop::sample::select(vec![
                "ALARM",
                "OK",
                "INSUFFICIENT_DATA",
                "AT_LEAST",
                "NOT",
                "AND",
                "OR",
                "TRUE",
                "FALSE",
                "(",
                ")",
                ",",
                "\"",
                "a",
                "arn:aws:cloudwatch:us-east-1:1:alarm:b",
                "2",
                "50%",
                " ",
                "\\",
                "é",
            ]);
            prop::collection::vec(pieces, 0..40).prop_map(|p| p.concat())
        }

        proptest! {
            #[test]
            fn any_text_parses_or_is_refused_without_panicking(text in rule_soup()) {
                if let Ok(rule) = Rule::parse(&text) {
                    prop_assert!(rule.children().len() <= super::super::MAX_CHILDREN);
                }
            }
        }
    }
}
