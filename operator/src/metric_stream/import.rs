//! An existing CloudWatch metric stream as the MetricStream that manages it (`import`): its
//! configuration from GetMetricStream (ListMetricStreams names the streams but leaves the
//! configuration out), its running state as the desired one.

use super::desired::{desired, wants_running};
use super::observed::{live, observed};
use super::spec::{MetricStream, MetricStreamDesiredState, MetricStreamSpec};
use crate::aws::wire::from_wire;
use crate::aws::{Aws, Location, cloudwatch_tags, metric_streams};
use crate::common_fields::{CommonSpec, Tags};
use crate::error::Result;
use crate::runtime::import::{Found, ImportNames, Importable, user_tags};
use aws_sdk_cloudwatch::operation::get_metric_stream::GetMetricStreamOutput;
use kube::ResourceExt;
use std::collections::BTreeMap;

impl Importable for MetricStream {
    type Record = GetMetricStreamOutput;
    const AWS_NOUN: &'static str = "metric stream";

    /// ListMetricStreams takes no prefix: the names are kept here, before each GetMetricStream.
    async fn list(aws: &Aws, region: &str, prefix: &str) -> Result<Vec<GetMetricStreamOutput>> {
        let location = Location::of(region);
        let mut records = Vec::new();
        for name in metric_streams::list_names(aws, &location).await? {
            if !name.starts_with(prefix) {
                continue;
            }
            // Deleted since it was listed: nothing to import.
            if let Some(record) = metric_streams::get(aws, &location, &name).await? {
                records.push(record);
            }
        }
        Ok(records)
    }

    async fn tags(
        aws: &Aws,
        region: &str,
        record: &GetMetricStreamOutput,
    ) -> Result<BTreeMap<String, String>> {
        let arn = record.arn().unwrap_or_default();
        cloudwatch_tags::list(aws, &Location::of(region), arn).await
    }

    fn record_name(record: &GetMetricStreamOutput) -> &str {
        record.name().unwrap_or_default()
    }

    fn not_imported(record: &GetMetricStreamOutput) -> Option<String> {
        let format = record
            .output_format()
            .map(|f| f.as_str())
            .unwrap_or_default();
        from_wire::<super::spec::MetricStreamOutputFormat>(format)
            .is_none()
            .then(|| format!("output format {format:?} is not one a MetricStream can hold"))
    }

    fn manifest(
        found: &Found<GetMetricStreamOutput>,
        name: &str,
        common: CommonSpec,
        _names: &ImportNames,
    ) -> MetricStream {
        let fields = observed(&found.record).fields;
        let spec = MetricStreamSpec {
            common,
            stream_name: Some(Self::record_name(&found.record).to_string()),
            firehose_arn: fields.firehose_arn,
            role_arn: fields.role_arn,
            include_filters: fields.include_filters,
            exclude_filters: fields.exclude_filters,
            // `not_imported` left out the formats the spec cannot hold.
            output_format: from_wire(&fields.output_format).unwrap_or_default(),
            statistics_configurations: fields.statistics_configurations,
            include_linked_accounts_metrics: Some(fields.include_linked_accounts_metrics),
            desired_state: if live(&found.record).running() {
                MetricStreamDesiredState::Running
            } else {
                MetricStreamDesiredState::Stopped
            },
            tags: Tags(user_tags(&found.tags)),
        };
        MetricStream::new(name, spec)
    }

    fn same_request(a: &MetricStream, b: &MetricStream, _names: &ImportNames) -> bool {
        desired(&a.spec, &a.name_any()) == desired(&b.spec, &b.name_any())
            && wants_running(&a.spec) == wants_running(&b.spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric_stream::diff::{RunChange, StreamPlan, plan};
    use crate::runtime::import::import_one;
    use aws_sdk_cloudwatch::types as cw;

    /// A stream as GetMetricStream reports one the AWS CLI made with two include filters, in
    /// `state`: the linked-accounts flag filled in by AWS.
    fn cli_stream(name: &str, state: &str, format: &str) -> GetMetricStreamOutput {
        GetMetricStreamOutput::builder()
            .arn(format!(
                "arn:aws:cloudwatch:us-east-1:123456789012:metric-stream/{name}"
            ))
            .name(name)
            .firehose_arn("arn:aws:firehose:us-east-1:123456789012:deliverystream/metrics")
            .role_arn("arn:aws:iam::123456789012:role/metric-stream")
            .include_filters(
                cw::MetricStreamFilter::builder()
                    .namespace("AWS/EC2")
                    .metric_names("CPUUtilization")
                    .build(),
            )
            .include_filters(
                cw::MetricStreamFilter::builder()
                    .namespace("AWS/ELB")
                    .build(),
            )
            .output_format(cw::MetricStreamOutputFormat::from(format))
            .include_linked_accounts_metrics(false)
            .state(state)
            .build()
    }

    #[test]
    fn an_imported_stream_leaves_out_aws_defaults_and_plans_no_change() {
        let record = cli_stream("metrics", "running", "opentelemetry1.0");
        let f = Found {
            record: record.clone(),
            tags: BTreeMap::from([("team".to_string(), "obs".to_string())]),
        };
        let imported = import_one::<MetricStream>(f, &mut ImportNames::default()).unwrap();
        let yaml = serde_yaml::to_string(&imported.manifest).unwrap();
        assert_eq!(
            yaml,
            "apiVersion: cwo.dev/v1alpha1
kind: MetricStream
metadata:
  name: metrics
spec:
  region: us-east-1
  deletionPolicy: Retain
  adoption: IfUnowned
  firehoseArn: arn:aws:firehose:us-east-1:123456789012:deliverystream/metrics
  roleArn: arn:aws:iam::123456789012:role/metric-stream
  includeFilters:
  - namespace: AWS/EC2
    metricNames:
    - CPUUtilization
  - namespace: AWS/ELB
  outputFormat: opentelemetry1.0
  tags:
    team: obs
"
        );
        let applied: MetricStream = serde_yaml::from_str(&yaml).unwrap();
        assert!(plan_of(&applied, &record).is_empty());
    }

    /// The controller's plan for `applied` against `record`.
    fn plan_of(applied: &MetricStream, record: &GetMetricStreamOutput) -> StreamPlan {
        let d = desired(&applied.spec, &applied.name_any());
        let (o, l) = (observed(record), live(record));
        plan(
            &d,
            wants_running(&applied.spec),
            Some((&o, &l)),
            &BTreeMap::new(),
            None,
        )
    }

    #[test]
    fn a_stopped_stream_is_imported_stopped_and_an_unknown_format_is_not_imported() {
        let record = cli_stream("paused", "stopped", "json");
        let manifest = import_one::<MetricStream>(
            Found::untagged(record.clone()),
            &mut ImportNames::default(),
        )
        .unwrap()
        .manifest;
        assert_eq!(manifest["spec"]["desiredState"].as_str(), Some("Stopped"));
        // Required in the spec, so kept even at AWS's default.
        assert_eq!(manifest["spec"]["outputFormat"].as_str(), Some("json"));
        let applied: MetricStream = serde_yaml::from_value(manifest).unwrap();
        let p = plan_of(&applied, &record);
        assert!(p.is_empty(), "{p:?}");
        // Left running, it would be started.
        let mut running = applied.clone();
        running.spec.desired_state = MetricStreamDesiredState::Running;
        assert_eq!(plan_of(&running, &record).run, Some(RunChange::Start));
        assert_eq!(MetricStream::not_imported(&record), None);
        let future = cli_stream("next", "running", "opentelemetry2.0");
        let skipped =
            import_one::<MetricStream>(Found::untagged(future), &mut ImportNames::default());
        assert_eq!(
            skipped.unwrap_err().why,
            "output format \"opentelemetry2.0\" is not one a MetricStream can hold"
        );
    }
}
