//! The flags of `cloudwatch-operator run`, and logging set-up.

use crate::aws::api::Api as AwsApi;
use crate::aws::rate_limit::DEFAULT_QUOTA_SHARE;
use clap::{Args, ValueEnum};
use std::net::SocketAddr;
use std::time::Duration;

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Flags of `cloudwatch-operator run`. Every flag can also be set through the environment
/// variable named in its help.
#[derive(Clone, Debug, Args)]
pub struct RunArgs {
    /// AWS region for objects that set no spec.region and whose namespace has no cwo.dev/region
    /// annotation. Default: the AWS SDK's region (AWS_REGION, AWS_DEFAULT_REGION, profile).
    #[arg(long, env = "CWO_DEFAULT_REGION")]
    pub default_region: Option<String>,

    /// Send every AWS call to this endpoint instead of AWS, for example the local emulator
    /// (http://127.0.0.1:4566). Credentials still come from the default chain.
    #[arg(long, env = "CWO_AWS_ENDPOINT_URL")]
    pub aws_endpoint_url: Option<String>,

    /// How often each object is re-read from AWS to find and correct drift. The re-reads are
    /// spread evenly over the period, in batches where the AWS API reads several objects per call
    /// (100 alarms per DescribeAlarms).
    #[arg(long, env = "CWO_RESYNC_PERIOD", default_value = "10m", value_parser = humantime::parse_duration)]
    pub resync_period: Duration,

    /// How often each object's tags are re-read from AWS (tags are also read on every spec
    /// change and whenever ownership is unconfirmed).
    #[arg(long, env = "CWO_TAG_RESYNC_PERIOD", default_value = "1h", value_parser = humantime::parse_duration)]
    pub tag_resync_period: Duration,

    /// Reconciles running at once, per kind. Reconciles mostly wait on AWS (whose rates the
    /// client-side limits bound), and concurrent reconciles share batched reads, so a few dozen
    /// is cheap and makes the reads batch well.
    #[arg(long, env = "CWO_CONCURRENCY", default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,

    /// Reconciles running at once for LogSubscription and for MetricFilter (each), instead of
    /// --concurrency. Filters on one log group share its listings only when their reconciles run
    /// together, and once more objects wait than may run the controller starts them in no set
    /// order: with a few dozen at a time, two filters of one log group created together could
    /// start tens of seconds apart and list it once more each. Their reconciles mostly wait
    /// for the Put's quota, and hold little while they do.
    #[arg(long, env = "CWO_LOG_FILTER_CONCURRENCY", default_value_t = 256, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub log_filter_concurrency: u16,

    /// Log format.
    #[arg(long, env = "CWO_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Address of the HTTP server for /metrics, /healthz and /readyz.
    #[arg(long, env = "CWO_METRICS_ADDRESS", default_value = "0.0.0.0:8080")]
    pub metrics_address: SocketAddr,

    /// Elect a leader through a Lease so only one replica writes to AWS. Turn off only when
    /// exactly one replica runs.
    #[arg(long, env = "CWO_LEADER_ELECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub leader_election: bool,

    /// Namespace of the leader election Lease. Default: the namespace the operator runs in
    /// (POD_NAMESPACE), else `default`.
    #[arg(long, env = "CWO_LEADER_ELECTION_NAMESPACE")]
    pub leader_election_namespace: Option<String>,

    /// Name of the leader election Lease. Operators that split the objects between them (by
    /// namespace or label selector) need one Lease name each.
    #[arg(long, env = "CWO_LEASE_NAME", default_value = "cloudwatch-operator")]
    pub lease_name: String,

    /// Manage only objects in this namespace. Default: all namespaces.
    #[arg(long, env = "CWO_WATCH_NAMESPACE")]
    pub watch_namespace: Option<String>,

    /// Manage only objects whose labels match this selector, for example `shard=a`.
    #[arg(long, env = "CWO_LABEL_SELECTOR")]
    pub label_selector: Option<String>,

    /// Serve only the AWSAccounts whose labels match this selector, for example `shard=a`.
    /// AWSAccounts are cluster-scoped: an operator limited to one namespace or label selector
    /// still reads and checks every AWSAccount (its status and its finalizer) unless this is
    /// set. Operators that share a cluster give each other disjoint sets of AWSAccounts.
    #[arg(long, env = "CWO_ACCOUNT_LABEL_SELECTOR")]
    pub account_label_selector: Option<String>,

    /// Identifies this cluster in the cwo.dev/owner tag of AWS objects. Default: the UID of the
    /// kube-system namespace. Give every cluster sharing an AWS account a distinct id. Where the
    /// tag would exceed AWS's limit, it is shortened with a hash (docs/ownership.md).
    #[arg(long, env = "CWO_CLUSTER_ID", value_parser = parse_cluster_id)]
    pub cluster_id: Option<String>,

    /// Subscription filters AWS allows per log group (AWS documents 2; some accounts have 5).
    #[arg(long, env = "CWO_SUBSCRIPTION_FILTER_LIMIT", default_value_t = 2)]
    pub subscription_filter_limit: u32,

    /// Share of each AWS API's default quota the operator uses, in (0, 1]; the rest is left to
    /// other tools in the account.
    #[arg(long, env = "CWO_AWS_QUOTA_SHARE", default_value_t = DEFAULT_QUOTA_SHARE, value_parser = parse_share)]
    pub aws_quota_share: f64,

    /// Explicit rate for one AWS operation, in calls per second, as OPERATION=RATE (for example
    /// cloudwatch:PutMetricAlarm=1.5). Repeat for several operations; comma-separated in the
    /// environment variable.
    #[arg(long = "aws-rate-limit", env = "CWO_AWS_RATE_LIMITS", value_delimiter = ',', value_parser = parse_rate)]
    pub aws_rate_limits: Vec<(AwsApi, f64)>,

    /// Turn the client-side AWS rate limits off (for example against an emulator without quotas).
    #[arg(long, env = "CWO_NO_AWS_RATE_LIMITS")]
    pub no_aws_rate_limits: bool,
}

/// A cluster id: not empty (the empty id means "unknown" to `plan`).
pub fn parse_cluster_id(s: &str) -> Result<String, String> {
    if s.is_empty() {
        Err("the cluster id cannot be empty".to_string())
    } else {
        Ok(s.to_string())
    }
}

fn parse_share(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if v > 0.0 && v <= 1.0 {
        Ok(v)
    } else {
        Err(format!("{v} is not in (0, 1]"))
    }
}

fn parse_rate(s: &str) -> Result<(AwsApi, f64), String> {
    let (op, rate) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?} is not OPERATION=RATE"))?;
    let rate: f64 = rate.parse().map_err(|e| format!("rate {rate:?}: {e}"))?;
    if rate <= 0.0 {
        return Err(format!("rate for {op} must be positive"));
    }
    Ok((op.parse()?, rate))
}

/// Sets up logging to stderr for `format` (level from RUST_LOG, else `level`).
pub fn init_logging(format: LogFormat, level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}
