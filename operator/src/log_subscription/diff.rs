//! Step 3 of the LogSubscription reconcile: desired versus observed → the writes to make.
//!
//! PutSubscriptionFilter replaces the whole filter, so any changed field means one Put of the
//! full desired request. Filters carry no tags. A filter whose identity changed (its log group)
//! is a different AWS object: the old one is deleted before the new one is created, because a log
//! group holds only a few filters and the old one may be taking the slot the new one needs.

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
    use crate::log_subscription::desired::desired;
    use crate::log_subscription::desired::tests::{aws_after_put, firehose_spec, request};
    use crate::log_subscription::observed::observed;
    use crate::log_subscription::spec::*;
    use proptest::prelude::*;

    #[test]
    fn a_missing_filter_is_created() {
        let d = desired(&firehose_spec(), "x");
        let p = plan(&d.key, &d.config, None, None);
        assert_eq!(p.change, Some(Change::Create));
        assert_eq!(p.delete_old, None);
    }

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

    #[test]
    fn a_new_log_group_deletes_the_owned_filter_first() {
        let old = desired(&firehose_spec(), "x");
        let mut moved = firehose_spec();
        moved.log_group_name = "/aws/lambda/payments".into();
        let d = desired(&moved, "x");
        let p = plan(&d.key, &d.config, Some(&old.key), None);
        assert_eq!(p.delete_old, Some(old.key));
        assert_eq!(p.change, Some(Change::Create));
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
