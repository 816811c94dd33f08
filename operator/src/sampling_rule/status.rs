//! Step 4 of the SamplingRule reconcile: the status to write, and the messages that explain it.
//! Pure and deterministic: the same observation gives the same status, so nothing is written when
//! nothing changed.

use super::observed::RuleLive;
use super::spec::SamplingRuleStatus;
use crate::common_fields::CommonStatus;

/// X-Ray's limit of custom sampling rules per account and region (the `Default` rule excluded).
pub const CUSTOM_RULE_LIMIT: usize = 25;

/// The status for the rule `aws_name` as last seen. `previous` keeps the conditions (the runtime
/// recomputes them) and what the runtime owns.
pub fn status(
    aws_name: &str,
    live: &RuleLive,
    previous: Option<&SamplingRuleStatus>,
) -> SamplingRuleStatus {
    let common = previous.map(|p| p.common.clone()).unwrap_or_default();
    SamplingRuleStatus {
        common: CommonStatus {
            arn: live.arn.clone(),
            aws_name: Some(aws_name.to_string()),
            ..common
        },
        created_at: live.created_at.clone(),
        modified_at: live.modified_at.clone(),
    }
}

/// The condition message when X-Ray refuses a new rule because the region is full. `custom` is
/// the number of custom rules the last listing found.
pub fn limit_message(what: &str, region: &str, custom: usize) -> String {
    format!(
        "cannot create {what}: {region} already has {custom} custom sampling rules and X-Ray \
         allows {CUSTOM_RULE_LIMIT} per region (the Default rule does not count). Delete rules \
         that are no longer needed; this object is retried when its spec changes"
    )
}

/// The condition message when a region has no `Default` rule, which X-Ray normally keeps in
/// every account; the operator cannot create it.
pub fn default_rule_missing(region: &str) -> String {
    format!(
        "X-Ray lists no Default sampling rule in {region}; X-Ray keeps one in every region and \
         it cannot be created. Checking again at the next resync"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use k8s_openapi::jiff::Timestamp;

    fn live() -> RuleLive {
        RuleLive {
            arn: Some("arn:aws:xray:us-east-1:123456789012:sampling-rule/checkout".into()),
            created_at: Some(Time(Timestamp::from_second(100).unwrap())),
            modified_at: Some(Time(Timestamp::from_second(200).unwrap())),
        }
    }

    #[test]
    fn status_is_deterministic() {
        let a = status("checkout", &live(), None);
        let b = status("checkout", &live(), Some(&a));
        assert_eq!(a, b);
        assert_eq!(a.common.aws_name.as_deref(), Some("checkout"));
        assert_eq!(a.common.arn, live().arn);
        assert_eq!(a.modified_at, live().modified_at);
    }

    #[test]
    fn the_status_keeps_what_the_runtime_owns() {
        let mut previous = status("checkout", &live(), None);
        previous.common.region = Some("us-east-1".into());
        previous.common.observed_generation = Some(3);
        let next = status("checkout", &live(), Some(&previous));
        assert_eq!(next.common.region.as_deref(), Some("us-east-1"));
        assert_eq!(next.common.observed_generation, Some(3));
    }

    #[test]
    fn the_limit_message_gives_the_count_and_the_limit() {
        let m = limit_message("sampling rule \"x\"", "us-east-1", 25);
        assert!(m.contains("already has 25 custom sampling rules"), "{m}");
        assert!(m.contains("allows 25 per region"), "{m}");
    }
}
