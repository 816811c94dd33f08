//! An existing CloudWatch Logs metric filter as the MetricFilter that manages it (`import`):
//! every log group's metric filters (DescribeLogGroups, then DescribeMetricFilters per group),
//! each named after its filter name. Metric filters carry no tags, so AWS cannot tell whether an
//! operator already manages one: each is imported, and adoption settles ownership in status as it
//! does for any filter. A `--tag` filter therefore selects none. The manifest holds no
//! `spec.tests`: they are the author's to write.

use super::desired::desired;
use super::observed::observed;
use super::spec::{MetricFilter, MetricFilterSpec, MetricTransformation, SystemFieldDimension};
use crate::aws::Aws;
use crate::aws::wire::{first_unheld, from_wire, from_wire_all};
use crate::common_fields::CommonSpec;
use crate::error::Result;
use crate::log_filter::import;
use crate::runtime::import::{Found, Holder, ImportNames, Importable};
use aws_sdk_cloudwatchlogs::types::MetricFilter as MetricFilterRecord;
use kube::ResourceExt;

impl Importable for MetricFilter {
    type Record = MetricFilterRecord;
    const AWS_NOUN: &'static str = "metric filter";

    async fn list(aws: &Aws, region: &str, _prefix: &str) -> Result<Vec<MetricFilterRecord>> {
        import::list::<Self>(aws, region).await
    }

    fn record_name(record: &MetricFilterRecord) -> &str {
        import::record_name::<Self>(record)
    }

    fn holder(record: &MetricFilterRecord) -> Option<Holder<'_>> {
        import::holder::<Self>(record)
    }

    fn not_imported(record: &MetricFilterRecord) -> Option<String> {
        let config = observed(record);
        if config.metric_transformations.len() != 1 {
            return Some(format!(
                "it has {} metric transformations, and a MetricFilter holds exactly one",
                config.metric_transformations.len()
            ));
        }
        if let Some(unit) = config
            .metric_transformations
            .iter()
            .map(|t| &t.unit)
            .find(|u| from_wire::<super::spec::StandardUnit>(u).is_none())
        {
            return Some(format!("unit {unit:?} is not one a MetricFilter can hold"));
        }
        first_unheld::<SystemFieldDimension>(&config.emit_system_field_dimensions)
            .map(|f| format!("system field dimension {f:?} is not one a MetricFilter can hold"))
    }

    fn manifest(
        found: &Found<MetricFilterRecord>,
        name: &str,
        common: CommonSpec,
        _names: &ImportNames,
    ) -> MetricFilter {
        let config = observed(&found.record);
        let (log_group_name, filter_name) = import::spec_names::<Self>(&found.record);
        let spec = MetricFilterSpec {
            common,
            log_group_name,
            filter_name,
            filter_pattern: config.filter_pattern,
            // `not_imported` left out the units and dimensions the spec cannot hold.
            metric_transformations: config
                .metric_transformations
                .into_iter()
                .map(|t| MetricTransformation {
                    metric_name: t.metric_name,
                    metric_namespace: t.metric_namespace,
                    metric_value: t.metric_value,
                    default_value: t.default_value,
                    dimensions: t.dimensions,
                    unit: from_wire(&t.unit),
                })
                .collect(),
            apply_on_transformed_logs: Some(config.apply_on_transformed_logs),
            field_selection_criteria: config.field_selection_criteria,
            emit_system_field_dimensions: from_wire_all(&config.emit_system_field_dimensions),
            tests: Vec::new(),
        };
        MetricFilter::new(name, spec)
    }

    fn same_request(a: &MetricFilter, b: &MetricFilter, _names: &ImportNames) -> bool {
        desired(&a.spec, &a.name_any()) == desired(&b.spec, &b.name_any())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log_filter::import::tests::import_alone;
    use aws_sdk_cloudwatchlogs::types as logs;

    /// A filter as DescribeMetricFilters reports one the AWS CLI made with a JSON pattern and one
    /// transformation without a unit: the transformed-logs flag filled in by AWS.
    fn cli_filter(group: &str, name: &str) -> MetricFilterRecord {
        MetricFilterRecord::builder()
            .log_group_name(group)
            .filter_name(name)
            .filter_pattern(r#"{ $.level = "ERROR" }"#)
            .metric_transformations(
                logs::MetricTransformation::builder()
                    .metric_name("CheckoutErrorLines")
                    .metric_namespace("Checkout")
                    .metric_value("1")
                    .default_value(0.0)
                    .build()
                    .unwrap(),
            )
            .apply_on_transformed_logs(false)
            .creation_time(1_700_000_000_000)
            .build()
    }

    #[test]
    fn an_imported_filter_leaves_out_aws_defaults_and_plans_no_change() {
        let record = cli_filter("/aws/lambda/checkout", "Checkout Errors");
        let (name, yaml, applied) = import_alone::<MetricFilter>(record.clone());
        assert_eq!(
            yaml,
            format!(
                "apiVersion: cwo.dev/v1alpha1
kind: MetricFilter
metadata:
  name: {name}
spec:
  region: us-east-1
  deletionPolicy: Retain
  adoption: IfUnowned
  logGroupName: /aws/lambda/checkout
  filterName: Checkout Errors
  filterPattern: '{{ $.level = \"ERROR\" }}'
  metricTransformations:
  - metricName: CheckoutErrorLines
    metricNamespace: Checkout
    metricValue: '1'
    defaultValue: 0.0
"
            )
        );
        let d = desired(&applied.spec, &applied.name_any());
        assert_eq!(d.key.filter_name, "Checkout Errors");
        assert_eq!(d.config, observed(&record));
    }

    #[test]
    fn a_unit_or_several_transformations_the_spec_cannot_hold_are_not_imported() {
        assert_eq!(MetricFilter::not_imported(&cli_filter("/a", "e")), None);
        let mut odd = cli_filter("/a", "e");
        odd.metric_transformations.as_mut().unwrap()[0].unit =
            Some(logs::StandardUnit::from("Furlongs"));
        assert!(
            MetricFilter::not_imported(&odd)
                .unwrap()
                .contains("\"Furlongs\"")
        );
        let mut two = cli_filter("/a", "e");
        let again = two.metric_transformations.as_ref().unwrap()[0].clone();
        two.metric_transformations.as_mut().unwrap().push(again);
        assert!(
            MetricFilter::not_imported(&two)
                .unwrap()
                .contains("2 metric transformations")
        );
    }
}
