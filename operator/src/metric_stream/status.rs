//! Step 4 of the MetricStream reconcile: the status to write, from what was observed and done.
//! Pure and deterministic: the same observation gives the same status, so nothing is written
//! when nothing changed.

use super::diff::RunChange;
use super::observed::LiveStream;
use super::spec::{MetricStreamStatus, StreamState};
use crate::common_fields::CommonStatus;

/// The status for the stream `aws_name` with this live view and delivery stream status.
/// `previous` keeps the conditions (the runtime recomputes them) and what the runtime owns.
pub fn status(
    aws_name: &str,
    live: &LiveStream,
    firehose_status: Option<String>,
    previous: Option<&MetricStreamStatus>,
) -> MetricStreamStatus {
    let common = previous.map(|p| p.common.clone()).unwrap_or_default();
    MetricStreamStatus {
        common: CommonStatus {
            arn: live.arn.clone(),
            aws_name: Some(aws_name.to_string()),
            ..common
        },
        state: live.state,
        creation_date: live.created.clone(),
        last_update_date: live.updated.clone(),
        firehose_delivery_stream_status: firehose_status,
    }
}

/// What the stream looks like after the writes of a reconcile, when GetMetricStream cannot tell
/// yet: `before` (`None` for a stream just created, which AWS starts running) with `run` applied.
pub fn after_writes(before: Option<&LiveStream>, run: Option<RunChange>) -> LiveStream {
    let mut live = before.cloned().unwrap_or_else(|| LiveStream {
        state: Some(StreamState::Running),
        ..Default::default()
    });
    match run {
        Some(RunChange::Start) => live.state = Some(StreamState::Running),
        Some(RunChange::Stop) => live.state = Some(StreamState::Stopped),
        None => {}
    }
    live
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::wire::time;
    use proptest::prelude::*;

    fn live(state: StreamState, updated: i64) -> LiveStream {
        LiveStream {
            arn: Some("arn:aws:cloudwatch:us-east-1:123456789012:metric-stream/s".into()),
            state: Some(state),
            created: time(&aws_smithy_types::DateTime::from_secs(1_700_000_000)),
            updated: time(&aws_smithy_types::DateTime::from_secs(updated)),
        }
    }

    #[test]
    fn status_reports_state_dates_arn_and_destination() {
        let s = status(
            "s",
            &live(StreamState::Stopped, 1_700_000_100),
            Some("ACTIVE".into()),
            None,
        );
        assert_eq!(s.state, Some(StreamState::Stopped));
        assert_eq!(s.common.aws_name.as_deref(), Some("s"));
        assert!(
            s.common
                .arn
                .as_deref()
                .unwrap()
                .ends_with("metric-stream/s")
        );
        assert!(s.creation_date.is_some() && s.last_update_date.is_some());
        assert_eq!(s.firehose_delivery_stream_status.as_deref(), Some("ACTIVE"));
    }

    #[test]
    fn a_new_stream_wanted_stopped_is_reported_stopped_after_writes() {
        assert_eq!(
            after_writes(None, Some(RunChange::Stop)).state,
            Some(StreamState::Stopped)
        );
        assert_eq!(after_writes(None, None).state, Some(StreamState::Running));
    }

    proptest! {
        #[test]
        fn status_is_deterministic(
            state in prop_oneof![Just(StreamState::Running), Just(StreamState::Stopped)],
            updated in 1_700_000_000i64..1_800_000_000,
            firehose in proptest::option::of(prop_oneof![Just("ACTIVE"), Just("CREATING")]),
        ) {
            let l = live(state, updated);
            let first = status("s", &l, firehose.map(String::from), None);
            let again = status("s", &l, firehose.map(String::from), Some(&first));
            prop_assert_eq!(&first, &again);
        }
    }
}
