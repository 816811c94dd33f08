//! An alarm's live state as CloudWatch reports it (metric or composite), and what the status and
//! Events say about it.

use super::spec::AlarmState;
use crate::aws::wire::{from_wire, time, to_wire};
use aws_sdk_cloudwatch::types as cw;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

/// The live state CloudWatch reports for an alarm.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LiveState {
    pub arn: Option<String>,
    pub state: Option<AlarmState>,
    pub reason: Option<String>,
    pub updated: Option<Time>,
    pub transitioned: Option<Time>,
}

/// Builds the live state from the fields both record types carry.
macro_rules! live_state {
    ($alarm:expr) => {
        LiveState {
            arn: $alarm.alarm_arn.clone(),
            state: $alarm
                .state_value
                .as_ref()
                .and_then(|s| from_wire(s.as_str())),
            reason: $alarm.state_reason.clone(),
            updated: $alarm.state_updated_timestamp.as_ref().and_then(time),
            transitioned: $alarm.state_transitioned_timestamp.as_ref().and_then(time),
        }
    };
}

/// The live state of a metric alarm.
pub fn of_metric_alarm(alarm: &cw::MetricAlarm) -> LiveState {
    live_state!(alarm)
}

/// The live state of a composite alarm.
pub fn of_composite_alarm(alarm: &cw::CompositeAlarm) -> LiveState {
    live_state!(alarm)
}

/// The reason CloudWatch gives for the state of an alarm it has not evaluated yet.
pub const INITIAL_REASON: &str = "Unchecked: Initial alarm creation";

/// The live state of an alarm whose create was sent at `sent` and answered at `answered`, with
/// the ARN `arn`, as CloudWatch reports it until it first evaluates the alarm: INSUFFICIENT_DATA
/// since its creation. CloudWatch records the creation time somewhere within the Put's round
/// trip and the status keeps it to the second, so it is known only when the round trip began and
/// ended within the same second; `None` otherwise (the alarm is read back: a guess a second off
/// would be corrected by the next resync, a status write with nothing changed in AWS).
pub fn created(arn: Option<String>, sent: Timestamp, answered: Timestamp) -> Option<LiveState> {
    if sent.as_second() != answered.as_second() {
        return None;
    }
    let since = Timestamp::from_second(answered.as_second()).ok().map(Time);
    Some(LiveState {
        updated: since.clone(),
        transitioned: since,
        ..new_alarm(arn)
    })
}

/// What any new alarm is until CloudWatch first evaluates it, without the times only a read
/// tells: INSUFFICIENT_DATA, for CloudWatch's initial reason.
pub fn new_alarm(arn: Option<String>) -> LiveState {
    LiveState {
        arn,
        state: Some(AlarmState::InsufficientData),
        reason: Some(INITIAL_REASON.to_string()),
        updated: None,
        transitioned: None,
    }
}

/// An Event note when the live state moved, e.g. `OK → ALARM: Threshold Crossed: …`.
pub fn state_change(previous: Option<AlarmState>, live: &LiveState) -> Option<String> {
    let before = previous?;
    let after = live.state?;
    (before != after).then(|| {
        format!(
            "{} → {}: {}",
            to_wire(&before),
            to_wire(&after),
            live.reason.as_deref().unwrap_or("no reason given")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(state: AlarmState) -> LiveState {
        LiveState {
            arn: Some("arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu".into()),
            state: Some(state),
            reason: Some("Threshold Crossed".into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_state_change_is_reported_once() {
        let note = state_change(Some(AlarmState::Ok), &live(AlarmState::Alarm)).unwrap();
        assert_eq!(note, "OK → ALARM: Threshold Crossed");
        assert_eq!(
            state_change(Some(AlarmState::Ok), &live(AlarmState::Ok)),
            None
        );
        assert_eq!(state_change(None, &live(AlarmState::Alarm)), None);
    }

    #[test]
    fn a_created_alarm_is_insufficient_data_since_its_creation_to_the_second() {
        let ms = |m| Timestamp::from_millisecond(m).unwrap();
        let live = created(
            Some("arn:a".into()),
            ms(1_700_000_000_050),
            ms(1_700_000_000_750),
        )
        .expect("a round trip within one second");
        assert_eq!(live.state, Some(AlarmState::InsufficientData));
        assert_eq!(live.reason.as_deref(), Some(INITIAL_REASON));
        let second = Some(Time(Timestamp::from_second(1_700_000_000).unwrap()));
        assert_eq!((live.updated, live.transitioned), (second.clone(), second));
        assert_eq!(live.arn.as_deref(), Some("arn:a"));
    }

    #[test]
    fn a_create_whose_round_trip_crosses_a_second_has_no_known_creation_time() {
        let ms = |m| Timestamp::from_millisecond(m).unwrap();
        // CloudWatch may have recorded 1_700_000_000 or 1_700_000_001: either guess can be a
        // second off what the next read shows.
        assert_eq!(
            created(None, ms(1_700_000_000_990), ms(1_700_000_001_010)),
            None
        );
        assert_eq!(
            created(None, ms(1_700_000_000_000), ms(1_700_000_003_000)),
            None
        );
        assert!(created(None, ms(1_700_000_001_000), ms(1_700_000_001_999)).is_some());
    }

    #[test]
    fn both_record_types_give_the_same_live_state() {
        let metric = cw::MetricAlarm::builder()
            .alarm_arn("arn:a")
            .state_value(cw::StateValue::InsufficientData)
            .state_reason("new")
            .state_updated_timestamp(aws_smithy_types::DateTime::from_secs(5))
            .build();
        let composite = cw::CompositeAlarm::builder()
            .alarm_arn("arn:a")
            .state_value(cw::StateValue::InsufficientData)
            .state_reason("new")
            .state_updated_timestamp(aws_smithy_types::DateTime::from_secs(5))
            .build();
        let a = of_metric_alarm(&metric);
        assert_eq!(a, of_composite_alarm(&composite));
        assert_eq!(a.state, Some(AlarmState::InsufficientData));
        assert!(a.updated.is_some());
    }
}
