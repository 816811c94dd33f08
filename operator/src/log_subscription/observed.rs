//! Step 2 of the LogSubscription reconcile: what DescribeSubscriptionFilters returned, in the
//! same normal form as the desired filter.
//!
//! DescribeSubscriptionFilters lists every filter of a log group and matches `filterNamePrefix`
//! as a prefix, so a filter is picked out by comparing its whole name.

use super::desired::{FilterConfig, non_empty, system_fields};
use aws_sdk_cloudwatchlogs::types::{Distribution, SubscriptionFilter};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

/// The filter named exactly `name` among a log group's filters.
pub fn find<'a>(filters: &'a [SubscriptionFilter], name: &str) -> Option<&'a SubscriptionFilter> {
    filters.iter().find(|f| f.filter_name() == Some(name))
}

/// The configuration of a filter as AWS reports it.
pub fn observed(f: &SubscriptionFilter) -> FilterConfig {
    FilterConfig {
        filter_pattern: f.filter_pattern().unwrap_or_default().to_string(),
        destination_arn: f.destination_arn().unwrap_or_default().to_string(),
        role_arn: non_empty(f.role_arn()),
        // AWS reports ByLogStream when the request left distribution out.
        distribution: f
            .distribution()
            .unwrap_or(&Distribution::ByLogStream)
            .as_str()
            .to_string(),
        apply_on_transformed_logs: f.apply_on_transformed_logs(),
        field_selection_criteria: non_empty(f.field_selection_criteria()),
        emit_system_fields: system_fields(f.emit_system_fields().iter().cloned()),
    }
}

/// When the filter was created, at the second precision the API server stores.
pub fn creation_time(f: &SubscriptionFilter) -> Option<Time> {
    let millis = f.creation_time()?;
    Timestamp::from_second(millis.div_euclid(1000))
        .ok()
        .map(Time)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log_subscription::desired::desired;
    use crate::log_subscription::desired::tests::{aws_after_put, firehose_spec, request};

    fn named(name: &str) -> SubscriptionFilter {
        SubscriptionFilter::builder().filter_name(name).build()
    }

    #[test]
    fn a_filter_is_found_by_its_whole_name_not_a_prefix() {
        let filters = vec![named("errors-archive"), named("errors")];
        assert_eq!(
            find(&filters, "errors").and_then(|f| f.filter_name()),
            Some("errors")
        );
        assert!(find(&filters[..1], "errors").is_none());
        assert!(find(&filters, "error").is_none());
    }

    #[test]
    fn what_aws_stores_from_the_request_observes_as_desired() {
        let d = desired(&firehose_spec(), "x");
        assert_eq!(observed(&aws_after_put(&request(&d))), d.config);
    }

    #[test]
    fn creation_time_has_whole_seconds() {
        let f = aws_after_put(&request(&desired(&firehose_spec(), "x")));
        assert_eq!(
            creation_time(&f),
            Some(Time(Timestamp::from_second(1_700_000_000).unwrap()))
        );
    }

    #[test]
    fn unset_and_empty_values_from_aws_normalize_alike() {
        let a = SubscriptionFilter::builder()
            .filter_name("x")
            .field_selection_criteria("")
            .set_emit_system_fields(Some(vec![]))
            .build();
        let b = SubscriptionFilter::builder().filter_name("x").build();
        assert_eq!(observed(&a), observed(&b));
        assert_eq!(observed(&b).distribution, "ByLogStream");
    }
}
