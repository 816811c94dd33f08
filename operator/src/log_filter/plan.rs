//! Desired versus observed → the writes to make.
//!
//! A filter's Put replaces the whole filter, so any changed field means one Put of the full
//! desired request. Filters carry no tags. A filter whose identity changed (its log group) is a
//! different AWS object: the old one is deleted before the new one is created, because a log group
//! holds only a few subscription filters and the old one may be taking the slot the new one
//! needs, and so that a metric is never published twice for the same event.

use super::desired::FilterKey;
use crate::field_diff::FieldChange;
pub use crate::plan::Change;
use serde::Serialize;
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
pub fn plan<C: Serialize + PartialEq>(
    key: &FilterKey,
    desired: &C,
    owned: Option<&FilterKey>,
    observed: Option<&C>,
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
    use crate::log_filter::Desired;
    use crate::log_subscription::desired::tests::firehose_spec;
    use crate::metric_filter::desired::tests::errors_spec;
    use crate::{log_subscription, metric_filter};

    /// A subscription's desired filter for the sample spec, and the same on another log group.
    fn subscriptions() -> (
        Desired<log_subscription::desired::FilterConfig>,
        Desired<log_subscription::desired::FilterConfig>,
    ) {
        let mut moved = firehose_spec();
        moved.log_group_name = "/aws/lambda/payments".into();
        (
            log_subscription::desired::desired(&firehose_spec(), "x"),
            log_subscription::desired::desired(&moved, "x"),
        )
    }

    /// A metric filter's desired filter for the sample spec, and the same on another log group.
    fn metric_filters() -> (
        Desired<metric_filter::desired::FilterConfig>,
        Desired<metric_filter::desired::FilterConfig>,
    ) {
        let mut moved = errors_spec();
        moved.log_group_name = "/aws/lambda/payments".into();
        (
            metric_filter::desired::desired(&errors_spec(), "x"),
            metric_filter::desired::desired(&moved, "x"),
        )
    }

    fn a_missing_filter_is_created_for<C: Serialize + PartialEq>(d: Desired<C>) {
        let p = plan(&d.key, &d.config, None, None);
        assert_eq!(p.change, Some(Change::Create));
        assert_eq!(p.delete_old, None);
    }

    fn a_new_log_group_deletes_the_owned_filter_first_for<C: Serialize + PartialEq>(
        old: Desired<C>,
        d: Desired<C>,
    ) {
        let p = plan(&d.key, &d.config, Some(&old.key), None);
        assert_eq!(p.delete_old, Some(old.key));
        assert_eq!(p.change, Some(Change::Create));
    }

    #[test]
    fn a_missing_filter_is_created() {
        a_missing_filter_is_created_for(subscriptions().0);
        a_missing_filter_is_created_for(metric_filters().0);
    }

    #[test]
    fn a_new_log_group_deletes_the_owned_filter_first() {
        let (old, moved) = subscriptions();
        a_new_log_group_deletes_the_owned_filter_first_for(old, moved);
        let (old, moved) = metric_filters();
        a_new_log_group_deletes_the_owned_filter_first_for(old, moved);
    }

    #[test]
    fn the_same_identity_deletes_nothing() {
        let (d, _) = subscriptions();
        let p = plan(&d.key, &d.config, Some(&d.key), None);
        assert_eq!(p.delete_old, None);
        assert_eq!(p.change, Some(Change::Create));
    }
}
