//! Step 3 of the LogDestination reconcile: desired versus observed → the writes to make.
//!
//! PutDestination replaces the destination's target and role; PutDestinationPolicy replaces its
//! access policy; tags change with TagResource and UntagResource (PutDestination takes tags only
//! when it creates). Each is written only when it differs.

use super::desired::{Desired, DestinationConfig};
use super::policy;
use crate::field_diff::FieldChange;
pub use crate::plan::Change;
use crate::tags::TagDiff;
use std::collections::BTreeMap;

/// Every AWS write one reconcile needs, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DestinationPlan {
    /// PutDestination, if the destination is missing or its target or role differ.
    pub change: Option<Change>,
    /// PutDestinationPolicy, if the policy differs or is missing (its document names the
    /// destination's ARN, known once it exists).
    pub policy: bool,
    /// Tag changes for an existing destination.
    pub tags: TagDiff,
    /// The differences behind an update of the target or role, field by field.
    pub changes: Vec<FieldChange>,
}

impl DestinationPlan {
    /// Nothing to write.
    pub fn is_empty(&self) -> bool {
        self.change.is_none() && !self.policy && self.tags.is_empty()
    }
}

/// Plans the writes that make AWS hold `desired`. `observed` is the destination's configuration,
/// access policy and ARN as AWS reports them (`None`: it does not exist), `observed_tags` its
/// tags when they were read this time.
pub fn plan(
    desired: &Desired,
    observed: Option<(&DestinationConfig, Option<&str>, &str)>,
    desired_tags: &BTreeMap<String, String>,
    observed_tags: Option<&BTreeMap<String, String>>,
) -> DestinationPlan {
    let config = crate::plan::plan(
        &desired.config,
        observed.map(|(config, _, _)| config),
        desired_tags,
        observed_tags,
    );
    let policy = match observed {
        Some((_, Some(current), arn)) => !policy::same(&desired.access.document(arn), current),
        _ => true,
    };
    DestinationPlan {
        change: config.change,
        policy,
        tags: config.tags,
        changes: config.changes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log_destination::desired::desired;
    use crate::log_destination::desired::tests::central_spec;

    const ARN: &str = "arn:aws:logs:us-east-1:123456789012:destination:x";

    #[test]
    fn a_missing_destination_is_created_with_its_policy() {
        let d = desired(&central_spec(), "x").unwrap();
        let p = plan(&d, None, &BTreeMap::new(), None);
        assert_eq!(p.change, Some(Change::Create));
        assert!(p.policy);
    }

    #[test]
    fn a_matching_destination_needs_no_write() {
        let d = desired(&central_spec(), "x").unwrap();
        let doc = d.access.document(ARN);
        let p = plan(
            &d,
            Some((&d.config, Some(&doc), ARN)),
            &BTreeMap::new(),
            None,
        );
        assert!(p.is_empty(), "{p:?}");
    }

    #[test]
    fn a_missing_or_changed_policy_is_put_alone() {
        let d = desired(&central_spec(), "x").unwrap();
        let p = plan(&d, Some((&d.config, None, ARN)), &BTreeMap::new(), None);
        assert_eq!(p.change, None);
        assert!(p.policy);
        let mut more = central_spec();
        more.sender_account_ids = Some(vec!["123456789012".into(), "210987654321".into()]);
        let old = desired(&more, "x").unwrap().access.document(ARN);
        let p = plan(
            &d,
            Some((&d.config, Some(&old), ARN)),
            &BTreeMap::new(),
            None,
        );
        assert_eq!(p.change, None);
        assert!(p.policy);
    }

    #[test]
    fn a_new_target_is_an_update_naming_the_field() {
        let d = desired(&central_spec(), "x").unwrap();
        let doc = d.access.document(ARN);
        let mut before = d.config.clone();
        before.target_arn = "arn:aws:kinesis:us-east-1:123456789012:stream/old".into();
        let p = plan(&d, Some((&before, Some(&doc), ARN)), &BTreeMap::new(), None);
        assert_eq!(
            p.change,
            Some(Change::Update {
                fields: vec!["targetArn".into()]
            })
        );
        assert!(!p.policy);
    }
}
