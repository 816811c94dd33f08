//! The AWS side of a scenario, through the SDK against the emulator: the delivery streams and
//! log groups the mixed fleet points at (which the operator does not manage), in every account
//! the fleet is spread over, and the check that deleting everything left nothing behind in any
//! account.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_cloudwatch::types::AlarmType;
use aws_sdk_firehose::types::{DeliveryStreamType, ExtendedS3DestinationConfiguration};
use aws_types::SdkConfig;
use cwo_emulator::DEFAULT_ACCOUNT;

use super::fleet::Fleet;

/// `sdk` with long-term keys of `account`: the emulator takes a 12-digit access key id as the
/// account's. The benchmark's own calls in the account share its quotas with the operator's
/// when the emulator enforces them (the leftovers count lists a hundred log groups at
/// DescribeSubscriptionFilters' five per second), so a throttled call is sent again, backing off,
/// up to ten times instead of the SDK's three.
pub fn sdk_in(sdk: &SdkConfig, account: &str) -> SdkConfig {
    sdk.to_builder()
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            account, "bench", None, None, "bench",
        )))
        .retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_max_attempts(10)
                .with_initial_backoff(std::time::Duration::from_millis(200)),
        )
        .build()
}

/// Creates the Firehose delivery streams and log groups `fleet` refers to, in the accounts it is
/// spread over (the operator's own when it is not).
pub async fn create_prerequisites(sdk: &SdkConfig, fleet: &Fleet) -> Result<()> {
    for (k, account) in fleet.account_ids().iter().enumerate() {
        let sdk = sdk_in(sdk, account);
        create_prerequisites_in(
            &sdk,
            account,
            &fleet.delivery_streams(),
            &[fleet.log_groups_in(k), fleet.metric_log_groups_in(k)].concat(),
        )
        .await
        .with_context(|| format!("in account {account}"))?;
    }
    Ok(())
}

async fn create_prerequisites_in(
    sdk: &SdkConfig,
    account: &str,
    delivery_streams: &[String],
    log_groups: &[String],
) -> Result<()> {
    let firehose = aws_sdk_firehose::Client::new(sdk);
    for name in delivery_streams {
        firehose
            .create_delivery_stream()
            .delivery_stream_name(name)
            .delivery_stream_type(DeliveryStreamType::DirectPut)
            .extended_s3_destination_configuration(
                ExtendedS3DestinationConfiguration::builder()
                    .role_arn(format!("arn:aws:iam::{account}:role/firehose-delivery"))
                    .bucket_arn(format!("arn:aws:s3:::{name}-archive"))
                    .build()?,
            )
            .send()
            .await?;
    }
    let logs = aws_sdk_cloudwatchlogs::Client::new(sdk);
    for group in log_groups {
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

    /// What every account holds together.
    pub fn sum<'a>(all: impl IntoIterator<Item = &'a Leftovers>) -> Leftovers {
        all.into_iter()
            .fold(Leftovers::default(), |a, b| Leftovers {
                alarms: a.alarms + b.alarms,
                metric_streams: a.metric_streams + b.metric_streams,
                subscription_filters: a.subscription_filters + b.subscription_filters,
                sampling_rules: a.sampling_rules + b.sampling_rules,
                metric_filters: a.metric_filters + b.metric_filters,
                destinations: a.destinations + b.destinations,
            })
    }
}

/// What is left in each account the fleet is spread over, and in the operator's own (where a
/// spread fleet should never have put anything), keyed by account id.
pub async fn leftovers(sdk: &SdkConfig, fleet: &Fleet) -> Result<BTreeMap<String, Leftovers>> {
    let mut out = BTreeMap::new();
    for (k, account) in fleet.account_ids().iter().enumerate() {
        let groups = LogGroups {
            subscribed: fleet.log_groups_in(k),
            metric: fleet.metric_log_groups_in(k),
        };
        let left = leftovers_in(&sdk_in(sdk, account), fleet, &groups)
            .await
            .with_context(|| format!("in account {account}"))?;
        out.insert(account.clone(), left);
    }
    if !out.contains_key(DEFAULT_ACCOUNT) {
        let left = leftovers_in(&sdk_in(sdk, DEFAULT_ACCOUNT), fleet, &LogGroups::default())
            .await
            .with_context(|| format!("in the operator's own account {DEFAULT_ACCOUNT}"))?;
        out.insert(DEFAULT_ACCOUNT.to_string(), left);
    }
    Ok(out)
}

/// The fleet's log groups in one account: those its subscriptions and its metric filters are on.
#[derive(Default)]
struct LogGroups {
    subscribed: Vec<String>,
    metric: Vec<String>,
}

/// Counts every metric and composite alarm, metric stream, log destination, subscription filter
/// and metric filter on `groups`, and sampling rule in one account (paging through each list).
async fn leftovers_in(sdk: &SdkConfig, fleet: &Fleet, groups: &LogGroups) -> Result<Leftovers> {
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
    for group in &groups.subscribed {
        let page = logs
            .describe_subscription_filters()
            .log_group_name(group)
            .send()
            .await?;
        out.subscription_filters += page.subscription_filters().len();
    }
    for group in &groups.metric {
        let mut token = None;
        loop {
            let page = logs
                .describe_metric_filters()
                .log_group_name(group)
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
