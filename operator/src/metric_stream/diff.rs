//! Step 3 of the MetricStream reconcile: desired versus observed → the plan. PutMetricStream
//! replaces the whole configuration, so any changed field means one Put of the full desired
//! request; tags are planned separately because the Put ignores them on update; and the running
//! state is planned separately because only Start/StopMetricStreams change it. AWS creates every
//! stream running, so a stream wanted stopped is stopped right after it is created.

use super::desired::StreamConfig;
use super::observed::LiveStream;
use super::spec::StreamState;
pub use crate::plan::{Change, Plan};
use std::collections::BTreeMap;

/// A change of the stream's running state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunChange {
    /// StartMetricStreams.
    Start,
    /// StopMetricStreams.
    Stop,
}

/// Every write that makes the stream match the spec.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StreamPlan {
    /// Configuration and tags.
    pub config: Plan,
    /// Running state.
    pub run: Option<RunChange>,
}

impl StreamPlan {
    /// Nothing to write.
    pub fn is_empty(&self) -> bool {
        self.config.is_empty() && self.run.is_none()
    }
}

/// Plans the writes that make the observed stream (`None`: it does not exist) match `desired`
/// and `running`. `observed_tags` is `None` when the tags were not read this time; tags are then
/// left alone.
pub fn plan(
    desired: &StreamConfig,
    running: bool,
    observed: Option<(&StreamConfig, &LiveStream)>,
    desired_tags: &BTreeMap<String, String>,
    observed_tags: Option<&BTreeMap<String, String>>,
) -> StreamPlan {
    let config = crate::plan::plan(
        &desired.fields,
        observed.map(|(o, _)| &o.fields),
        desired_tags,
        observed_tags,
    );
    // A new stream starts running.
    let state = observed.map_or(Some(StreamState::Running), |(_, live)| live.state);
    StreamPlan {
        config,
        run: run_change(running, state),
    }
}

/// The Start or Stop that turns `state` into the wanted one. A state this operator does not know
/// is driven to the wanted one too.
pub fn run_change(running: bool, state: Option<StreamState>) -> Option<RunChange> {
    match (running, state) {
        (true, Some(StreamState::Running)) | (false, Some(StreamState::Stopped)) => None,
        (true, _) => Some(RunChange::Start),
        (false, _) => Some(RunChange::Stop),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric_stream::desired::desired;
    use crate::metric_stream::spec::*;

    fn spec() -> MetricStreamSpec {
        MetricStreamSpec {
            firehose_arn: "arn:aws:firehose:us-east-1:123456789012:deliverystream/m".into(),
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
            include_filters: vec![
                MetricStreamFilter {
                    namespace: "AWS/Lambda".into(),
                    metric_names: vec!["Errors".into(), "Duration".into()],
                },
                MetricStreamFilter {
                    namespace: "AWS/ApplicationELB".into(),
                    metric_names: vec![],
                },
            ],
            ..Default::default()
        }
    }

    fn live(state: StreamState) -> LiveStream {
        LiveStream {
            state: Some(state),
            ..Default::default()
        }
    }

    #[test]
    fn a_missing_stream_is_created_and_left_running_when_wanted_running() {
        let d = desired(&spec(), "s");
        let p = plan(&d, true, None, &BTreeMap::new(), None);
        assert_eq!(p.config.change, Some(Change::Create));
        assert_eq!(p.run, None);
    }

    #[test]
    fn a_stream_wanted_stopped_is_stopped_right_after_it_is_created() {
        let d = desired(&spec(), "s");
        let p = plan(&d, false, None, &BTreeMap::new(), None);
        assert_eq!(p.config.change, Some(Change::Create));
        assert_eq!(p.run, Some(RunChange::Stop));
    }

    #[test]
    fn a_stream_stopped_out_of_band_is_started_and_the_reverse() {
        let d = desired(&spec(), "s");
        let started = plan(
            &d,
            true,
            Some((&d, &live(StreamState::Stopped))),
            &BTreeMap::new(),
            None,
        );
        assert_eq!(started.run, Some(RunChange::Start));
        assert_eq!(started.config.change, None, "no Put for a state change");
        let stopped = plan(
            &d,
            false,
            Some((&d, &live(StreamState::Running))),
            &BTreeMap::new(),
            None,
        );
        assert_eq!(stopped.run, Some(RunChange::Stop));
    }

    #[test]
    fn a_stream_in_its_wanted_state_and_configuration_needs_no_write() {
        let d = desired(&spec(), "s");
        assert!(
            plan(
                &d,
                true,
                Some((&d, &live(StreamState::Running))),
                &BTreeMap::new(),
                None
            )
            .is_empty()
        );
        assert!(
            plan(
                &d,
                false,
                Some((&d, &live(StreamState::Stopped))),
                &BTreeMap::new(),
                None
            )
            .is_empty()
        );
    }

    #[test]
    fn filter_and_metric_name_order_is_not_a_change() {
        let d = desired(&spec(), "s");
        let mut reordered = spec();
        reordered.include_filters.reverse();
        reordered.include_filters[1].metric_names.reverse();
        let o = desired(&reordered, "s");
        assert!(
            plan(
                &d,
                true,
                Some((&o, &live(StreamState::Running))),
                &BTreeMap::new(),
                None
            )
            .is_empty()
        );
    }

    /// `spec()` as GetMetricStreamOutput reports it after a PutMetricStream that left
    /// IncludeLinkedAccountsMetrics out: the flag filled with its default (false), an empty list
    /// of statistics configurations, the filters and metric names in an order of AWS's own.
    fn spec_as_aws_reports_it()
    -> aws_sdk_cloudwatch::operation::get_metric_stream::builders::GetMetricStreamOutputBuilder
    {
        use aws_sdk_cloudwatch::operation::get_metric_stream::GetMetricStreamOutput;
        use aws_sdk_cloudwatch::types as cw;
        let t = aws_smithy_types::DateTime::from_secs(1_700_000_000);
        GetMetricStreamOutput::builder()
            .arn("arn:aws:cloudwatch:us-east-1:123456789012:metric-stream/s")
            .name("s")
            .include_filters(
                cw::MetricStreamFilter::builder()
                    .namespace("AWS/ApplicationELB")
                    .build(),
            )
            .include_filters(
                cw::MetricStreamFilter::builder()
                    .namespace("AWS/Lambda")
                    .metric_names("Duration")
                    .metric_names("Errors")
                    .build(),
            )
            .set_exclude_filters(Some(vec![]))
            .firehose_arn("arn:aws:firehose:us-east-1:123456789012:deliverystream/m")
            .role_arn("arn:aws:iam::123456789012:role/r")
            .state("running")
            .creation_date(t)
            .last_update_date(t)
            .output_format(cw::MetricStreamOutputFormat::Json)
            .set_statistics_configurations(Some(vec![]))
            .include_linked_accounts_metrics(false)
    }

    #[test]
    fn the_linked_accounts_default_is_not_a_change() {
        use crate::metric_stream::observed::{live as live_of, observed};
        let spec = spec();
        assert_eq!(spec.include_linked_accounts_metrics, None);
        let d = desired(&spec, "s");
        let reported = spec_as_aws_reports_it().build();
        let p = plan(
            &d,
            true,
            Some((&observed(&reported), &live_of(&reported))),
            &BTreeMap::new(),
            None,
        );
        assert!(p.is_empty(), "{p:?}");
        // A stream that does send linked accounts' metrics is a change.
        let other = spec_as_aws_reports_it()
            .include_linked_accounts_metrics(true)
            .build();
        let p = plan(
            &d,
            true,
            Some((&observed(&other), &live_of(&other))),
            &BTreeMap::new(),
            None,
        );
        assert_eq!(
            p.config.change,
            Some(Change::Update {
                fields: vec!["includeLinkedAccountsMetrics".into()]
            })
        );
    }

    #[test]
    fn a_changed_output_format_is_an_update_naming_the_field() {
        let d = desired(&spec(), "s");
        let mut other = spec();
        other.output_format = MetricStreamOutputFormat::OpenTelemetry07;
        let o = desired(&other, "s");
        let p = plan(
            &d,
            true,
            Some((&o, &live(StreamState::Running))),
            &BTreeMap::new(),
            None,
        );
        assert_eq!(
            p.config.change,
            Some(Change::Update {
                fields: vec!["outputFormat".into()]
            })
        );
        assert_eq!(p.run, None, "an update does not touch the running state");
    }

    #[test]
    fn tags_are_planned_only_when_read() {
        let d = desired(&spec(), "s");
        let want = BTreeMap::from([("team".to_string(), "a".to_string())]);
        let running = live(StreamState::Running);
        assert!(plan(&d, true, Some((&d, &running)), &want, None).is_empty());
        let p = plan(
            &d,
            true,
            Some((&d, &running)),
            &want,
            Some(&BTreeMap::new()),
        );
        assert_eq!(p.config.tags.set, want);
    }

    #[test]
    fn an_unknown_state_is_driven_to_the_wanted_one() {
        assert_eq!(run_change(true, None), Some(RunChange::Start));
        assert_eq!(run_change(false, None), Some(RunChange::Stop));
    }
}
