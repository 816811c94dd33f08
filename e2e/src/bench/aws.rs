//! The AWS side of a scenario, through the SDK against the emulator: the delivery streams and
//! log groups the mixed fleet points at (which the operator does not manage), and the check that
//! deleting everything left nothing behind.

use anyhow::Result;
use aws_sdk_cloudwatch::types::AlarmType;
use aws_sdk_firehose::types::{DeliveryStreamType, ExtendedS3DestinationConfiguration};
use aws_types::SdkConfig;
use cwo_emulator::DEFAULT_ACCOUNT;

use super::fleet::Fleet;

/// Creates the Firehose delivery streams and log groups `fleet` refers to.
pub async fn create_prerequisites(sdk: &SdkConfig, fleet: &Fleet) -> Result<()> {
    let firehose = aws_sdk_firehose::Client::new(sdk);
    for name in fleet.delivery_streams() {
        firehose
            .create_delivery_stream()
            .delivery_stream_name(&name)
            .delivery_stream_type(DeliveryStreamType::DirectPut)
            .extended_s3_destination_configuration(
                ExtendedS3DestinationConfiguration::builder()
                    .role_arn(format!(
                        "arn:aws:iam::{DEFAULT_ACCOUNT}:role/firehose-delivery"
                    ))
                    .bucket_arn(format!("arn:aws:s3:::{name}-archive"))
                    .build()?,
            )
            .send()
            .await?;
    }
    let logs = aws_sdk_cloudwatchlogs::Client::new(sdk);
    for group in fleet
        .log_groups()
        .into_iter()
        .chain(fleet.metric_log_groups())
    {
        logs.create_log_group().log_group_name(group).send().await?;
    }
    Ok(())
}

/// What is left in AWS of the objects a fleet manages.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Leftovers {
    pub alarms: usize,
    pub metric_streams: usize,
    pub subscription_filters: usize,
    /// Sampling rules other than X-Ray's `Default`, which cannot be deleted.
    pub sampling_rules: usize,
    pub metric_filters: usize,
    pub destinations: usize,
}

impl Leftovers {
    pub fn is_empty(&self) -> bool {
        *self == Leftovers::default()
    }
}

/// Counts every metric and composite alarm, metric stream, subscription filter and metric filter
/// on the fleet's log groups, log destination, and sampling rule (paging through each list).
pub async fn leftovers(sdk: &SdkConfig, fleet: &Fleet) -> Result<Leftovers> {
    let mut out = Leftovers::default();
    let cw = aws_sdk_cloudwatch::Client::new(sdk);
    let mut token = None;
    loop {
        let page = cw
            .describe_alarms()
            .alarm_types(AlarmType::MetricAlarm)
            .alarm_types(AlarmType::CompositeAlarm)
            .max_records(100)
            .set_next_token(token)
            .send()
            .await?;
        out.alarms += page.metric_alarms().len() + page.composite_alarms().len();
        token = page
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    if fleet.metric_streams > 0 {
        let mut token = None;
        loop {
            let page = cw
                .list_metric_streams()
                .set_next_token(token)
                .send()
                .await?;
            out.metric_streams += page.entries().len();
            token = page
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            if token.is_none() {
                break;
            }
        }
    }
    let logs = aws_sdk_cloudwatchlogs::Client::new(sdk);
    for group in fleet.log_groups() {
        let page = logs
            .describe_subscription_filters()
            .log_group_name(group)
            .send()
            .await?;
        out.subscription_filters += page.subscription_filters().len();
    }
    for group in fleet.metric_log_groups() {
        let mut token = None;
        loop {
            let page = logs
                .describe_metric_filters()
                .log_group_name(&group)
                .set_next_token(token)
                .send()
                .await?;
            out.metric_filters += page.metric_filters().len();
            token = page
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            if token.is_none() {
                break;
            }
        }
    }
    if fleet.log_destinations > 0 {
        let mut token = None;
        loop {
            let page = logs
                .describe_destinations()
                .set_next_token(token)
                .send()
                .await?;
            out.destinations += page.destinations().len();
            token = page
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            if token.is_none() {
                break;
            }
        }
    }
    if fleet.sampling_rules > 0 {
        let xray = aws_sdk_xray::Client::new(sdk);
        let mut token = None;
        loop {
            let page = xray
                .get_sampling_rules()
                .set_next_token(token)
                .send()
                .await?;
            out.sampling_rules += page
                .sampling_rule_records()
                .iter()
                .filter(|r| r.sampling_rule().and_then(|s| s.rule_name()) != Some("Default"))
                .count();
            token = page
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            if token.is_none() {
                break;
            }
        }
    }
    Ok(out)
}
