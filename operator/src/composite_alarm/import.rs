//! An existing composite alarm as the CompositeAlarm that manages it (`import`). The rule is
//! written in the structured form, each alarm this import also brings in as an `alarmRef` to its
//! Alarm object; a rule the structured form cannot hold (deeper than its four levels, longer
//! lists than it allows) is kept as the `alarmRule` expression AWS holds.

use super::desired::{desired, spec_rule};
use super::observed::observed;
use super::rule::{self, ChildRef, to_structured};
use super::spec::{CompositeAlarm, CompositeAlarmSpec};
use crate::aws::Aws;
use crate::cloudwatch_alarm::import::{self, ALARM_KIND};
use crate::common_fields::{CommonSpec, Tags};
use crate::error::Result;
use crate::runtime::import::{Found, ImportNames, Importable, user_tags};
use aws_sdk_cloudwatch::types::CompositeAlarm as CompositeRecord;
use kube::ResourceExt;
use std::collections::BTreeMap;

impl Importable for CompositeAlarm {
    type Record = CompositeRecord;
    const AWS_NOUN: &'static str = "composite alarm";

    async fn list(aws: &Aws, region: &str, prefix: &str) -> Result<Vec<CompositeRecord>> {
        import::list::<Self>(aws, region, prefix).await
    }

    async fn tags(
        aws: &Aws,
        region: &str,
        record: &CompositeRecord,
    ) -> Result<BTreeMap<String, String>> {
        import::tags::<Self>(aws, region, record).await
    }

    fn record_name(record: &CompositeRecord) -> &str {
        record.alarm_name().unwrap_or_default()
    }

    fn manifest(
        found: &Found<CompositeRecord>,
        name: &str,
        common: CommonSpec,
        names: &ImportNames,
    ) -> CompositeAlarm {
        let region = common.region.clone().unwrap_or_default();
        let (alarm_rule, rule) =
            structured_rule(found.record.alarm_rule().unwrap_or_default(), |alarm| {
                names.object_name(ALARM_KIND, &region, alarm)
            });
        let fields = observed(&found.record).fields;
        let spec = CompositeAlarmSpec {
            common,
            alarm_name: Some(Self::record_name(&found.record).to_string()),
            description: fields.description,
            alarm_rule,
            rule,
            actions_enabled: fields.actions_enabled,
            alarm_actions: fields.alarm_actions,
            ok_actions: fields.ok_actions,
            insufficient_data_actions: fields.insufficient_data_actions,
            actions_suppressor: fields.actions_suppressor,
            actions_suppressor_wait_period: fields.actions_suppressor_wait_period,
            actions_suppressor_extension_period: fields.actions_suppressor_extension_period,
            action_configuration: fields.action_configuration,
            tags: Tags(user_tags(&found.tags)),
        };
        CompositeAlarm::new(name, spec)
    }

    fn same_request(a: &CompositeAlarm, b: &CompositeAlarm, names: &ImportNames) -> bool {
        let request = |c: &CompositeAlarm| {
            let rule = spec_rule(&c.spec).ok()?;
            let resolved = rule
                .resolve(|object| names.identity(ALARM_KIND, object).map(str::to_string))
                .ok()?;
            Some(desired(&c.spec, &c.name_any(), &resolved))
        };
        matches!((request(a), request(b)), (Some(x), Some(y)) if x == y)
    }
}

/// The rule AWS holds (`expression`) as the spec writes it: `(alarmRule, rule)`, exactly one of
/// them set. Each alarm the rule names that `object` knows (by name, not ARN: an ARN pins an
/// account and region the reference must keep) becomes an `alarmRef`. An expression that does
/// not parse is kept as written, for `plan` to report.
fn structured_rule<'a>(
    expression: &str,
    object: impl Fn(&str) -> Option<&'a str>,
) -> (Option<String>, Option<super::spec::AlarmRuleNode>) {
    let Ok(parsed) = rule::parse(expression) else {
        return (Some(expression.to_string()), None);
    };
    let with_refs = parsed.map_alarms(&mut |alarm| match object(alarm) {
        Some(name) => ChildRef::Object(name.to_string()),
        None => ChildRef::Name(alarm.clone()),
    });
    match to_structured(&with_refs) {
        Some(node) => (None, Some(node)),
        None => (Some(expression.to_string()), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::composite_alarm::rule::ResolvedRule;
    use crate::runtime::import::{TEST_REGION as REGION, import_one};

    /// A composite as DescribeAlarms reports one the AWS CLI made with a rule and one action:
    /// ActionsEnabled, an empty description and zero suppressor periods filled in by AWS.
    fn cli_composite(name: &str, rule: &str) -> CompositeRecord {
        CompositeRecord::builder()
            .alarm_name(name)
            .alarm_arn(format!(
                "arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"
            ))
            .alarm_rule(rule)
            .alarm_description("")
            .actions_enabled(true)
            .alarm_actions("arn:aws:sns:us-east-1:123456789012:pager")
            .actions_suppressor_wait_period(0)
            .actions_suppressor_extension_period(0)
            .build()
    }

    fn found(record: CompositeRecord) -> Found<CompositeRecord> {
        Found {
            record,
            tags: BTreeMap::from([("team".to_string(), "web".to_string())]),
        }
    }

    /// The PutCompositeAlarm fields the manifest asks for once applied, its alarmRefs resolved
    /// to the alarms the import named them after.
    fn applied_request(
        manifest: &serde_yaml::Value,
        names: &ImportNames,
    ) -> super::super::desired::CompositeConfig {
        let applied: CompositeAlarm = serde_yaml::from_value(manifest.clone()).unwrap();
        let resolved: ResolvedRule = spec_rule(&applied.spec)
            .unwrap()
            .resolve(|object| names.identity(ALARM_KIND, object).map(str::to_string))
            .unwrap();
        desired(&applied.spec, &applied.name_any(), &resolved)
    }

    #[test]
    fn an_imported_composite_refers_to_imported_alarms_and_plans_no_change() {
        let mut names = ImportNames::default();
        names.assign(ALARM_KIND, REGION, "api-5xx", "api-5xx");
        let latency = names.assign(ALARM_KIND, REGION, "API Latency", "API Latency");
        // Imported in another region: not this composite's child.
        names.assign(ALARM_KIND, "eu-west-1", "deploy", "deploy");
        let record = cli_composite(
            "api-down",
            r#"ALARM(api-5xx) AND (ALARM("API Latency") OR AT_LEAST(1, ALARM, (api-5xx, deploy))) AND NOT ALARM(deploy)"#,
        );
        let imported = import_one::<CompositeAlarm>(found(record.clone()), &mut names).unwrap();
        assert_eq!(imported.name, "api-down");
        let manifest = imported.manifest;
        let yaml = serde_yaml::to_string(&manifest).unwrap();
        assert_eq!(
            yaml,
            format!(
                "apiVersion: cwo.dev/v1alpha1
kind: CompositeAlarm
metadata:
  name: api-down
spec:
  region: us-east-1
  deletionPolicy: Retain
  adoption: IfUnowned
  rule:
    allOf:
    - alarm:
        alarmRef: api-5xx
    - anyOf:
      - alarm:
          alarmRef: {latency}
      - atLeast:
          count: 1
          alarmRefs:
          - api-5xx
          alarmNames:
          - deploy
    - not:
        alarm:
          alarmName: deploy
  alarmActions:
  - arn:aws:sns:us-east-1:123456789012:pager
  tags:
    team: web
"
            )
        );
        // Applied as written, it asks AWS for what AWS holds.
        assert_eq!(applied_request(&manifest, &names), observed(&record));
    }

    #[test]
    fn a_rule_too_deep_for_the_structured_form_stays_the_expression_aws_holds() {
        let mut names = ImportNames::default();
        let deep = "NOT (ALARM(a) AND NOT (ALARM(b) OR NOT (ALARM(c) AND ALARM(d))))";
        let record = cli_composite("deep", deep);
        let manifest = import_one::<CompositeAlarm>(found(record.clone()), &mut names)
            .unwrap()
            .manifest;
        assert_eq!(manifest["spec"]["alarmRule"].as_str(), Some(deep));
        assert!(manifest["spec"].get("rule").is_none());
        assert_eq!(applied_request(&manifest, &names), observed(&record));
    }

    #[test]
    fn an_arn_in_the_rule_is_never_turned_into_an_alarm_ref() {
        let mut names = ImportNames::default();
        names.assign(ALARM_KIND, REGION, "cpu", "cpu");
        let arn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu";
        let (expression, node) = structured_rule(&format!("ALARM(\"{arn}\")"), |a| {
            names.object_name(ALARM_KIND, REGION, a)
        });
        assert_eq!(expression, None);
        let condition = node.unwrap().alarm.unwrap();
        assert_eq!(condition.alarm_name.as_deref(), Some(arn));
        assert_eq!(condition.alarm_ref, None);
    }

    #[test]
    fn a_rule_that_does_not_parse_is_kept_as_written() {
        assert_eq!(
            structured_rule("ALARM(a) XOR ALARM(b)", |_| None),
            (Some("ALARM(a) XOR ALARM(b)".to_string()), None)
        );
    }
}
