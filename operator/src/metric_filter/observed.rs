//! Step 2 of the MetricFilter reconcile: what DescribeMetricFilters returned, in the same normal
//! form as the desired filter.

use super::desired::{FilterConfig, TransformationConfig, positive_zero};
use crate::log_filter::desired::{non_empty, sorted};
use aws_sdk_cloudwatchlogs::types::{MetricFilter, MetricTransformation};

/// The configuration of a filter as AWS reports it.
pub fn observed(f: &MetricFilter) -> FilterConfig {
    FilterConfig {
        filter_pattern: f.filter_pattern().unwrap_or_default().to_string(),
        metric_transformations: f
            .metric_transformations()
            .iter()
            .map(transformation)
            .collect(),
        apply_on_transformed_logs: f.apply_on_transformed_logs(),
        field_selection_criteria: non_empty(f.field_selection_criteria()),
        emit_system_field_dimensions: sorted(f.emit_system_field_dimensions().iter().cloned()),
    }
}

fn transformation(t: &MetricTransformation) -> TransformationConfig {
    TransformationConfig {
        metric_name: t.metric_name().to_string(),
        metric_namespace: t.metric_namespace().to_string(),
        metric_value: t.metric_value().to_string(),
        default_value: t.default_value().map(positive_zero),
        dimensions: t
            .dimensions()
            .map(|d| d.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        // AWS stores None when the request left the unit out.
        unit: t.unit().map_or("None", |u| u.as_str()).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric_filter::desired::desired;
    use crate::metric_filter::desired::tests::{aws_after_put, errors_spec, request};
    use crate::metric_filter::spec::StandardUnit;

    #[test]
    fn what_aws_stores_from_the_request_observes_as_desired() {
        let mut spec = errors_spec();
        spec.metric_transformations[0].unit = Some(StandardUnit::Count);
        spec.metric_transformations[0]
            .dimensions
            .insert("Code".into(), "$.code".into());
        let d = desired(&spec, "x");
        assert_eq!(observed(&aws_after_put(&request(&d))), d.config);
    }

    #[test]
    fn an_explicit_unit_of_none_is_the_default() {
        let mut spec = errors_spec();
        spec.metric_transformations[0].unit = Some(StandardUnit::None);
        let d = desired(&spec, "x");
        assert_eq!(observed(&aws_after_put(&request(&d))), d.config);
        assert_eq!(d, desired(&errors_spec(), "x"));
    }
}

/// The plan for what the spec writes, read back from AWS: nothing more to write.
#[cfg(test)]
mod round_trip {
    use crate::log_filter::plan::{Change, plan};
    use crate::metric_filter::desired::desired;
    use crate::metric_filter::desired::tests::{aws_after_put, errors_spec, request};
    use crate::metric_filter::observed::observed;
    use crate::metric_filter::spec::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[test]
    fn a_matching_filter_needs_no_write() {
        let d = desired(&errors_spec(), "x");
        let seen = observed(&aws_after_put(&request(&d)));
        assert!(plan(&d.key, &d.config, Some(&d.key), Some(&seen)).is_empty());
    }

    #[test]
    fn a_changed_metric_is_an_update_naming_the_field() {
        let d = desired(&errors_spec(), "x");
        let mut other = errors_spec();
        other.metric_transformations[0].metric_value = "$.count".into();
        let seen = observed(&aws_after_put(&request(&desired(&other, "x"))));
        assert_eq!(
            plan(&d.key, &d.config, Some(&d.key), Some(&seen)).change,
            Some(Change::Update {
                fields: vec!["metricTransformations".into()]
            })
        );
    }

    #[test]
    fn tests_are_not_part_of_the_filter() {
        let d = desired(&errors_spec(), "x");
        let mut untested = errors_spec();
        untested.tests.clear();
        let seen = observed(&aws_after_put(&request(&desired(&untested, "x"))));
        assert!(plan(&d.key, &d.config, Some(&d.key), Some(&seen)).is_empty());
    }

    fn unit() -> impl Strategy<Value = Option<StandardUnit>> {
        proptest::option::of(prop_oneof![
            Just(StandardUnit::Count),
            Just(StandardUnit::Milliseconds),
            Just(StandardUnit::BytesPerSecond),
            Just(StandardUnit::None),
        ])
    }

    fn system_field() -> impl Strategy<Value = SystemFieldDimension> {
        prop_oneof![
            Just(SystemFieldDimension::AwsAccount),
            Just(SystemFieldDimension::AwsRegion),
        ]
    }

    prop_compose! {
        /// A spec the CRD schema and its CEL rules accept.
        fn valid_spec()(
            log_group_name in "[./_#A-Za-z0-9-]{1,40}",
            filter_name in proptest::option::of("[^:*]{1,40}"),
            filter_pattern in ".{0,60}",
            metric_name in "[^:*$]{1,40}",
            metric_namespace in "[^:*$]{1,40}",
            metric_value in prop_oneof![Just("1".to_string()), "\\$\\.[a-z]{1,10}"],
            default_value in proptest::option::of(-1e6f64..1e6),
            dimensions in proptest::collection::btree_map("[A-Za-z]{1,10}", "\\$\\.[a-z]{1,10}", 0..=1),
            unit in unit(),
            apply_on_transformed_logs in proptest::option::of(any::<bool>()),
            field_selection_criteria in proptest::option::of(".{0,40}"),
            emit_system_field_dimensions in proptest::collection::vec(system_field(), 0..3),
        ) -> MetricFilterSpec {
            MetricFilterSpec {
                log_group_name,
                filter_name,
                filter_pattern,
                metric_transformations: vec![MetricTransformation {
                    metric_name,
                    metric_namespace,
                    metric_value,
                    default_value,
                    dimensions: dimensions.into_iter().collect::<BTreeMap<_, _>>(),
                    unit,
                }],
                apply_on_transformed_logs,
                field_selection_criteria,
                emit_system_field_dimensions,
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
