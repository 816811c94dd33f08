//! Step 1 of the CompositeAlarm reconcile: the spec's rule as one AST (from the AWS expression or
//! the structured form), its Alarm references resolved to CloudWatch names, rendered canonically,
//! and the full PutCompositeAlarm request in the same normal form the observation maps to.

use super::rule::{self, ChildRef, ResolvedRule, Rule};
use super::spec::CompositeAlarmSpec;
use crate::aws::cloudwatch_tags::sdk_tags;
use crate::cloudwatch_alarm::spec::{ActionConfiguration, normalize_actions};
use crate::error::Error;
use aws_sdk_cloudwatch::operation::put_composite_alarm::builders::PutCompositeAlarmFluentBuilder;
use serde::Serialize;
use std::collections::BTreeMap;

/// The composite alarm's PutCompositeAlarm fields in normal form (sets sorted, empty values
/// removed, the rule rendered canonically).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CompositeFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub actions_enabled: bool,
    pub ok_actions: Vec<String>,
    pub alarm_actions: Vec<String>,
    pub insufficient_data_actions: Vec<String>,
    pub alarm_rule: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actions_suppressor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actions_suppressor_wait_period: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actions_suppressor_extension_period: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action_configuration: Option<ActionConfiguration>,
}

/// A composite alarm's name and normalized fields.
#[derive(Clone, Debug, PartialEq)]
pub struct CompositeConfig {
    pub name: String,
    pub fields: CompositeFields,
}

/// The AWS name: `spec.alarmName`, else the object's name.
pub fn aws_name(spec: &CompositeAlarmSpec, object_name: &str) -> String {
    spec.alarm_name
        .clone()
        .unwrap_or_else(|| object_name.to_string())
}

/// The spec's rule as an AST, validated. Errors are spec errors (terminal).
pub fn spec_rule(spec: &CompositeAlarmSpec) -> Result<Rule<ChildRef>, Error> {
    let rule = match (&spec.alarm_rule, &spec.rule) {
        (Some(expression), None) => Rule::from(
            rule::parse(expression)
                .map_err(|e| Error::invalid_spec(format!("spec.alarmRule: {e}")))?,
        ),
        (None, Some(node)) => {
            Rule::try_from(node).map_err(|e| Error::invalid_spec(format!("spec.rule: {e}")))?
        }
        _ => {
            return Err(Error::invalid_spec(
                "set exactly one of spec.alarmRule or spec.rule",
            ));
        }
    };
    rule.validate()
        .map_err(|e| Error::invalid_spec(format!("rule: {e}")))?;
    Ok(rule)
}

/// Checks the resolved rule against AWS's limits (length once rendered, children, elements).
pub fn validate_resolved(resolved: &ResolvedRule) -> Result<(), Error> {
    resolved
        .validate()
        .map_err(|e| Error::invalid_spec(format!("rule: {e}")))
}

/// The desired configuration for `spec` with its rule resolved.
pub fn desired(
    spec: &CompositeAlarmSpec,
    object_name: &str,
    resolved: &ResolvedRule,
) -> CompositeConfig {
    CompositeConfig {
        name: aws_name(spec, object_name),
        fields: normalize(CompositeFields {
            description: spec.description.clone(),
            actions_enabled: spec.actions_enabled,
            ok_actions: spec.ok_actions.clone(),
            alarm_actions: spec.alarm_actions.clone(),
            insufficient_data_actions: spec.insufficient_data_actions.clone(),
            alarm_rule: resolved.render(),
            actions_suppressor: spec.actions_suppressor.clone(),
            actions_suppressor_wait_period: spec.actions_suppressor_wait_period,
            actions_suppressor_extension_period: spec.actions_suppressor_extension_period,
            action_configuration: spec.action_configuration.clone(),
        }),
    }
}

/// Normal form. Idempotent.
pub fn normalize(mut f: CompositeFields) -> CompositeFields {
    f.description = f.description.filter(|d| !d.is_empty());
    normalize_actions([
        &mut f.ok_actions,
        &mut f.alarm_actions,
        &mut f.insufficient_data_actions,
    ]);
    f.actions_suppressor = f.actions_suppressor.filter(|s| !s.is_empty());
    if f.actions_suppressor.is_none() {
        // AWS reports the periods only with a suppressor.
        f.actions_suppressor_wait_period = None;
        f.actions_suppressor_extension_period = None;
    }
    f.action_configuration = f.action_configuration.map(ActionConfiguration::normalized);
    f
}

/// Fills a PutCompositeAlarm request. `tags` only on create: AWS ignores them on update.
pub fn put_request(
    b: PutCompositeAlarmFluentBuilder,
    name: &str,
    f: &CompositeFields,
    tags: Option<&BTreeMap<String, String>>,
) -> PutCompositeAlarmFluentBuilder {
    let action_configuration = f.action_configuration.as_ref();
    b.alarm_name(name)
        .alarm_rule(&f.alarm_rule)
        .set_alarm_description(f.description.clone())
        .actions_enabled(f.actions_enabled)
        .set_ok_actions(Some(f.ok_actions.clone()))
        .set_alarm_actions(Some(f.alarm_actions.clone()))
        .set_insufficient_data_actions(Some(f.insufficient_data_actions.clone()))
        .set_actions_suppressor(f.actions_suppressor.clone())
        .set_actions_suppressor_wait_period(f.actions_suppressor_wait_period)
        .set_actions_suppressor_extension_period(f.actions_suppressor_extension_period)
        .set_action_configuration(action_configuration.and_then(ActionConfiguration::to_sdk))
        .set_tags(tags.map(sdk_tags))
}
