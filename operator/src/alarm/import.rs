//! An existing metric alarm as the Alarm that manages it (`import`): DescribeAlarms' record in
//! the observed normal form, which is the spec's own shape.

use super::desired::desired;
use super::observed::observed;
use super::spec::Alarm;
use crate::aws::Aws;
use crate::aws::alarm_reader::AlarmRecord;
use crate::cloudwatch_alarm::import;
use crate::common_fields::{CommonSpec, Tags};
use crate::error::Result;
use crate::runtime::import::{Found, ImportNames, Importable, user_tags};
use aws_sdk_cloudwatch::types::{AlarmType, MetricAlarm};
use kube::ResourceExt;

impl Importable for Alarm {
    type Record = MetricAlarm;

    async fn find(aws: &Aws, region: &str, prefix: &str) -> Result<Vec<Found<MetricAlarm>>> {
        let found = import::find(aws, region, prefix, AlarmType::MetricAlarm).await?;
        Ok(found
            .into_iter()
            .filter_map(|f| match f.record {
                AlarmRecord::Metric(record) => Some(Found {
                    record: *record,
                    tags: f.tags,
                }),
                AlarmRecord::Composite(_) => None,
            })
            .collect())
    }

    fn identity(record: &MetricAlarm) -> String {
        record.alarm_name().unwrap_or_default().to_string()
    }

    fn describe_record(record: &MetricAlarm) -> String {
        format!("alarm {:?}", Self::identity(record))
    }

    fn manifest(
        found: &Found<MetricAlarm>,
        name: &str,
        common: CommonSpec,
        _names: &ImportNames,
    ) -> Alarm {
        let mut spec = observed(&found.record).fields;
        spec.common = common;
        spec.alarm_name = Some(Self::identity(&found.record));
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
    use crate::common_fields::{Adoption, DeletionPolicy};
    use crate::runtime::import::minimal_manifest_for_test;
    use aws_sdk_cloudwatch::types as cw;
    use std::collections::BTreeMap;

    fn common() -> CommonSpec {
        CommonSpec {
            region: Some("us-east-1".into()),
            deletion_policy: DeletionPolicy::Retain,
            adoption: Adoption::IfUnowned,
            ..Default::default()
        }
    }

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
        let f = found(cli_alarm("cpu-high"));
        let names = ImportNames::default();
        let obj = Alarm::manifest(&f, "cpu-high", common(), &names);
        let yaml = serde_yaml::to_string(&minimal_manifest_for_test(&obj, &names)).unwrap();
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
        let o = observed(&f.record);
        assert!(plan(&d, Some(&o), &BTreeMap::new(), None).is_empty());
    }

    #[test]
    fn an_alarm_whose_name_is_not_an_object_name_keeps_it_in_the_spec() {
        let f = found(cli_alarm("CPU High"));
        let mut names = ImportNames::default();
        let name = names.assign("Alarm", "us-east-1", "CPU High", "CPU High");
        let obj = Alarm::manifest(&f, &name, common(), &names);
        let manifest = minimal_manifest_for_test(&obj, &names);
        assert_eq!(manifest["spec"]["alarmName"].as_str(), Some("CPU High"));
        let mut odd = cli_alarm("cpu-high");
        odd.datapoints_to_alarm = Some(1);
        odd.treat_missing_data = Some("breaching".into());
        let odd = found(odd);
        let obj = Alarm::manifest(&odd, "cpu-high", common(), &names);
        let manifest = minimal_manifest_for_test(&obj, &names);
        assert_eq!(manifest["spec"]["datapointsToAlarm"].as_i64(), Some(1));
        assert_eq!(
            manifest["spec"]["treatMissingData"].as_str(),
            Some("breaching")
        );
        assert!(manifest["spec"].get("alarmName").is_none());
    }
}
