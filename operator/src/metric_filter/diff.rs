//! Step 3 of the MetricFilter reconcile: desired versus observed → the writes to make.
//!
//! PutMetricFilter replaces the whole filter, so any changed field means one Put of the full
//! desired request. Metric filters carry no tags. A filter whose identity changed (its log group)
//! is a different AWS object: the old one is deleted before the new one is created, so the
//! metric is never published twice for the same event.

use super::desired::{FilterConfig, FilterKey};
use crate::field_diff::FieldChange;
pub use crate::plan::Change;
use std::collections::BTreeMap;

/// Every AWS write one reconcile needs, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FilterPlan {
    /// A filter this object owns under its previous identity, deleted first.
    pub delete_old: Option<FilterKey>,
    /// The Put of the desired filter, if anything differs.
    pub change: Option<Change>,
    /// The differences behind an update, field by field.
    pub changes: Vec<FieldChange>,
}

impl FilterPlan {
    /// Nothing to write.
    pub fn is_empty(&self) -> bool {
        self.delete_old.is_none() && self.change.is_none()
    }
}

/// Plans the writes that make AWS hold `desired` under `key`. `owned` is the identity of the
/// filter this object owns (from its status), `observed` the filter found under `key`.
pub fn plan(
    key: &FilterKey,
    desired: &FilterConfig,
    owned: Option<&FilterKey>,
    observed: Option<&FilterConfig>,
) -> FilterPlan {
    let put = crate::plan::plan(desired, observed, &BTreeMap::new(), None);
    FilterPlan {
        delete_old: owned.filter(|old| *old != key).cloned(),
        change: put.change,
        changes: put.changes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric_filter::desired::desired;
    use crate::metric_filter::desired::tests::{aws_after_put, errors_spec, request};
    use crate::metric_filter::observed::observed;
    use crate::metric_filter::spec::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[test]
    fn a_missing_filter_is_created() {
        let d = desired(&errors_spec(), "x");
        let p = plan(&d.key, &d.config, None, None);
        assert_eq!(p.change, Some(Change::Create));
        assert_eq!(p.delete_old, None);
    }

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

    #[test]
    fn a_new_log_group_deletes_the_owned_filter_first() {
        let old = desired(&errors_spec(), "x");
        let mut moved = errors_spec();
        moved.log_group_name = "/aws/lambda/payments".into();
        let d = desired(&moved, "x");
        let p = plan(&d.key, &d.config, Some(&old.key), None);
        assert_eq!(p.delete_old, Some(old.key));
        assert_eq!(p.change, Some(Change::Create));
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
