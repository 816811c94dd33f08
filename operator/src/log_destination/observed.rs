//! Step 2 of the LogDestination reconcile: what DescribeDestinations returned, in the same
//! normal form as the desired destination, and the live facts status reports.

use super::desired::DestinationConfig;
use crate::aws::wire::time;
use aws_sdk_cloudwatchlogs::types::Destination;
use aws_smithy_types::DateTime;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// The configuration of a destination as AWS reports it.
pub fn observed(d: &Destination) -> DestinationConfig {
    DestinationConfig {
        target_arn: d.target_arn().unwrap_or_default().to_string(),
        role_arn: d.role_arn().unwrap_or_default().to_string(),
    }
}

/// What status reports of a destination.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LiveDestination {
    pub arn: Option<String>,
    pub creation_time: Option<Time>,
}

/// The live facts of `d`.
pub fn live(d: &Destination) -> LiveDestination {
    LiveDestination {
        arn: d.arn().map(str::to_string),
        creation_time: d
            .creation_time()
            .and_then(|millis| time(&DateTime::from_millis(millis))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::jiff::Timestamp;

    #[test]
    fn what_aws_reports_maps_to_the_config_and_live_facts() {
        let d = Destination::builder()
            .destination_name("central")
            .target_arn("arn:aws:kinesis:us-east-1:123456789012:stream/logs")
            .role_arn("arn:aws:iam::123456789012:role/r")
            .arn("arn:aws:logs:us-east-1:123456789012:destination:central")
            .creation_time(1_700_000_000_999)
            .build();
        assert_eq!(
            observed(&d),
            DestinationConfig {
                target_arn: "arn:aws:kinesis:us-east-1:123456789012:stream/logs".into(),
                role_arn: "arn:aws:iam::123456789012:role/r".into(),
            }
        );
        let l = live(&d);
        assert_eq!(
            l.arn.as_deref(),
            Some("arn:aws:logs:us-east-1:123456789012:destination:central")
        );
        assert_eq!(
            l.creation_time,
            Some(Time(Timestamp::from_second(1_700_000_000).unwrap()))
        );
    }
}
