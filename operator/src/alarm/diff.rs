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
    use crate::alarm::desired::{desired, normalize};
    use crate::alarm::spec::*;

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

    #[test]
    fn unset_server_defaults_are_not_a_change() {
        // AWS reports DatapointsToAlarm and TreatMissingData even when the request left them out.
        let d = desired(&cpu(), "cpu");
        let mut reported = cpu();
        reported.datapoints_to_alarm = Some(3);
        reported.treat_missing_data = Some(TreatMissingData::Missing);
        let o = desired(&reported, "cpu");
        assert!(plan(&d, Some(&o), &BTreeMap::new(), None).is_empty());
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
}
