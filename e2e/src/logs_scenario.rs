//! What the CloudWatch Logs scenarios (metric filters, subscriptions, destinations) share: a
//! scenario whose emulator holds log groups and delivery streams before anything is applied, as
//! a user (or another tool) made them in AWS; one whose operator crashes right after a write and
//! is started again; and the filters on a log group, read and waited for through the SDK.
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! use aws_sdk_cloudwatchlogs::types::SubscriptionFilter;
//! use cwo_e2e::logs_scenario::{self, LogGroupFilter, Seed};
//! let (s, logs) = logs_scenario::start("ls-example", Seed::log_groups(&["/app/orders"])).await?;
//! s.apply_file("examples/log-subscription.yaml")?;
//! SubscriptionFilter::wait(&s, &logs, "/app/orders", "errors", "the filter", |f| f.is_some())
//!     .await?;
//! # Ok(()) }
//! ```

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::types::{MetricFilter, SubscriptionFilter};
use cloudwatch_operator::aws::CRASH_AFTER_ENV;
use cwo_emulator::EmulatorConfig;

use crate::operator::{OperatorOptions, Scenario, create_delivery_stream, create_log_group};

/// Event reasons that mean something went wrong.
pub const ERROR_REASONS: &[&str] = &[
    "AwsUnavailable",
    "Throttled",
    "InvalidSpec",
    "AlreadyExistsUnowned",
    "LimitExceeded",
    "DependencyNotReady",
    "KubernetesError",
];

/// What the emulator holds before the operator sees any object.
#[derive(Clone, Copy, Debug, Default)]
pub struct Seed<'a> {
    pub log_groups: &'a [&'a str],
    pub delivery_streams: &'a [&'a str],
}

impl<'a> Seed<'a> {
    /// These log groups and nothing else.
    pub fn log_groups(log_groups: &'a [&'a str]) -> Seed<'a> {
        Seed {
            log_groups,
            ..Seed::default()
        }
    }

    /// These delivery streams and nothing else.
    pub fn delivery_streams(delivery_streams: &'a [&'a str]) -> Seed<'a> {
        Seed {
            delivery_streams,
            ..Seed::default()
        }
    }

    async fn make(&self, s: &Scenario) -> Result<()> {
        for stream in self.delivery_streams {
            create_delivery_stream(&s.sdk, stream).await?;
        }
        for group in self.log_groups {
            create_log_group(&s.sdk, group).await?;
        }
        Ok(())
    }
}

/// A scenario with the default emulator and operator options whose emulator holds `seed`, and a
/// CloudWatch Logs client of that emulator.
pub async fn start(name: &str, seed: Seed<'_>) -> Result<(Scenario, Client)> {
    start_with(
        name,
        EmulatorConfig::default(),
        OperatorOptions::default(),
        seed,
    )
    .await
}

/// As [`start`], with these emulator and operator settings.
pub async fn start_with(
    name: &str,
    emulator: EmulatorConfig,
    options: OperatorOptions,
    seed: Seed<'_>,
) -> Result<(Scenario, Client)> {
    let s = Scenario::start_with(name, emulator, options).await?;
    let logs = Client::new(&s.sdk);
    seed.make(&s).await?;
    Ok((s, logs))
}

/// A scenario whose emulator holds `seed` and whose operator exits right after its first
/// `operation` call, before the runtime writes the object's status ([`CRASH_AFTER_ENV`]).
/// [`restart_after_crash`] starts it again as usual.
pub async fn crashing_after(
    name: &str,
    operation: &str,
    seed: Seed<'_>,
) -> Result<(Scenario, Client)> {
    let crashing = OperatorOptions {
        env: vec![(CRASH_AFTER_ENV.into(), operation.into())],
        ..Default::default()
    };
    let mut s = Scenario::without_operator(name, EmulatorConfig::default(), crashing)?;
    let logs = Client::new(&s.sdk);
    seed.make(&s).await?;
    s.start_operator()?;
    Ok((s, logs))
}

/// Starts the operator of a [`crashing_after`] scenario again with the default options, the
/// emulator's call counts zeroed, so they count only what the restarted operator does.
pub fn restart_after_crash(s: &mut Scenario) -> Result<()> {
    s.set_operator_options(OperatorOptions::default());
    s.emulator.reset_calls();
    s.start_operator()
}

/// CloudWatch Logs calls of `operation` the emulator has answered so far.
pub fn logs_calls(s: &Scenario, operation: &str) -> u64 {
    s.emulator.calls().total_of("logs", operation)
}

/// A filter on a log group as the SDK returns it: a subscription filter or a metric filter.
/// `SubscriptionFilter::named(&logs, group, name)` reads one, `MetricFilter::wait(..)` waits
/// for one.
pub trait LogGroupFilter: Sized {
    /// The filters on `group`, as one Describe call returns them (none when it fails: the log
    /// group does not exist yet, or no longer does).
    fn on_log_group(logs: &Client, group: &str) -> impl Future<Output = Vec<Self>>;

    fn name_of(&self) -> Option<&str>;

    /// The filter named `name` on `group`.
    fn named(logs: &Client, group: &str, name: &str) -> impl Future<Output = Option<Self>> {
        async move {
            Self::on_log_group(logs, group)
                .await
                .into_iter()
                .find(|f| f.name_of() == Some(name))
        }
    }

    /// Waits (up to 30 s) until `check` accepts the filter named `name` on `group` (`None`:
    /// missing), reading it from the emulator.
    fn wait(
        s: &Scenario,
        logs: &Client,
        group: &str,
        name: &str,
        what: &str,
        check: impl Fn(Option<&Self>) -> bool,
    ) -> impl Future<Output = Result<()>> {
        async move {
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if check(Self::named(logs, group, name).await.as_ref()) {
                    return Ok(());
                }
                if Instant::now() >= deadline {
                    bail!(
                        "timed out waiting for {what}\n--- operator log (tail) ---\n{}",
                        s.log_tail()
                    );
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

impl LogGroupFilter for SubscriptionFilter {
    async fn on_log_group(logs: &Client, group: &str) -> Vec<Self> {
        match logs
            .describe_subscription_filters()
            .log_group_name(group)
            .send()
            .await
        {
            Ok(out) => out.subscription_filters().to_vec(),
            Err(_) => Vec::new(),
        }
    }

    fn name_of(&self) -> Option<&str> {
        self.filter_name()
    }
}

impl LogGroupFilter for MetricFilter {
    async fn on_log_group(logs: &Client, group: &str) -> Vec<Self> {
        match logs
            .describe_metric_filters()
            .log_group_name(group)
            .send()
            .await
        {
            Ok(out) => out.metric_filters().to_vec(),
            Err(_) => Vec::new(),
        }
    }

    fn name_of(&self) -> Option<&str> {
        self.filter_name()
    }
}
