//! CloudWatch Logs sends a test message to the destination on every PutSubscriptionFilter and
//! refuses the write when it cannot be delivered. Right after a destination, a role or a Lambda
//! permission is created this is usually IAM or propagation delay, so these failures are retried
//! with backoff for a bounded time — measured from the first such failure for the current
//! generation, recorded in status so that a restart does not start the clock again — and only
//! then reported as terminal.

use crate::error::Error;
use crate::reason::Reason;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::{SignedDuration, Timestamp};

/// How long test-message failures are retried before they are terminal.
pub const GRACE: SignedDuration = SignedDuration::from_secs(5 * 60);

/// What AWS says when the test message fails (compared case-insensitively): Kinesis and Firehose
/// destinations not yet active, a Lambda function without permission for CloudWatch Logs yet,
/// and a role CloudWatch Logs cannot assume yet.
const MESSAGES: &[&str] = &[
    "could not deliver test message",
    "could not execute the lambda function",
    "make sure you have given cloudwatch logs permission to assume the provided role",
];

/// Whether a PutSubscriptionFilter error is a test-message failure (or a concurrent change of
/// the same filter, OperationAbortedException), which time usually resolves.
pub fn is_test_message_failure(e: &Error) -> bool {
    if e.aws_code.as_deref() == Some("OperationAbortedException") {
        return true;
    }
    let message = e.message.to_lowercase();
    MESSAGES.iter().any(|m| message.contains(m))
}

/// The first failure time to keep and the failure to report for a test-message failure `error`
/// at `now`, given the first failure recorded for this generation (`since`, if any): retried
/// until the grace period is over, terminal after.
pub fn failure(error: &Error, since: Option<&Time>, now: Timestamp) -> (Time, Error) {
    let since = since
        .map(|t| t.0)
        .unwrap_or_else(|| Timestamp::from_second(now.as_second()).unwrap_or(now));
    let deadline = since.saturating_add(GRACE).unwrap_or(since);
    let failure = if now < deadline {
        Error::new(
            Reason::DependencyNotReady,
            format!(
                "CloudWatch Logs could not deliver its test message to the destination, usually \
                 because the destination, its role or its permission is still propagating; \
                 retrying with backoff until {deadline}: {}",
                error.message
            ),
        )
    } else {
        Error::new(
            Reason::InvalidSpec,
            format!(
                "CloudWatch Logs has refused the test message to the destination since {since}: \
                 {}. Check that the destination exists and is active and that the role (or the \
                 Lambda function's resource policy) lets CloudWatch Logs deliver to it, then \
                 change the spec to try again",
                error.message
            ),
        )
    };
    (Time(since), failure)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(second).unwrap()
    }

    fn aws(code: &str, message: &str) -> Error {
        Error {
            aws_code: Some(code.into()),
            ..Error::invalid_spec(format!("PutSubscriptionFilter: {message}"))
        }
    }

    #[test]
    fn the_test_message_failures_aws_documents_are_recognised() {
        for e in [
            aws(
                "InvalidParameterException",
                "Could not deliver test message to specified Firehose stream. Check if the given Firehose stream is in ACTIVE state.",
            ),
            aws(
                "InvalidParameterException",
                "Could not execute the lambda function. Make sure you have given CloudWatch Logs permission to execute your function.",
            ),
            aws(
                "InvalidParameterException",
                "Could not deliver test message to specified Kinesis stream. Make sure you have given CloudWatch Logs permission to assume the provided role.",
            ),
            aws(
                "OperationAbortedException",
                "Multiple concurrent operations",
            ),
        ] {
            assert!(is_test_message_failure(&e), "{e}");
        }
        assert!(!is_test_message_failure(&aws(
            "InvalidParameterException",
            "Invalid filter pattern"
        )));
    }

    #[test]
    fn failures_are_retried_within_the_grace_period_from_the_first_one() {
        let e = aws(
            "InvalidParameterException",
            "Could not deliver test message",
        );
        let (since, v) = failure(&e, None, at(1000));
        assert_eq!(since, Time(at(1000)));
        assert_eq!(v.reason, Reason::DependencyNotReady);
        assert!(!v.reason.is_terminal());
        let (again, v2) = failure(&e, Some(&since), at(1000 + 299));
        assert_eq!(again, since, "the first failure time is kept");
        assert_eq!(
            v2, v,
            "the message is stable while retrying, so it is reported once"
        );
    }

    #[test]
    fn failures_become_terminal_after_the_grace_period() {
        let e = aws(
            "InvalidParameterException",
            "Could not deliver test message",
        );
        let since = Time(at(1000));
        let (_, v) = failure(&e, Some(&since), at(1300));
        assert_eq!(v.reason, Reason::InvalidSpec);
        assert!(v.reason.is_terminal());
        assert!(v.message.contains("Could not deliver test message"));
    }

    #[test]
    fn the_first_failure_time_has_whole_seconds() {
        let e = aws("OperationAbortedException", "x");
        let (since, _) = failure(&e, None, Timestamp::from_millisecond(1_500_250).unwrap());
        assert_eq!(since, Time(at(1500)));
    }
}
