//! Step 1 of the SamplingRule reconcile: the spec as the exact rule X-Ray should hold, with every
//! value X-Ray fills in filled in here (the matching fields default to `*`, the version to 1, the
//! attributes to none), so that comparing it with what GetSamplingRules returns finds no
//! difference when there is none.
//!
//! The `Default` rule is special: X-Ray keeps it in every account, and it accepts changes to its
//! fixed rate and reservoir only. Its desired state names just those two (each optional); every
//! other field is whatever X-Ray has.

use super::spec::{DEFAULT_RULE_NAME, SamplingRateBoost, SamplingRuleSpec};
use aws_sdk_xray::operation::create_sampling_rule::builders::CreateSamplingRuleFluentBuilder;
use aws_sdk_xray::operation::update_sampling_rule::builders::UpdateSamplingRuleFluentBuilder;
use aws_sdk_xray::types as xray;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// What X-Ray's matching fields default to: match anything.
pub const WILDCARD: &str = "*";
/// The only sampling rule format version X-Ray has.
pub const RULE_VERSION: i32 = 1;

/// A sampling rule's configuration in a normal form both the spec and X-Ray's answer map to.
/// Fields carry the spec's names, so a difference is reported as the user writes it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleFields {
    pub resource_arn: String,
    pub priority: i32,
    pub fixed_rate: f64,
    pub reservoir_size: i32,
    pub service_name: String,
    pub service_type: String,
    pub host: String,
    pub http_method: String,
    pub url_path: String,
    pub version: i32,
    pub attributes: BTreeMap<String, String>,
    pub sampling_rate_boost: Option<SamplingRateBoost>,
}

/// The rate and reservoir of the `Default` rule; `None` leaves X-Ray's value as it is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DefaultRuleSettings {
    pub fixed_rate: Option<f64>,
    pub reservoir_size: Option<i32>,
}

/// What the rule should be.
#[derive(Clone, Debug, PartialEq)]
pub enum DesiredRule {
    /// A rule the operator creates and manages in full.
    Custom(RuleFields),
    /// X-Ray's built-in `Default` rule: only its rate and reservoir are managed.
    Default(DefaultRuleSettings),
}

impl DesiredRule {
    /// The configuration the rule should have, given what X-Ray has now: a custom rule's own
    /// fields, or the `Default` rule as observed with the managed rate and reservoir applied.
    pub fn expected(&self, observed: &RuleFields) -> RuleFields {
        match self {
            DesiredRule::Custom(fields) => fields.clone(),
            DesiredRule::Default(settings) => RuleFields {
                fixed_rate: settings.fixed_rate.unwrap_or(observed.fixed_rate),
                reservoir_size: settings.reservoir_size.unwrap_or(observed.reservoir_size),
                ..observed.clone()
            },
        }
    }
}

/// The rule's name in X-Ray: `spec.ruleName`, else the object's name.
pub fn aws_name(spec: &SamplingRuleSpec, object_name: &str) -> String {
    spec.rule_name
        .clone()
        .unwrap_or_else(|| object_name.to_string())
}

/// Whether `name` is X-Ray's built-in rule.
pub fn is_default_rule(name: &str) -> bool {
    name == DEFAULT_RULE_NAME
}

/// The desired rule for `spec` on an object named `object_name`.
pub fn desired(spec: &SamplingRuleSpec, object_name: &str) -> DesiredRule {
    if is_default_rule(&aws_name(spec, object_name)) {
        return DesiredRule::Default(DefaultRuleSettings {
            fixed_rate: spec.fixed_rate.map(normal_rate),
            reservoir_size: spec.reservoir_size,
        });
    }
    let or_wildcard = |v: &Option<String>| v.clone().unwrap_or_else(|| WILDCARD.to_string());
    DesiredRule::Custom(RuleFields {
        resource_arn: or_wildcard(&spec.resource_arn),
        // The schema requires these three on custom rules; 0 only appears if it is bypassed, and
        // X-Ray then refuses the rule with its own message.
        priority: spec.priority.unwrap_or_default(),
        fixed_rate: normal_rate(spec.fixed_rate.unwrap_or_default()),
        reservoir_size: spec.reservoir_size.unwrap_or_default(),
        service_name: or_wildcard(&spec.service_name),
        service_type: or_wildcard(&spec.service_type),
        host: or_wildcard(&spec.host),
        http_method: or_wildcard(&spec.http_method),
        url_path: or_wildcard(&spec.url_path),
        version: spec.version.unwrap_or(RULE_VERSION),
        attributes: spec.attributes.clone(),
        sampling_rate_boost: spec.sampling_rate_boost.clone().map(|b| SamplingRateBoost {
            max_rate: normal_rate(b.max_rate),
            ..b
        }),
    })
}

/// -0.0 and 0.0 are the same rate.
pub fn normal_rate(rate: f64) -> f64 {
    if rate == 0.0 { 0.0 } else { rate }
}

/// The CreateSamplingRule request for a custom rule, with its tags (X-Ray takes tags on create
/// only; later changes go through TagResource).
pub fn create_request(
    b: CreateSamplingRuleFluentBuilder,
    name: &str,
    f: &RuleFields,
    tags: Vec<xray::Tag>,
) -> CreateSamplingRuleFluentBuilder {
    let rule = xray::SamplingRule::builder()
        .rule_name(name)
        .resource_arn(&f.resource_arn)
        .priority(f.priority)
        .fixed_rate(f.fixed_rate)
        .reservoir_size(f.reservoir_size)
        .service_name(&f.service_name)
        .service_type(&f.service_type)
        .host(&f.host)
        .http_method(&f.http_method)
        .url_path(&f.url_path)
        .version(f.version)
        .set_attributes(Some(attributes(&f.attributes)))
        .set_sampling_rate_boost(f.sampling_rate_boost.as_ref().map(boost));
    // Every required member is set above, so building cannot fail.
    let rule = rule
        .build()
        .expect("every required SamplingRule member is set");
    let b = b.sampling_rule(rule);
    if tags.is_empty() {
        b
    } else {
        b.set_tags(Some(tags))
    }
}

/// The UpdateSamplingRule request. The rule is named by RuleName only (X-Ray refuses RuleName
/// and RuleARN together). A custom rule sends every field the update shape has — the version is
/// not among them — including empty attributes, so attributes removed from the spec are removed
/// in X-Ray. The `Default` rule sends only the managed rate and reservoir: X-Ray refuses any
/// other change to it.
pub fn update_request(
    b: UpdateSamplingRuleFluentBuilder,
    name: &str,
    desired: &DesiredRule,
) -> UpdateSamplingRuleFluentBuilder {
    let update = xray::SamplingRuleUpdate::builder().rule_name(name);
    let update = match desired {
        DesiredRule::Default(s) => update
            .set_fixed_rate(s.fixed_rate)
            .set_reservoir_size(s.reservoir_size),
        DesiredRule::Custom(f) => update
            .resource_arn(&f.resource_arn)
            .priority(f.priority)
            .fixed_rate(f.fixed_rate)
            .reservoir_size(f.reservoir_size)
            .service_name(&f.service_name)
            .service_type(&f.service_type)
            .host(&f.host)
            .http_method(&f.http_method)
            .url_path(&f.url_path)
            .set_attributes(Some(attributes(&f.attributes)))
            .set_sampling_rate_boost(f.sampling_rate_boost.as_ref().map(boost)),
    };
    b.sampling_rule_update(update.build())
}

fn attributes(a: &BTreeMap<String, String>) -> HashMap<String, String> {
    a.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn boost(b: &SamplingRateBoost) -> xray::SamplingRateBoost {
    xray::SamplingRateBoost::builder()
        .max_rate(b.max_rate)
        .cooldown_window_minutes(b.cooldown_window_minutes)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn custom() -> SamplingRuleSpec {
        SamplingRuleSpec {
            priority: Some(100),
            fixed_rate: Some(0.05),
            reservoir_size: Some(2),
            service_name: Some("checkout".into()),
            ..Default::default()
        }
    }

    #[test]
    fn unset_matching_fields_are_wildcards_and_the_version_is_one() {
        let DesiredRule::Custom(f) = desired(&custom(), "checkout") else {
            panic!("a custom rule");
        };
        assert_eq!(f.service_name, "checkout");
        for v in [
            &f.resource_arn,
            &f.service_type,
            &f.host,
            &f.http_method,
            &f.url_path,
        ] {
            assert_eq!(v, WILDCARD);
        }
        assert_eq!(f.version, 1);
        assert!(f.attributes.is_empty());
        assert_eq!(f.sampling_rate_boost, None);
    }

    #[test]
    fn the_rule_name_defaults_to_the_object_name() {
        assert_eq!(aws_name(&custom(), "checkout"), "checkout");
        let named = SamplingRuleSpec {
            rule_name: Some("orders".into()),
            ..custom()
        };
        assert_eq!(aws_name(&named, "checkout"), "orders");
    }

    #[test]
    fn the_default_rule_manages_only_rate_and_reservoir() {
        let spec = SamplingRuleSpec {
            rule_name: Some("Default".into()),
            fixed_rate: Some(0.1),
            ..Default::default()
        };
        let d = desired(&spec, "xray-default");
        assert_eq!(
            d,
            DesiredRule::Default(DefaultRuleSettings {
                fixed_rate: Some(0.1),
                reservoir_size: None,
            })
        );
        let DesiredRule::Custom(observed) = desired(&custom(), "x") else {
            unreachable!()
        };
        let expected = d.expected(&observed);
        assert_eq!(expected.fixed_rate, 0.1);
        assert_eq!(expected.reservoir_size, observed.reservoir_size);
        assert_eq!(expected.priority, observed.priority);
        assert_eq!(expected.service_name, observed.service_name);
    }

    #[test]
    fn the_default_rule_update_carries_only_rate_and_reservoir() {
        let client = aws_sdk_xray::Client::from_conf(
            aws_sdk_xray::Config::builder()
                .behavior_version(aws_sdk_xray::config::BehaviorVersion::latest())
                .build(),
        );
        let d = DesiredRule::Default(DefaultRuleSettings {
            fixed_rate: Some(0.2),
            reservoir_size: Some(3),
        });
        let b = update_request(client.update_sampling_rule(), "Default", &d);
        let u = b.get_sampling_rule_update().clone().unwrap();
        assert_eq!(u.rule_name(), Some("Default"));
        assert_eq!(u.rule_arn(), None);
        assert_eq!(u.fixed_rate(), Some(0.2));
        assert_eq!(u.reservoir_size(), Some(3));
        assert_eq!(u.priority(), None);
        assert_eq!(u.resource_arn(), None);
        assert_eq!(u.service_name(), None);
        assert_eq!(u.attributes(), None);
        assert_eq!(u.sampling_rate_boost(), None);
    }

    #[test]
    fn a_custom_update_names_the_rule_once_and_clears_removed_attributes() {
        let client = aws_sdk_xray::Client::from_conf(
            aws_sdk_xray::Config::builder()
                .behavior_version(aws_sdk_xray::config::BehaviorVersion::latest())
                .build(),
        );
        let d = desired(&custom(), "checkout");
        let b = update_request(client.update_sampling_rule(), "checkout", &d);
        let u = b.get_sampling_rule_update().clone().unwrap();
        assert_eq!(u.rule_name(), Some("checkout"));
        assert_eq!(u.rule_arn(), None);
        assert_eq!(u.attributes().map(|a| a.len()), Some(0));
        assert_eq!(u.priority(), Some(100));
    }
}
