//! Step 2 of the SamplingRule reconcile: a rule as GetSamplingRules (or a create or update call)
//! returned it, in the same normal form as the desired configuration, plus what the status
//! reports.

use super::desired::{RuleFields, normal_rate};
use super::spec::SamplingRateBoost;
use crate::aws::wire::time;
use aws_sdk_xray::types as xray;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// What the status reports about a rule.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuleLive {
    pub arn: Option<String>,
    pub created_at: Option<Time>,
    pub modified_at: Option<Time>,
}

/// The configuration of a rule as X-Ray reports it. X-Ray may leave out attributes when there
/// are none; that is the same as an empty set.
pub fn observed(rule: &xray::SamplingRule) -> RuleFields {
    RuleFields {
        resource_arn: rule.resource_arn.clone(),
        priority: rule.priority,
        fixed_rate: normal_rate(rule.fixed_rate),
        reservoir_size: rule.reservoir_size,
        service_name: rule.service_name.clone(),
        service_type: rule.service_type.clone(),
        host: rule.host.clone(),
        http_method: rule.http_method.clone(),
        url_path: rule.url_path.clone(),
        version: rule.version,
        attributes: rule
            .attributes
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        sampling_rate_boost: rule
            .sampling_rate_boost
            .as_ref()
            .map(|b| SamplingRateBoost {
                max_rate: normal_rate(b.max_rate),
                cooldown_window_minutes: b.cooldown_window_minutes,
            }),
    }
}

/// What the status reports of a rule record.
pub fn live(record: &xray::SamplingRuleRecord) -> RuleLive {
    RuleLive {
        arn: record
            .sampling_rule
            .as_ref()
            .and_then(|r| r.rule_arn.clone()),
        created_at: record.created_at.as_ref().and_then(time),
        modified_at: record.modified_at.as_ref().and_then(time),
    }
}
