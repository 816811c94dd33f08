//! Tag bookkeeping shared by every taggable kind. Tags given at create time count only on create
//! (PutMetricAlarm, PutCompositeAlarm, PutMetricStream and CreateSamplingRule all ignore tags on
//! update), so later changes are made with TagResource / UntagResource from this diff.

use crate::common_fields::{MAX_TAGS, Tags};
use crate::error::Error;
use crate::ownership::Owner;
use std::collections::BTreeMap;

/// The tags an AWS object should carry: the user's tags plus the ownership tags.
pub fn desired_tags(user: &Tags, owner: &Owner) -> BTreeMap<String, String> {
    let mut tags = user.0.clone();
    tags.extend(owner.tags());
    tags
}

/// Refuses desired tags that AWS cannot hold: the schema allows 50 user tags, and the ownership
/// tags come on top, so a spec near the limit fails only here — with a message that says why —
/// rather than as AWS's "too many tags".
pub fn check_count(desired: &BTreeMap<String, String>, user: &Tags) -> Result<(), Error> {
    let max = MAX_TAGS as usize;
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
}

impl TagDiff {
    /// Nothing to change.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.remove.is_empty()
    }

    /// The changed keys, for messages.
    pub fn keys(&self) -> Vec<&str> {
        self.set
            .keys()
            .map(String::as_str)
            .chain(self.remove.iter().map(String::as_str))
            .collect()
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
    TagDiff { set, remove }
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
