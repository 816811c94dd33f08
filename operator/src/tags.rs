//! Tag bookkeeping shared by every taggable kind. Tags given at create time count only on create
//! (PutMetricAlarm, PutCompositeAlarm, PutMetricStream and CreateSamplingRule all ignore tags on
//! update), so later changes are made with TagResource / UntagResource from this diff.

use crate::common_fields::{MAX_TAGS, Tags};
use crate::error::Error;
use crate::field_diff::FieldChange;
use crate::ownership::{self, Owner};
use crate::vocabulary::{OWNER_TAG, OWNERSHIP_TAGS};
use std::collections::BTreeMap;

/// The tags an AWS object should carry: the user's tags plus the ownership tags.
pub fn desired_tags(user: &Tags, owner: &Owner) -> BTreeMap<String, String> {
    let mut tags = user.0.clone();
    tags.extend(owner.tags());
    tags
}

/// Refuses desired tags that AWS cannot hold, with a message that says why rather than AWS's
/// "too many tags". The schema leaves room for the ownership tags ([`MAX_USER_TAGS`]), so a spec
/// admitted today never fails here; but the API server does not validate stored objects again
/// when the CRD tightens, and lets an update through as long as it leaves the tags unchanged, so
/// an object stored while the schema allowed 50 user tags still arrives with up to 50.
///
/// [`MAX_USER_TAGS`]: crate::common_fields::MAX_USER_TAGS
pub fn check_count(desired: &BTreeMap<String, String>, user: &Tags) -> Result<(), Error> {
    let max = MAX_TAGS;
    if desired.len() <= max {
        return Ok(());
    }
    Err(Error::invalid_spec(format!(
        "spec.tags has {} tags; with the operator's {} ownership tags that is {}, and AWS allows \
         {max} per resource: remove at least {}",
        user.len(),
        desired.len() - user.len(),
        desired.len(),
        desired.len() - max
    )))
}

/// What TagResource and UntagResource must change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TagDiff {
    /// Tags to add or overwrite.
    pub set: BTreeMap<String, String>,
    /// Keys to remove.
    pub remove: Vec<String>,
    /// The owner tag is rewritten only to move the same owner from the form an earlier version
    /// wrote to the current one (see `ownership`): nobody changed it, so it is not drift.
    pub owner_form_upgrade: bool,
}

impl TagDiff {
    /// Nothing to change.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.remove.is_empty()
    }

    /// The changed tags as the fields of a drift Event (`tag <key>`), leaving out an owner tag
    /// that is only moved to its current form. Empty when nothing was changed outside the
    /// operator.
    pub fn drift_fields(&self) -> Vec<String> {
        self.set
            .keys()
            .filter(|k| !(self.owner_form_upgrade && k.as_str() == OWNER_TAG))
            .chain(self.remove.iter())
            .map(|k| format!("tag {k}"))
            .collect()
    }

    /// The changes to the user's tags, as fields named `tags.<key>` with the value `observed`
    /// has and the one the diff sets. The operator's ownership tags are left out: they are its
    /// bookkeeping, not part of any spec.
    pub fn user_changes(&self, observed: &BTreeMap<String, String>) -> Vec<FieldChange> {
        let value = |v: Option<&String>| v.map(|v| serde_json::Value::String(v.clone()));
        let mut changes: Vec<FieldChange> = self
            .set
            .iter()
            .map(|(k, v)| (k, Some(v)))
            .chain(self.remove.iter().map(|k| (k, None)))
            .filter(|(k, _)| !OWNERSHIP_TAGS.contains(&k.as_str()))
            .map(|(k, new)| FieldChange {
                field: format!("tags.{k}"),
                old: value(observed.get(k)),
                new: value(new),
            })
            .collect();
        changes.sort_by(|a, b| a.field.cmp(&b.field));
        changes
    }
}

/// The changes that turn `observed` into `desired`. Keys starting with `aws:` belong to AWS and
/// are never removed.
pub fn diff(desired: &BTreeMap<String, String>, observed: &BTreeMap<String, String>) -> TagDiff {
    let set = desired
        .iter()
        .filter(|(k, v)| observed.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let remove = observed
        .keys()
        .filter(|k| !desired.contains_key(*k) && !k.starts_with("aws:"))
        .cloned()
        .collect();
    let owner_form_upgrade = match (observed.get(OWNER_TAG), desired.get(OWNER_TAG)) {
        (Some(earlier), Some(current)) => ownership::is_earlier_form(earlier, current),
        _ => false,
    };
    TagDiff {
        set,
        remove,
        owner_form_upgrade,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn changed_added_and_removed_tags_are_found() {
        let d = diff(
            &map(&[("a", "1"), ("b", "2")]),
            &map(&[("a", "0"), ("c", "3")]),
        );
        assert_eq!(d.set, map(&[("a", "1"), ("b", "2")]));
        assert_eq!(d.remove, vec!["c".to_string()]);
    }

    #[test]
    fn aws_reserved_tags_are_never_removed() {
        let d = diff(&map(&[]), &map(&[("aws:cloudformation:stack-name", "x")]));
        assert!(d.is_empty());
    }

    #[test]
    fn ownership_tags_are_always_desired() {
        let owner = Owner {
            cluster_id: "c".into(),
            namespace: "n".into(),
            kind: "Alarm".into(),
            name: "a".into(),
            uid: "u".into(),
        };
        let tags = desired_tags(&Tags(map(&[("team", "x")])), &owner);
        assert_eq!(
            tags.get("cwo.dev/owner").map(String::as_str),
            Some("c/n/Alarm/a")
        );
        assert_eq!(tags.get("team").map(String::as_str), Some("x"));
    }

    /// The schema's limit and this check agree: the most user tags admission lets through fit
    /// with the ownership tags, one more does not.
    #[test]
    fn the_schema_limit_leaves_exactly_room_for_the_ownership_tags() {
        use crate::common_fields::MAX_USER_TAGS;
        let owner = Owner {
            cluster_id: "c".into(),
            namespace: "n".into(),
            kind: "Alarm".into(),
            name: "a".into(),
            uid: "u".into(),
        };
        let user = |n: usize| Tags((0..n).map(|i| (format!("k{i}"), "v".to_string())).collect());
        let at_limit = user(MAX_USER_TAGS);
        assert_eq!(desired_tags(&at_limit, &owner).len(), MAX_TAGS);
        assert!(check_count(&desired_tags(&at_limit, &owner), &at_limit).is_ok());
        let over = user(MAX_USER_TAGS + 1);
        assert!(check_count(&desired_tags(&over, &owner), &over).is_err());
    }

    #[test]
    fn user_tags_that_leave_no_room_for_the_ownership_tags_are_refused() {
        let owner = Owner {
            cluster_id: "c".into(),
            namespace: "n".into(),
            kind: "SamplingRule".into(),
            name: "a".into(),
            uid: "u".into(),
        };
        let user = |n: usize| Tags((0..n).map(|i| (format!("k{i}"), "v".to_string())).collect());
        assert!(check_count(&desired_tags(&user(48), &owner), &user(48)).is_ok());
        let err = check_count(&desired_tags(&user(49), &owner), &user(49)).unwrap_err();
        assert!(err.is_terminal());
        assert!(err.message.contains("remove at least 1"), "{}", err.message);
    }

    /// An Alarm whose full owner value has 256 characters: CloudWatch took it from earlier
    /// versions, the current value is shortened.
    fn long_owner() -> Owner {
        Owner {
            cluster_id: "c".into(),
            namespace: "n".repeat(63),
            kind: "Alarm".into(),
            name: "a".repeat(184),
            uid: "u".into(),
        }
    }

    #[test]
    fn an_owner_tag_in_an_earlier_form_is_retagged_without_reporting_drift() {
        let owner = long_owner();
        let desired = desired_tags(&Tags(map(&[("team", "x")])), &owner);
        let mut observed = desired.clone();
        let earlier = format!("c/{}/Alarm/{}", owner.namespace, owner.name);
        observed.insert(OWNER_TAG.into(), earlier);
        let d = diff(&desired, &observed);
        assert_eq!(
            d.set,
            BTreeMap::from([(OWNER_TAG.to_string(), owner.tag_value())])
        );
        assert!(d.remove.is_empty());
        assert!(d.owner_form_upgrade);
        assert!(d.drift_fields().is_empty(), "{:?}", d.drift_fields());
    }

    #[test]
    fn an_owner_tag_changed_outside_the_operator_is_drift() {
        let owner = long_owner();
        let desired = desired_tags(&Tags(map(&[("team", "x")])), &owner);
        let mut observed = desired.clone();
        observed.insert(OWNER_TAG.into(), "c/team-b/Alarm/cpu".into());
        observed.insert("team".into(), "y".into());
        let d = diff(&desired, &observed);
        assert!(!d.owner_form_upgrade);
        assert_eq!(d.drift_fields(), ["tag cwo.dev/owner", "tag team"]);
    }

    #[test]
    fn an_upgraded_owner_tag_does_not_hide_other_drift() {
        let owner = long_owner();
        let desired = desired_tags(&Tags(map(&[("team", "x")])), &owner);
        let mut observed = desired.clone();
        observed.insert(
            OWNER_TAG.into(),
            format!("c/{}/Alarm/{}", owner.namespace, owner.name),
        );
        observed.insert("extra".into(), "1".into());
        let d = diff(&desired, &observed);
        assert!(d.owner_form_upgrade);
        assert_eq!(d.drift_fields(), ["tag extra"]);
    }

    proptest! {
        #[test]
        fn applying_the_diff_reaches_the_desired_tags(
            desired in proptest::collection::btree_map("[a-c]{1,2}", "[0-2]", 0..5),
            observed in proptest::collection::btree_map("[a-c]{1,2}", "[0-2]", 0..5),
        ) {
            let d = diff(&desired, &observed);
            let mut after = observed.clone();
            for k in &d.remove { after.remove(k); }
            after.extend(d.set.clone());
            prop_assert_eq!(&after, &desired);
            prop_assert!(diff(&desired, &after).is_empty());
        }
    }
}
