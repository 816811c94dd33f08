//! The syntax of a CloudWatch Metrics Insights query, which a metric query's `Expression` may
//! hold instead of metric math (user guide, "Metrics Insights query components and syntax"):
//!
//! ```text
//! SELECT FUNCTION(metricName)
//! FROM namespace | SCHEMA(namespace [, labelKey ...])
//! [ WHERE condition ]
//! [ GROUP BY labelKey [, ...] ]
//! [ ORDER BY FUNCTION() [ DESC | ASC ] ]
//! [ LIMIT number ]
//! ```
//!
//! Keywords are case-insensitive; FUNCTION is AVG, COUNT, MAX, MIN or SUM; names that are not
//! plain words are written in double quotes, label values in single quotes; LIMIT is at most
//! 500. Conditions compare a label key with `=` or `!=`, and combine with AND; the later
//! additions (OR, NOT, IN, LIKE, parentheses) are accepted too, so no valid query is refused.

use super::MathError;

const FUNCTIONS: &[&str] = &["AVG", "COUNT", "MAX", "MIN", "SUM"];
const MAX_LIMIT: u64 = 500;

#[derive(Clone, Debug, PartialEq)]
enum Token {
    /// A bare word; keywords are compared case-insensitively.
    Word(String),
    /// `"..."`: a namespace, metric name or label key.
    Name(String),
    /// `'...'`: a label value.
    Value(String),
    Number(String),
    Symbol(&'static str),
}

struct Spanned {
    token: Token,
    at: usize,
}

fn tokenize(text: &str) -> Result<Vec<Spanned>, MathError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let token = if c == '"' || c == '\'' {
            let mut value = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(MathError::new("Unterminated quoted text", at)),
                    Some(q) if *q == c => break,
                    Some('\\') if i + 1 < chars.len() => {
                        value.push(chars[i + 1]);
                        i += 1;
                    }
                    Some(other) => value.push(*other),
                }
                i += 1;
            }
            i += 1;
            if c == '"' {
                Token::Name(value)
            } else {
                Token::Value(value)
            }
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            Token::Number(chars[start..i].iter().collect())
        } else if c.is_alphanumeric() || c == '_' || c == '@' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '.' | '@' | ':'))
            {
                i += 1;
            }
            Token::Word(chars[start..i].iter().collect())
        } else {
            let symbol = ["!=", "<>", "(", ")", ",", "="]
                .into_iter()
                .find(|s| {
                    s.chars()
                        .enumerate()
                        .all(|(k, sc)| chars.get(i + k) == Some(&sc))
                })
                .ok_or_else(|| MathError::new(format!("Unsupported token '{c}'"), at))?;
            i += symbol.len();
            Token::Symbol(symbol)
        };
        tokens.push(Spanned { token, at });
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Spanned>,
    pos: usize,
    end: usize,
}

/// Checks a query's syntax.
pub fn check(text: &str) -> Result<(), MathError> {
    let mut p = Parser {
        tokens: tokenize(text)?,
        pos: 0,
        end: text.chars().count(),
    };
    p.keyword("SELECT")?;
    p.function()?;
    p.symbol("(")?;
    p.name()?;
    p.symbol(")")?;
    p.keyword("FROM")?;
    if p.is_keyword("SCHEMA") && p.next_is_symbol("(") {
        p.pos += 2;
        p.name()?;
        while p.is_symbol(",") {
            p.pos += 1;
            p.name()?;
        }
        p.symbol(")")?;
    } else {
        p.name()?;
    }
    if p.is_keyword("WHERE") {
        p.pos += 1;
        p.condition(0)?;
    }
    if p.is_keyword("GROUP") {
        p.pos += 1;
        p.keyword("BY")?;
        p.name()?;
        while p.is_symbol(",") {
            p.pos += 1;
            p.name()?;
        }
    }
    if p.is_keyword("ORDER") {
        p.pos += 1;
        p.keyword("BY")?;
        p.function()?;
        p.symbol("(")?;
        p.symbol(")")?;
        if p.is_keyword("ASC") || p.is_keyword("DESC") {
            p.pos += 1;
        }
    }
    if p.is_keyword("LIMIT") {
        p.pos += 1;
        let at = p.here();
        match p.peek() {
            Some(Token::Number(n)) => {
                let limit = n
                    .parse::<u64>()
                    .ok()
                    .filter(|l| (1..=MAX_LIMIT).contains(l));
                if limit.is_none() {
                    return Err(MathError::new(
                        format!("LIMIT must be an integer from 1 to {MAX_LIMIT}"),
                        at,
                    ));
                }
                p.pos += 1;
            }
            _ => return Err(p.unexpected("a number")),
        }
    }
    match p.tokens.get(p.pos) {
        Some(_) => Err(p.unexpected("GROUP BY, ORDER BY, LIMIT or the end of the query")),
        None => Ok(()),
    }
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|s| &s.token)
    }

    fn here(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.end, |s| s.at)
    }

    fn unexpected(&self, expected: &str) -> MathError {
        let found = match self.peek() {
            None => {
                return MathError::new(
                    format!("Unexpected end of query, must be: {expected}"),
                    self.end,
                );
            }
            Some(Token::Word(w)) => w.clone(),
            Some(Token::Name(n)) => format!("\"{n}\""),
            Some(Token::Value(v)) => format!("'{v}'"),
            Some(Token::Number(n)) => n.clone(),
            Some(Token::Symbol(s)) => (*s).to_string(),
        };
        MathError::new(
            format!("Unsupported token '{found}', must be: {expected}"),
            self.here(),
        )
    }

    fn is_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(keyword))
    }

    fn is_symbol(&self, symbol: &str) -> bool {
        matches!(self.peek(), Some(Token::Symbol(s)) if *s == symbol)
    }

    fn next_is_symbol(&self, symbol: &str) -> bool {
        matches!(self.tokens.get(self.pos + 1).map(|s| &s.token), Some(Token::Symbol(s)) if *s == symbol)
    }

    fn keyword(&mut self, keyword: &str) -> Result<(), MathError> {
        if self.is_keyword(keyword) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected(keyword))
        }
    }

    fn symbol(&mut self, symbol: &str) -> Result<(), MathError> {
        if self.is_symbol(symbol) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected(&format!("'{symbol}'")))
        }
    }

    fn function(&mut self) -> Result<(), MathError> {
        match self.peek() {
            Some(Token::Word(w)) if FUNCTIONS.iter().any(|f| w.eq_ignore_ascii_case(f)) => {
                self.pos += 1;
                Ok(())
            }
            _ => Err(self.unexpected(&FUNCTIONS.join(", "))),
        }
    }

    /// A namespace, metric name or label key: a bare word or a double-quoted name.
    fn name(&mut self) -> Result<(), MathError> {
        match self.peek() {
            Some(Token::Word(_) | Token::Name(_)) => {
                self.pos += 1;
                Ok(())
            }
            _ => Err(self.unexpected("a name")),
        }
    }

    fn value(&mut self) -> Result<(), MathError> {
        match self.peek() {
            Some(Token::Value(_)) => {
                self.pos += 1;
                Ok(())
            }
            _ => Err(self.unexpected("a label value in single quotes")),
        }
    }

    /// `condition = term { (AND | OR) term }`, `term = [NOT] ( "(" condition ")" | comparison )`.
    fn condition(&mut self, depth: usize) -> Result<(), MathError> {
        if depth > 50 {
            return Err(MathError::new(
                "Condition is nested too deeply",
                self.here(),
            ));
        }
        loop {
            if self.is_keyword("NOT") {
                self.pos += 1;
            }
            if self.is_symbol("(") {
                self.pos += 1;
                self.condition(depth + 1)?;
                self.symbol(")")?;
            } else {
                self.comparison()?;
            }
            if self.is_keyword("AND") || self.is_keyword("OR") {
                self.pos += 1;
            } else {
                return Ok(());
            }
        }
    }

    /// `key (= | != | <>) 'value'`, `key [NOT] LIKE 'value'`, `key [NOT] IN ('v', ...)`.
    fn comparison(&mut self) -> Result<(), MathError> {
        self.name()?;
        if self.is_symbol("=") || self.is_symbol("!=") || self.is_symbol("<>") {
            self.pos += 1;
            return self.value();
        }
        if self.is_keyword("NOT") {
            self.pos += 1;
        }
        if self.is_keyword("LIKE") {
            self.pos += 1;
            return self.value();
        }
        if self.is_keyword("IN") {
            self.pos += 1;
            self.symbol("(")?;
            self.value()?;
            while self.is_symbol(",") {
                self.pos += 1;
                self.value()?;
            }
            return self.symbol(")");
        }
        Err(self.unexpected("=, !=, LIKE or IN"))
    }
}
