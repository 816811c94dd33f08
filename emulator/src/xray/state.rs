//! X-Ray state of one account and region: sampling rules, starting with `Default`.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::arn;
use crate::signing_scope::Scope;
use crate::timestamp::Timestamp;

/// The rule every account has; it can be read and have its rate and reservoir changed.
pub const DEFAULT_RULE_NAME: &str = "Default";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SamplingRateBoost {
    #[serde(rename = "MaxRate", skip_serializing_if = "Option::is_none")]
    pub max_rate: Option<f64>,
    #[serde(
        rename = "CooldownWindowMinutes",
        skip_serializing_if = "Option::is_none"
    )]
    pub cooldown_window_minutes: Option<i64>,
}

/// `SamplingRule`, spelled as the API spells it. Every member is optional so the same type
/// reads requests (where AWS's required members may be missing) and writes responses.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SamplingRule {
    #[serde(rename = "RuleName", skip_serializing_if = "Option::is_none")]
    pub rule_name: Option<String>,
    #[serde(rename = "RuleARN", skip_serializing_if = "Option::is_none")]
    pub rule_arn: Option<String>,
    #[serde(rename = "ResourceARN", skip_serializing_if = "Option::is_none")]
    pub resource_arn: Option<String>,
    #[serde(rename = "Priority", skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    #[serde(rename = "FixedRate", skip_serializing_if = "Option::is_none")]
    pub fixed_rate: Option<f64>,
    #[serde(rename = "ReservoirSize", skip_serializing_if = "Option::is_none")]
    pub reservoir_size: Option<i64>,
    #[serde(rename = "ServiceName", skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    #[serde(rename = "ServiceType", skip_serializing_if = "Option::is_none")]
    pub service_type: Option<String>,
    #[serde(rename = "Host", skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(rename = "HTTPMethod", skip_serializing_if = "Option::is_none")]
    pub http_method: Option<String>,
    #[serde(rename = "URLPath", skip_serializing_if = "Option::is_none")]
    pub url_path: Option<String>,
    #[serde(rename = "Version", skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    #[serde(rename = "Attributes", skip_serializing_if = "Option::is_none")]
    pub attributes: Option<BTreeMap<String, String>>,
    #[serde(rename = "SamplingRateBoost", skip_serializing_if = "Option::is_none")]
    pub sampling_rate_boost: Option<SamplingRateBoost>,
}

/// `SamplingRuleRecord`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SamplingRuleRecord {
    #[serde(rename = "SamplingRule")]
    pub sampling_rule: SamplingRule,
    #[serde(rename = "CreatedAt")]
    pub created_at: Timestamp,
    #[serde(rename = "ModifiedAt")]
    pub modified_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredRule {
    pub record: SamplingRuleRecord,
    pub tags: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct XrayState {
    /// Rules by name, `Default` included.
    pub rules: HashMap<String, StoredRule>,
}

impl XrayState {
    /// A region's X-Ray state as AWS creates it: only the `Default` rule (priority 10000,
    /// 1 request per second and 5% of the rest, matching everything).
    pub fn new(scope: &Scope, now: Timestamp) -> Self {
        let rule = SamplingRule {
            rule_name: Some(DEFAULT_RULE_NAME.into()),
            rule_arn: Some(arn::sampling_rule(scope, DEFAULT_RULE_NAME)),
            resource_arn: Some("*".into()),
            priority: Some(10000),
            fixed_rate: Some(0.05),
            reservoir_size: Some(1),
            service_name: Some("*".into()),
            service_type: Some("*".into()),
            host: Some("*".into()),
            http_method: Some("*".into()),
            url_path: Some("*".into()),
            version: Some(1),
            attributes: Some(BTreeMap::new()),
            sampling_rate_boost: None,
        };
        let stored = StoredRule {
            record: SamplingRuleRecord {
                sampling_rule: rule,
                created_at: Timestamp(0.0),
                modified_at: now,
            },
            tags: BTreeMap::new(),
        };
        Self {
            rules: HashMap::from([(DEFAULT_RULE_NAME.to_string(), stored)]),
        }
    }
}
