//! Model-level input validation with the messages AWS's request validator writes.
//!
//! AWS checks each member against its Smithy constraints (required, length, range, enum,
//! pattern) before the operation runs and reports every violation in one message:
//! `2 validation errors detected: Value 'x' at 'alarmName' failed to satisfy constraint:
//! Member must have length less than or equal to 255; Value null at ...`. Paths use the
//! member name with a lower-case first letter, and `.N.member` for list elements.
//! Each service answers with its own code (CloudWatch `ValidationError`, Logs
//! `InvalidParameterException`, Firehose `ValidationException`, X-Ray
//! `InvalidRequestException`); the caller picks it.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use regex::Regex;

use crate::error::AwsError;

/// Collects constraint violations for one request.
#[derive(Debug, Default)]
pub struct Violations {
    items: Vec<String>,
}

/// The lower-camel path AWS reports for a member name (`AlarmName` → `alarmName`).
pub fn member_path(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The path of the `index`-th (0-based) element of a list member: `metrics.1.member`.
pub fn element_path(list_path: &str, index: usize) -> String {
    format!("{list_path}.{}.member", index + 1)
}

fn quote(value: &str) -> String {
    format!("'{value}'")
}

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    fn push(&mut self, shown: String, path: &str, constraint: &str) {
        self.items.push(format!(
            "Value {shown} at '{path}' failed to satisfy constraint: Member must {constraint}"
        ));
    }

    /// `Member must not be null`.
    pub fn required<T>(&mut self, path: &str, value: Option<&T>) -> &mut Self {
        if value.is_none() {
            self.push("null".into(), path, "not be null");
        }
        self
    }

    /// String length bounds, counted in characters as AWS does.
    pub fn length(
        &mut self,
        path: &str,
        value: Option<&str>,
        min: usize,
        max: Option<usize>,
    ) -> &mut Self {
        if let Some(value) = value {
            let len = value.chars().count();
            if len < min {
                self.push(
                    quote(value),
                    path,
                    &format!("have length greater than or equal to {min}"),
                );
            } else if let Some(max) = max.filter(|max| len > *max) {
                self.push(
                    quote(value),
                    path,
                    &format!("have length less than or equal to {max}"),
                );
            }
        }
        self
    }

    /// List size bounds (AWS words these as "length" too).
    pub fn count<T>(
        &mut self,
        path: &str,
        value: Option<&[T]>,
        min: usize,
        max: Option<usize>,
    ) -> &mut Self {
        if let Some(list) = value {
            let shown = format!("[{} elements]", list.len());
            if list.len() < min {
                self.push(
                    shown,
                    path,
                    &format!("have length greater than or equal to {min}"),
                );
            } else if let Some(max) = max.filter(|max| list.len() > *max) {
                self.push(
                    shown,
                    path,
                    &format!("have length less than or equal to {max}"),
                );
            }
        }
        self
    }

    /// Integer range bounds.
    pub fn range(
        &mut self,
        path: &str,
        value: Option<i64>,
        min: Option<i64>,
        max: Option<i64>,
    ) -> &mut Self {
        if let Some(value) = value {
            if let Some(min) = min.filter(|min| value < *min) {
                self.push(
                    quote(&value.to_string()),
                    path,
                    &format!("have value greater than or equal to {min}"),
                );
            } else if let Some(max) = max.filter(|max| value > *max) {
                self.push(
                    quote(&value.to_string()),
                    path,
                    &format!("have value less than or equal to {max}"),
                );
            }
        }
        self
    }

    /// Floating-point range bounds.
    pub fn range_f64(&mut self, path: &str, value: Option<f64>, min: f64, max: f64) -> &mut Self {
        if let Some(value) = value {
            if value.is_nan() || value < min {
                self.push(
                    quote(&value.to_string()),
                    path,
                    &format!("have value greater than or equal to {min}"),
                );
            } else if value > max {
                self.push(
                    quote(&value.to_string()),
                    path,
                    &format!("have value less than or equal to {max}"),
                );
            }
        }
        self
    }

    /// Enum membership.
    pub fn one_of(&mut self, path: &str, value: Option<&str>, allowed: &[&str]) -> &mut Self {
        if let Some(value) = value
            && !allowed.contains(&value)
        {
            self.push(
                quote(value),
                path,
                &format!("satisfy enum value set: [{}]", allowed.join(", ")),
            );
        }
        self
    }

    /// A pattern constraint; `matches` implements the model's regular expression, `pattern`
    /// is the expression as the model writes it (it appears in the message).
    pub fn pattern(
        &mut self,
        path: &str,
        value: Option<&str>,
        pattern: &str,
        matches: impl Fn(&str) -> bool,
    ) -> &mut Self {
        if let Some(value) = value
            && !matches(value)
        {
            self.push(
                quote(value),
                path,
                &format!("satisfy regular expression pattern: {pattern}"),
            );
        }
        self
    }

    /// A pattern as the service model writes it, matched against the whole value.
    pub fn model_pattern(
        &mut self,
        path: &str,
        value: Option<&str>,
        pattern: &'static str,
    ) -> &mut Self {
        self.pattern(path, value, pattern, |v| matches_model(pattern, v))
    }

    /// The AWS message for the violations collected, if any.
    pub fn message(&self) -> Option<String> {
        match self.items.len() {
            0 => None,
            1 => Some(format!("1 validation error detected: {}", self.items[0])),
            n => Some(format!(
                "{n} validation errors detected: {}",
                self.items.join("; ")
            )),
        }
    }

    /// `Ok` when nothing was violated, otherwise the error `make` builds from the message.
    pub fn finish(&self, make: impl FnOnce(String) -> AwsError) -> Result<(), AwsError> {
        match self.message() {
            None => Ok(()),
            Some(message) => Err(make(message)),
        }
    }
}

/// Whether `value` matches a model pattern as a whole. AWS's models use Java regular
/// expressions, where `\w`, `\d` and `\s` are ASCII classes while `\p{L}` and friends are
/// Unicode; [`rust_syntax`] keeps that meaning. Lookarounds, which Rust's engine lacks, are
/// checked by hand where a model uses them. Each pattern is compiled once.
pub fn matches_model(pattern: &'static str, value: &str) -> bool {
    static COMPILED: LazyLock<Mutex<HashMap<&'static str, Regex>>> = LazyLock::new(Mutex::default);
    let mut compiled = COMPILED.lock().unwrap_or_else(|e| e.into_inner());
    compiled
        .entry(pattern)
        .or_insert_with(|| {
            Regex::new(&format!("^(?:{})$", rust_syntax(pattern)))
                .expect("model patterns are valid")
        })
        .is_match(value)
}

/// A Java pattern in Rust's syntax: the shorthand classes `\w`, `\d` and `\s` become their
/// ASCII classes, inside and outside brackets.
fn rust_syntax(pattern: &str) -> String {
    let mut out = String::new();
    let mut chars = pattern.chars();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let escaped = chars.next().unwrap_or('\\');
                let ascii = match escaped {
                    'w' => Some("word"),
                    'd' => Some("digit"),
                    's' => Some("space"),
                    _ => None,
                };
                match ascii {
                    Some(class) if in_class => out.push_str(&format!("[:{class}:]")),
                    Some(class) => out.push_str(&format!("[[:{class}:]]")),
                    None => {
                        out.push('\\');
                        out.push(escaped);
                    }
                }
            }
            '[' => {
                in_class = true;
                out.push(c);
            }
            ']' => {
                in_class = false;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// True when every character is allowed by `allowed` and the string is not empty.
pub fn all_chars(value: &str, allowed: impl Fn(char) -> bool) -> bool {
    !value.is_empty() && value.chars().all(allowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_violation_uses_the_aws_wording() {
        let mut v = Violations::new();
        v.length("alarmName", Some(""), 1, Some(255));
        assert_eq!(
            v.message().unwrap(),
            "1 validation error detected: Value '' at 'alarmName' failed to satisfy constraint: \
             Member must have length greater than or equal to 1"
        );
    }

    #[test]
    fn several_violations_are_counted_and_joined() {
        let mut v = Violations::new();
        v.required::<String>("alarmName", None)
            .range("period", Some(0), Some(1), None)
            .one_of("stateValue", Some("BAD"), &["OK", "ALARM"]);
        let message = v.message().unwrap();
        assert!(message.starts_with("3 validation errors detected: Value null at 'alarmName'"));
        assert!(message.contains("Member must have value greater than or equal to 1"));
        assert!(message.contains("Member must satisfy enum value set: [OK, ALARM]"));
    }

    #[test]
    fn values_within_bounds_pass() {
        let mut v = Violations::new();
        v.length("name", Some("abc"), 1, Some(3))
            .range("priority", Some(9999), Some(1), Some(9999))
            .range_f64("fixedRate", Some(1.0), 0.0, 1.0)
            .count("names", Some(&[1, 2][..]), 0, Some(2));
        assert_eq!(v.message(), None);
    }

    #[test]
    fn model_patterns_match_whole_values() {
        assert!(matches_model(r"[\.\-_/#A-Za-z0-9]+", "/aws/lambda/x"));
        assert!(!matches_model(r"[\.\-_/#A-Za-z0-9]+", "a b"));
        assert!(matches_model(
            r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$",
            "Équipe 1"
        ));
        assert!(!matches_model(r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$", "a*b"));
        let mut v = Violations::new();
        v.model_pattern("roleArn", Some("role"), "arn:.*:iam::\\d{12}:role/.+");
        assert!(v.message().unwrap().contains(
            "Member must satisfy regular expression pattern: arn:.*:iam::\\d{12}:role/.+"
        ));
    }

    #[test]
    fn java_shorthand_classes_stay_ascii() {
        assert_eq!(rust_syntax(r"^\d{12}$"), "^[[:digit:]]{12}$");
        assert_eq!(rust_syntax(r"[\w#+=/:,.@-]*"), "[[:word:]#+=/:,.@-]*");
        assert_eq!(rust_syntax(r"[\.\-_]"), r"[\.\-_]");
        assert!(matches_model(r"^\d{12}$", "123456789012"));
        assert!(
            !matches_model(r"^\d{12}$", "١٢٣٤٥٦٧٨٩٠١٢"),
            "other digits are not Java's \\d"
        );
        assert!(!matches_model(r"[\w#+=/:,.@-]*", "caf\u{e9}"));
    }

    #[test]
    fn member_paths_are_lower_camel() {
        assert_eq!(member_path("AlarmName"), "alarmName");
        assert_eq!(element_path("metrics", 0), "metrics.1.member");
    }
}
