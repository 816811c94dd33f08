//! Who owns an AWS object, and whether this object may take it over (DESIGN.md, "Ownership").
//!
//! Every taggable AWS object the operator creates carries `cwo.dev/owner =
//! <cluster-id>/<namespace>/<kind>/<name>` and `cwo.dev/owner-uid = <uid>`. An existing AWS object
//! that does not carry this object's owner tag is never written unless `adoption` allows it: that
//! is what stops a tenant in one namespace from taking over another namespace's alarm by picking
//! the same name.

use crate::common_fields::Adoption;
use crate::error::Error;
use crate::reason::Reason;
use crate::vocabulary::{OWNER_TAG, OWNER_UID_TAG};
use std::collections::BTreeMap;

/// The Kubernetes object that owns (or wants to own) an AWS object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    pub cluster_id: String,
    pub namespace: String,
    pub kind: String,
    pub name: String,
    pub uid: String,
}

impl Owner {
    /// The `cwo.dev/owner` tag value.
    pub fn tag_value(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.cluster_id, self.namespace, self.kind, self.name
        )
    }

    /// The ownership tags every created AWS object carries.
    pub fn tags(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            (OWNER_TAG.to_string(), self.tag_value()),
            (OWNER_UID_TAG.to_string(), self.uid.clone()),
        ])
    }
}

/// What to do with an AWS object that already exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ownership {
    /// It carries this object's owner tag: manage it.
    Ours,
    /// It is someone else's (or nobody's) and `adoption` allows taking it over.
    Adopt { previous_owner: Option<String> },
    /// It is someone else's (or nobody's) and `adoption` does not allow taking it over.
    Refuse { owner: Option<String> },
}

/// Decides from the AWS object's tags. The owner tag names the cluster, namespace, kind and
/// object name; the UID tag only records which incarnation created it, so an object deleted with
/// `deletionPolicy: Retain` and created again under the same name manages its AWS object again.
pub fn decide(
    existing_tags: &BTreeMap<String, String>,
    me: &Owner,
    adoption: Adoption,
) -> Ownership {
    let owner = existing_tags.get(OWNER_TAG).cloned();
    if owner.as_deref() == Some(me.tag_value().as_str()) {
        return Ownership::Ours;
    }
    let allowed = match adoption {
        Adoption::Never => false,
        Adoption::IfUnowned => owner.is_none(),
        Adoption::Force => true,
    };
    if allowed {
        Ownership::Adopt {
            previous_owner: owner,
        }
    } else {
        Ownership::Refuse { owner }
    }
}

/// Applies [`decide`] to an AWS object called `what` (for example `alarm "cpu"`): `Ok(None)`
/// when it is ours, `Ok(Some(note))` with an Event note when it is taken over, and an
/// `AlreadyExistsUnowned` error when the adoption policy refuses.
pub fn gate(
    existing_tags: &BTreeMap<String, String>,
    me: &Owner,
    adoption: Adoption,
    what: &str,
) -> Result<Option<String>, Error> {
    match decide(existing_tags, me, adoption) {
        Ownership::Ours => Ok(None),
        Ownership::Adopt {
            previous_owner: Some(o),
        } => Ok(Some(format!("took over {what} from {o}"))),
        Ownership::Adopt {
            previous_owner: None,
        } => Ok(Some(format!("took over existing {what}"))),
        Ownership::Refuse { owner } => Err(Error::new(
            Reason::AlreadyExistsUnowned,
            refusal_message(what, owner.as_deref(), adoption),
        )),
    }
}

/// The condition message for a refused take-over.
pub fn refusal_message(what: &str, owner: Option<&str>, adoption: Adoption) -> String {
    match owner {
        Some(owner) => format!(
            "{what} already exists in AWS and belongs to {owner}; it is left untouched. Use \
             another name, or set spec.adoption: Force to take it over"
        ),
        None => format!(
            "{what} already exists in AWS and was not created by this object; it is left \
             untouched. Set spec.adoption: IfUnowned (currently {adoption:?}) to take it over"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> Owner {
        Owner {
            cluster_id: "c1".into(),
            namespace: "team-a".into(),
            kind: "Alarm".into(),
            name: "cpu".into(),
            uid: "u-1".into(),
        }
    }

    fn tagged(owner: &str) -> BTreeMap<String, String> {
        BTreeMap::from([(OWNER_TAG.to_string(), owner.to_string())])
    }

    #[test]
    fn our_own_tag_is_ours_whatever_the_adoption_policy() {
        for adoption in [Adoption::Never, Adoption::IfUnowned, Adoption::Force] {
            assert_eq!(decide(&me().tags(), &me(), adoption), Ownership::Ours);
        }
    }

    #[test]
    fn a_recreated_object_with_the_same_name_owns_its_retained_aws_object() {
        let mut tags = me().tags();
        tags.insert(OWNER_UID_TAG.into(), "an-older-uid".into());
        assert_eq!(decide(&tags, &me(), Adoption::Never), Ownership::Ours);
    }

    #[test]
    fn another_namespace_cannot_take_over_by_name_collision() {
        let theirs = tagged("c1/team-b/Alarm/cpu");
        assert_eq!(
            decide(&theirs, &me(), Adoption::Never),
            Ownership::Refuse {
                owner: Some("c1/team-b/Alarm/cpu".into())
            }
        );
        assert_eq!(
            decide(&theirs, &me(), Adoption::IfUnowned),
            Ownership::Refuse {
                owner: Some("c1/team-b/Alarm/cpu".into())
            }
        );
        assert_eq!(
            decide(&theirs, &me(), Adoption::Force),
            Ownership::Adopt {
                previous_owner: Some("c1/team-b/Alarm/cpu".into())
            }
        );
    }

    #[test]
    fn unowned_objects_are_adopted_only_when_allowed() {
        let none = BTreeMap::new();
        assert_eq!(
            decide(&none, &me(), Adoption::Never),
            Ownership::Refuse { owner: None }
        );
        assert_eq!(
            decide(&none, &me(), Adoption::IfUnowned),
            Ownership::Adopt {
                previous_owner: None
            }
        );
    }

    #[test]
    fn gate_refuses_with_a_terminal_error_and_notes_adoptions() {
        let theirs = tagged("c1/team-b/Alarm/cpu");
        let err = gate(&theirs, &me(), Adoption::Never, "alarm \"cpu\"").unwrap_err();
        assert_eq!(err.reason, Reason::AlreadyExistsUnowned);
        assert!(err.is_terminal());
        let note = gate(&theirs, &me(), Adoption::Force, "alarm \"cpu\"")
            .unwrap()
            .unwrap();
        assert!(note.contains("c1/team-b/Alarm/cpu"));
        assert_eq!(
            gate(&me().tags(), &me(), Adoption::Never, "x").unwrap(),
            None
        );
    }

    #[test]
    fn refusal_names_the_owner() {
        let msg = refusal_message(
            "alarm \"cpu\"",
            Some("c1/team-b/Alarm/cpu"),
            Adoption::Never,
        );
        assert!(msg.contains("c1/team-b/Alarm/cpu"));
        assert!(msg.contains("adoption: Force"));
    }
}
