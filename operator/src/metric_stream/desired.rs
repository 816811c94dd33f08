//! Step 1 of the MetricStream reconcile: the spec as the exact PutMetricStream request, in a
//! normal form that GetMetricStream's answer maps to as well (filters and statistics as sorted
//! sets, the linked-accounts flag filled with AWS's default), so that comparing the two finds no
//! difference when there is none. The running state is not part of it: PutMetricStream never
//! changes it (Start/StopMetricStreams do), so it is planned separately.

use super::spec::*;
use crate::aws::cloudwatch_tags::sdk_tags;
use aws_sdk_cloudwatch::operation::put_metric_stream::builders::PutMetricStreamInputBuilder;
use aws_sdk_cloudwatch::types as cw;
use serde::Serialize;
use std::collections::BTreeMap;

/// The stream's configuration in normal form: what PutMetricStream sets and GetMetricStream
/// reports. Serialized with the spec's field names, so a difference is reported under the name
/// the user writes.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamFields {
    pub firehose_arn: String,
    pub role_arn: String,
    pub include_filters: Vec<MetricStreamFilter>,
    pub exclude_filters: Vec<MetricStreamFilter>,
    /// The wire value (`json`, `opentelemetry0.7`, `opentelemetry1.0`), so that a format this
    /// operator does not know yet still compares as a difference rather than failing.
    pub output_format: String,
    pub statistics_configurations: Vec<MetricStreamStatisticsConfiguration>,
    /// AWS's default is false.
    pub include_linked_accounts_metrics: bool,
}

/// The stream's name and configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamConfig {
    /// The stream's name in CloudWatch, its identity.
    pub name: String,
    pub fields: StreamFields,
}

/// The AWS name of the stream: `spec.streamName`, else the object's name.
pub fn aws_name(spec: &MetricStreamSpec, object_name: &str) -> String {
    spec.stream_name
        .clone()
        .unwrap_or_else(|| object_name.to_string())
}

/// The desired configuration for `spec`.
pub fn desired(spec: &MetricStreamSpec, object_name: &str) -> StreamConfig {
    StreamConfig {
        name: aws_name(spec, object_name),
        fields: normalize(StreamFields {
            firehose_arn: spec.firehose_arn.clone(),
            role_arn: spec.role_arn.clone(),
            include_filters: spec.include_filters.clone(),
            exclude_filters: spec.exclude_filters.clone(),
            output_format: output_format_wire(spec.output_format).to_string(),
            statistics_configurations: spec.statistics_configurations.clone(),
            include_linked_accounts_metrics: spec.include_linked_accounts_metrics.unwrap_or(false),
        }),
    }
}

/// Whether the stream should be running.
pub fn wants_running(spec: &MetricStreamSpec) -> bool {
    spec.desired_state == MetricStreamDesiredState::Running
}

/// The wire value of an output format.
pub fn output_format_wire(format: MetricStreamOutputFormat) -> &'static str {
    match format {
        MetricStreamOutputFormat::Json => "json",
        MetricStreamOutputFormat::OpenTelemetry07 => "opentelemetry0.7",
        MetricStreamOutputFormat::OpenTelemetry10 => "opentelemetry1.0",
    }
}

/// Puts `fields` in normal form: filters and statistics are sets (AWS keeps no order that
/// matters), so they are sorted and duplicates dropped. Idempotent.
pub fn normalize(mut f: StreamFields) -> StreamFields {
    for filters in [&mut f.include_filters, &mut f.exclude_filters] {
        for filter in filters.iter_mut() {
            filter.metric_names.sort();
            filter.metric_names.dedup();
        }
        filters
            .sort_by(|a, b| (&a.namespace, &a.metric_names).cmp(&(&b.namespace, &b.metric_names)));
        filters.dedup();
    }
    for c in &mut f.statistics_configurations {
        c.include_metrics
            .sort_by(|a, b| metric_key(a).cmp(&metric_key(b)));
        c.include_metrics.dedup();
        c.additional_statistics.sort();
        c.additional_statistics.dedup();
    }
    f.statistics_configurations
        .sort_by(|a, b| configuration_key(a).cmp(&configuration_key(b)));
    f.statistics_configurations.dedup();
    f
}

fn metric_key(m: &MetricStreamStatisticsMetric) -> (&str, &str) {
    (&m.namespace, &m.metric_name)
}

fn configuration_key(c: &MetricStreamStatisticsConfiguration) -> (Vec<(&str, &str)>, &[String]) {
    (
        c.include_metrics.iter().map(metric_key).collect(),
        &c.additional_statistics,
    )
}

/// The PutMetricStream request for `config`. `tags` are passed only on create: AWS ignores
/// tags on an update (they change through TagResource / UntagResource).
pub fn put_request(
    config: &StreamConfig,
    tags: Option<&BTreeMap<String, String>>,
) -> PutMetricStreamInputBuilder {
    let f = &config.fields;
    PutMetricStreamInputBuilder::default()
        .name(&config.name)
        .firehose_arn(&f.firehose_arn)
        .role_arn(&f.role_arn)
        .output_format(cw::MetricStreamOutputFormat::from(f.output_format.as_str()))
        .set_include_filters(non_empty(&f.include_filters, sdk_filter))
        .set_exclude_filters(non_empty(&f.exclude_filters, sdk_filter))
        .set_statistics_configurations(non_empty(
            &f.statistics_configurations,
            sdk_statistics_configuration,
        ))
        .include_linked_accounts_metrics(f.include_linked_accounts_metrics)
        .set_tags(tags.map(sdk_tags))
}

fn non_empty<T, U>(items: &[T], convert: fn(&T) -> U) -> Option<Vec<U>> {
    (!items.is_empty()).then(|| items.iter().map(convert).collect())
}

fn sdk_filter(f: &MetricStreamFilter) -> cw::MetricStreamFilter {
    cw::MetricStreamFilter::builder()
        .namespace(&f.namespace)
        .set_metric_names((!f.metric_names.is_empty()).then(|| f.metric_names.clone()))
        .build()
}

fn sdk_statistics_configuration(
    c: &MetricStreamStatisticsConfiguration,
) -> cw::MetricStreamStatisticsConfiguration {
    cw::MetricStreamStatisticsConfiguration::builder()
        .set_include_metrics(Some(
            c.include_metrics
                .iter()
                .map(|m| {
                    cw::MetricStreamStatisticsMetric::builder()
                        .namespace(&m.namespace)
                        .metric_name(&m.metric_name)
                        .build()
                })
                .collect(),
        ))
        .set_additional_statistics(Some(c.additional_statistics.clone()))
        .build()
}
