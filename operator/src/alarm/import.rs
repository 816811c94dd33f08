//! An existing metric alarm as the Alarm that manages it (`import`): DescribeAlarms' record in
//! the observed normal form, which is the spec's own shape.

use super::desired::desired;
use super::observed::observed;
use super::spec::Alarm;
use crate::aws::Aws;
use crate::cloudwatch_alarm::import;
use crate::common_fields::{CommonSpec, Tags};
use crate::error::Result;
use crate::runtime::import::{Found, ImportNames, Importable, user_tags};
use aws_sdk_cloudwatch::types::MetricAlarm;
use kube::ResourceExt;
use std::collections::BTreeMap;

impl Importable for Alarm {
    type Record = MetricAlarm;
    const AWS_NOUN: &'static str = "alarm";

    async fn list(aws: &Aws, region: &str, prefix: &str) -> Result<Vec<MetricAlarm>> {
        import::list::<Self>(aws, region, prefix).await
    }

    async fn tags(
        aws: &Aws,
        region: &str,
        record: &MetricAlarm,
    ) -> Result<BTreeMap<String, String>> {
        import::tags::<Self>(aws, region, record).await
    }

    fn record_name(record: &MetricAlarm) -> &str {
        record.alarm_name().unwrap_or_default()
    }

    fn manifest(
        found: &Found<MetricAlarm>,
        name: &str,
        common: CommonSpec,
        _names: &ImportNames,
    ) -> Alarm {
        let mut spec = observed(&found.record).fields;
        spec.common = common;
        spec.alarm_name = Some(Self::record_name(&found.record).to_string());
        spec.tags = Tags(user_tags(&found.tags));
        Alarm::new(name, spec)
    }

    fn same_request(a: &Alarm, b: &Alarm, _names: &ImportNames) -> bool {
        desired(&a.spec, &a.name_any()) == desired(&b.spec, &b.name_any())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarm::diff::plan;
    use crate::runtime::import::import_one;
    use aws_sdk_cloudwatch::types as cw;

    /// An alarm as the AWS CLI makes it with few parameters: AWS fills DatapointsToAlarm,
    /// TreatMissingData and ActionsEnabled itself.
    fn cli_alarm(name: &str) -> MetricAlarm {
        MetricAlarm::builder()
            .alarm_name(name)
            .alarm_arn(format!(
                "arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"
            ))
            .namespace("AWS/EC2")
            .metric_name("CPUUtilization")
            .statistic(cw::Statistic::Average)
            .period(300)
            .evaluation_periods(2)
            .datapoints_to_alarm(2)
            .threshold(80.0)
            .comparison_operator(cw::ComparisonOperator::GreaterThanThreshold)
            .treat_missing_data("missing")
            .actions_enabled(true)
            .dimensions(
                cw::Dimension::builder()
                    .name("InstanceId")
                    .value("i-1")
                    .build(),
            )
            .build()
    }

    fn found(record: MetricAlarm) -> Found<MetricAlarm> {
        Found {
            record,
            tags: BTreeMap::from([("team".to_string(), "web".to_string())]),
        }
    }

    #[test]
    fn an_imported_alarm_leaves_out_server_defaults_and_plans_no_change() {
        let record = cli_alarm("cpu-high");
        let imported = import_one::<Alarm>(found(record.clone()), &mut ImportNames::default());
        let yaml = serde_yaml::to_string(&imported.unwrap().manifest).unwrap();
        assert_eq!(
            yaml,
            "apiVersion: cwo.dev/v1alpha1
kind: Alarm
metadata:
  name: cpu-high
spec:
  region: us-east-1
  deletionPolicy: Retain
  adoption: IfUnowned
  metricName: CPUUtilization
  namespace: AWS/EC2
  dimensions:
  - name: InstanceId
    value: i-1
  statistic: Average
  period: 300
  evaluationPeriods: 2
  threshold: 80.0
  comparisonOperator: GreaterThanThreshold
  tags:
    team: web
"
        );
        // Applied as written, the controller's plan finds nothing to write.
        let applied: Alarm = serde_yaml::from_str(&yaml).unwrap();
        let d = desired(&applied.spec, &applied.name_any());
        let o = observed(&record);
        assert!(plan(&d, Some(&o), &BTreeMap::new(), None).is_empty());
    }

    #[test]
    fn an_alarm_whose_name_is_not_an_object_name_keeps_it_in_the_spec() {
        let mut names = ImportNames::default();
        let spaced = import_one::<Alarm>(found(cli_alarm("CPU High")), &mut names).unwrap();
        assert!(spaced.name.starts_with("cpu-high-"), "{}", spaced.name);
        assert_eq!(
            spaced.manifest["spec"]["alarmName"].as_str(),
            Some("CPU High")
        );
        let mut odd = cli_alarm("cpu-high");
        odd.datapoints_to_alarm = Some(1);
        odd.treat_missing_data = Some("breaching".into());
        let imported = import_one::<Alarm>(found(odd), &mut names).unwrap();
        assert_eq!(imported.name, "cpu-high");
        let manifest = imported.manifest;
        assert_eq!(manifest["spec"]["datapointsToAlarm"].as_i64(), Some(1));
        assert_eq!(
            manifest["spec"]["treatMissingData"].as_str(),
            Some("breaching")
        );
        assert!(manifest["spec"].get("alarmName").is_none());
    }
}
