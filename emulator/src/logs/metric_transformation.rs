//! The rules a metric filter's transformation must follow beyond the model's constraints,
//! which tie it to the filter pattern:
//!
//! - the metric value is a number or a reference to a value the pattern names: `$.property`
//!   for a JSON pattern, `$name` or `$<position>` for a space-delimited one (AWS refuses a
//!   bare word such as `length`);
//! - dimensions are references of the same forms, only "for JSON and space-delimited filter
//!   patterns" (otherwise AWS answers "The specified filter pattern does not support
//!   dimensions"), at most three together with `emitSystemFieldDimensions`;
//! - a default value and dimensions exclude each other ("Invalid metric transformation:
//!   dimensions and default value are mutually exclusive properties").

use super::filter_pattern::{FilterPattern, PatternKind, Selector};
use super::invalid_parameter;
use super::state::MetricTransformation;
use crate::error::{AwsError, AwsResult};

/// "You can create JSON and space-delimited metric filters with up to three dimensions";
/// emitted system fields "count toward the total dimension limit".
pub const MAX_DIMENSIONS: usize = 3;

/// The system fields `emitSystemFieldDimensions` accepts.
pub const SYSTEM_FIELDS: &[&str] = &["@aws.account", "@aws.region"];

pub fn check(
    transformation: &MetricTransformation,
    pattern: &FilterPattern,
    emitted_system_fields: usize,
) -> AwsResult<()> {
    let invalid =
        |detail: String| invalid_parameter(format!("Invalid metric transformation: {detail}"));
    if transformation.metric_name.is_empty() || transformation.metric_namespace.is_empty() {
        return Err(invalid(
            "metricName and metricNamespace must not be empty".into(),
        ));
    }
    let value = &transformation.metric_value;
    if super::filter_pattern::parse_number(value).is_none() && !references(value, pattern) {
        return Err(invalid(format!(
            "metricValue {value} is neither a number nor a field of the filter pattern \
             ($.property in a JSON pattern, $name or $position in a space-delimited pattern)"
        )));
    }
    let dimensions = transformation.dimensions.as_ref().filter(|d| !d.is_empty());
    let Some(dimensions) = dimensions else {
        return check_count(emitted_system_fields);
    };
    if pattern.kind() == PatternKind::Text {
        return Err(invalid_parameter(
            "The specified filter pattern does not support dimensions",
        ));
    }
    if transformation.default_value.is_some() {
        return Err(invalid(
            "dimensions and default value are mutually exclusive properties".into(),
        ));
    }
    check_count(dimensions.len() + emitted_system_fields)?;
    for (name, reference) in dimensions {
        if name.is_empty() || !references(reference, pattern) {
            return Err(invalid(format!(
                "dimension {name} must name a field of the filter pattern \
                 ($.property in a JSON pattern, $name or $position in a space-delimited pattern), \
                 not {reference}"
            )));
        }
    }
    Ok(())
}

fn check_count(dimensions: usize) -> AwsResult<()> {
    if dimensions > MAX_DIMENSIONS {
        return Err(invalid_parameter(format!(
            "Invalid metric transformation: a metric filter has at most {MAX_DIMENSIONS} \
             dimensions, emitted system fields included ({dimensions} given)"
        )));
    }
    Ok(())
}

/// Whether `value` is a reference to a value the pattern can produce.
fn references(value: &str, pattern: &FilterPattern) -> bool {
    match pattern.kind() {
        PatternKind::Json => value.starts_with("$.") && Selector::parse_all(value).is_ok(),
        PatternKind::Delimited => value.strip_prefix('$').is_some_and(|field| {
            let position = !field.is_empty() && field.chars().all(|c| c.is_ascii_digit());
            (position && field.parse::<u32>().is_ok_and(|n| n >= 1)) || pattern.names_field(field)
        }),
        PatternKind::Text => false,
    }
}

/// Checks the system fields of `emitSystemFieldDimensions` (metric filters) or
/// `emitSystemFields` (subscription filters), named by `member`: known fields, each once.
pub fn check_system_fields(member: &str, fields: &[String]) -> Result<(), AwsError> {
    for (i, field) in fields.iter().enumerate() {
        if !SYSTEM_FIELDS.contains(&field.as_str()) {
            return Err(invalid_parameter(format!(
                "Invalid {member} value {field}: valid values are {}",
                SYSTEM_FIELDS.join(", ")
            )));
        }
        if fields[..i].contains(field) {
            return Err(invalid_parameter(format!(
                "Invalid {member}: {field} is given twice"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn transformation(
        value: &str,
        dimensions: &[(&str, &str)],
        default: Option<f64>,
    ) -> MetricTransformation {
        MetricTransformation {
            metric_name: "Errors".into(),
            metric_namespace: "App".into(),
            metric_value: value.into(),
            default_value: default,
            dimensions: (!dimensions.is_empty()).then(|| {
                dimensions
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<BTreeMap<_, _>>()
            }),
            unit: None,
        }
    }

    fn message(t: &MetricTransformation, pattern: &str, emitted: usize) -> Option<String> {
        check(t, &FilterPattern::parse(pattern).unwrap(), emitted)
            .err()
            .map(|e| e.message)
    }

    #[test]
    fn metric_values_are_numbers_or_references_the_pattern_can_fill() {
        for (value, pattern) in [
            ("1", "ERROR"),
            ("-2.5", ""),
            ("$.latency", "{ $.latency = * }"),
            ("$.a.b[0]", "{ $.x = 1 }"),
            ("$bytes", "[ip, ..., bytes]"),
            ("$7", "[ip, ...]"),
        ] {
            assert_eq!(
                message(&transformation(value, &[], None), pattern, 0),
                None,
                "{value}"
            );
        }
        for (value, pattern) in [
            ("length", "[length]"),
            ("$.latency", "ERROR"),
            ("$bytes", "{ $.bytes = * }"),
            ("$size", "[ip, bytes]"),
            ("$0", "[ip, ...]"),
            ("$.", "{ $.a = 1 }"),
        ] {
            let got = message(&transformation(value, &[], None), pattern, 0).expect(value);
            assert!(
                got.starts_with("Invalid metric transformation: metricValue"),
                "{got}"
            );
        }
    }

    #[test]
    fn dimensions_need_a_structured_pattern_and_no_default_value() {
        let with_dimension = transformation("1", &[("Type", "$.eventType")], None);
        assert_eq!(
            message(&with_dimension, "ERROR", 0).unwrap(),
            "The specified filter pattern does not support dimensions"
        );
        assert_eq!(message(&with_dimension, "{ $.eventType = * }", 0), None);
        assert_eq!(
            message(
                &transformation("1", &[("Type", "$.eventType")], Some(0.0)),
                "{ $.a = 1 }",
                0
            )
            .unwrap(),
            "Invalid metric transformation: dimensions and default value are mutually exclusive properties"
        );
        assert!(
            message(
                &transformation("1", &[("Server", "$server")], None),
                "[ip, server]",
                0
            )
            .is_none()
        );
        assert!(
            message(
                &transformation("1", &[("Server", "server")], None),
                "[ip, server]",
                0
            )
            .is_some()
        );
    }

    #[test]
    fn three_dimensions_at_most_emitted_system_fields_included() {
        let three = transformation("1", &[("A", "$.a"), ("B", "$.b"), ("C", "$.c")], None);
        assert_eq!(message(&three, "{ $.a = * }", 0), None);
        assert!(
            message(&three, "{ $.a = * }", 1)
                .unwrap()
                .contains("at most 3")
        );
        let four = transformation(
            "1",
            &[("A", "$.a"), ("B", "$.b"), ("C", "$.c"), ("D", "$.d")],
            None,
        );
        assert!(message(&four, "{ $.a = * }", 0).is_some());
        assert!(message(&transformation("1", &[], None), "ERROR", 3).is_none());
        assert!(message(&transformation("1", &[], None), "ERROR", 4).is_some());
    }

    #[test]
    fn system_fields_are_the_documented_two_each_once() {
        let check = |fields: &[&str]| {
            let fields: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
            check_system_fields("emitSystemFields", &fields).map_err(|e| e.message)
        };
        assert_eq!(check(&["@aws.account", "@aws.region"]), Ok(()));
        assert_eq!(
            check(&["@aws.zone"]).unwrap_err(),
            "Invalid emitSystemFields value @aws.zone: valid values are @aws.account, @aws.region"
        );
        assert!(check(&["@aws.region", "@aws.region"]).is_err());
    }
}
