//! PutCompositeAlarm: create or fully replace a composite alarm.
//!
//! Same replace semantics as PutMetricAlarm (state kept, tags only on create). The rule is
//! parsed; every alarm it names must already exist (AWS: "Could not save the composite alarm
//! as alarms [...] in the alarm rule do not exist"); an alarm can be named by at most 150
//! composites. Cycles are accepted, as AWS accepts them. ActionsSuppressor needs both the wait
//! and extension periods.

use super::alarm_checks::{
    ActionLists, AlarmKind, check_action_arns, check_common, check_creation_tags, check_tag_rules,
};
use super::composite_rule::Rule;
use super::model::{AlarmState, CompositeAlarm, PutCompositeAlarmInput};
use super::state::{AlarmRecord, CloudWatchState, StoredAlarm};
use super::{invalid_parameter_combination, validation_error};
use crate::arn::{self, Arn};
use crate::call::Call;
use crate::error::AwsResult;
use crate::signing_scope::Scope;
use crate::tags;
use crate::validation::Violations;

/// AWS: "one alarm can be included in as many as 150 composite alarms".
const MAX_PARENTS: usize = 150;

pub fn put_composite_alarm(call: &mut Call<'_>, input: PutCompositeAlarmInput) -> AwsResult<()> {
    let mut v = Violations::new();
    check_common(
        &mut v,
        input.alarm_name.as_ref(),
        input.alarm_description.as_deref(),
        [
            ("oKActions", input.ok_actions.as_ref()),
            ("alarmActions", input.alarm_actions.as_ref()),
            (
                "insufficientDataActions",
                input.insufficient_data_actions.as_ref(),
            ),
        ],
    );
    v.required("alarmRule", input.alarm_rule.as_ref())
        .length("alarmRule", input.alarm_rule.as_deref(), 1, Some(10240))
        .length(
            "actionsSuppressor",
            input.actions_suppressor.as_deref(),
            1,
            Some(1600),
        );
    check_creation_tags(&mut v, input.tags.as_ref());
    v.finish(validation_error)?;

    let name = input.alarm_name.clone().expect("checked above");
    let rule_text = input.alarm_rule.clone().expect("checked above");
    let rule = Rule::parse(&rule_text)
        .map_err(|e| validation_error(format!("Error in AlarmRule [{e}]")))?;
    let cloudwatch = &mut call.state.cloudwatch;
    let children = resolve_children(cloudwatch, call.scope, &rule)?;
    check_suppressor(&input)?;
    check_action_arns(
        ActionLists {
            ok: input.ok_actions.as_deref(),
            alarm: input.alarm_actions.as_deref(),
            insufficient_data: input.insufficient_data_actions.as_deref(),
        },
        AlarmKind::Composite,
    )?;
    check_tag_rules(input.tags.as_ref())?;

    let (state, tags, old_children) = match cloudwatch.alarms.get(&name) {
        Some(existing) if !existing.alarm.is_composite() => {
            return Err(validation_error(format!(
                "The alarm {name} already exists as a metric alarm"
            )));
        }
        Some(existing) => (
            existing.alarm.state(),
            existing.tags.clone(),
            existing.children.clone(),
        ),
        None => (
            AlarmState::initial(call.now),
            tags::to_map(input.tags.as_deref()),
            Vec::new(),
        ),
    };
    for child in children.iter().filter(|c| !old_children.contains(c)) {
        if cloudwatch.parents_of(child).count() >= MAX_PARENTS {
            return Err(validation_error(format!(
                "The alarm {child} is already used by {MAX_PARENTS} composite alarms"
            )));
        }
    }
    let alarm = CompositeAlarm {
        actions_enabled: input.actions_enabled.unwrap_or(true),
        alarm_actions: input.alarm_actions.unwrap_or_default(),
        alarm_arn: arn::alarm(call.scope, &name),
        alarm_configuration_updated_timestamp: call.now,
        alarm_description: input.alarm_description,
        alarm_name: name.clone(),
        alarm_rule: rule_text,
        insufficient_data_actions: input.insufficient_data_actions.unwrap_or_default(),
        ok_actions: input.ok_actions.unwrap_or_default(),
        state_reason: state.reason,
        state_reason_data: state.reason_data,
        state_updated_timestamp: state.updated,
        state_value: state.value,
        state_transitioned_timestamp: state.transitioned,
        actions_suppressor: input.actions_suppressor,
        actions_suppressor_wait_period: input.actions_suppressor_wait_period,
        actions_suppressor_extension_period: input.actions_suppressor_extension_period,
    };
    cloudwatch.unlink(&name, &old_children);
    cloudwatch.link(&name, &children);
    cloudwatch.alarms.insert(
        name.clone(),
        StoredAlarm {
            alarm: AlarmRecord::Composite(Box::new(alarm)),
            tags,
            children,
        },
    );
    // CloudWatch evaluates the rule as soon as it is saved; parents follow a change.
    if cloudwatch.evaluate_composite(&name, call.now) {
        cloudwatch.propagate_state(&name, call.now);
    }
    Ok(())
}

/// The names of the alarms the rule references; every one must exist in this account and
/// region (names given as ARNs are resolved).
fn resolve_children(
    cloudwatch: &CloudWatchState,
    scope: &Scope,
    rule: &Rule,
) -> AwsResult<Vec<String>> {
    let mut children = Vec::new();
    let mut missing = Vec::new();
    for reference in rule.children() {
        let name = match Arn::parse(&reference) {
            Some(arn) if arn.service == "cloudwatch" && arn.is_in(scope) => {
                arn.resource.strip_prefix("alarm:").map(str::to_string)
            }
            Some(_) => None,
            None => Some(reference.clone()),
        };
        match name.filter(|n| cloudwatch.alarms.contains_key(n)) {
            Some(name) if !children.contains(&name) => children.push(name),
            Some(_) => {}
            None => missing.push(reference),
        }
    }
    if !missing.is_empty() {
        return Err(validation_error(format!(
            "Could not save the composite alarm as alarms [{}] in the alarm rule do not exist",
            missing.join(", ")
        )));
    }
    Ok(children)
}

/// ActionsSuppressor, ActionsSuppressorWaitPeriod and ActionsSuppressorExtensionPeriod go
/// together.
fn check_suppressor(input: &PutCompositeAlarmInput) -> AwsResult<()> {
    let given = [
        input.actions_suppressor.is_some(),
        input.actions_suppressor_wait_period.is_some(),
        input.actions_suppressor_extension_period.is_some(),
    ];
    if given.iter().any(|g| *g) && !given.iter().all(|g| *g) {
        return Err(invalid_parameter_combination(
            "ActionsSuppressor, ActionsSuppressorWaitPeriod and ActionsSuppressorExtensionPeriod \
             must be specified together",
        ));
    }
    for period in [
        input.actions_suppressor_wait_period,
        input.actions_suppressor_extension_period,
    ]
    .into_iter()
    .flatten()
    {
        if period < 0 {
            return Err(validation_error(
                "Actions suppressor periods must not be negative",
            ));
        }
    }
    Ok(())
}
