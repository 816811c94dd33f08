//! Who owns a metric filter: the ownership recorded in MetricFilter objects' status, weighed as
//! every CloudWatch Logs filter's is (see `crate::filter_ownership`).

use super::desired::FilterKey;
use super::spec::MetricFilter;
use crate::aws::Location;
use crate::common_fields::{Adoption, CommonStatus};
use crate::filter_ownership::{self, FilterOwner};
pub use crate::filter_ownership::{Claim, Decision, FilterOwnership, OwnershipOrigin, own_record};
use kube::Resource;

impl FilterOwner for MetricFilter {
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
pub fn claim(obj: &MetricFilter, origin: OwnershipOrigin) -> Claim {
    filter_ownership::claim(obj, origin)
}

/// The claims other objects than `me` hold on `key` at `location` (an account and region).
pub fn claims_of_others<'a>(
    objects: impl IntoIterator<Item = &'a MetricFilter>,
    me: &MetricFilter,
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
        &MetricFilter::kind(&()),
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
    use crate::metric_filter::desired::tests::errors_spec;
    use crate::metric_filter::spec::MetricFilterStatus;

    fn object(ns: &str, uid: &str, record: Option<FilterOwnership>) -> MetricFilter {
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

    fn key() -> FilterKey {
        FilterKey {
            log_group_name: "/aws/lambda/checkout".into(),
            filter_name: "x".into(),
        }
    }

    #[test]
    fn another_metric_filters_record_is_a_claim_named_with_its_kind() {
        let record = FilterOwnership {
            origin: OwnershipOrigin::Created,
            owner_uid: "u-b".into(),
            log_group_name: key().log_group_name,
            filter_name: key().filter_name,
        };
        let me = object("a", "u-a", None);
        let theirs = object("b", "u-b", Some(record));
        let others = claims_of_others([&theirs], &me, &Location::of("us-east-1"), &key());
        assert_eq!(others.len(), 1);
        let d = decide(
            "metric filter \"x\"",
            None,
            &claim(&me, OwnershipOrigin::Adopted),
            Adoption::IfUnowned,
            &others,
            true,
        );
        assert!(
            matches!(&d, Decision::Refuse { message } if message.contains("MetricFilter b/x")),
            "{d:?}"
        );
    }
}
