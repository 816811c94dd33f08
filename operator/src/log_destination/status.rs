//! Step 4 of the LogDestination reconcile: the status to write, from what was observed and done.
//! Pure and deterministic: the same observation gives the same status, so nothing is written when
//! nothing changed.

use super::observed::LiveDestination;
use super::spec::LogDestinationStatus;
use crate::common_fields::CommonStatus;

/// The status for the destination `aws_name` with these live facts. `previous` keeps the
/// conditions (the runtime recomputes them) and what the runtime owns.
pub fn status(
    aws_name: &str,
    live: &LiveDestination,
    previous: Option<&LogDestinationStatus>,
) -> LogDestinationStatus {
    let common = previous.map(|p| p.common.clone()).unwrap_or_default();
    LogDestinationStatus {
        common: CommonStatus {
            arn: live.arn.clone(),
            aws_name: Some(aws_name.to_string()),
            ..common
        },
        creation_time: live.creation_time.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_is_deterministic_and_carries_the_arn() {
        let live = LiveDestination {
            arn: Some("arn:aws:logs:us-east-1:123456789012:destination:central".into()),
            creation_time: None,
        };
        let a = status("central", &live, None);
        assert_eq!(a, status("central", &live, Some(&a)));
        assert_eq!(a.common.arn, live.arn);
        assert_eq!(a.common.aws_name.as_deref(), Some("central"));
    }
}
