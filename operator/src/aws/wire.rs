//! Conversions between the spec's types and what the AWS SDK sends and returns: enums as AWS
//! spells them, AWS timestamps as Kubernetes times.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The AWS wire string of a spec enum (the spec's enums serialize exactly as AWS spells them).
pub fn to_wire<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        other => panic!("spec enum did not serialize to a string: {other:?}"),
    }
}

/// Parses an AWS wire string into a spec enum; `None` for a value the spec cannot express.
pub fn from_wire<T: DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}

/// The AWS wire strings among `values` that the spec enum `T` can express, in order; the others
/// are left out.
pub fn from_wire_all<T: DeserializeOwned>(values: &[String]) -> Vec<T> {
    values.iter().filter_map(|v| from_wire(v)).collect()
}

/// The first of `values` that the spec enum `T` cannot express, if any.
pub fn first_unheld<T: DeserializeOwned>(values: &[String]) -> Option<&String> {
    values.iter().find(|v| from_wire::<T>(v).is_none())
}

/// An AWS timestamp as a Kubernetes time (second precision, as the API server stores it).
pub fn time(t: &aws_smithy_types::DateTime) -> Option<Time> {
    Timestamp::from_second(t.secs()).ok().map(Time)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
    enum Comparison {
        GreaterThanThreshold,
        #[serde(rename = "notBreaching")]
        NotBreaching,
    }

    #[test]
    fn enums_round_trip_through_their_aws_spelling() {
        for value in [Comparison::GreaterThanThreshold, Comparison::NotBreaching] {
            let s = to_wire(&value);
            assert_eq!(from_wire::<Comparison>(&s), Some(value));
        }
        assert_eq!(to_wire(&Comparison::NotBreaching), "notBreaching");
        assert_eq!(from_wire::<Comparison>("Unknown"), None);
    }

    #[test]
    fn a_list_keeps_what_the_enum_can_express_and_names_the_first_it_cannot() {
        let none: Vec<String> = Vec::new();
        assert_eq!(from_wire_all::<Comparison>(&none), Vec::new());
        assert_eq!(first_unheld::<Comparison>(&none), None);
        let all = vec![
            "notBreaching".to_string(),
            "GreaterThanThreshold".to_string(),
        ];
        assert_eq!(
            from_wire_all::<Comparison>(&all),
            vec![Comparison::NotBreaching, Comparison::GreaterThanThreshold]
        );
        assert_eq!(first_unheld::<Comparison>(&all), None);
        let mixed = vec![
            "notBreaching".to_string(),
            "Odd".to_string(),
            "Odder".to_string(),
        ];
        assert_eq!(
            from_wire_all::<Comparison>(&mixed),
            vec![Comparison::NotBreaching]
        );
        assert_eq!(
            first_unheld::<Comparison>(&mixed).map(String::as_str),
            Some("Odd")
        );
    }

    #[test]
    fn aws_times_keep_whole_seconds() {
        let t = aws_smithy_types::DateTime::from_fractional_secs(1_700_000_000, 0.75);
        assert_eq!(
            time(&t),
            Some(Time(Timestamp::from_second(1_700_000_000).unwrap()))
        );
    }
}
