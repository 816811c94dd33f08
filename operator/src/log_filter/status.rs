//! The status to write, from what was observed and done. Pure and deterministic: the same
//! observation gives the same status, so nothing is written when nothing changed.

use super::desired::FilterKey;
use super::ownership::FilterOwnership;
use crate::common_fields::CommonStatus;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

/// The status of a filter kind: the common fields, the ownership record, the filter's creation
/// time, and what the kind reports besides ([`FilterStatus::Own`]). Implemented with
/// [`filter_status!`](crate::filter_status).
pub trait FilterStatus: Clone + Default {
    /// What the kind's status holds besides (a subscription's test-message retry start, a
    /// metric filter's test results).
    type Own: Clone + Default;

    fn common(&self) -> &CommonStatus;
    fn ownership(&self) -> Option<&FilterOwnership>;
    fn creation_time(&self) -> Option<&Time>;
    /// The status made of these parts.
    fn assemble(
        common: CommonStatus,
        ownership: Option<FilterOwnership>,
        creation_time: Option<Time>,
        own: Self::Own,
    ) -> Self;
}

/// Implements [`FilterStatus`] for a status with the fields `common`, `ownership` and
/// `creation_time`, and the kind's own field named here: `filter_status!(Status, field: Type)`.
#[macro_export]
macro_rules! filter_status {
    ($status:ty, $own:ident: $own_type:ty) => {
        impl $crate::log_filter::FilterStatus for $status {
            type Own = $own_type;

            fn common(&self) -> &$crate::common_fields::CommonStatus {
                &self.common
            }

            fn ownership(&self) -> Option<&$crate::log_filter::FilterOwnership> {
                self.ownership.as_ref()
            }

            fn creation_time(
                &self,
            ) -> Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::Time> {
                self.creation_time.as_ref()
            }

            fn assemble(
                common: $crate::common_fields::CommonStatus,
                ownership: Option<$crate::log_filter::FilterOwnership>,
                creation_time: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>,
                own: $own_type,
            ) -> Self {
                Self {
                    common,
                    ownership,
                    creation_time,
                    $own: own,
                }
            }
        }
    };
}

/// What a reconcile learned about the filter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Seen<O> {
    /// The ownership record to keep (`None` drops it).
    pub ownership: Option<FilterOwnership>,
    /// When AWS created the filter, if it was read.
    pub creation_time: Option<Time>,
    /// What the kind reports besides.
    pub own: O,
}

/// The status for the filter `key`. `previous` keeps the conditions (the runtime recomputes
/// them) and what the runtime owns; a creation time not read this time is kept from it when it
/// describes the same filter.
pub fn status<S: FilterStatus>(key: &FilterKey, seen: Seen<S::Own>, previous: Option<&S>) -> S {
    let common = previous.map(|p| p.common().clone()).unwrap_or_default();
    let same_filter = previous
        .is_some_and(|p| p.common().aws_name.as_deref() == Some(&key.filter_name))
        && previous
            .and_then(|p| p.ownership())
            .is_some_and(|r| r.log_group_name == key.log_group_name);
    let creation_time = seen.creation_time.or_else(|| {
        same_filter
            .then(|| previous.and_then(|p| p.creation_time().cloned()))
            .flatten()
    });
    S::assemble(
        CommonStatus {
            // Filters have no ARN.
            arn: None,
            aws_name: Some(key.filter_name.clone()),
            ..common
        },
        seen.ownership,
        creation_time,
        seen.own,
    )
}

/// When a filter was created (`millis`, as AWS reports it), at the second precision the API
/// server stores.
pub fn creation_time(millis: Option<i64>) -> Option<Time> {
    Timestamp::from_second(millis?.div_euclid(1000))
        .ok()
        .map(Time)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log_filter::OwnershipOrigin;
    use crate::log_subscription::LogSubscriptionStatus;
    use crate::metric_filter::{MetricFilterStatus, TestResults};
    use std::fmt::Debug;

    fn key() -> FilterKey {
        FilterKey::new("filter", "/aws/lambda/checkout", "errors")
    }

    fn seen<O>(own: O) -> Seen<O> {
        Seen {
            ownership: Some(FilterOwnership {
                origin: OwnershipOrigin::Created,
                owner_uid: "u-1".into(),
                log_group_name: key().log_group_name,
                filter_name: key().filter_name,
            }),
            creation_time: Some(Time(Timestamp::from_second(1_700_000_000).unwrap())),
            own,
        }
    }

    fn status_is_deterministic_for<S: FilterStatus + PartialEq + Debug>(own: S::Own) {
        let a: S = status(&key(), seen(own.clone()), None);
        let b = status(&key(), seen(own), Some(&a));
        assert_eq!(a, b);
        assert_eq!(a.common().aws_name.as_deref(), Some("errors"));
        assert_eq!(a.common().arn, None);
    }

    fn a_creation_time_not_read_again_is_kept_for_the_same_filter_only_for<S>(own: S::Own)
    where
        S: FilterStatus + PartialEq + Debug,
    {
        let first: S = status(&key(), seen(own.clone()), None);
        let unread = Seen {
            creation_time: None,
            ..seen(own)
        };
        assert_eq!(
            status(&key(), unread.clone(), Some(&first)).creation_time(),
            first.creation_time()
        );
        let moved = FilterKey {
            log_group_name: "/aws/lambda/payments".into(),
            ..key()
        };
        assert_eq!(status(&moved, unread, Some(&first)).creation_time(), None);
    }

    fn test_results() -> Option<TestResults> {
        Some(TestResults {
            observed_generation: 1,
            summary: "0/0 passed".into(),
            results: Vec::new(),
        })
    }

    #[test]
    fn status_is_deterministic() {
        status_is_deterministic_for::<LogSubscriptionStatus>(None);
        status_is_deterministic_for::<MetricFilterStatus>(test_results());
    }

    #[test]
    fn a_creation_time_not_read_again_is_kept_for_the_same_filter_only() {
        a_creation_time_not_read_again_is_kept_for_the_same_filter_only_for::<LogSubscriptionStatus>(
            None,
        );
        a_creation_time_not_read_again_is_kept_for_the_same_filter_only_for::<MetricFilterStatus>(
            test_results(),
        );
    }

    #[test]
    fn what_the_kind_reports_besides_is_kept_as_seen() {
        let s: MetricFilterStatus = status(&key(), seen(test_results()), None);
        assert_eq!(s.tests, test_results());
        let since = Some(Time(Timestamp::from_second(1_700_000_100).unwrap()));
        let s: LogSubscriptionStatus = status(&key(), seen(since.clone()), None);
        assert_eq!(s.test_message_failing_since, since);
    }

    #[test]
    fn creation_time_has_whole_seconds() {
        assert_eq!(
            creation_time(Some(1_700_000_000_123)),
            Some(Time(Timestamp::from_second(1_700_000_000).unwrap()))
        );
        assert_eq!(creation_time(None), None);
    }
}
