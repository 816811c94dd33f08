//! The AWSAccount's status from what its session reports (pure, deterministic: times are whole
//! seconds, so a status read twice between two AssumeRole calls is the same bytes).
//!
//! The session recorded in status is replaced only once it has expired: a renewal (five minutes
//! before expiry) or a new operator process (which holds no credentials and assumes the role
//! again at start) would otherwise rewrite every AWSAccount's status with nothing new to say —
//! the role still works, for the same caller.

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

/// The status fields at `now`: who the operator is in the account (`identity`, when it could
/// tell; the last known one otherwise), and the session's last AssumeRole and its error.
/// Conditions and observedGeneration are carried over from `previous` for the shell to update.
///
/// A working session keeps the AssumeRole time and expiration `previous` recorded while that
/// session has not expired, and the caller and the absence of an error are unchanged: a newer
/// session of the same role says nothing new.
pub fn status(
    identity: Option<&Identity>,
    report: &SessionReport,
    previous: Option<&AWSAccountStatus>,
    now: SystemTime,
) -> AWSAccountStatus {
    let previous = previous.cloned().unwrap_or_default();
    let account_id = identity
        .map(|i| i.account_id.clone())
        .or(previous.account_id.clone());
    let caller_arn = identity
        .map(|i| i.arn.clone())
        .or(previous.caller_arn.clone());
    let assume_role_error = report.last_error.as_ref().map(|e| e.message.clone());
    let recorded_live = match (&previous.session_expiration, time(now)) {
        (Some(expires), Some(now)) => expires.0 > now.0,
        _ => false,
    };
    let same_session = identity.is_some()
        && assume_role_error.is_none()
        && previous.assume_role_error.is_none()
        && account_id == previous.account_id
        && caller_arn == previous.caller_arn
        && previous.last_assume_role_time.is_some()
        && recorded_live;
    let (last_assume_role_time, session_expiration) = if same_session {
        (previous.last_assume_role_time, previous.session_expiration)
    } else {
        (
            report
                .last_success
                .and_then(time)
                .or(previous.last_assume_role_time),
            report
                .expires
                .and_then(time)
                .or(previous.session_expiration),
        )
    };
    AWSAccountStatus {
        account_id,
        caller_arn,
        last_assume_role_time,
        session_expiration,
        assume_role_error,
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
        let s = status(Some(&identity()), &report, None, at(1_700_000_001));
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
        assert_eq!(
            s,
            status(Some(&identity()), &report, Some(&s), at(1_700_000_600))
        );
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
            at(101),
        );
        let refused = SessionReport {
            last_success: None,
            expires: None,
            last_error: Some(Error::new(
                Reason::AccessDenied,
                "AssumeRole: User: arn:aws:iam::123456789012:root is not authorized",
            )),
        };
        let s = status(None, &refused, Some(&worked), at(200));
        assert_eq!(s.account_id.as_deref(), Some("210987654321"));
        assert_eq!(s.last_assume_role_time, worked.last_assume_role_time);
        assert!(
            s.assume_role_error
                .as_deref()
                .is_some_and(|e| e.contains("not authorized")),
            "{s:?}"
        );
    }

    fn working(issued: u64, expires: u64) -> SessionReport {
        SessionReport {
            last_success: Some(at(issued)),
            expires: Some(at(expires)),
            last_error: None,
        }
    }

    #[test]
    fn a_newer_session_of_the_same_caller_keeps_the_recorded_one_until_it_expires() {
        let recorded = status(Some(&identity()), &working(1_000, 4_600), None, at(1_000));
        // A new operator process assumes the role again at start; a renewal does five minutes
        // before expiry. Neither rewrites status while the recorded session is still valid, up
        // to its last second.
        for (issued, now) in [(2_000, 2_000), (4_300, 4_300), (4_300, 4_599)] {
            let renewed = working(issued, issued + 3_600);
            assert_eq!(
                status(Some(&identity()), &renewed, Some(&recorded), at(now)),
                recorded,
                "issued {issued}, now {now}"
            );
        }
        // Once it has expired, the current session is recorded.
        let renewed = working(4_300, 7_900);
        let s = status(Some(&identity()), &renewed, Some(&recorded), at(4_600));
        assert_eq!(
            s.last_assume_role_time,
            Some(Time(Timestamp::from_second(4_300).unwrap()))
        );
        assert_eq!(
            s.session_expiration,
            Some(Time(Timestamp::from_second(7_900).unwrap()))
        );
    }

    #[test]
    fn a_new_caller_or_a_recovery_records_the_current_session_at_once() {
        let recorded = status(Some(&identity()), &working(1_000, 4_600), None, at(1_000));
        let current = working(2_000, 5_600);
        let expect = Some(Time(Timestamp::from_second(2_000).unwrap()));
        // The role now resolves to another caller (the spec names another role).
        let other = Identity {
            account_id: "210987654322".into(),
            arn: "arn:aws:sts::210987654322:assumed-role/cwo/cloudwatch-operator".into(),
        };
        let s = status(Some(&other), &current, Some(&recorded), at(2_000));
        assert_eq!(s.account_id.as_deref(), Some("210987654322"));
        assert_eq!(s.last_assume_role_time, expect);
        // The previous AssumeRole failed: its error is cleared and the success recorded.
        let failed = AWSAccountStatus {
            assume_role_error: Some("AccessDenied".into()),
            ..recorded.clone()
        };
        let s = status(Some(&identity()), &current, Some(&failed), at(2_000));
        assert_eq!(s.assume_role_error, None);
        assert_eq!(s.last_assume_role_time, expect);
        // A status that never recorded a session records this one.
        let bare = AWSAccountStatus {
            last_assume_role_time: None,
            session_expiration: None,
            ..recorded.clone()
        };
        let s = status(Some(&identity()), &current, Some(&bare), at(2_000));
        assert_eq!(s.last_assume_role_time, expect);
    }

    #[test]
    fn a_failure_is_reported_even_while_the_recorded_session_is_valid() {
        let recorded = status(Some(&identity()), &working(1_000, 4_600), None, at(1_000));
        let refused = SessionReport {
            last_success: Some(at(1_000)),
            expires: Some(at(4_600)),
            last_error: Some(Error::new(
                Reason::AccessDenied,
                "AssumeRole: not authorized",
            )),
        };
        let s = status(None, &refused, Some(&recorded), at(2_000));
        assert_eq!(
            s.assume_role_error.as_deref(),
            Some("AssumeRole: not authorized")
        );
        assert_ne!(s, recorded);
    }
}
