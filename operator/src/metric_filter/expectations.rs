//! spec.tests: what TestMetricFilter's answer means for each sample event, and whether the
//! filter may be written (pure).
//!
//! TestMetricFilter returns the events the pattern matches, with the values it extracted from
//! each (space-delimited patterns name them `$field`). The value an event publishes is the
//! metric value itself when that is a number (`1`), else the field it names: read from the
//! extracted values, or, for a JSON field (`$.latency`) AWS did not list among them, from the
//! event's JSON. A test passes when the event publishes the value it expects, or, with
//! `noMatch: true`, when the pattern does not match it.

use super::spec::{FilterTest, TestResult, TestResults};
use crate::error::Error;
use crate::field_diff::floats_equal;
use aws_sdk_cloudwatchlogs::types::MetricFilterMatchRecord;
use serde_json::Value;
use std::collections::HashMap;

/// What a test expects, or what the filter made of an event.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The pattern does not match the event.
    NoMatch,
    /// The event publishes this value.
    Value(f64),
    /// The pattern matches but no value can be read, for this reason.
    Unreadable(String),
}

impl Outcome {
    /// As status shows it.
    pub fn show(&self) -> String {
        match self {
            Outcome::NoMatch => "no match".into(),
            Outcome::Value(v) => v.to_string(),
            Outcome::Unreadable(why) => why.clone(),
        }
    }

    fn meets(&self, expected: &Outcome) -> bool {
        match (self, expected) {
            (Outcome::NoMatch, Outcome::NoMatch) => true,
            (Outcome::Value(a), Outcome::Value(b)) => floats_equal(*a, *b),
            _ => false,
        }
    }
}

/// What `test` expects.
pub fn expected(test: &FilterTest) -> Outcome {
    match test.value {
        Some(v) => Outcome::Value(v),
        None => Outcome::NoMatch,
    }
}

/// What the event `message` publishes with the metric value `metric_value`, given the values
/// TestMetricFilter extracted from it (`None`: the pattern does not match it).
pub fn actual(
    metric_value: &str,
    message: &str,
    extracted: Option<&HashMap<String, String>>,
) -> Outcome {
    let Some(extracted) = extracted else {
        return Outcome::NoMatch;
    };
    if let Ok(v) = metric_value.trim().parse::<f64>() {
        return Outcome::Value(v);
    }
    let raw = match extracted.get(metric_value) {
        Some(raw) => raw.clone(),
        None => match json_field(message, metric_value) {
            Some(raw) => raw,
            None => {
                return Outcome::Unreadable(format!(
                    "matches, but the event has no field {metric_value}"
                ));
            }
        },
    };
    match raw.trim().parse::<f64>() {
        Ok(v) => Outcome::Value(v),
        Err(_) => Outcome::Unreadable(format!(
            "matches, but {metric_value} is {raw:?}, not a number"
        )),
    }
}

/// The value at the JSON path `path` (`$.a.b`, `$.list[0].c`) of the event `message`, as text.
fn json_field(message: &str, path: &str) -> Option<String> {
    let rest = path.strip_prefix("$.")?;
    let mut node: Value = serde_json::from_str(message).ok()?;
    for part in rest.split('.') {
        let (name, indexes) = match part.find('[') {
            Some(at) => (&part[..at], &part[at..]),
            None => (part, ""),
        };
        if !name.is_empty() {
            node = node.get(name)?.clone();
        }
        for index in indexes
            .split(']')
            .filter(|s| !s.is_empty())
            .map(|s| s.trim_start_matches('['))
        {
            node = node.get(index.parse::<usize>().ok()?)?.clone();
        }
    }
    match node {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The extracted values of each test's event, by test position: a match record is tied to its
/// event by the message it carries, else by its 1-based event number.
fn match_of<'a>(
    tests: &[FilterTest],
    matches: &'a [MetricFilterMatchRecord],
) -> Vec<Option<&'a MetricFilterMatchRecord>> {
    tests
        .iter()
        .enumerate()
        .map(|(i, t)| {
            matches.iter().find(|m| match m.event_message() {
                Some(message) => message == t.log_event,
                None => m.event_number() == i as i64 + 1,
            })
        })
        .collect()
}

/// The results of `tests` for the metric value `metric_value`, from TestMetricFilter's
/// `matches`, for the spec of `generation`.
pub fn results(
    tests: &[FilterTest],
    metric_value: &str,
    matches: &[MetricFilterMatchRecord],
    generation: i64,
) -> TestResults {
    let empty = HashMap::new();
    let results: Vec<TestResult> = tests
        .iter()
        .zip(match_of(tests, matches))
        .enumerate()
        .map(|(i, (test, record))| {
            let extracted = record.map(|r| r.extracted_values().unwrap_or(&empty));
            let actual = actual(metric_value, &test.log_event, extracted);
            let expected = expected(test);
            TestResult {
                index: i as u32,
                expected: expected.show(),
                actual: actual.show(),
                passed: actual.meets(&expected),
            }
        })
        .collect();
    let passed = results.iter().filter(|r| r.passed).count();
    TestResults {
        observed_generation: generation,
        summary: format!("{passed}/{} passed", results.len()),
        results,
    }
}

/// Longest part of a sample event a message quotes.
const QUOTED_EVENT: usize = 80;

/// The terminal error for failed tests, naming each failure; `None` when every test passed.
pub fn failure(tests: &[FilterTest], results: &TestResults) -> Option<Error> {
    let failed: Vec<String> = results
        .results
        .iter()
        .filter(|r| !r.passed)
        .map(|r| {
            let event = tests
                .get(r.index as usize)
                .map(|t| quote(&t.log_event))
                .unwrap_or_default();
            let expects = if r.expected == "no match" {
                "expects no match".to_string()
            } else {
                format!("expects {}", r.expected)
            };
            let got = if r.actual == "no match" {
                "does not match".to_string()
            } else if r.actual.starts_with("matches") {
                r.actual.clone()
            } else {
                format!("publishes {}", r.actual)
            };
            format!("tests[{}] {event} {expects} but {got}", r.index)
        })
        .collect();
    if failed.is_empty() {
        return None;
    }
    Some(Error::invalid_spec(format!(
        "spec.tests: {} of {} failed against the filter pattern (TestMetricFilter): {}. The \
         filter is not written until every test passes: correct filterPattern, the metric value \
         or the tests",
        failed.len(),
        results.results.len(),
        failed.join("; ")
    )))
}

/// The event in quotes, cut to [`QUOTED_EVENT`] characters.
fn quote(event: &str) -> String {
    let mut cut: String = event.chars().take(QUOTED_EVENT).collect();
    if cut.len() < event.len() {
        cut.push('…');
    }
    format!("{cut:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test(event: &str, value: Option<f64>) -> FilterTest {
        FilterTest {
            log_event: event.into(),
            value,
            no_match: value.is_none().then_some(true),
        }
    }

    fn record(
        n: i64,
        message: Option<&str>,
        extracted: &[(&str, &str)],
    ) -> MetricFilterMatchRecord {
        MetricFilterMatchRecord::builder()
            .event_number(n)
            .set_event_message(message.map(str::to_string))
            .set_extracted_values(Some(
                extracted
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ))
            .build()
    }

    #[test]
    fn a_number_is_the_value_of_every_match() {
        let extracted = HashMap::new();
        assert_eq!(actual("1", "ERROR", Some(&extracted)), Outcome::Value(1.0));
        assert_eq!(
            actual("2.5", "ERROR", Some(&extracted)),
            Outcome::Value(2.5)
        );
        assert_eq!(actual("1", "ERROR", None), Outcome::NoMatch);
    }

    #[test]
    fn a_field_is_read_from_the_extracted_values_first() {
        let extracted = HashMap::from([("$bytes".to_string(), "1534".to_string())]);
        assert_eq!(
            actual("$bytes", "127.0.0.1 - - 200 1534", Some(&extracted)),
            Outcome::Value(1534.0)
        );
    }

    #[test]
    fn a_json_field_not_extracted_is_read_from_the_event() {
        let extracted = HashMap::new();
        let event = r#"{"level":"ERROR","latency":{"ms":[120,7]},"code":"42"}"#;
        assert_eq!(
            actual("$.latency.ms[1]", event, Some(&extracted)),
            Outcome::Value(7.0)
        );
        assert_eq!(
            actual("$.code", event, Some(&extracted)),
            Outcome::Value(42.0)
        );
        assert!(matches!(
            actual("$.missing", event, Some(&extracted)),
            Outcome::Unreadable(why) if why.contains("$.missing")
        ));
        assert!(matches!(
            actual("$.level", event, Some(&extracted)),
            Outcome::Unreadable(why) if why.contains("not a number")
        ));
    }

    #[test]
    fn every_test_gets_a_result_in_order_and_a_summary() {
        let tests = [
            test(r#"{"level":"ERROR"}"#, Some(1.0)),
            test(r#"{"level":"INFO"}"#, None),
            test(r#"{"level":"WARN"}"#, Some(1.0)),
        ];
        let matches = [record(1, Some(r#"{"level":"ERROR"}"#), &[])];
        let r = results(&tests, "1", &matches, 7);
        assert_eq!(r.observed_generation, 7);
        assert_eq!(r.summary, "2/3 passed");
        assert_eq!(
            r.results.iter().map(|t| t.passed).collect::<Vec<_>>(),
            [true, true, false]
        );
        assert_eq!(r.results[2].expected, "1");
        assert_eq!(r.results[2].actual, "no match");
    }

    #[test]
    fn a_record_without_its_message_is_tied_to_its_event_by_number() {
        let tests = [test("INFO", None), test("ERROR", Some(1.0))];
        let matches = [record(2, None, &[])];
        let r = results(&tests, "1", &matches, 1);
        assert!(r.results.iter().all(|t| t.passed), "{r:?}");
    }

    #[test]
    fn a_failure_is_terminal_and_names_each_failing_test() {
        let tests = [
            test(r#"{"level":"ERROR"}"#, Some(1.0)),
            test(r#"{"level":"INFO"}"#, None),
        ];
        // A pattern that matches everything: the INFO line should not match.
        let matches = [
            record(1, Some(r#"{"level":"ERROR"}"#), &[]),
            record(2, Some(r#"{"level":"INFO"}"#), &[]),
        ];
        let r = results(&tests, "1", &matches, 1);
        let e = failure(&tests, &r).expect("a test failed");
        assert!(e.is_terminal());
        assert!(
            e.message
                .contains(r#"tests[1] "{\"level\":\"INFO\"}" expects no match but publishes 1"#),
            "{}",
            e.message
        );
        assert!(e.message.contains("1 of 2 failed"), "{}", e.message);
        assert!(!e.message.contains("tests[0]"), "{}", e.message);
    }

    #[test]
    fn passing_tests_are_no_failure() {
        let tests = [test("ERROR x", Some(3.0))];
        let matches = [record(1, Some("ERROR x"), &[("$n", "3")])];
        let r = results(&tests, "$n", &matches, 1);
        assert_eq!(failure(&tests, &r), None);
    }

    #[test]
    fn long_events_are_cut_in_messages() {
        let long = "x".repeat(500);
        let quoted = quote(&long);
        assert!(quoted.chars().count() < 90, "{quoted}");
        assert!(quoted.contains('…'));
    }
}
