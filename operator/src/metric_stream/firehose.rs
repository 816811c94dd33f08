//! The metric stream's destination: the Firehose delivery stream named by `firehoseArn`.
//!
//! PutMetricStream documents no error for a delivery stream that is missing or still being
//! created, and a stream into it delivers nothing. So the operator reads the delivery stream with
//! DescribeDeliveryStream (by the name and in the region the ARN gives) before any write, and
//! writes only once it is ACTIVE.

use crate::error::Error;

/// What DescribeDeliveryStream calls a delivery stream that can take records.
pub const ACTIVE: &str = "ACTIVE";

/// What `status.firehoseDeliveryStreamStatus` shows for a delivery stream that does not exist.
pub const NOT_FOUND: &str = "NotFound";

/// The parts of a Firehose delivery stream ARN,
/// `arn:<partition>:firehose:<region>:<account>:deliverystream/<name>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryStreamArn {
    pub region: String,
    pub account: String,
    pub name: String,
}

/// Parses a delivery stream ARN. The schema already checks the shape; this is the same check for
/// a spec that reached the operator some other way.
pub fn parse_arn(arn: &str) -> Result<DeliveryStreamArn, Error> {
    let invalid = || {
        Error::invalid_spec(format!(
            "firehoseArn {arn:?} is not a Firehose delivery stream ARN such as \
             arn:aws:firehose:us-east-1:123456789012:deliverystream/metrics"
        ))
    };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, region, account, resource] = parts.as_slice() else {
        return Err(invalid());
    };
    let name = resource
        .strip_prefix("deliverystream/")
        .ok_or_else(invalid)?;
    let valid = *prefix == "arn"
        && partition.starts_with("aws")
        && *service == "firehose"
        && !region.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty();
    if !valid {
        return Err(invalid());
    }
    Ok(DeliveryStreamArn {
        region: region.to_string(),
        account: account.to_string(),
        name: name.to_string(),
    })
}

/// The account of an IAM role ARN, `arn:<partition>:iam::<account>:role/<name>`.
pub fn role_account(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "iam", "", account, resource] if resource.starts_with("role/") => Some(account),
        _ => None,
    }
}

/// Whether the metric stream may be written, given the delivery stream's status
/// (`None`: it does not exist). A `DependencyNotReady` error says why not.
pub fn ready(destination: &DeliveryStreamArn, status: Option<&str>) -> Result<(), Error> {
    let what = format!(
        "Firehose delivery stream {:?} in {}",
        destination.name, destination.region
    );
    match status {
        Some(ACTIVE) => Ok(()),
        None => Err(Error::dependency(format!(
            "{what} does not exist; the metric stream is written once it exists and is ACTIVE"
        ))),
        Some(other) => Err(Error::dependency(format!(
            "{what} is {other}, not ACTIVE; the metric stream is written once it is ACTIVE"
        ))),
    }
}

/// The status to report for the delivery stream.
pub fn reported_status(status: Option<&str>) -> String {
    status.unwrap_or(NOT_FOUND).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reason::Reason;

    fn metrics() -> DeliveryStreamArn {
        parse_arn("arn:aws:firehose:eu-west-1:123456789012:deliverystream/metrics").unwrap()
    }

    #[test]
    fn the_arn_gives_region_account_and_name() {
        assert_eq!(
            metrics(),
            DeliveryStreamArn {
                region: "eu-west-1".into(),
                account: "123456789012".into(),
                name: "metrics".into(),
            }
        );
        let china =
            parse_arn("arn:aws-cn:firehose:cn-north-1:123456789012:deliverystream/m").unwrap();
        assert_eq!(china.region, "cn-north-1");
    }

    #[test]
    fn an_arn_of_something_else_is_an_invalid_spec() {
        for arn in [
            "arn:aws:kinesis:us-east-1:123456789012:stream/metrics",
            "arn:aws:firehose:us-east-1:123456789012:deliverystream/",
            "arn:aws:firehose:us-east-1:1234:deliverystream/metrics",
            "metrics",
        ] {
            let err = parse_arn(arn).unwrap_err();
            assert_eq!(err.reason, Reason::InvalidSpec, "{arn}");
            assert!(err.is_terminal());
        }
    }

    #[test]
    fn a_missing_delivery_stream_is_a_dependency_that_says_so() {
        let err = ready(&metrics(), None).unwrap_err();
        assert_eq!(err.reason, Reason::DependencyNotReady);
        assert!(!err.is_terminal());
        assert!(err.message.contains("\"metrics\""), "{}", err.message);
        assert!(err.message.contains("does not exist"), "{}", err.message);
        assert_eq!(reported_status(None), "NotFound");
    }

    #[test]
    fn only_an_active_delivery_stream_lets_the_stream_be_written() {
        assert!(ready(&metrics(), Some("ACTIVE")).is_ok());
        for status in ["CREATING", "CREATING_FAILED", "DELETING", "DELETING_FAILED"] {
            let err = ready(&metrics(), Some(status)).unwrap_err();
            assert_eq!(err.reason, Reason::DependencyNotReady);
            assert!(err.message.contains(status), "{}", err.message);
        }
    }

    #[test]
    fn the_role_account_is_read_from_the_role_arn() {
        assert_eq!(
            role_account("arn:aws:iam::123456789012:role/metric-stream"),
            Some("123456789012")
        );
        assert_eq!(role_account("arn:aws:iam::123456789012:user/x"), None);
    }
}
