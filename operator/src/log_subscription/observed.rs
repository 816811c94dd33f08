//! Step 2 of the LogSubscription reconcile: what DescribeSubscriptionFilters returned, in the
//! same normal form as the desired filter.

use super::desired::FilterConfig;
use crate::log_filter::desired::{non_empty, sorted};
use aws_sdk_cloudwatchlogs::types::{Distribution, SubscriptionFilter};

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
        emit_system_fields: sorted(f.emit_system_fields().iter().cloned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log_subscription::desired::desired;
    use crate::log_subscription::desired::tests::{aws_after_put, firehose_spec, request};

    #[test]
    fn what_aws_stores_from_the_request_observes_as_desired() {
        let d = desired(&firehose_spec(), "x");
        assert_eq!(observed(&aws_after_put(&request(&d))), d.config);
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

/// The plan for what the spec writes, read back from AWS: nothing more to write.
#[cfg(test)]
mod round_trip {
    use crate::log_filter::plan::{Change, plan};
    use crate::log_subscription::desired::desired;
    use crate::log_subscription::desired::tests::{aws_after_put, firehose_spec, request};
    use crate::log_subscription::observed::observed;
    use crate::log_subscription::spec::*;
    use proptest::prelude::*;

    #[test]
    fn a_matching_filter_needs_no_write() {
        let d = desired(&firehose_spec(), "x");
        let seen = observed(&aws_after_put(&request(&d)));
        assert!(plan(&d.key, &d.config, Some(&d.key), Some(&seen)).is_empty());
    }

    #[test]
    fn a_changed_pattern_is_an_update_naming_the_field() {
        let d = desired(&firehose_spec(), "x");
        let mut other = firehose_spec();
        other.filter_pattern = "timeout".into();
        let seen = observed(&aws_after_put(&request(&desired(&other, "x"))));
        assert_eq!(
            plan(&d.key, &d.config, Some(&d.key), Some(&seen)).change,
            Some(Change::Update {
                fields: vec!["filterPattern".into()]
            })
        );
    }

    fn system_field() -> impl Strategy<Value = SystemField> {
        prop_oneof![
            Just(SystemField::AwsAccount),
            Just(SystemField::AwsRegion),
            Just(SystemField::SourceLog),
        ]
    }

    prop_compose! {
        /// A spec the CRD schema and its CEL rules accept.
        fn valid_spec()(
            log_group_name in "[./_#A-Za-z0-9-]{1,40}",
            filter_name in proptest::option::of("[^:*]{1,40}"),
            filter_pattern in ".{0,60}",
            kind in 0..4usize,
            with_role in any::<bool>(),
            random in any::<bool>(),
            distribution_set in any::<bool>(),
            apply_on_transformed_logs in proptest::option::of(any::<bool>()),
            field_selection_criteria in proptest::option::of(".{0,40}"),
            emit_system_fields in proptest::collection::vec(system_field(), 0..3),
        ) -> LogSubscriptionSpec {
            let (destination_arn, needs_role) = match kind {
                0 => ("arn:aws:kinesis:us-east-1:123456789012:stream/logs", true),
                1 => ("arn:aws:firehose:us-east-1:123456789012:deliverystream/logs", true),
                2 => ("arn:aws:lambda:us-east-1:123456789012:function:ship", false),
                _ => ("arn:aws:logs:us-east-1:210987654321:destination:central", false),
            };
            let kinesis = kind == 0;
            let distribution = match (distribution_set, kinesis && random) {
                (false, _) => None,
                (true, true) => Some(Distribution::Random),
                (true, false) => Some(Distribution::ByLogStream),
            };
            LogSubscriptionSpec {
                log_group_name,
                filter_name,
                filter_pattern,
                destination_arn: Some(destination_arn.into()),
                role_arn: (needs_role || with_role)
                    .then(|| "arn:aws:iam::123456789012:role/logs".to_string()),
                distribution,
                apply_on_transformed_logs,
                field_selection_criteria,
                emit_system_fields,
                ..Default::default()
            }
        }
    }

    proptest! {
        #[test]
        fn a_filter_written_from_the_spec_needs_no_further_write(spec in valid_spec()) {
            let d = desired(&spec, "object-name");
            let stored = aws_after_put(&request(&d));
            prop_assert_eq!(stored.filter_name(), Some(d.key.filter_name.as_str()));
            prop_assert_eq!(stored.log_group_name(), Some(d.key.log_group_name.as_str()));
            let seen = observed(&stored);
            prop_assert!(plan(&d.key, &d.config, Some(&d.key), Some(&seen)).is_empty());
        }

        #[test]
        fn desired_is_deterministic(spec in valid_spec()) {
            prop_assert_eq!(desired(&spec, "o"), desired(&spec.clone(), "o"));
        }
    }
}
