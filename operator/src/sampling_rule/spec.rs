//! The `SamplingRule` custom resource: spec and status.
//!
//! The spec mirrors X-Ray's SamplingRule (aws-sdk-xray 1.121). The request-matching fields are
//! optional here although X-Ray requires them on create: unset means the wildcard `*`, which is
//! what a user almost always wants, and it lets the `Default` rule (which only takes a rate and a
//! reservoir) be described without them.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common_fields::{CommonSpec, CommonStatus, XRayTags};

pub use crate::aws::sampling_rules::DEFAULT_RULE_NAME;

/// The sampling rule as it should be in X-Ray: which requests it matches and how many of them
/// are traced.
#[derive(CustomResource, Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq)]
#[kube(
    group = "cwo.dev",
    version = "v1alpha1",
    kind = "SamplingRule",
    namespaced,
    status = "SamplingRuleStatus",
    derive = "PartialEq",
    shortname = "cwsr",
    category = "cloudwatch",
    doc = "SamplingRule is an AWS X-Ray sampling rule managed by cloudwatch-operator: it decides which share of matching requests X-Ray traces. Requests are matched by service, host, HTTP method, URL path, resource ARN and attributes; the matching rule with the lowest priority number applies. The built-in rule named Default (priority 10000) can be observed, or have its fixedRate and reservoirSize managed.",
    printcolumn(name = "Priority", type_ = "integer", json_path = ".spec.priority", description = "Rules are evaluated in ascending priority"),
    printcolumn(name = "Rate", type_ = "number", json_path = ".spec.fixedRate", description = "Share of matching requests traced once the reservoir is used up"),
    printcolumn(name = "Ready", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].status"#, description = "The rule exists in AWS and matches the spec"),
    printcolumn(name = "Synced", type_ = "string", json_path = r#".status.conditions[?(@.type=="Synced")].status"#, description = "The last reconcile with AWS succeeded"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    printcolumn(name = "Reservoir", type_ = "integer", json_path = ".spec.reservoirSize", priority = 1, description = "Requests traced per second before fixedRate applies"),
    printcolumn(name = "AWS Name", type_ = "string", json_path = ".status.awsName", priority = 1, description = "Name of the rule in X-Ray"),
    printcolumn(name = "Region", type_ = "string", json_path = ".status.region", priority = 1, description = "AWS region of the rule"),
    validation = Rule::new(
        "(has(self.spec.ruleName) ? self.spec.ruleName : self.metadata.name) == (has(oldSelf.spec.ruleName) ? oldSelf.spec.ruleName : oldSelf.metadata.name)"
    ).message(
        "ruleName cannot change: X-Ray cannot rename a sampling rule. To rename, create a new SamplingRule with the new name and delete this one"
    ).field_path(".spec.ruleName"),
    validation = Rule::new("has(self.spec.ruleName) || size(self.metadata.name) <= 32").message(
        "metadata.name is longer than 32 characters, the X-Ray limit for rule names: set spec.ruleName"
    ).field_path(".spec.ruleName"),
)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new(
        "!has(self.ruleName) || self.ruleName != 'Default' || !(has(self.priority) || has(self.resourceArn) || has(self.serviceName) || has(self.serviceType) || has(self.host) || has(self.httpMethod) || has(self.urlPath) || has(self.version) || has(self.attributes) || has(self.samplingRateBoost))"
    ).message(
        "the Default rule only accepts fixedRate and reservoirSize: remove priority, resourceArn, serviceName, serviceType, host, httpMethod, urlPath, version, attributes and samplingRateBoost"
    ),
    validation = Rule::new(
        "(has(self.ruleName) && self.ruleName == 'Default') || (has(self.priority) && has(self.fixedRate) && has(self.reservoirSize))"
    ).message("priority, fixedRate and reservoirSize are required for a custom sampling rule"),
    validation = Rule::new(
        "!has(self.ruleName) || self.ruleName != 'Default' || self.deletionPolicy == 'Retain'"
    ).message(
        "X-Ray's Default rule cannot be deleted: set deletionPolicy: Retain"
    ).field_path(".deletionPolicy"),
)]
pub struct SamplingRuleSpec {
    /// Region, deletion policy, adoption and management policy, shared by every kind.
    #[serde(flatten)]
    pub common: CommonSpec,

    /// Name of the rule in X-Ray, 1 to 32 characters. Defaults to metadata.name, which must then
    /// be at most 32 characters. Set it to Default to observe or tune X-Ray's built-in rule (with
    /// deletionPolicy: Retain, since that rule cannot be deleted). X-Ray
    /// cannot rename a rule: this cannot be changed, added or removed later unless the resulting
    /// name stays the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 32))]
    pub rule_name: Option<String>,

    /// Matches the ARN of the AWS resource the service runs on, with * and ? wildcards; at most
    /// 500 characters. Default: * (any). Not allowed on the Default rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 500))]
    pub resource_arn: Option<String>,

    /// Evaluation order, 1 to 9999: the matching rule with the lowest number applies. Required
    /// for custom rules; not allowed on the Default rule (always 10000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 9999))]
    pub priority: Option<i32>,

    /// Share of matching requests to trace once the reservoir is used up, from 0 to 1 (0.05 is
    /// 5%). Required for custom rules; on the Default rule, unset leaves X-Ray's value as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 1))]
    pub fixed_rate: Option<f64>,

    /// Matching requests traced per second before fixedRate applies, shared by all instances of
    /// the service; at least 0. Required for custom rules; on the Default rule, unset leaves
    /// X-Ray's value as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub reservoir_size: Option<i32>,

    /// Matches the name the service reports in its segments, with * and ? wildcards; 1 to 64
    /// characters. Default: *. Not allowed on the Default rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub service_name: Option<String>,

    /// Matches the origin the service reports, for example AWS::EC2::Instance or
    /// AWS::ECS::Container, with wildcards; 1 to 64 characters. Default: *. Not allowed on the
    /// Default rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub service_type: Option<String>,

    /// Matches the host name of the request URL, with wildcards; 1 to 64 characters. Default:
    /// *. Not allowed on the Default rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub host: Option<String>,

    /// Matches the HTTP method of the request, for example GET, with wildcards; 1 to 10
    /// characters. Default: *. Not allowed on the Default rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 10))]
    pub http_method: Option<String>,

    /// Matches the path of the request URL, for example /api/*, with wildcards; 1 to 128
    /// characters. Default: *. Not allowed on the Default rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128))]
    pub url_path: Option<String>,

    /// Version of the sampling rule format. Only 1 exists, which is also the default. Cannot
    /// change: X-Ray fixes it at creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1))]
    #[x_kube(validation = Rule::new("self == oldSelf").message(
        "version cannot change: X-Ray fixes it when the rule is created"
    ))]
    pub version: Option<i32>,

    /// Matches request attributes (segment annotations), all of which must match: at most 5
    /// entries, keys and values of 1 to 32 characters, values with * and ? wildcards. Default:
    /// none. Not allowed on the Default rule.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend(
        "maxProperties" = 5,
        "additionalProperties" = { "type": "string", "minLength": 1, "maxLength": 32 }
    ))]
    #[x_kube(validation = Rule::new("self.all(k, size(k) >= 1 && size(k) <= 32)").message(
        "attribute keys must be 1 to 32 characters long"
    ))]
    pub attributes: BTreeMap<String, String>,

    /// Lets X-Ray raise the sampling rate temporarily when it detects anomalies. Default: no
    /// boost. Not allowed on the Default rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling_rate_boost: Option<SamplingRateBoost>,

    /// Tags on the rule: at most 48 (X-Ray allows 50 per rule, and the operator's two ownership
    /// tags take two of them); keys of 1 to 128 characters, values of at most 255, both made of
    /// letters, digits, spaces and + - = . _ : / only. Keys starting with aws: in any letter case
    /// (reserved by AWS) or cwo.dev/ (the operator's ownership tags) are refused. Default: none.
    #[serde(default, skip_serializing_if = "XRayTags::is_empty")]
    pub tags: XRayTags,
}

/// Temporary sampling increases when X-Ray detects anomalies.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SamplingRateBoost {
    /// Highest sampling rate a boost may apply, from 0 to 1.
    #[schemars(range(min = 0, max = 1))]
    pub max_rate: f64,

    /// Minutes during which at most one boost can start; at least 0.
    #[schemars(range(min = 0))]
    pub cooldown_window_minutes: i32,
}

/// What the operator last saw of the rule in X-Ray.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SamplingRuleStatus {
    /// Conditions, observed generation, ARN, region and AWS name, shared by every kind.
    #[serde(flatten)]
    pub common: CommonStatus,

    /// When X-Ray created the rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Time>,

    /// When the rule was last modified in X-Ray.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_at: Option<Time>,
}
