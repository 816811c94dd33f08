//! Who owns an AWS object, and whether this object may take it over (DESIGN.md, "Ownership").
//!
//! Every taggable AWS object the operator creates carries `cwo.dev/owner`, naming the Kubernetes
//! object that owns it, and `cwo.dev/owner-uid`, that object's UID. An existing AWS object whose
//! owner tag does not name this object is never written unless `adoption` allows it: that is what
//! stops a tenant in one namespace from taking over another namespace's alarm by picking the same
//! name.
//!
//! The owner tag's value must fit every service that carries it: CloudWatch takes tag values of
//! up to 256 characters, X-Ray documents 255 from Unicode letters, digits, separators and
//! `+ - = . _ : /` (no `@`). The owner's identity — cluster id, namespace (up to 63 characters),
//! kind and name (up to 253) — does not always fit, so the value has two forms:
//!
//! - **full**: `<cluster-id>/<namespace>/<kind>/<name>`, whenever that is at most 255 ASCII
//!   characters from the set above and unambiguous (no `/` in namespace, kind or name, no `+` in
//!   the name). This is what every earlier version wrote, so objects they created need no change.
//! - **shortened**: otherwise a readable prefix — the cluster id cut to 40 characters, the
//!   namespace, the kind, and as much of the name as fits, with any character outside the set
//!   (and `/`, `+`) replaced by `_` — then `+` and 32 hex digits (128 bits) of the SHA-256 of
//!   the full identity. At most 255 characters for every identity.
//!
//! The forms cannot meet: the last `/`-separated segment of a shortened value holds a `+`, and a
//! full value's last segment is a name without one. Two full values differ for distinct
//! identities (they parse back from the right), two shortened values differ unless SHA-256
//! collides. So no identity — however its name is chosen to share another's shortened prefix —
//! is taken for another's.
//!
//! Earlier versions wrote the full form even where it no longer qualifies (256 characters, or a
//! cluster id with characters outside the set, which CloudWatch accepts). Such a value still
//! names its owner: [`Owner::is_named_by`] accepts it, and the next tag write moves it to the
//! shortened form (see `tags::diff`), with no take-over and no drift Event.

use crate::common_fields::Adoption;
use crate::error::Error;
use crate::reason::Reason;
use crate::vocabulary::{OWNER_TAG, OWNER_UID_TAG};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Longest owner tag value: X-Ray documents 255 characters, CloudWatch 256.
pub const MAX_OWNER_VALUE_LEN: usize = 255;
/// Hex digits of the identity hash in a shortened value (128 bits of SHA-256).
const HASH_HEX_DIGITS: usize = 32;
/// Separates a shortened value's readable prefix from its hash. Kubernetes names never hold it.
const HASH_MARK: char = '+';
/// In a shortened value, the cluster id is cut to this many characters (a UID, the default
/// cluster id, has 36), the namespace to 63 (a DNS label) and the kind to 32; the name gets the
/// rest, at least 84 characters.
const SHORT_CLUSTER_ID: usize = 40;
const SHORT_NAMESPACE: usize = 63;
const SHORT_KIND: usize = 32;

/// A character every service's tag values accept: ASCII letters and digits and `_ . : / = + -`.
/// (Spaces and non-ASCII letters are allowed too, but AWS counts length in characters and
/// services differ on separators; keeping to ASCII makes length and set the same everywhere.)
fn is_tag_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '/' | '=' | '+' | '-')
}

/// The cluster id of an [`Owner`] whose cluster is not known: `plan` run with neither a cluster
/// to ask nor `--cluster-id`. Such an owner recognises its own namespace, kind and name in an
/// owner tag written from any cluster. The operator itself always knows its cluster id.
pub const UNKNOWN_CLUSTER: &str = "";

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
    /// The `cwo.dev/owner` tag value: the full form when it fits, else the shortened one.
    pub fn tag_value(&self) -> String {
        match self.full_value() {
            Some(full) if full.len() <= MAX_OWNER_VALUE_LEN && full.chars().all(is_tag_char) => {
                full
            }
            _ => self.shortened_value(),
        }
    }

    /// The ownership tags every created AWS object carries.
    pub fn tags(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            (OWNER_TAG.to_string(), self.tag_value()),
            (OWNER_UID_TAG.to_string(), self.uid.clone()),
        ])
    }

    /// Whether an owner tag `value` names this object: its current value, or the full form an
    /// earlier version wrote where the current value is shortened. An owner whose cluster id is
    /// unknown ([`UNKNOWN_CLUSTER`]) is named by a full-form value for its namespace, kind and
    /// name from any cluster.
    pub fn is_named_by(&self, value: &str) -> bool {
        if self.cluster_id == UNKNOWN_CLUSTER {
            let mut parts = value.rsplitn(4, '/');
            return match (parts.next(), parts.next(), parts.next(), parts.next()) {
                (Some(name), Some(kind), Some(namespace), Some(cluster)) => {
                    !cluster.is_empty()
                        && name == self.name
                        && kind == self.kind
                        && namespace == self.namespace
                }
                _ => false,
            };
        }
        value == self.tag_value() || self.full_value().is_some_and(|full| full == value)
    }

    /// Whether the AWS object carrying `tags` is this object's.
    pub fn owns(&self, tags: &BTreeMap<String, String>) -> bool {
        tags.get(OWNER_TAG).is_some_and(|v| self.is_named_by(v))
    }

    /// `<cluster-id>/<namespace>/<kind>/<name>`, or `None` when it would be ambiguous (a `/` in
    /// namespace, kind or name, a `+` in the name — none of which Kubernetes allows).
    fn full_value(&self) -> Option<String> {
        let ambiguous = [&self.namespace, &self.kind, &self.name]
            .iter()
            .any(|part| part.contains('/'))
            || self.name.contains(HASH_MARK);
        (!ambiguous).then(|| {
            format!(
                "{}/{}/{}/{}",
                self.cluster_id, self.namespace, self.kind, self.name
            )
        })
    }

    fn shortened_value(&self) -> String {
        let cluster = readable(&self.cluster_id, SHORT_CLUSTER_ID);
        let namespace = readable(&self.namespace, SHORT_NAMESPACE);
        let kind = readable(&self.kind, SHORT_KIND);
        let fixed = cluster.len() + namespace.len() + kind.len() + 3 + 1 + HASH_HEX_DIGITS;
        let name = readable(&self.name, MAX_OWNER_VALUE_LEN - fixed);
        format!(
            "{cluster}/{namespace}/{kind}/{name}{HASH_MARK}{}",
            self.identity_hash()
        )
    }

    /// The first 128 bits of SHA-256 over the identity, in lowercase hex. Each field goes in as
    /// its length (8 bytes, big-endian) and its UTF-8 bytes, so no two identities share an input,
    /// and the result is the same on every platform and in every version.
    fn identity_hash(&self) -> String {
        let mut hasher = Sha256::new();
        for field in [&self.cluster_id, &self.namespace, &self.kind, &self.name] {
            hasher.update((field.len() as u64).to_be_bytes());
            hasher.update(field.as_bytes());
        }
        hasher.finalize()[..HASH_HEX_DIGITS / 2]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// `s` cut to `max` characters, each outside the tag set or a separator (`/`, `+`) replaced by
/// `_`.
fn readable(s: &str, max: usize) -> String {
    s.chars()
        .map(|c| {
            if is_tag_char(c) && c != '/' && c != HASH_MARK {
                c
            } else {
                '_'
            }
        })
        .take(max)
        .collect()
}

/// Whether the owner tag value `earlier` is the full form of the identity whose current value is
/// `current`, written by an earlier version (so rewriting it is an upgrade of its form, not a
/// change of owner).
pub fn is_earlier_form(earlier: &str, current: &str) -> bool {
    let mut parts = earlier.rsplitn(4, '/');
    let (Some(name), Some(kind), Some(namespace), Some(cluster_id)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let owner = Owner {
        cluster_id: cluster_id.into(),
        namespace: namespace.into(),
        kind: kind.into(),
        name: name.into(),
        uid: String::new(),
    };
    earlier != current && owner.tag_value() == current
}

/// The owner recorded in `tags`, in words a person can look up: `Alarm team-b/cpu in cluster
/// c1 (UID …)`; a shortened name ends in `…`. A value in neither form is quoted as it is.
pub fn describe_owner(tags: &BTreeMap<String, String>) -> Option<String> {
    let value = tags.get(OWNER_TAG)?;
    let uid = tags
        .get(OWNER_UID_TAG)
        .map(|uid| format!(" (UID {uid})"))
        .unwrap_or_default();
    let mut parts = value.rsplitn(4, '/');
    let described = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(last), Some(kind), Some(namespace), Some(cluster))
            if !kind.is_empty() && !namespace.is_empty() && !last.is_empty() =>
        {
            let name = match last.rsplit_once(HASH_MARK) {
                Some((prefix, hash))
                    if hash.len() == HASH_HEX_DIGITS
                        && hash.chars().all(|c| c.is_ascii_hexdigit()) =>
                {
                    format!("{prefix}…")
                }
                _ => last.to_string(),
            };
            format!("{kind} {namespace}/{name} in cluster {cluster}{uid}")
        }
        _ => format!("the owner named by tag {OWNER_TAG}={value:?}{uid}"),
    };
    Some(described)
}

/// What to do with an AWS object that already exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ownership {
    /// Its owner tag names this object: manage it.
    Ours,
    /// It is someone else's (or nobody's) and `adoption` allows taking it over.
    Adopt { previous_owner: Option<String> },
    /// It is someone else's (or nobody's) and `adoption` does not allow taking it over.
    Refuse { owner: Option<String> },
}

/// Decides from the AWS object's tags. The owner tag names the cluster, namespace, kind and
/// object name; the UID tag only records which incarnation created it, so an object deleted with
/// `deletionPolicy: Retain` and created again under the same name manages its AWS object again.
/// `previous_owner` and `owner` are the raw owner tag values.
pub fn decide(
    existing_tags: &BTreeMap<String, String>,
    me: &Owner,
    adoption: Adoption,
) -> Ownership {
    if me.owns(existing_tags) {
        return Ownership::Ours;
    }
    let owner = existing_tags.get(OWNER_TAG).cloned();
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
    let owner = describe_owner(existing_tags);
    match decide(existing_tags, me, adoption) {
        Ownership::Ours => Ok(None),
        Ownership::Adopt { .. } => Ok(Some(match owner {
            Some(o) => format!("took over {what} from {o}"),
            None => format!("took over existing {what}"),
        })),
        Ownership::Refuse { .. } => Err(Error::new(
            Reason::AlreadyExistsUnowned,
            refusal_message(what, owner.as_deref(), adoption),
        )),
    }
}

/// The condition message for a refused take-over; `owner` says who owns it, in words.
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
    use crate::vocabulary::OWNERSHIP_TAGS;
    use proptest::prelude::*;

    /// Every kind, as the runtime names it (`Context::owner` uses `Resource::kind`).
    fn kinds() -> Vec<String> {
        use kube::Resource;
        vec![
            crate::alarm::Alarm::kind(&()).into_owned(),
            crate::composite_alarm::CompositeAlarm::kind(&()).into_owned(),
            crate::metric_stream::MetricStream::kind(&()).into_owned(),
            crate::sampling_rule::SamplingRule::kind(&()).into_owned(),
            crate::log_subscription::LogSubscription::kind(&()).into_owned(),
            crate::metric_filter::MetricFilter::kind(&()).into_owned(),
            crate::log_destination::LogDestination::kind(&()).into_owned(),
        ]
    }

    fn me() -> Owner {
        owner("c1", "team-a", "Alarm", "cpu")
    }

    fn owner(cluster_id: &str, namespace: &str, kind: &str, name: &str) -> Owner {
        Owner {
            cluster_id: cluster_id.into(),
            namespace: namespace.into(),
            kind: kind.into(),
            name: name.into(),
            uid: "u-1".into(),
        }
    }

    fn tagged(owner: &str) -> BTreeMap<String, String> {
        BTreeMap::from([(OWNER_TAG.to_string(), owner.to_string())])
    }

    /// A DNS-1123 label of exactly `len` characters.
    fn label(c: char, len: usize) -> String {
        std::iter::repeat_n(c, len).collect()
    }

    /// A DNS-1123 subdomain of exactly `len` characters (dot-separated labels).
    fn subdomain(c: char, len: usize) -> String {
        (0..len)
            .map(|i| if i % 64 == 63 && i + 1 < len { '.' } else { c })
            .collect()
    }

    /// What X-Ray documents for a tag value, the tighter of the two services: at most 255
    /// characters, "Unicode letters, numbers, or separators, or + - = . _ : /". (CloudWatch
    /// takes 256 characters.)
    fn fits(value: &str) -> bool {
        value.chars().count() <= 255
            && value
                .chars()
                .all(|c| c.is_alphanumeric() || c == ' ' || "+-=._:/".contains(c))
    }

    /// The schema's tag limit leaves room for exactly these keys: a new ownership tag must be
    /// listed there, or AWS would refuse objects whose spec the API server accepted.
    #[test]
    fn the_ownership_tags_are_the_ones_the_tag_limit_leaves_room_for() {
        let written: Vec<String> = me().tags().into_keys().collect();
        let mut listed: Vec<String> = OWNERSHIP_TAGS.iter().map(|k| k.to_string()).collect();
        listed.sort();
        assert_eq!(written, listed, "update vocabulary::OWNERSHIP_TAGS");
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
        assert_eq!(
            note,
            "took over alarm \"cpu\" from Alarm team-b/cpu in cluster c1"
        );
        assert_eq!(
            gate(&me().tags(), &me(), Adoption::Never, "x").unwrap(),
            None
        );
    }

    #[test]
    fn refusal_names_the_owner_in_words() {
        let mut theirs = tagged("c1/team-b/Alarm/cpu");
        theirs.insert(OWNER_UID_TAG.into(), "9f1c".into());
        let err = gate(&theirs, &me(), Adoption::Never, "alarm \"cpu\"").unwrap_err();
        assert!(
            err.message
                .contains("belongs to Alarm team-b/cpu in cluster c1 (UID 9f1c);"),
            "{}",
            err.message
        );
        assert!(err.message.contains("adoption: Force"), "{}", err.message);
    }

    #[test]
    fn refusal_names_a_shortened_owner_by_namespace_kind_and_name_prefix() {
        let long = owner("c1", "team-b", "Alarm", &subdomain('b', 253));
        let err = gate(&long.tags(), &me(), Adoption::Never, "alarm \"x\"").unwrap_err();
        let prefix = &long.name[..100];
        assert!(
            err.message
                .contains(&format!("belongs to Alarm team-b/{prefix}")),
            "{}",
            err.message
        );
        assert!(err.message.contains("… in cluster c1 (UID u-1)"));
    }

    #[test]
    fn an_owner_tag_in_no_known_form_is_quoted() {
        let described = describe_owner(&tagged("someone-else")).unwrap();
        assert_eq!(
            described,
            "the owner named by tag cwo.dev/owner=\"someone-else\""
        );
        assert_eq!(describe_owner(&BTreeMap::new()), None);
    }

    #[test]
    fn a_short_identity_keeps_the_full_form_earlier_versions_wrote() {
        assert_eq!(me().tag_value(), "c1/team-a/Alarm/cpu");
        let uid_cluster = owner(
            "3f0c2a8e-6b8d-4c6e-9d61-0d5c8f1a2b3c",
            "team-a",
            "SamplingRule",
            "checkout",
        );
        assert_eq!(
            uid_cluster.tag_value(),
            "3f0c2a8e-6b8d-4c6e-9d61-0d5c8f1a2b3c/team-a/SamplingRule/checkout"
        );
    }

    #[test]
    fn the_full_form_is_used_up_to_255_characters_and_shortened_beyond() {
        // "c/" + 63 + "/Alarm/" + name: 72 + name characters.
        let ns = label('n', 63);
        let at_limit = owner("c", &ns, "Alarm", &subdomain('a', 183));
        assert_eq!(at_limit.tag_value().len(), 255);
        assert!(!at_limit.tag_value().contains('+'));
        let over = owner("c", &ns, "Alarm", &subdomain('a', 184));
        assert!(over.tag_value().contains('+'), "{}", over.tag_value());
        assert!(over.tag_value().len() <= 255);
    }

    #[test]
    fn a_shortened_value_is_stable_across_versions() {
        // Computed independently: the first 16 bytes of SHA-256 over each field as an 8-byte
        // big-endian length and its bytes. A change here orphans every AWS object tagged with a
        // shortened value.
        let o = owner("c1", "team-a", "Alarm", &label('x', 300));
        assert_eq!(
            o.tag_value(),
            format!(
                "c1/team-a/Alarm/{}+3feac2259552117b61603325243f27e7",
                label('x', 255 - "c1/team-a/Alarm/".len() - 33)
            )
        );
    }

    #[test]
    fn characters_aws_refuses_force_the_shortened_form() {
        for cluster_id in ["prod@eu", "prod eu", "prød", "a#b"] {
            let o = owner(cluster_id, "team-a", "Alarm", "cpu");
            let v = o.tag_value();
            assert!(fits(&v), "{v}");
            assert!(v.ends_with(&format!("/team-a/Alarm/cpu+{}", o.identity_hash())));
        }
    }

    #[test]
    fn every_identity_at_kubernetes_extremes_fits_aws() {
        // From 1: the empty cluster id is no cluster's (`--cluster-id` refuses it); it stands
        // for an unknown cluster (UNKNOWN_CLUSTER).
        let cluster_lengths = [1, 36, 40, 41, 100, 255, 256, 1000, 10_000];
        for kind in &kinds() {
            for cluster_len in cluster_lengths {
                for (ns_len, name_len) in [(1, 1), (63, 1), (1, 253), (63, 253), (63, 183)] {
                    let o = owner(
                        &label('c', cluster_len),
                        &label('n', ns_len),
                        kind,
                        &subdomain('a', name_len),
                    );
                    let v = o.tag_value();
                    assert!(fits(&v), "{kind} {cluster_len} {ns_len} {name_len}: {v}");
                    assert!(o.is_named_by(&v));
                    if v.contains(HASH_MARK) {
                        // The namespace and kind stay readable in full.
                        assert!(v.contains(&format!("/{}/{kind}/", o.namespace)), "{v}");
                    }
                }
            }
        }
    }

    #[test]
    fn names_sharing_a_shortened_prefix_stay_distinct_and_cannot_take_over() {
        let ns = label('n', 63);
        let common = subdomain('a', 252);
        let victim = owner("c1", &ns, "Alarm", &format!("{common}b"));
        let other = owner("c1", &ns, "Alarm", &format!("{common}c"));
        let other_ns = owner("c1", &label('m', 63), "Alarm", &victim.name);
        for attacker in [&other, &other_ns] {
            assert_ne!(attacker.tag_value(), victim.tag_value());
            for adoption in [Adoption::Never, Adoption::IfUnowned] {
                assert!(matches!(
                    decide(&victim.tags(), attacker, adoption),
                    Ownership::Refuse { owner: Some(_) }
                ));
            }
        }
        // A name spelling out the victim's readable prefix and hash is not a Kubernetes name,
        // and even as an identity it is shortened in turn, not equal.
        let victim_value = victim.tag_value();
        let (_, last) = victim_value.rsplit_once('/').unwrap();
        let forged = owner("c1", &ns, "Alarm", last);
        assert_ne!(forged.tag_value(), victim_value);
        assert!(!forged.owns(&victim.tags()));
    }

    #[test]
    fn an_upgrade_recognises_the_full_form_an_earlier_version_wrote() {
        // 256 characters: CloudWatch took it, the current form is shortened.
        let o = owner("c", &label('n', 63), "Alarm", &subdomain('a', 184));
        let earlier = format!("c/{}/Alarm/{}", o.namespace, o.name);
        assert_eq!(earlier.len(), 256);
        assert_ne!(o.tag_value(), earlier);
        for adoption in [Adoption::Never, Adoption::IfUnowned, Adoption::Force] {
            assert_eq!(decide(&tagged(&earlier), &o, adoption), Ownership::Ours);
        }
        assert!(is_earlier_form(&earlier, &o.tag_value()));
        // And an earlier value with a cluster id outside the tag set.
        let at = owner("prod@eu", "team-a", "Alarm", "cpu");
        assert!(at.owns(&tagged("prod@eu/team-a/Alarm/cpu")));
        assert!(is_earlier_form("prod@eu/team-a/Alarm/cpu", &at.tag_value()));
    }

    #[test]
    fn another_owners_value_is_not_an_earlier_form_of_ours() {
        let o = owner("c", &label('n', 63), "Alarm", &subdomain('a', 184));
        assert!(!is_earlier_form("c/team-b/Alarm/cpu", &o.tag_value()));
        assert!(!is_earlier_form(&o.tag_value(), &o.tag_value()));
        assert!(!is_earlier_form("no-slashes", &o.tag_value()));
        assert!(!is_earlier_form("c1/team-a/Alarm/cpu", &me().tag_value()));
    }

    /// Components from a small alphabet holding the separators, so that distinct identities often
    /// print alike; and long ones, so that many are shortened.
    fn component() -> impl Strategy<Value = String> {
        prop_oneof![
            "[ab/+@]{0,4}",
            "[a-z0-9.-]{0,300}",
            "[ab]{250,260}",
            "[aé +/]{0,80}",
        ]
    }

    /// An identity the operator can have: any components but an empty cluster id, which stands
    /// for an unknown cluster (UNKNOWN_CLUSTER) and is refused by `--cluster-id`.
    fn identity() -> impl Strategy<Value = Owner> {
        (component(), component(), component(), component())
            .prop_filter("the cluster id is known", |(c, ..)| c != UNKNOWN_CLUSTER)
            .prop_map(|(c, n, k, m)| Owner {
                cluster_id: c,
                namespace: n,
                kind: k,
                name: m,
                uid: "u".into(),
            })
    }

    /// Every value that names `o`.
    fn names(o: &Owner) -> Vec<String> {
        let mut v = vec![o.tag_value()];
        v.extend(o.full_value());
        v
    }

    proptest! {
        #[test]
        fn every_value_fits_aws(o in identity()) {
            let v = o.tag_value();
            prop_assert!(fits(&v), "{}", v);
            prop_assert!(o.is_named_by(&v));
        }

        #[test]
        fn distinct_identities_never_name_each_other(a in identity(), b in identity()) {
            prop_assume!((&a.cluster_id, &a.namespace, &a.kind, &a.name)
                != (&b.cluster_id, &b.namespace, &b.kind, &b.name));
            prop_assert_ne!(a.tag_value(), b.tag_value());
            for value in names(&b) {
                prop_assert!(!a.is_named_by(&value), "{:?} named by {}", a, value);
            }
        }

        #[test]
        fn distinct_kubernetes_identities_at_the_extremes_differ(
            ns in "[a-z0-9]{63}",
            name in "[a-z0-9]{253}",
            kind in proptest::sample::select(kinds()),
            cluster in "[a-f0-9-]{36}",
            position in 0usize..253,
            other_char in "[a-z0-9]",
        ) {
            let a = owner(&cluster, &ns, &kind, &name);
            let mut changed = name.clone();
            changed.replace_range(position..position + 1, &other_char);
            prop_assume!(changed != name);
            let b = owner(&cluster, &ns, &kind, &changed);
            prop_assert!(fits(&a.tag_value()) && fits(&b.tag_value()));
            prop_assert_ne!(a.tag_value(), b.tag_value());
            prop_assert!(!a.owns(&b.tags()) && !b.owns(&a.tags()));
        }
    }

    #[test]
    fn an_owner_of_unknown_cluster_recognises_its_name_from_any_cluster_only() {
        let unknown = owner(UNKNOWN_CLUSTER, "team-a", "Alarm", "cpu");
        assert!(unknown.is_named_by("c1/team-a/Alarm/cpu"));
        assert!(unknown.is_named_by("another-cluster/team-a/Alarm/cpu"));
        assert!(!unknown.is_named_by("c1/team-b/Alarm/cpu"));
        assert!(!unknown.is_named_by("c1/team-a/CompositeAlarm/cpu"));
        assert!(!unknown.is_named_by("c1/team-a/Alarm/cpu-2"));
        assert!(!unknown.is_named_by("/team-a/Alarm/cpu"));
        assert!(!unknown.is_named_by("team-a/Alarm/cpu"));
        // A known cluster id still demands its own.
        assert!(!me().is_named_by("another-cluster/team-a/Alarm/cpu"));
    }
}
