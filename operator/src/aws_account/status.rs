//! The AWSAccount's status from what its session reports (pure, deterministic: times are whole
//! seconds, so a status read twice between two AssumeRole calls is the same bytes).

use super::spec::AWSAccountStatus;
use crate::aws::accounts::{Identity, SessionReport};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use std::time::{SystemTime, UNIX_EPOCH};

/// A wall-clock time as a status field, to the second.
fn time(t: SystemTime) -> Option<Time> {
    let seconds = t.duration_since(UNIX_EPOCH).ok()?.as_secs();
    Timestamp::from_second(i64::try_from(seconds).ok()?)
        .ok()
        .map(Time)
}

/// The status fields: who the operator is in the account (`identity`, when it could tell; the
/// last known one otherwise), and the session's last AssumeRole and its error. Conditions and
/// observedGeneration are carried over from `previous` for the shell to update.
pub fn status(
    identity: Option<&Identity>,
    report: &SessionReport,
    previous: Option<&AWSAccountStatus>,
) -> AWSAccountStatus {
    let previous = previous.cloned().unwrap_or_default();
    AWSAccountStatus {
        account_id: identity
            .map(|i| i.account_id.clone())
            .or(previous.account_id),
        caller_arn: identity.map(|i| i.arn.clone()).or(previous.caller_arn),
        last_assume_role_time: report
            .last_success
            .and_then(time)
            .or(previous.last_assume_role_time),
        session_expiration: report
            .expires
            .and_then(time)
            .or(previous.session_expiration),
        assume_role_error: report.last_error.as_ref().map(|e| e.message.clone()),
        observed_generation: previous.observed_generation,
        conditions: previous.conditions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::reason::Reason;
    use std::time::Duration;

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(seconds * 1_000 + 250)
    }

    fn identity() -> Identity {
        Identity {
            account_id: "210987654321".into(),
            arn: "arn:aws:sts::210987654321:assumed-role/cwo/cloudwatch-operator".into(),
        }
    }

    #[test]
    fn a_working_session_reports_who_and_when_to_the_second() {
        let report = SessionReport {
            last_success: Some(at(1_700_000_000)),
            expires: Some(at(1_700_003_600)),
            last_error: None,
        };
        let s = status(Some(&identity()), &report, None);
        assert_eq!(s.account_id.as_deref(), Some("210987654321"));
        assert_eq!(
            s.last_assume_role_time,
            Some(Time(Timestamp::from_second(1_700_000_000).unwrap()))
        );
        assert_eq!(
            s.session_expiration,
            Some(Time(Timestamp::from_second(1_700_003_600).unwrap()))
        );
        assert_eq!(s.assume_role_error, None);
        // Same report, same bytes.
        assert_eq!(s, status(Some(&identity()), &report, Some(&s)));
    }

    #[test]
    fn a_refusal_keeps_what_was_known_and_says_why() {
        let worked = status(
            Some(&identity()),
            &SessionReport {
                last_success: Some(at(100)),
                expires: Some(at(1_000)),
                last_error: None,
            },
            None,
        );
        let refused = SessionReport {
            last_success: None,
            expires: None,
            last_error: Some(Error::new(
                Reason::AccessDenied,
                "AssumeRole: User: arn:aws:iam::123456789012:root is not authorized",
            )),
        };
        let s = status(None, &refused, Some(&worked));
        assert_eq!(s.account_id.as_deref(), Some("210987654321"));
        assert_eq!(s.last_assume_role_time, worked.last_assume_role_time);
        assert!(
            s.assume_role_error
                .as_deref()
                .is_some_and(|e| e.contains("not authorized")),
            "{s:?}"
        );
    }
}
