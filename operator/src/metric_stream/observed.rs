//! Step 2 of the MetricStream reconcile: what GetMetricStream returned, in the same normal form
//! as the desired configuration, plus what the status reports (ARN, running state, dates).

use super::desired::{StreamConfig, StreamFields, normalize};
use super::spec::*;
use crate::aws::wire::{from_wire, time};
use aws_sdk_cloudwatch::operation::get_metric_stream::GetMetricStreamOutput;
use aws_sdk_cloudwatch::types as cw;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// What CloudWatch reports about a stream beyond its configuration.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LiveStream {
    pub arn: Option<String>,
    /// `None` for a state this operator does not know.
    pub state: Option<StreamState>,
    pub created: Option<Time>,
    pub updated: Option<Time>,
}

impl LiveStream {
    /// Whether CloudWatch reports the stream running.
    pub fn running(&self) -> bool {
        self.state == Some(StreamState::Running)
    }
}

/// The configuration of a stream as AWS reports it.
pub fn observed(out: &GetMetricStreamOutput) -> StreamConfig {
    StreamConfig {
        name: out.name.clone().unwrap_or_default(),
        fields: normalize(StreamFields {
            firehose_arn: out.firehose_arn.clone().unwrap_or_default(),
            role_arn: out.role_arn.clone().unwrap_or_default(),
            include_filters: out.include_filters().iter().map(filter).collect(),
            exclude_filters: out.exclude_filters().iter().map(filter).collect(),
            output_format: out
                .output_format
                .as_ref()
                .map(|f| f.as_str().to_string())
                .unwrap_or_default(),
            statistics_configurations: out
                .statistics_configurations()
                .iter()
                .map(statistics_configuration)
                .collect(),
            include_linked_accounts_metrics: out.include_linked_accounts_metrics.unwrap_or(false),
        }),
    }
}

/// The ARN, state and dates of a stream.
pub fn live(out: &GetMetricStreamOutput) -> LiveStream {
    LiveStream {
        arn: out.arn.clone(),
        state: out
            .state
            .as_deref()
            .and_then(|s| from_wire(&s.to_ascii_lowercase())),
        created: out.creation_date.as_ref().and_then(time),
        updated: out.last_update_date.as_ref().and_then(time),
    }
}

fn filter(f: &cw::MetricStreamFilter) -> MetricStreamFilter {
    MetricStreamFilter {
        namespace: f.namespace.clone().unwrap_or_default(),
        metric_names: f.metric_names().to_vec(),
    }
}

fn statistics_configuration(
    c: &cw::MetricStreamStatisticsConfiguration,
) -> MetricStreamStatisticsConfiguration {
    MetricStreamStatisticsConfiguration {
        include_metrics: c
            .include_metrics()
            .iter()
            .map(|m| MetricStreamStatisticsMetric {
                namespace: m.namespace.clone().unwrap_or_default(),
                metric_name: m.metric_name.clone().unwrap_or_default(),
            })
            .collect(),
        additional_statistics: c.additional_statistics().to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric_stream::desired::{desired, put_request};
    use crate::metric_stream::diff::{RunChange, plan};
    use aws_sdk_cloudwatch::operation::put_metric_stream::builders::PutMetricStreamInputBuilder;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// What CloudWatch stores from a PutMetricStream that creates a stream, as GetMetricStream
    /// then reports it: lists in an order of its own (reversed here), the linked-accounts flag
    /// filled with its default, the stream running. Tags are not part of the answer.
    fn aws_after_put(request: &PutMetricStreamInputBuilder) -> GetMetricStreamOutput {
        let reversed = |v: &Option<Vec<cw::MetricStreamFilter>>| {
            v.as_ref().map(|filters| {
                filters
                    .iter()
                    .rev()
                    .map(|f| {
                        let mut names = f.metric_names().to_vec();
                        names.reverse();
                        cw::MetricStreamFilter::builder()
                            .set_namespace(f.namespace.clone())
                            .set_metric_names(f.metric_names.as_ref().map(|_| names))
                            .build()
                    })
                    .collect()
            })
        };
        let name = request.get_name().clone().unwrap();
        GetMetricStreamOutput::builder()
            .arn(format!(
                "arn:aws:cloudwatch:us-east-1:123456789012:metric-stream/{name}"
            ))
            .name(name)
            .set_include_filters(reversed(request.get_include_filters()))
            .set_exclude_filters(reversed(request.get_exclude_filters()))
            .set_firehose_arn(request.get_firehose_arn().clone())
            .set_role_arn(request.get_role_arn().clone())
            .state("running")
            .creation_date(aws_smithy_types::DateTime::from_secs(1_700_000_000))
            .last_update_date(aws_smithy_types::DateTime::from_secs(1_700_000_000))
            .set_output_format(request.get_output_format().clone())
            .set_statistics_configurations(
                request
                    .get_statistics_configurations()
                    .as_ref()
                    .map(|configurations| configurations.iter().rev().cloned().collect()),
            )
            .include_linked_accounts_metrics(
                request
                    .get_include_linked_accounts_metrics()
                    .unwrap_or(false),
            )
            .build()
    }

    fn filters() -> impl Strategy<Value = Vec<MetricStreamFilter>> {
        proptest::collection::btree_map(
            "(AWS|Custom)/[A-Za-z]{1,6}",
            proptest::collection::vec("[A-Za-z]{1,8}", 0..4),
            1..4,
        )
        .prop_map(|m| {
            m.into_iter()
                .map(|(namespace, metric_names)| MetricStreamFilter {
                    namespace,
                    metric_names,
                })
                .collect()
        })
    }

    fn statistics(json: bool) -> impl Strategy<Value = Vec<MetricStreamStatisticsConfiguration>> {
        let stats: Vec<&str> = if json {
            vec!["p90", "p99.9", "tm98", "IQM", "wm90", "PR(:300)"]
        } else {
            vec!["p50", "p90", "p99.9", "p100"]
        };
        let configuration = (
            proptest::collection::vec(("AWS/[A-Z]{1,4}", "[A-Za-z]{1,8}"), 1..3),
            proptest::collection::vec(proptest::sample::select(stats), 1..4),
        )
            .prop_map(|(metrics, stats)| MetricStreamStatisticsConfiguration {
                include_metrics: metrics
                    .into_iter()
                    .map(|(namespace, metric_name)| MetricStreamStatisticsMetric {
                        namespace,
                        metric_name,
                    })
                    .collect(),
                additional_statistics: stats.into_iter().map(String::from).collect(),
            });
        proptest::collection::vec(configuration, 0..4)
    }

    prop_compose! {
        fn valid_spec()(
            format in prop_oneof![
                Just(MetricStreamOutputFormat::Json),
                Just(MetricStreamOutputFormat::OpenTelemetry07),
                Just(MetricStreamOutputFormat::OpenTelemetry10),
            ],
            which_filters in 0..3u8,
            filters in filters(),
            linked in proptest::option::of(any::<bool>()),
            stopped in any::<bool>(),
            tags in proptest::collection::btree_map("[a-z]{1,5}", "[a-z0-9]{0,5}", 0..4),
        )(
            statistics in statistics(format == MetricStreamOutputFormat::Json),
            format in Just(format),
            which_filters in Just(which_filters),
            filters in Just(filters),
            linked in Just(linked),
            stopped in Just(stopped),
            tags in Just(tags),
        ) -> MetricStreamSpec {
            MetricStreamSpec {
                firehose_arn: "arn:aws:firehose:us-east-1:123456789012:deliverystream/m".into(),
                role_arn: "arn:aws:iam::123456789012:role/r".into(),
                include_filters: if which_filters == 1 { filters.clone() } else { vec![] },
                exclude_filters: if which_filters == 2 { filters } else { vec![] },
                output_format: format,
                statistics_configurations: statistics,
                include_linked_accounts_metrics: linked,
                desired_state: if stopped {
                    MetricStreamDesiredState::Stopped
                } else {
                    MetricStreamDesiredState::Running
                },
                tags: tags.into(),
                ..Default::default()
            }
        }
    }

    proptest! {
        #[test]
        fn a_stream_just_put_needs_no_further_write_but_its_stop(spec in valid_spec()) {
            let d = desired(&spec, "s");
            prop_assert!(crate::metric_stream::validate::validate(&d).is_ok());
            let tags: BTreeMap<String, String> = spec.tags.0.clone();
            let stored = aws_after_put(&put_request(&d, Some(&tags)));
            let o = observed(&stored);
            prop_assert_eq!(&o, &d);
            let running = spec.desired_state == MetricStreamDesiredState::Running;
            let p = plan(&d, running, Some((&o, &live(&stored))), &tags, Some(&tags));
            prop_assert!(p.config.is_empty(), "{:?}", p.config);
            // AWS creates streams running: only a stream wanted stopped needs a Stop.
            prop_assert_eq!(p.run, (!running).then_some(RunChange::Stop));
        }

        #[test]
        fn normal_form_is_idempotent(spec in valid_spec()) {
            let d = desired(&spec, "s");
            prop_assert_eq!(crate::metric_stream::desired::normalize(d.fields.clone()), d.fields);
        }
    }

    #[test]
    fn tags_go_only_with_a_create() {
        let spec = MetricStreamSpec {
            firehose_arn: "arn:aws:firehose:us-east-1:123456789012:deliverystream/m".into(),
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
            ..Default::default()
        };
        let d = desired(&spec, "s");
        let tags = BTreeMap::from([("team".to_string(), "a".to_string())]);
        assert_eq!(
            put_request(&d, Some(&tags))
                .get_tags()
                .as_ref()
                .map(Vec::len),
            Some(1)
        );
        assert_eq!(put_request(&d, None).get_tags(), &None);
    }

    #[test]
    fn the_state_is_read_whatever_its_case() {
        let out = GetMetricStreamOutput::builder().state("Stopped").build();
        assert_eq!(live(&out).state, Some(StreamState::Stopped));
        let unknown = GetMetricStreamOutput::builder().state("pending").build();
        assert_eq!(live(&unknown).state, None);
        assert!(!live(&out).running());
    }
}
