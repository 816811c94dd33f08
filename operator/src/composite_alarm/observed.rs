//! Step 2 of the CompositeAlarm reconcile: DescribeAlarms' composite alarm in the same normal
//! form as the desired configuration. The rule AWS stores is re-rendered canonically, so spacing
//! or quoting AWS may change is not mistaken for drift.

use super::desired::{CompositeConfig, CompositeFields, normalize};
use super::rule;
use crate::cloudwatch_alarm::spec::ActionConfiguration;
use aws_sdk_cloudwatch::types as cw;

/// The configuration of a composite alarm as AWS reports it.
pub fn observed(alarm: &cw::CompositeAlarm) -> CompositeConfig {
    let raw_rule = alarm.alarm_rule.clone().unwrap_or_default();
    CompositeConfig {
        name: alarm.alarm_name.clone().unwrap_or_default(),
        fields: normalize(CompositeFields {
            description: alarm.alarm_description.clone(),
            actions_enabled: alarm.actions_enabled.unwrap_or(true),
            ok_actions: alarm.ok_actions().to_vec(),
            alarm_actions: alarm.alarm_actions().to_vec(),
            insufficient_data_actions: alarm.insufficient_data_actions().to_vec(),
            // A rule that does not parse cannot equal ours: keep it as AWS wrote it.
            alarm_rule: rule::canonical(&raw_rule).unwrap_or(raw_rule),
            actions_suppressor: alarm.actions_suppressor.clone(),
            actions_suppressor_wait_period: alarm.actions_suppressor_wait_period,
            actions_suppressor_extension_period: alarm.actions_suppressor_extension_period,
            action_configuration: alarm
                .action_configuration
                .as_ref()
                .map(ActionConfiguration::from_sdk),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudwatch_alarm::sdk_client as client;
    use crate::cloudwatch_alarm::spec::AlarmTagsPropagation;
    use crate::composite_alarm::desired::{desired, put_request};
    use crate::composite_alarm::rule::ResolvedRule;
    use crate::composite_alarm::rule::tests::{NoisyWriter, rule_strategy};
    use crate::composite_alarm::spec::CompositeAlarmSpec;
    use aws_sdk_cloudwatch::operation::put_composite_alarm::builders::PutCompositeAlarmFluentBuilder;
    use proptest::prelude::*;

    /// What CloudWatch stores from a PutCompositeAlarm, as DescribeAlarms then reports it: the
    /// rule in a spelling of its own (other spacing, quotes and parentheses, written by
    /// `spelling`), action lists in an order of its own (reversed), ActionsEnabled always
    /// present, the suppressor's periods only with a suppressor. With `defaults`, the periods of
    /// an alarm without suppressor come back as 0 and an absent description as empty.
    fn aws_after_put(
        request: &PutCompositeAlarmFluentBuilder,
        rule: &ResolvedRule,
        spelling: &[u8],
        defaults: bool,
    ) -> cw::CompositeAlarm {
        let reversed = |v: &Option<Vec<String>>| {
            Some(v.clone().unwrap_or_default().into_iter().rev().collect())
        };
        let mut writer = NoisyWriter {
            choices: spelling,
            next: 0,
            out: String::new(),
        };
        writer.rule(&rule.clone().normalize());
        let suppressor = request.get_actions_suppressor().clone();
        let period = |p: Option<i32>| match suppressor {
            Some(_) => p,
            None => defaults.then_some(0),
        };
        let name = request.get_alarm_name().clone().unwrap();
        cw::CompositeAlarm::builder()
            .alarm_arn(format!(
                "arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"
            ))
            .alarm_name(name)
            .set_alarm_description(
                request
                    .get_alarm_description()
                    .clone()
                    .or(defaults.then(String::new)),
            )
            .alarm_rule(writer.out)
            .actions_enabled(request.get_actions_enabled().unwrap_or(true))
            .set_ok_actions(reversed(request.get_ok_actions()))
            .set_alarm_actions(reversed(request.get_alarm_actions()))
            .set_insufficient_data_actions(reversed(request.get_insufficient_data_actions()))
            .set_actions_suppressor(suppressor.clone())
            .set_actions_suppressor_wait_period(period(
                *request.get_actions_suppressor_wait_period(),
            ))
            .set_actions_suppressor_extension_period(period(
                *request.get_actions_suppressor_extension_period(),
            ))
            .set_action_configuration(request.get_action_configuration().clone())
            .state_value(cw::StateValue::InsufficientData)
            .state_updated_timestamp(aws_smithy_types::DateTime::from_secs(1_700_000_000))
            .build()
    }

    fn arn_lists() -> impl Strategy<Value = Vec<String>> {
        proptest::collection::vec(
            "[a-z]{1,6}".prop_map(|t| format!("arn:aws:sns:us-east-1:123456789012:{t}")),
            0..4,
        )
    }

    prop_compose! {
        fn composite_spec()(
            description in proptest::option::of("[ -~]{0,20}"),
            actions_enabled in any::<bool>(),
            ok in arn_lists(),
            alarm in arn_lists(),
            insufficient in arn_lists(),
            suppressor in proptest::option::of((
                "[a-z-]{1,12}",
                1..=3600i32,
                1..=3600i32,
            )),
            propagation in proptest::option::of((
                any::<bool>(),
                proptest::collection::vec("[a-z]{1,5}", 0..3),
                any::<bool>(),
            )),
        ) -> CompositeAlarmSpec {
            CompositeAlarmSpec {
                description,
                actions_enabled,
                ok_actions: ok,
                alarm_actions: alarm,
                insufficient_data_actions: insufficient,
                actions_suppressor: suppressor.as_ref().map(|(s, _, _)| s.clone()),
                actions_suppressor_wait_period: suppressor.as_ref().map(|(_, w, _)| *w),
                actions_suppressor_extension_period: suppressor.as_ref().map(|(_, _, e)| *e),
                action_configuration: propagation.map(|(enabled, keys, include)| {
                    ActionConfiguration {
                        alarm_tags_propagation: Some(AlarmTagsPropagation {
                            enabled,
                            included_tag_keys: if include { keys.clone() } else { vec![] },
                            excluded_tag_keys: if include { vec![] } else { keys },
                        }),
                    }
                }),
                ..Default::default()
            }
        }
    }

    proptest! {
        #[test]
        fn a_composite_just_put_reads_back_as_its_desired_configuration(
            spec in composite_spec(),
            rule in rule_strategy(),
            spelling in proptest::collection::vec(any::<u8>(), 1..32),
            defaults in any::<bool>(),
        ) {
            let d = desired(&spec, "c", &rule);
            let request = put_request(client().put_composite_alarm(), &d.name, &d.fields, None);
            let o = observed(&aws_after_put(&request, &rule, &spelling, defaults));
            prop_assert_eq!(o, d);
        }

        #[test]
        fn a_rule_changed_in_aws_reads_back_as_a_change(
            spec in composite_spec(),
            rule in rule_strategy(),
            other in rule_strategy(),
            spelling in proptest::collection::vec(any::<u8>(), 1..32),
        ) {
            prop_assume!(rule.clone().normalize() != other.clone().normalize());
            let d = desired(&spec, "c", &rule);
            let request = put_request(client().put_composite_alarm(), &d.name, &d.fields, None);
            let o = observed(&aws_after_put(&request, &other, &spelling, true));
            prop_assert_ne!(o.fields.alarm_rule, d.fields.alarm_rule);
        }
    }
}
