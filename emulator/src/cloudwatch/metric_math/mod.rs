//! Metric math: the expressions a metric query (`MetricDataQuery.Expression`) holds, parsed and
//! checked as PutMetricAlarm checks them before it saves an alarm.
//!
//! An expression is either metric math (user guide, "Metric math syntax and functions") or a
//! Metrics Insights query (`SELECT ...`, see [`insights`]). Metric math has numbers (`5`, `0.5`,
//! `1e-36`), ids of the other queries in the list (`m1`: a lower-case letter, then letters,
//! digits and `_`), strings in `"` or `'` (only as function arguments), arrays `[m1, m2]`, the
//! operators `+ - * / ^`, unary `-`, the comparisons `== != <= >= < >`, the logical operators
//! `AND`/`&&` and `OR`/`||`, parentheses, and calls of the documented functions, each written in
//! upper case ([`functions`] lists them with their arguments). [`parse`] gives the grammar.
//!
//! Errors name the character (counted from 0) where the problem is, as AWS does for alarm
//! rules: `Unknown function 'FOO' at char 0`.

mod functions;
mod insights;
mod lex;
mod parse;
#[cfg(test)]
mod tests;

pub use functions::{Usage, is_id};

/// Why an expression is refused, and where.
#[derive(Clone, Debug, PartialEq)]
pub struct MathError {
    pub message: String,
    /// Character index, from 0.
    pub at: usize,
}

impl MathError {
    pub(crate) fn new(message: impl Into<String>, at: usize) -> Self {
        Self {
            message: message.into(),
            at,
        }
    }
}

impl std::fmt::Display for MathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at char {}", self.message, self.at)
    }
}

/// A checked expression.
#[derive(Debug, PartialEq)]
pub enum Expression {
    /// Metric math: the ids it reads, the functions it calls, and the function its whole value
    /// comes from when the expression is one call (`ANOMALY_DETECTION_BAND(m1)`).
    Math { usage: Usage, outer: Option<String> },
    /// A Metrics Insights query.
    Insights,
}

impl Expression {
    /// How many times the expression calls `function`.
    pub fn calls(&self, function: &str) -> usize {
        match self {
            Expression::Math { usage, .. } => usage
                .calls
                .iter()
                .filter(|(name, _)| name == function)
                .count(),
            Expression::Insights => 0,
        }
    }

    pub fn references(&self) -> &[(String, usize)] {
        match self {
            Expression::Math { usage, .. } => &usage.references,
            Expression::Insights => &[],
        }
    }
}

/// Parses and checks an expression: syntax, known functions and their arguments, and that
/// every bare word is an id. Whether those ids exist is the metrics list's concern.
pub fn analyse(text: &str) -> Result<Expression, MathError> {
    let first_word: String = text
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    if first_word.eq_ignore_ascii_case("SELECT") {
        insights::check(text)?;
        return Ok(Expression::Insights);
    }
    let tree = parse::parse(text)?;
    let usage = functions::check(&tree)?;
    let outer = match &tree.expr {
        parse::Expr::Call(name, _) => Some(name.clone()),
        _ => None,
    };
    Ok(Expression::Math { usage, outer })
}
