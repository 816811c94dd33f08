//! `cloudwatch-operator run`: connect to the cluster, check the CRDs are installed, serve
//! metrics and health, take the leader Lease, and run one controller per kind with bounded
//! concurrency until SIGTERM or Ctrl-C.

use super::ManagedKind;
use super::backoff::Backoffs;
use super::context::{Context, RuntimeConfig};
use super::leader::{self, LeaderElection};
use super::reconcile::{error_policy, reconcile};
use super::resync;
use super::serve::{self, Health};
use super::tag_reads::TagReads;
use super::watch::{self, Scope};
use crate::alarm::Alarm;
use crate::aws::alarm_deleter::AlarmDeleter;
use crate::aws::alarm_reader::AlarmReader;
use crate::aws::api::Api as AwsApi;
use crate::aws::metric_stream_switch::MetricStreamSwitch;
use crate::aws::rate_limit::{DEFAULT_QUOTA_SHARE, RateLimitConfig};
use crate::aws::sampling_rules::RuleLister;
use crate::aws::subscription_filters::SubscriptionFilterReader;
use crate::aws::{Aws, AwsSettings};
use crate::composite_alarm::CompositeAlarm;
use crate::log_subscription::LogSubscription;
use crate::metric_stream::MetricStream;
use crate::metrics::Metrics;
use crate::sampling_rule::SamplingRule;
use crate::vocabulary::FIELD_MANAGER;
use anyhow::Context as _;
use clap::{Args, ValueEnum};
use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::Namespace;
use kube::Client;
use kube::api::{Api, ListParams};
use kube::core::PartialObjectMeta;
use kube::runtime::controller::{Config as ControllerConfig, Controller};
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::reflector::{ObjectRef, Store};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::sync::watch as signal;

/// Pending wake-ups per controller; more are dropped (the objects' backoff covers them).
const WAKEUP_QUEUE: usize = 1024;

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

    /// Identifies this cluster in the cwo.dev/owner tag of AWS objects. Default: the UID of the
    /// kube-system namespace. Give every cluster sharing an AWS account a distinct id. Where the
    /// tag would exceed AWS's limit, it is shortened with a hash (docs/ownership.md).
    #[arg(long, env = "CWO_CLUSTER_ID")]
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

/// Sets up logging for `format` (level from RUST_LOG, default `info`).
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

/// Runs the operator until a shutdown signal.
pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    let client = Client::try_default()
        .await
        .context("cannot connect to Kubernetes (in-cluster config or KUBECONFIG)")?;
    let scope = Scope {
        namespace: args.watch_namespace.clone(),
        label_selector: args.label_selector.clone(),
    };
    probe_crds(&client, &scope).await?;
    let cluster_id = match &args.cluster_id {
        Some(id) => id.clone(),
        None => cluster_uid(&client).await?,
    };

    let (stop_tx, stop_rx) = signal::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        let _ = stop_tx.send(true);
    });

    let metrics = Arc::new(Metrics::new());
    let health = Health::new(Arc::clone(&metrics));
    let (addr, server) = serve::serve(
        args.metrics_address,
        health.clone(),
        stopped(stop_rx.clone()),
    )
    .await?;
    tracing::info!(%addr, "serving /metrics, /healthz and /readyz");

    let mut leadership = None;
    if args.leader_election {
        health.set_ready(true);
        let election = LeaderElection {
            namespace: args
                .leader_election_namespace
                .clone()
                .or_else(|| std::env::var("POD_NAMESPACE").ok())
                .unwrap_or_else(|| "default".to_string()),
            lease_name: args.lease_name.clone(),
            identity: std::env::var("POD_NAME")
                .unwrap_or_else(|_| format!("{}-{}", hostname(), std::process::id())),
            lease_duration: Duration::from_secs(15),
        };
        tokio::select! {
            state = leader::acquire(client.clone(), &election) => leadership = Some(state?),
            _ = stopped(stop_rx.clone()) => return Ok(()),
        }
    }

    let rate_limits = RateLimitConfig {
        quota_share: args.aws_quota_share,
        overrides: args.aws_rate_limits.iter().copied().collect(),
        disabled: args.no_aws_rate_limits,
    };
    let aws = Arc::new(
        Aws::load(
            AwsSettings {
                default_region: args.default_region.clone(),
                endpoint_url: args.aws_endpoint_url.clone(),
                rate_limits,
            },
            Arc::clone(&metrics),
        )
        .await?,
    );
    // Deletions of metric alarms within 100 ms share one DeleteAlarms per region.
    let alarm_deleter = AlarmDeleter::new(Arc::clone(&aws), Duration::from_millis(100));
    let alarm_reader = AlarmReader::new(
        Arc::clone(&aws),
        Duration::from_millis(50),
        Duration::from_secs(30),
    );
    // X-Ray has no get-one call: reconciles share one GetSamplingRules listing per region, kept
    // for a few seconds only so that drift is seen.
    let sampling_rules = RuleLister::new(Arc::clone(&aws), Duration::from_secs(3));
    // Starts and stops of metric streams within 200 ms share one call per region.
    let metric_stream_switch =
        MetricStreamSwitch::new(Arc::clone(&aws), Duration::from_millis(200));

    // Reconciles of filters on the same log group share one DescribeSubscriptionFilters; the
    // drift resync prefetches whole chunks.
    let subscription_filters = SubscriptionFilterReader::new(
        Arc::clone(&aws),
        Duration::from_millis(20),
        Duration::from_secs(30),
    );

    // Namespaces, metadata only, for the cwo.dev/region annotation.
    let ns_api: Api<PartialObjectMeta<Namespace>> = Api::all(client.clone());
    let ns_config = match &scope.namespace {
        Some(ns) => {
            kube::runtime::watcher::Config::default().fields(&format!("metadata.name={ns}"))
        }
        None => kube::runtime::watcher::Config::default(),
    };
    let (namespaces, namespaces_synced, ns_driver) = watch::cache(ns_api, ns_config);
    tokio::spawn(ns_driver);

    let (alarms, alarms_synced, alarm_stream) =
        watch::reconcile_stream(scope.api::<Alarm>(client.clone()), scope.watcher_config());
    let (composites, composites_synced, composite_stream) = watch::reconcile_stream(
        scope.api::<CompositeAlarm>(client.clone()),
        scope.watcher_config(),
    );
    let (metric_streams, _, metric_stream_stream) = watch::reconcile_stream(
        scope.api::<MetricStream>(client.clone()),
        scope.watcher_config(),
    );
    let (sampling_rule_objects, _, sampling_rule_stream) = watch::reconcile_stream(
        scope.api::<SamplingRule>(client.clone()),
        scope.watcher_config(),
    );
    let (log_subscriptions, _, log_subscription_stream) = watch::reconcile_stream(
        scope.api::<LogSubscription>(client.clone()),
        scope.watcher_config(),
    );
    let (alarm_wakeups, alarm_wakeup_rx) = mpsc::channel(WAKEUP_QUEUE);
    let (composite_wakeups, composite_wakeup_rx) = mpsc::channel(WAKEUP_QUEUE);
    let ctx = Arc::new(Context {
        client: client.clone(),
        aws,
        alarm_reader,
        alarm_deleter,
        sampling_rules,
        metric_stream_switch,
        metrics,
        recorder: Recorder::new(
            client.clone(),
            Reporter {
                controller: FIELD_MANAGER.into(),
                instance: std::env::var("POD_NAME").ok(),
            },
        ),
        config: RuntimeConfig {
            cluster_id,
            resync_period: args.resync_period,
            subscription_filter_limit: args.subscription_filter_limit,
        },
        backoffs: Backoffs::default(),
        tag_reads: TagReads::new(args.tag_resync_period),
        namespaces,
        namespaces_synced,
        alarms: alarms.clone(),
        alarms_synced,
        composites: composites.clone(),
        composites_synced,
        subscription_filters,
        log_subscriptions: log_subscriptions.clone(),
        alarm_wakeups,
        composite_wakeups,
    });

    let shutdown = {
        let mut stop = stop_rx.clone();
        async move {
            let lost = async {
                match leadership.as_mut() {
                    Some(state) => {
                        while state.changed().await.is_ok() {
                            if !*state.borrow() {
                                return;
                            }
                        }
                    }
                    None => futures::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = stop.wait_for(|s| *s) => {}
                _ = lost => tracing::error!("lost leadership; stopping so that only one replica writes"),
            }
        }
    };
    let shutdown = futures::FutureExt::shared(Box::pin(shutdown));

    health.set_ready(true);
    tracing::info!(concurrency = args.concurrency, resync = ?args.resync_period, "controllers starting");
    let concurrency = args.concurrency;
    tokio::join!(
        controller(
            log_subscriptions,
            log_subscription_stream,
            mpsc::channel(WAKEUP_QUEUE),
            concurrency,
            Arc::clone(&ctx),
            shutdown.clone()
        ),
        controller(
            sampling_rule_objects,
            sampling_rule_stream,
            mpsc::channel(WAKEUP_QUEUE),
            concurrency,
            Arc::clone(&ctx),
            shutdown.clone()
        ),
        controller(
            alarms,
            alarm_stream,
            (ctx.alarm_wakeups.clone(), alarm_wakeup_rx),
            concurrency,
            Arc::clone(&ctx),
            shutdown.clone()
        ),
        controller(
            composites,
            composite_stream,
            (ctx.composite_wakeups.clone(), composite_wakeup_rx),
            concurrency,
            Arc::clone(&ctx),
            shutdown.clone()
        ),
        controller(
            metric_streams,
            metric_stream_stream,
            mpsc::channel(WAKEUP_QUEUE),
            concurrency,
            Arc::clone(&ctx),
            shutdown.clone()
        ),
    );
    let _ = server.await;
    Ok(())
}

/// Runs the controller for kind `K` over `stream` until `shutdown`, with its drift resync.
/// `queue` carries reconcile requests from the resync and from other controllers.
async fn controller<K: ManagedKind>(
    store: Store<K>,
    stream: impl Stream<Item = Result<K, kube::runtime::watcher::Error>> + Send + 'static,
    queue: (mpsc::Sender<ObjectRef<K>>, mpsc::Receiver<ObjectRef<K>>),
    concurrency: u16,
    ctx: Arc<Context>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let (wake, requests) = queue;
    // Ends by itself once the controller (and with it the queue's receiver) is gone.
    tokio::spawn(resync::run(store.clone(), Arc::clone(&ctx), wake));
    Controller::for_stream(stream, store)
        .with_config(ControllerConfig::default().concurrency(concurrency))
        .reconcile_on(wakeups(requests))
        .graceful_shutdown_on(shutdown)
        .run(reconcile::<K>, error_policy::<K>, ctx)
        .for_each(|result| {
            if let Err(e) = result {
                tracing::debug!(kind = K::KIND, error = %e, "controller event");
            }
            futures::future::ready(())
        })
        .await;
}

/// The wake-up requests of a channel as a stream.
fn wakeups<K: ManagedKind>(
    rx: mpsc::Receiver<ObjectRef<K>>,
) -> impl Stream<Item = ObjectRef<K>> + Send + 'static {
    futures::stream::unfold(
        rx,
        |mut rx| async move { rx.recv().await.map(|obj| (obj, rx)) },
    )
}

/// Fails with a clear message if a CRD is not installed (or not readable).
async fn probe_crds(client: &Client, scope: &Scope) -> anyhow::Result<()> {
    probe::<Alarm>(client, scope).await?;
    probe::<LogSubscription>(client, scope).await?;
    probe::<SamplingRule>(client, scope).await?;
    probe::<MetricStream>(client, scope).await?;
    probe::<CompositeAlarm>(client, scope).await
}

async fn probe<K: ManagedKind>(client: &Client, scope: &Scope) -> anyhow::Result<()> {
    let api = scope.api::<K>(client.clone());
    match api.list_metadata(&ListParams::default().limit(1)).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 404 => anyhow::bail!(
            "the {} CRD ({}.{}) is not installed: run `cloudwatch-operator crds | kubectl apply --server-side -f -` or install the Helm chart",
            K::kind(&()),
            K::plural(&()),
            K::group(&()),
        ),
        Err(e) => Err(anyhow::anyhow!("cannot list {}: {e}", K::plural(&()))),
    }
}

async fn cluster_uid(client: &Client) -> anyhow::Result<String> {
    let ns: Api<Namespace> = Api::all(client.clone());
    let kube_system = ns.get("kube-system").await.context(
        "cannot read the kube-system namespace to derive the cluster id; pass --cluster-id",
    )?;
    kube_system
        .metadata
        .uid
        .context("kube-system namespace has no uid; pass --cluster-id")
}

async fn stopped(mut stop: signal::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

fn hostname() -> String {
    std::env::var("HOSTNAME").unwrap_or_else(|_| "cloudwatch-operator".to_string())
}
