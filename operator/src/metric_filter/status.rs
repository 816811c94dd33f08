//! Step 4 of the MetricFilter reconcile: the status to write, from what was observed and done.
//! Pure and deterministic: the same observation gives the same status, so nothing is written when
//! nothing changed.

use super::desired::FilterKey;
use super::spec::{FilterOwnership, MetricFilterStatus, TestResults};
use crate::common_fields::CommonStatus;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// What a reconcile learned about the filter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Seen {
    /// The ownership record to keep (`None` drops it).
    pub ownership: Option<FilterOwnership>,
    /// When AWS created the filter, if it was read.
    pub creation_time: Option<Time>,
    /// The results of spec.tests to report (`None`: the spec has none).
    pub tests: Option<TestResults>,
}

/// The status for the filter `key`. `previous` keeps the conditions (the runtime recomputes
/// them) and what the runtime owns; a creation time not read this time is kept from it when it
/// describes the same filter.
pub fn status(
    key: &FilterKey,
    seen: Seen,
    previous: Option<&MetricFilterStatus>,
) -> MetricFilterStatus {
    let common = previous.map(|p| p.common.clone()).unwrap_or_default();
    let same_filter = previous
        .is_some_and(|p| p.common.aws_name.as_deref() == Some(&key.filter_name))
        && previous
            .and_then(|p| p.ownership.as_ref())
            .is_some_and(|r| r.log_group_name == key.log_group_name);
    let creation_time = seen.creation_time.or_else(|| {
        same_filter
            .then(|| previous.and_then(|p| p.creation_time.clone()))
            .flatten()
    });
    MetricFilterStatus {
        common: CommonStatus {
            // Metric filters have no ARN.
            arn: None,
            aws_name: Some(key.filter_name.clone()),
            ..common
        },
        ownership: seen.ownership,
        creation_time,
        tests: seen.tests,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric_filter::spec::OwnershipOrigin;
    use k8s_openapi::jiff::Timestamp;

    fn key() -> FilterKey {
        FilterKey {
            log_group_name: "/aws/lambda/checkout".into(),
            filter_name: "errors".into(),
        }
    }

    fn seen() -> Seen {
        Seen {
            ownership: Some(FilterOwnership {
                origin: OwnershipOrigin::Created,
                owner_uid: "u-1".into(),
                log_group_name: key().log_group_name,
                filter_name: key().filter_name,
            }),
            creation_time: Some(Time(Timestamp::from_second(1_700_000_000).unwrap())),
            tests: Some(TestResults {
                observed_generation: 1,
                summary: "0/0 passed".into(),
                results: Vec::new(),
            }),
        }
    }

    #[test]
    fn status_is_deterministic() {
        let a = status(&key(), seen(), None);
        let b = status(&key(), seen(), Some(&a));
        assert_eq!(a, b);
        assert_eq!(a.common.aws_name.as_deref(), Some("errors"));
        assert_eq!(a.common.arn, None);
    }

    #[test]
    fn a_creation_time_not_read_again_is_kept_for_the_same_filter_only() {
        let first = status(&key(), seen(), None);
        let unread = Seen {
            creation_time: None,
            ..seen()
        };
        assert_eq!(
            status(&key(), unread.clone(), Some(&first)).creation_time,
            first.creation_time
        );
        let moved = FilterKey {
            log_group_name: "/aws/lambda/payments".into(),
            ..key()
        };
        assert_eq!(status(&moved, unread, Some(&first)).creation_time, None);
    }
}
