//! Who owns a CloudWatch Logs filter (a subscription filter or a metric filter). Filters carry no
//! tags, so the record of ownership is each object's `status.ownership`, and the other objects of
//! the same kind in the cluster are asked whether they claim the same filter (DESIGN.md,
//! "Ownership").
//!
//! A claim is an object's ownership record naming the filter (with that object's own UID, in the
//! same account and region). When two objects claim one filter — a take-over under `adoption: Force`, or two
//! objects that created it at the same moment — one claim wins and the other object gives the
//! filter up, so they never take turns rewriting it: a claim taken under `adoption: Force`
//! outranks one that was not, then the older object outranks the younger.

use super::desired::FilterKey;
use super::status::FilterStatus;
use crate::aws::Location;
use crate::common_fields::Adoption;
use crate::ownership::refusal_message;
use crate::runtime::ManagedKind;
use kube::ResourceExt;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;

/// The filter an object owns.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct FilterOwnership {
    /// Created if this object created the filter, Adopted if the filter existed and was taken
    /// over under spec.adoption.
    pub origin: OwnershipOrigin,

    /// UID of the owning Kubernetes object. A record with another UID belongs to an earlier
    /// object of the same name.
    pub owner_uid: String,

    /// Log group of the owned filter.
    pub log_group_name: String,

    /// Name of the owned filter.
    pub filter_name: String,
}

impl FilterOwnership {
    /// Whether the record names the filter `filter_name` on `log_group_name`.
    pub fn names(&self, log_group_name: &str, filter_name: &str) -> bool {
        self.log_group_name == log_group_name && self.filter_name == filter_name
    }

    /// The identity the record names, as a `noun` (the kind of filter).
    pub fn key(&self, noun: &'static str) -> FilterKey {
        FilterKey::new(noun, &self.log_group_name, &self.filter_name)
    }
}

/// How an object came to own its AWS object.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq, Hash)]
pub enum OwnershipOrigin {
    // This object created the AWS object.
    #[default]
    Created,
    // The AWS object existed and this object took it over.
    Adopted,
}

/// One object's claim on a filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    /// `namespace/name` of the claiming object.
    pub object: String,
    pub uid: String,
    /// The claim was taken over under `adoption: Force`, and the object still says Force.
    pub forced: bool,
    /// The object's creation time, in seconds.
    pub created: i64,
}

impl Claim {
    fn rank(&self) -> (bool, Reverse<i64>, Reverse<&str>) {
        (
            self.forced,
            Reverse(self.created),
            Reverse(self.uid.as_str()),
        )
    }

    /// Whether this claim wins over `other`.
    pub fn outranks(&self, other: &Claim) -> bool {
        self.rank() > other.rank()
    }
}

/// The ownership record of `obj`, if it is its own (a record with another UID belongs to an
/// earlier object of the same name).
pub fn own_record<K>(obj: &K) -> Option<&FilterOwnership>
where
    K: ManagedKind<Status: FilterStatus>,
{
    let uid = obj.uid().unwrap_or_default();
    obj.status()?.ownership().filter(|r| r.owner_uid == uid)
}

/// The claim `obj` makes on a filter it holds as `origin`.
pub fn claim<K: ManagedKind>(obj: &K, origin: OwnershipOrigin) -> Claim {
    Claim {
        object: format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any()),
        uid: obj.uid().unwrap_or_default(),
        forced: origin == OwnershipOrigin::Adopted && obj.common_spec().adoption == Adoption::Force,
        created: obj
            .meta()
            .creation_timestamp
            .as_ref()
            .map_or(0, |t| t.0.as_second()),
    }
}

/// `obj`'s claim on the filter `key` at `location` (an account and region), from its status
/// record, if it has one.
pub fn recorded_claim<K>(obj: &K, location: &Location, key: &FilterKey) -> Option<Claim>
where
    K: ManagedKind<Status: FilterStatus>,
{
    let record = own_record(obj).filter(|r| r.names(&key.log_group_name, &key.filter_name))?;
    // A record written before any region was recorded is taken to be at this location: counting
    // a claim too many only makes another object wait. Once the region is recorded, the account
    // is too (the operator's own when none is named), and a filter of another account is another
    // filter.
    if let Some(status) = obj
        .status()
        .map(|s| s.common())
        .filter(|s| s.region.is_some())
        && (status.region.as_deref() != Some(location.region())
            || status.account.as_deref() != location.account())
    {
        return None;
    }
    Some(claim(obj, record.origin))
}

/// The claims other objects than `me` hold on the filter `key` at `location`.
pub fn claims_of_others<'a, K>(
    objects: impl IntoIterator<Item = &'a K>,
    me: &K,
    location: &Location,
    key: &FilterKey,
) -> Vec<Claim>
where
    K: ManagedKind<Status: FilterStatus> + 'a,
{
    let my_uid = me.uid();
    objects
        .into_iter()
        .filter(|o| o.uid() != my_uid)
        .filter_map(|o| recorded_claim(o, location, key))
        .collect()
}

/// What this object may do with the filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Manage it, recording this origin; `adopted` is an Event note when it is taken over now.
    Manage {
        origin: OwnershipOrigin,
        adopted: Option<String>,
    },
    /// Another object's claim outranks ours: give the filter up and drop our record.
    Yield { message: String },
    /// The adoption policy does not allow taking the filter: leave it alone.
    Refuse { message: String },
}

/// Decides for the filter `what` (shown for people), managed by objects of `kind`. `recorded` is
/// the origin of this object's own record for the filter, `me` the claim it makes or would make,
/// `others` the claims of other objects, `exists` whether AWS has the filter.
pub fn decide(
    kind: &str,
    what: &str,
    recorded: Option<OwnershipOrigin>,
    me: &Claim,
    adoption: Adoption,
    others: &[Claim],
    exists: bool,
) -> Decision {
    let winner = others
        .iter()
        .filter(|c| c.outranks(me))
        .max_by(|a, b| a.rank().cmp(&b.rank()));
    if let Some(origin) = recorded {
        return match winner {
            Some(w) => Decision::Yield {
                message: format!(
                    "{what} is now managed by {kind} {}; this object no longer manages it and \
                     will not delete it. Use another log group or filter name, or delete one of \
                     the two objects",
                    w.object
                ),
            },
            None => Decision::Manage {
                origin,
                adopted: None,
            },
        };
    }
    let claimant = others.iter().max_by(|a, b| a.rank().cmp(&b.rank()));
    if !exists && claimant.is_none() {
        return Decision::Manage {
            origin: OwnershipOrigin::Created,
            adopted: None,
        };
    }
    let allowed = match adoption {
        Adoption::Never => false,
        Adoption::IfUnowned => claimant.is_none(),
        Adoption::Force => winner.is_none(),
    };
    if allowed {
        let adopted = match claimant {
            Some(c) => format!("took over {what} from {kind} {}", c.object),
            None => format!("took over existing {what}"),
        };
        return Decision::Manage {
            origin: OwnershipOrigin::Adopted,
            adopted: Some(adopted),
        };
    }
    let message = match (claimant, winner) {
        (_, Some(w)) if adoption == Adoption::Force => format!(
            "{what} is managed by {kind} {}, whose claim takes precedence (it took the filter \
             over with adoption: Force and is older); it is left untouched",
            w.object
        ),
        (Some(c), _) => format!(
            "{what} is managed by {kind} {}; it is left untouched. Use another log group or \
             filter name, or set spec.adoption: Force to take it over",
            c.object
        ),
        (None, _) => refusal_message(what, None, adoption),
    };
    Decision::Refuse { message }
}

/// What `obj` may do with the filter `key` at `location` (`exists`: AWS has it; `what`: the filter
/// in words), weighing its own record against those of `objects`, every object of its kind (the
/// controller reconciles only once its cache holds them all, so none is missed). Returns the
/// origin of `obj`'s own record of the filter, if it has one, and the decision.
pub fn ownership_decision<'a, K>(
    obj: &K,
    objects: impl IntoIterator<Item = &'a K>,
    location: &Location,
    key: &FilterKey,
    what: &str,
    exists: bool,
) -> (Option<OwnershipOrigin>, Decision)
where
    K: ManagedKind<Status: FilterStatus> + 'a,
{
    let others = claims_of_others(objects, obj, location, key);
    let recorded = own_record(obj)
        .filter(|r| r.names(&key.log_group_name, &key.filter_name))
        .map(|r| r.origin);
    let taking = if exists || !others.is_empty() {
        OwnershipOrigin::Adopted
    } else {
        OwnershipOrigin::Created
    };
    let me = claim(obj, recorded.unwrap_or(taking));
    let adoption = obj.common_spec().adoption;
    let decision = decide(K::KIND, what, recorded, &me, adoption, &others, exists);
    (recorded, decision)
}

/// The claim of another of `objects` on the filter `key` that now outranks `obj`'s own, if any:
/// `obj` then no longer deletes the filter.
pub fn outranked_by<'a, K>(
    obj: &K,
    objects: impl IntoIterator<Item = &'a K>,
    location: &Location,
    key: &FilterKey,
) -> Option<Claim>
where
    K: ManagedKind<Status: FilterStatus> + 'a,
{
    let origin = own_record(obj).map_or(OwnershipOrigin::Created, |r| r.origin);
    let me = claim(obj, origin);
    claims_of_others(objects, obj, location, key)
        .into_iter()
        .find(|c| c.outranks(&me))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIND: &str = "LogSubscription";
    const WHAT: &str = "subscription filter \"x\" on log group \"g\"";

    fn claim(object: &str, forced: bool, created: i64) -> Claim {
        Claim {
            object: object.into(),
            uid: format!("uid-{object}"),
            forced,
            created,
        }
    }

    #[test]
    fn a_missing_unclaimed_filter_is_created() {
        let me = claim("a/x", false, 1);
        for adoption in [Adoption::Never, Adoption::IfUnowned, Adoption::Force] {
            assert_eq!(
                decide(KIND, WHAT, None, &me, adoption, &[], false),
                Decision::Manage {
                    origin: OwnershipOrigin::Created,
                    adopted: None
                }
            );
        }
    }

    #[test]
    fn our_record_keeps_the_filter_ours() {
        let me = claim("a/x", false, 1);
        assert_eq!(
            decide(
                KIND,
                WHAT,
                Some(OwnershipOrigin::Created),
                &me,
                Adoption::Never,
                &[],
                true
            ),
            Decision::Manage {
                origin: OwnershipOrigin::Created,
                adopted: None
            }
        );
    }

    #[test]
    fn an_existing_filter_not_recorded_as_ours_follows_the_adoption_policy() {
        let me = claim("a/x", false, 1);
        assert!(matches!(
            decide(KIND, WHAT, None, &me, Adoption::Never, &[], true),
            Decision::Refuse { message } if message.contains("adoption: IfUnowned")
        ));
        assert!(matches!(
            decide(KIND, WHAT, None, &me, Adoption::IfUnowned, &[], true),
            Decision::Manage {
                origin: OwnershipOrigin::Adopted,
                adopted: Some(_)
            }
        ));
    }

    #[test]
    fn if_unowned_refuses_a_filter_another_object_claims_and_names_it_with_its_kind() {
        let me = claim("a/x", false, 1);
        let theirs = [claim("b/y", false, 5)];
        let d = decide(
            "MetricFilter",
            WHAT,
            None,
            &me,
            Adoption::IfUnowned,
            &theirs,
            true,
        );
        assert!(
            matches!(&d, Decision::Refuse { message } if message.contains("MetricFilter b/y")),
            "{d:?}"
        );
        // Even when the filter is missing from AWS at the moment: it is that object's to recreate.
        let d = decide(KIND, WHAT, None, &me, Adoption::Never, &theirs, false);
        assert!(
            matches!(&d, Decision::Refuse { message } if message.contains("b/y")),
            "{d:?}"
        );
    }

    #[test]
    fn force_takes_over_and_the_previous_owner_yields() {
        let theirs = claim("b/y", false, 1);
        let me_taking = claim("a/x", true, 5);
        let d = decide(
            KIND,
            WHAT,
            None,
            &me_taking,
            Adoption::Force,
            std::slice::from_ref(&theirs),
            true,
        );
        assert!(
            matches!(&d, Decision::Manage { origin: OwnershipOrigin::Adopted, adopted: Some(n) } if n.contains("b/y")),
            "{d:?}"
        );
        // The previous owner, seeing the forced claim, gives the filter up.
        let d = decide(
            KIND,
            WHAT,
            Some(OwnershipOrigin::Created),
            &theirs,
            Adoption::Never,
            &[me_taking],
            true,
        );
        assert!(
            matches!(&d, Decision::Yield { message } if message.contains("a/x")),
            "{d:?}"
        );
    }

    #[test]
    fn two_objects_that_created_the_same_filter_settle_on_the_older() {
        let older = claim("a/x", false, 1);
        let younger = claim("b/y", false, 2);
        assert!(matches!(
            decide(
                KIND,
                WHAT,
                Some(OwnershipOrigin::Created),
                &older,
                Adoption::Never,
                std::slice::from_ref(&younger),
                true
            ),
            Decision::Manage { .. }
        ));
        assert!(matches!(
            decide(
                KIND,
                WHAT,
                Some(OwnershipOrigin::Created),
                &younger,
                Adoption::Never,
                &[older],
                true
            ),
            Decision::Yield { .. }
        ));
    }

    #[test]
    fn force_does_not_take_from_an_older_forced_claim() {
        let theirs = [claim("b/y", true, 1)];
        let me = claim("a/x", true, 5);
        let d = decide(KIND, WHAT, None, &me, Adoption::Force, &theirs, true);
        assert!(
            matches!(&d, Decision::Refuse { message } if message.contains("b/y")),
            "{d:?}"
        );
    }

    mod with_objects {
        use super::super::*;
        use crate::common_fields::CommonStatus;
        use crate::log_subscription::desired::tests::firehose_spec;
        use crate::log_subscription::{LogSubscription, LogSubscriptionStatus};
        use crate::metric_filter::desired::tests::errors_spec;
        use crate::metric_filter::{MetricFilter, MetricFilterStatus};
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
        use k8s_openapi::jiff::Timestamp;

        const NOUN: &str = "subscription filter";

        fn key() -> FilterKey {
            FilterKey::new(NOUN, "/aws/lambda/checkout", "x")
        }

        fn object(
            ns: &str,
            uid: &str,
            record: Option<FilterOwnership>,
            region: &str,
        ) -> LogSubscription {
            let mut o = LogSubscription::new("x", firehose_spec());
            o.metadata.namespace = Some(ns.into());
            o.metadata.uid = Some(uid.into());
            o.metadata.creation_timestamp = Some(Time(Timestamp::from_second(100).unwrap()));
            o.status = Some(LogSubscriptionStatus {
                common: CommonStatus {
                    region: Some(region.into()),
                    ..Default::default()
                },
                ownership: record,
                ..Default::default()
            });
            o
        }

        fn record(uid: &str, origin: OwnershipOrigin) -> FilterOwnership {
            FilterOwnership {
                origin,
                owner_uid: uid.into(),
                log_group_name: key().log_group_name,
                filter_name: key().filter_name,
            }
        }

        #[test]
        fn claims_come_from_other_objects_records_in_the_same_region() {
            let me = object("a", "u-a", None, "us-east-1");
            let same = object(
                "b",
                "u-b",
                Some(record("u-b", OwnershipOrigin::Created)),
                "us-east-1",
            );
            let other_region = object(
                "c",
                "u-c",
                Some(record("u-c", OwnershipOrigin::Created)),
                "eu-west-1",
            );
            let stale_uid = object(
                "d",
                "u-d",
                Some(record("u-old", OwnershipOrigin::Created)),
                "us-east-1",
            );
            let mine = object(
                "a",
                "u-a",
                Some(record("u-a", OwnershipOrigin::Created)),
                "us-east-1",
            );
            let mut other_account = object(
                "e",
                "u-e",
                Some(record("u-e", OwnershipOrigin::Created)),
                "us-east-1",
            );
            if let Some(status) = other_account.status.as_mut() {
                status.common.account = Some("team-a".into());
            }
            let all = [same, other_region, stale_uid, mine, other_account];
            let here = Location::of("us-east-1");
            let claims = claims_of_others(&all, &me, &here, &key());
            assert_eq!(
                claims.iter().map(|c| c.object.as_str()).collect::<Vec<_>>(),
                ["b/x"]
            );
            // In the other account, only its own object claims the filter of that name.
            let there = Location::new(Some("team-a"), "us-east-1");
            let claims = claims_of_others(&all, &me, &there, &key());
            assert_eq!(
                claims.iter().map(|c| c.object.as_str()).collect::<Vec<_>>(),
                ["e/x"]
            );
        }

        #[test]
        fn the_ownership_record_holds_every_identity_whole() {
            // Filters carry no tags, so the tag value limit does not apply: the record keeps each
            // field as it is, and the schema gives it no length limit of its own.
            use kube::CustomResourceExt;
            for crd in [LogSubscription::crd(), MetricFilter::crd()] {
                let crd = serde_json::to_value(crd).unwrap();
                let record = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]
                    ["status"]["properties"]["ownership"]["properties"];
                for field in ["ownerUid", "logGroupName", "filterName"] {
                    assert_eq!(record[field]["type"], "string", "{field}");
                    assert!(record[field].get("maxLength").is_none(), "{field}");
                }
            }
            // At Kubernetes' and AWS's extremes, the claim names the object in full.
            let ns = "n".repeat(63);
            let name = "x".repeat(253);
            let long = FilterOwnership {
                origin: OwnershipOrigin::Created,
                owner_uid: "u-long".into(),
                log_group_name: "g".repeat(512),
                filter_name: "f".repeat(512),
            };
            let mut o = object(&ns, "u-long", Some(long.clone()), "us-east-1");
            o.metadata.name = Some(name.clone());
            let claim = recorded_claim(&o, &Location::of("us-east-1"), &long.key(NOUN)).unwrap();
            assert_eq!(claim.object, format!("{ns}/{name}"));
        }

        #[test]
        fn a_forced_claim_requires_an_adoption_and_force_in_the_spec() {
            let mut o = object(
                "b",
                "u-b",
                Some(record("u-b", OwnershipOrigin::Adopted)),
                "us-east-1",
            );
            assert!(
                !recorded_claim(&o, &Location::of("us-east-1"), &key())
                    .unwrap()
                    .forced
            );
            o.spec.common.adoption = Adoption::Force;
            assert!(
                recorded_claim(&o, &Location::of("us-east-1"), &key())
                    .unwrap()
                    .forced
            );
            o.status.as_mut().unwrap().ownership = Some(record("u-b", OwnershipOrigin::Created));
            assert!(
                !recorded_claim(&o, &Location::of("us-east-1"), &key())
                    .unwrap()
                    .forced
            );
        }

        fn metric_filter(ns: &str, uid: &str, record: Option<FilterOwnership>) -> MetricFilter {
            let mut o = MetricFilter::new("x", errors_spec());
            o.metadata.namespace = Some(ns.into());
            o.metadata.uid = Some(uid.into());
            o.status = Some(MetricFilterStatus {
                common: CommonStatus {
                    region: Some("us-east-1".into()),
                    ..Default::default()
                },
                ownership: record,
                ..Default::default()
            });
            o
        }

        #[test]
        fn another_metric_filters_record_is_a_claim_named_with_its_kind() {
            let key = FilterKey::new("metric filter", "/aws/lambda/checkout", "x");
            let record = FilterOwnership {
                origin: OwnershipOrigin::Created,
                owner_uid: "u-b".into(),
                log_group_name: key.log_group_name.clone(),
                filter_name: key.filter_name.clone(),
            };
            let mut me = metric_filter("a", "u-a", None);
            me.spec.common.adoption = Adoption::IfUnowned;
            let theirs = metric_filter("b", "u-b", Some(record));
            let here = Location::of("us-east-1");
            let others = claims_of_others([&theirs], &me, &here, &key);
            assert_eq!(others.len(), 1);
            let (recorded, d) = ownership_decision(
                &me,
                [&me, &theirs],
                &here,
                &key,
                "metric filter \"x\"",
                true,
            );
            assert_eq!(recorded, None);
            assert!(
                matches!(&d, Decision::Refuse { message } if message.contains("MetricFilter b/x")),
                "{d:?}"
            );
        }

        #[test]
        fn an_outranking_claim_keeps_an_object_from_deleting_the_filter() {
            let older = object(
                "b",
                "u-b",
                Some(record("u-b", OwnershipOrigin::Created)),
                "us-east-1",
            );
            let mut younger = object(
                "a",
                "u-a",
                Some(record("u-a", OwnershipOrigin::Created)),
                "us-east-1",
            );
            younger.metadata.creation_timestamp = Some(Time(Timestamp::from_second(200).unwrap()));
            let here = Location::of("us-east-1");
            let all = [older.clone(), younger.clone()];
            assert_eq!(
                outranked_by(&younger, &all, &here, &key()).map(|c| c.object),
                Some("b/x".to_string())
            );
            assert_eq!(outranked_by(&older, &all, &here, &key()), None);
        }
    }
}
