//! Step 3 of the Alarm reconcile: desired versus observed → the plan. PutMetricAlarm replaces
//! the whole configuration, so any changed field means one Put of the full desired request;
//! tags are planned separately because the Put ignores them on update.

use super::desired::AlarmConfig;
pub use crate::plan::{Change, Plan};
use std::collections::BTreeMap;

/// Plans the writes that make `observed` match `desired`. `observed_tags` is `None` when the
/// tags were not read this time; tags are then left alone.
pub fn plan(
    desired: &AlarmConfig,
    observed: Option<&AlarmConfig>,
    desired_tags: &BTreeMap<String, String>,
    observed_tags: Option<&BTreeMap<String, String>>,
) -> Plan {
    crate::plan::plan(
        &desired.fields,
        observed.map(|o| &o.fields),
        desired_tags,
        observed_tags,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarm::desired::{desired, normalize, with_filter_metric};
    use crate::alarm::observed::observed;
    use crate::alarm::spec::*;
    use crate::cloudwatch_alarm::metric_filter_ref::FilterMetric;

    fn cpu() -> AlarmSpec {
        AlarmSpec {
            metric_name: Some("CPUUtilization".into()),
            namespace: Some("AWS/EC2".into()),
            statistic: Some(Statistic::Average),
            period: Some(300),
            evaluation_periods: Some(3),
            threshold: Some(80.0),
            comparison_operator: Some(ComparisonOperator::GreaterThanThreshold),
            dimensions: vec![
                Dimension {
                    name: "InstanceId".into(),
                    value: "i-1".into(),
                },
                Dimension {
                    name: "AutoScalingGroupName".into(),
                    value: "web".into(),
                },
            ],
            actions_enabled: true,
            ..Default::default()
        }
    }

    #[test]
    fn a_missing_alarm_is_created() {
        let d = desired(&cpu(), "cpu");
        assert_eq!(
            plan(&d, None, &BTreeMap::new(), None).change,
            Some(Change::Create)
        );
    }

    #[test]
    fn dimension_order_is_not_a_change() {
        let d = desired(&cpu(), "cpu");
        let mut reordered = cpu();
        reordered.dimensions.reverse();
        let o = desired(&reordered, "cpu");
        assert!(plan(&d, Some(&o), &BTreeMap::new(), None).is_empty());
    }

    /// `cpu()` as DescribeAlarms reports it after a PutMetricAlarm that left DatapointsToAlarm
    /// and TreatMissingData out: both filled with AWS's defaults, ActionsEnabled and every
    /// action list present, dimensions in an order of AWS's own, the state and its dates.
    fn cpu_as_aws_reports_it() -> aws_sdk_cloudwatch::types::builders::MetricAlarmBuilder {
        use aws_sdk_cloudwatch::types as cw;
        let t = aws_smithy_types::DateTime::from_secs(1_700_000_000);
        cw::MetricAlarm::builder()
            .alarm_name("cpu")
            .alarm_arn("arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu")
            .alarm_configuration_updated_timestamp(t)
            .actions_enabled(true)
            .set_ok_actions(Some(vec![]))
            .set_alarm_actions(Some(vec![]))
            .set_insufficient_data_actions(Some(vec![]))
            .state_value(cw::StateValue::InsufficientData)
            .state_reason("Unchecked: Initial alarm creation")
            .state_updated_timestamp(t)
            .state_transitioned_timestamp(t)
            .metric_name("CPUUtilization")
            .namespace("AWS/EC2")
            .statistic(cw::Statistic::Average)
            .dimensions(
                cw::Dimension::builder()
                    .name("InstanceId")
                    .value("i-1")
                    .build(),
            )
            .dimensions(
                cw::Dimension::builder()
                    .name("AutoScalingGroupName")
                    .value("web")
                    .build(),
            )
            .period(300)
            .evaluation_periods(3)
            .datapoints_to_alarm(3)
            .threshold(80.0)
            .comparison_operator(cw::ComparisonOperator::GreaterThanThreshold)
            .treat_missing_data("missing")
    }

    #[test]
    fn unset_server_defaults_are_not_a_change() {
        // The spec leaves DatapointsToAlarm and TreatMissingData out; AWS reports them filled.
        let spec = cpu();
        assert_eq!(spec.datapoints_to_alarm, None);
        assert_eq!(spec.treat_missing_data, None);
        let d = desired(&spec, "cpu");
        let reported = observed(&cpu_as_aws_reports_it().build());
        assert!(
            plan(&d, Some(&reported), &BTreeMap::new(), None).is_empty(),
            "{:?}",
            plan(&d, Some(&reported), &BTreeMap::new(), None)
        );
        // The defaults are AWS's: other values in the same places are changes.
        let other = observed(
            &cpu_as_aws_reports_it()
                .datapoints_to_alarm(2)
                .treat_missing_data("breaching")
                .build(),
        );
        assert_eq!(
            plan(&d, Some(&other), &BTreeMap::new(), None).change,
            Some(Change::Update {
                fields: vec!["datapointsToAlarm".into(), "treatMissingData".into()]
            })
        );
    }

    #[test]
    fn a_changed_threshold_is_an_update_naming_the_field() {
        let d = desired(&cpu(), "cpu");
        let mut other = cpu();
        other.threshold = Some(90.0);
        let o = desired(&other, "cpu");
        assert_eq!(
            plan(&d, Some(&o), &BTreeMap::new(), None).change,
            Some(Change::Update {
                fields: vec!["threshold".into()]
            })
        );
    }

    #[test]
    fn tags_are_planned_only_when_read() {
        let d = desired(&cpu(), "cpu");
        let want = BTreeMap::from([("team".to_string(), "a".to_string())]);
        assert!(plan(&d, Some(&d), &want, None).is_empty());
        let p = plan(&d, Some(&d), &want, Some(&BTreeMap::new()));
        assert_eq!(p.change, None);
        assert_eq!(p.tags.set, want);
    }

    #[test]
    fn normalize_is_idempotent_on_a_full_spec() {
        let n = normalize(cpu());
        assert_eq!(normalize(n.clone()), n);
    }

    #[test]
    fn an_alarm_on_a_filters_metric_is_the_alarm_on_that_metric() {
        let on_filter = AlarmSpec {
            metric_name: None,
            namespace: None,
            metric_filter_ref: Some(MetricFilterRef {
                name: "cpu-lines".into(),
                metric_name: None,
            }),
            ..cpu()
        };
        let metric = FilterMetric {
            namespace: "AWS/EC2".into(),
            metric_name: "CPUUtilization".into(),
        };
        let d = desired(&with_filter_metric(&on_filter, Some(&metric)), "cpu");
        // What AWS reports of the alarm carries no reference: nothing to write.
        let seen = desired(&cpu(), "cpu");
        assert_eq!(d.fields.metric_filter_ref, None);
        assert!(plan(&d, Some(&seen), &BTreeMap::new(), None).is_empty());
        // The filter's metric renamed: the alarm follows.
        let renamed = FilterMetric {
            metric_name: "CPUBusy".into(),
            ..metric
        };
        let d = desired(&with_filter_metric(&on_filter, Some(&renamed)), "cpu");
        assert_eq!(
            plan(&d, Some(&seen), &BTreeMap::new(), None).change,
            Some(Change::Update {
                fields: vec!["metricName".into()]
            })
        );
    }
}
