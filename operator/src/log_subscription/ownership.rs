//! Who owns a subscription filter: the ownership recorded in LogSubscription objects' status,
//! weighed as every CloudWatch Logs filter's is (see `crate::filter_ownership`).

use super::desired::FilterKey;
use super::spec::LogSubscription;
use crate::aws::Location;
use crate::common_fields::{Adoption, CommonStatus};
use crate::filter_ownership::{self, FilterOwner};
pub use crate::filter_ownership::{Claim, Decision, FilterOwnership, OwnershipOrigin, own_record};
use kube::Resource;

impl FilterOwner for LogSubscription {
    fn adoption(&self) -> Adoption {
        self.spec.common.adoption
    }

    fn ownership_record(&self) -> Option<&FilterOwnership> {
        self.status.as_ref()?.ownership.as_ref()
    }

    fn recorded_status(&self) -> Option<&CommonStatus> {
        Some(&self.status.as_ref()?.common)
    }
}

/// The identity an ownership record names.
pub fn record_key(record: &FilterOwnership) -> FilterKey {
    FilterKey {
        log_group_name: record.log_group_name.clone(),
        filter_name: record.filter_name.clone(),
    }
}

/// The claim `obj` makes on a filter it holds as `origin`.
pub fn claim(obj: &LogSubscription, origin: OwnershipOrigin) -> Claim {
    filter_ownership::claim(obj, origin)
}

/// `obj`'s claim on `key` at `location` (an account and region), from its status record, if it
/// has one.
pub fn recorded_claim(
    obj: &LogSubscription,
    location: &Location,
    key: &FilterKey,
) -> Option<Claim> {
    filter_ownership::recorded_claim(obj, location, &key.log_group_name, &key.filter_name)
}

/// The claims other objects than `me` hold on `key` at `location`.
pub fn claims_of_others<'a>(
    objects: impl IntoIterator<Item = &'a LogSubscription>,
    me: &LogSubscription,
    location: &Location,
    key: &FilterKey,
) -> Vec<Claim> {
    filter_ownership::claims_of_others(objects, me, location, &key.log_group_name, &key.filter_name)
}

/// Decides for the filter `what` (see [`filter_ownership::decide`]).
pub fn decide(
    what: &str,
    recorded: Option<OwnershipOrigin>,
    me: &Claim,
    adoption: Adoption,
    others: &[Claim],
    exists: bool,
) -> Decision {
    filter_ownership::decide(
        &LogSubscription::kind(&()),
        what,
        recorded,
        me,
        adoption,
        others,
        exists,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common_fields::CommonStatus;
    use crate::log_subscription::desired::tests::firehose_spec;
    use crate::log_subscription::spec::LogSubscriptionStatus;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use k8s_openapi::jiff::Timestamp;

    fn key() -> FilterKey {
        FilterKey {
            log_group_name: "/aws/lambda/checkout".into(),
            filter_name: "x".into(),
        }
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
        let crd = serde_json::to_value(LogSubscription::crd()).unwrap();
        let record = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"]
            ["properties"]["ownership"]["properties"];
        for field in ["ownerUid", "logGroupName", "filterName"] {
            assert_eq!(record[field]["type"], "string", "{field}");
            assert!(record[field].get("maxLength").is_none(), "{field}");
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
        let claim = recorded_claim(&o, &Location::of("us-east-1"), &record_key(&long)).unwrap();
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
}
