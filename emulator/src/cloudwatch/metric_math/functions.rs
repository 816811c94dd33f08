//! The functions metric math documents, with the arguments each takes, and the check of a
//! parsed expression against them.
//!
//! Sources: the CloudWatch user guide, "Metric math syntax and functions" (the function table and
//! "Using IF expressions"), "Use your custom data source" (`LAMBDA`) and "Querying other
//! Performance Insights counter metrics" (`DB_PERF_INSIGHTS`). Every function is written in upper
//! case; a lower-case `sum(m1)` is an unknown function, as AWS documents.

use super::MathError;
use super::parse::{Expr, Node};

/// What one argument position accepts.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Param {
    /// A time series, an array of them or a scalar: ids, numbers, calls, operators, arrays.
    Value,
    /// The id of another entry of the metrics list, written bare.
    Id,
    /// A number written literally (optionally negative).
    Number,
    /// A quoted string.
    Str,
    /// A quoted string or an array of them (`DB_PERF_INSIGHTS`' metrics).
    Strs,
    /// One of these bare words.
    Keyword(&'static [&'static str]),
    /// A value or one of these bare words (`FILL`'s `REPEAT` and `LINEAR`).
    ValueOrKeyword(&'static [&'static str]),
    /// A string, a number or `true` / `false` (`LAMBDA`'s optional arguments).
    Literal,
}

use Param::{Id, Keyword, Literal, Number, Str, Strs, Value, ValueOrKeyword};

/// A function's argument positions; arguments past the last position repeat its kind.
struct Signature {
    name: &'static str,
    params: &'static [Param],
    min: usize,
    max: usize,
}

const fn sig(name: &'static str, params: &'static [Param], min: usize, max: usize) -> Signature {
    Signature {
        name,
        params,
        min,
        max,
    }
}

const SORT_FUNCTIONS: &[&str] = &["AVG", "MIN", "MAX", "SUM"];
const SORT_ORDERS: &[&str] = &["ASC", "DESC"];
const FILL_KEYWORDS: &[&str] = &["REPEAT", "LINEAR"];

/// Every documented function. `LAMBDA` takes a function name and up to 20 literals; `CONCAT`
/// any number of arrays.
const FUNCTIONS: &[Signature] = &[
    sig("ABS", &[Value], 1, 1),
    sig("ANOMALY_DETECTION_BAND", &[Id, Number], 1, 2),
    sig("AVG", &[Value], 1, 1),
    sig("CEIL", &[Value], 1, 1),
    sig("CONCAT", &[Value], 1, usize::MAX),
    sig("DATAPOINT_COUNT", &[Value], 1, 1),
    sig("DB_PERF_INSIGHTS", &[Str, Str, Strs], 3, 3),
    sig("DIFF", &[Value], 1, 1),
    sig("DIFF_TIME", &[Value], 1, 1),
    sig("FILL", &[Value, ValueOrKeyword(FILL_KEYWORDS)], 2, 2),
    sig("FIRST", &[Value], 1, 1),
    sig("LAST", &[Value], 1, 1),
    sig("FLOOR", &[Value], 1, 1),
    sig("IF", &[Value, Value, Value], 2, 3),
    sig("INSIGHT_RULE_METRIC", &[Str, Str], 2, 2),
    sig("LAMBDA", &[Str, Literal], 1, 21),
    sig("LOG", &[Value], 1, 1),
    sig("LOG10", &[Value], 1, 1),
    sig("MAX", &[Value], 1, 1),
    sig("METRIC_COUNT", &[Value], 1, 1),
    sig("METRICS", &[Str], 0, 1),
    sig("MIN", &[Value], 1, 1),
    sig("MINUTE", &[Value], 1, 1),
    sig("HOUR", &[Value], 1, 1),
    sig("DAY", &[Value], 1, 1),
    sig("DATE", &[Value], 1, 1),
    sig("MONTH", &[Value], 1, 1),
    sig("YEAR", &[Value], 1, 1),
    sig("EPOCH", &[Value], 1, 1),
    sig("PERIOD", &[Value], 1, 1),
    sig("RATE", &[Value], 1, 1),
    sig("REMOVE_EMPTY", &[Value], 1, 1),
    sig("RUNNING_SUM", &[Value], 1, 1),
    sig("SEARCH", &[Str, Str, Number], 2, 3),
    sig("SERVICE_QUOTA", &[Value], 1, 1),
    sig("SLICE", &[Value, Value, Value], 2, 3),
    sig(
        "SORT",
        &[Value, Keyword(SORT_FUNCTIONS), Keyword(SORT_ORDERS), Number],
        3,
        4,
    ),
    sig("STDDEV", &[Value], 1, 1),
    sig("SUM", &[Value], 1, 1),
    sig("TIME_SERIES", &[Value], 1, 1),
];

/// The ids an expression reads and the functions it calls, each with its position.
#[derive(Debug, Default, PartialEq)]
pub struct Usage {
    pub references: Vec<(String, usize)>,
    pub calls: Vec<(String, usize)>,
}

/// Metric query ids: `[a-z][A-Za-z0-9_]*`.
pub fn is_id(word: &str) -> bool {
    let mut chars = word.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Checks every call against its signature and every bare word against its position.
pub fn check(node: &Node) -> Result<Usage, MathError> {
    let mut usage = Usage::default();
    value(node, &mut usage)?;
    Ok(usage)
}

fn value(node: &Node, usage: &mut Usage) -> Result<(), MathError> {
    match &node.expr {
        Expr::Number(_) => Ok(()),
        Expr::Str(s) => Err(MathError::new(
            format!("Unexpected string \"{s}\": strings are only function arguments"),
            node.at,
        )),
        Expr::Word(word) => reference(word, node.at, usage),
        Expr::Array(items) => items.iter().try_for_each(|item| value(item, usage)),
        Expr::Call(name, args) => call(name, args, node.at, usage),
        Expr::Negate(operand) => value(operand, usage),
        Expr::Binary(_, left, right) => {
            value(left, usage)?;
            value(right, usage)
        }
    }
}

fn reference(word: &str, at: usize, usage: &mut Usage) -> Result<(), MathError> {
    if is_id(word) {
        usage.references.push((word.to_string(), at));
        Ok(())
    } else if FUNCTIONS.iter().any(|f| f.name == word) {
        Err(MathError::new(
            format!("Function {word} must be called with parentheses"),
            at,
        ))
    } else {
        Err(MathError::new(
            format!("Unrecognized identifier '{word}'"),
            at,
        ))
    }
}

fn call(name: &str, args: &[Node], at: usize, usage: &mut Usage) -> Result<(), MathError> {
    let Some(signature) = FUNCTIONS.iter().find(|f| f.name == name) else {
        return Err(MathError::new(format!("Unknown function '{name}'"), at));
    };
    usage.calls.push((name.to_string(), at));
    if args.len() < signature.min || args.len() > signature.max {
        let expected = match (signature.min, signature.max) {
            (min, max) if min == max => format!("{min}"),
            (min, usize::MAX) => format!("at least {min}"),
            (min, max) => format!("{min} to {max}"),
        };
        return Err(MathError::new(
            format!(
                "Function {name} takes {expected} argument(s), got {}",
                args.len()
            ),
            at,
        ));
    }
    for (i, arg) in args.iter().enumerate() {
        let param = signature.params[i.min(signature.params.len() - 1)];
        argument(name, param, arg, usage)?;
    }
    Ok(())
}

fn argument(function: &str, param: Param, arg: &Node, usage: &mut Usage) -> Result<(), MathError> {
    let invalid = |what: &str| {
        MathError::new(
            format!("Invalid argument for {function}: expected {what}"),
            arg.at,
        )
    };
    match (param, &arg.expr) {
        (Value, _) => value(arg, usage),
        (Id, Expr::Word(word)) if is_id(word) => reference(word, arg.at, usage),
        (Id, _) => Err(invalid("the id of a metric")),
        (Number, Expr::Number(_)) => Ok(()),
        (Number, Expr::Negate(inner)) if matches!(inner.expr, Expr::Number(_)) => Ok(()),
        (Number, _) => Err(invalid("a number")),
        (Str, Expr::Str(_)) => Ok(()),
        (Str, _) => Err(invalid("a quoted string")),
        (Strs, Expr::Str(_)) => Ok(()),
        (Strs, Expr::Array(items)) if items.iter().all(|i| matches!(i.expr, Expr::Str(_))) => {
            Ok(())
        }
        (Strs, _) => Err(invalid("a quoted string or an array of them")),
        (Keyword(words) | ValueOrKeyword(words), Expr::Word(word))
            if words.contains(&word.as_str()) =>
        {
            Ok(())
        }
        (Keyword(words), _) => Err(invalid(&format!("one of {}", words.join(", ")))),
        (ValueOrKeyword(_), _) => value(arg, usage),
        (Literal, Expr::Str(_) | Expr::Number(_)) => Ok(()),
        (Literal, Expr::Negate(inner)) if matches!(inner.expr, Expr::Number(_)) => Ok(()),
        (Literal, Expr::Word(word)) if word == "true" || word == "false" => Ok(()),
        (Literal, _) => Err(invalid("a string, a number, true or false")),
    }
}
