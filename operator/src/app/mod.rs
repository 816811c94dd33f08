//! `cloudwatch-operator run`: the one place that knows every kind. It connects to the cluster,
//! checks the CRDs are installed, serves metrics and health, takes the leader Lease, builds what
//! every reconcile shares (the [`Context`]) and what each kind shares (its
//! [`ManagedKind::Shared`]), and runs one controller per kind with bounded concurrency until
//! SIGTERM or Ctrl-C.

pub mod args;

use crate::alarm::Alarm;
use crate::aws::rate_limit::RateLimitConfig;
use crate::aws::{Aws, AwsSettings};
use crate::cloudwatch_alarm::AlarmFamily;
use crate::composite_alarm::CompositeAlarm;
use crate::log_subscription::{self, LogSubscription};
use crate::metric_stream::{self, MetricStream};
use crate::metrics::Metrics;
use crate::runtime::ManagedKind;
use crate::runtime::backoff::Backoffs;
use crate::runtime::context::{Context, RuntimeConfig};
use crate::runtime::controller;
use crate::runtime::events::EventPublisher;
use crate::runtime::leader::{self, LeaderElection};
use crate::runtime::serve::{self, Health};
use crate::runtime::shutdown;
use crate::runtime::tag_reads::TagReads;
use crate::runtime::watch::{self, Scope};
use crate::sampling_rule::{self, SamplingRule};
use crate::vocabulary::FIELD_MANAGER;
use anyhow::Context as _;
use args::RunArgs;
use k8s_openapi::api::core::v1::Namespace;
use kube::Client;
use kube::api::{Api, ListParams};
use kube::core::PartialObjectMeta;
use std::sync::Arc;
use std::time::Duration;

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

    let stop = shutdown::on_signal();
    let metrics = Arc::new(Metrics::new());
    // Every kind's series exist, at zero, from the first scrape on (a standby's too).
    for kind in [
        <LogSubscription as ManagedKind>::KIND,
        <SamplingRule as ManagedKind>::KIND,
        <Alarm as ManagedKind>::KIND,
        <CompositeAlarm as ManagedKind>::KIND,
        <MetricStream as ManagedKind>::KIND,
    ] {
        metrics.init_kind(kind);
    }
    let health = Health::new(Arc::clone(&metrics));
    let (addr, server) = serve::serve(
        args.metrics_address,
        health.clone(),
        shutdown::stopped(stop.clone()),
    )
    .await?;
    tracing::info!(%addr, "serving /metrics, /healthz and /readyz");

    let mut leadership = None;
    if args.leader_election {
        // A standby waiting for the Lease is ready: it is healthy and will take over.
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
            _ = shutdown::stopped(stop.clone()) => return Ok(()),
        }
    }

    let aws = Arc::new(
        Aws::load(
            AwsSettings {
                default_region: args.default_region.clone(),
                endpoint_url: args.aws_endpoint_url.clone(),
                rate_limits: RateLimitConfig {
                    quota_share: args.aws_quota_share,
                    overrides: args.aws_rate_limits.iter().copied().collect(),
                    disabled: args.no_aws_rate_limits,
                },
            },
            Arc::clone(&metrics),
        )
        .await?,
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

    let ctx = Arc::new(Context {
        client: client.clone(),
        aws: Arc::clone(&aws),
        metrics,
        events: EventPublisher::new(
            client.clone(),
            FIELD_MANAGER,
            std::env::var("POD_NAME").ok(),
        ),
        config: RuntimeConfig {
            cluster_id,
            resync_period: args.resync_period,
        },
        backoffs: Backoffs::default(),
        tag_reads: TagReads::new(args.tag_resync_period),
        confirmed: Default::default(),
        namespaces,
        namespaces_synced,
    });

    // Each kind's watch, and what its reconciles share. Alarms and composite alarms share one
    // family: the same DescribeAlarms batches, and each other's caches for the composite graph.
    let (alarms, alarms_synced, alarm_stream) =
        watch::reconcile_stream(scope.api::<Alarm>(client.clone()), scope.watcher_config());
    let (composites, composites_synced, composite_stream) = watch::reconcile_stream(
        scope.api::<CompositeAlarm>(client.clone()),
        scope.watcher_config(),
    );
    let (streams, _, stream_stream) = watch::reconcile_stream(
        scope.api::<MetricStream>(client.clone()),
        scope.watcher_config(),
    );
    let (rules, _, rule_stream) = watch::reconcile_stream(
        scope.api::<SamplingRule>(client.clone()),
        scope.watcher_config(),
    );
    let (subscriptions, _, subscription_stream) = watch::reconcile_stream(
        scope.api::<LogSubscription>(client.clone()),
        scope.watcher_config(),
    );
    let alarm_queue = controller::queue::<Alarm>();
    let composite_queue = controller::queue::<CompositeAlarm>();
    let alarm_family = AlarmFamily::new(
        Arc::clone(&aws),
        (alarms.clone(), alarms_synced, alarm_queue.0.clone()),
        (
            composites.clone(),
            composites_synced,
            composite_queue.0.clone(),
        ),
    );
    let stream_shared = metric_stream::shared(Arc::clone(&aws));
    let rule_shared = sampling_rule::shared(Arc::clone(&aws));
    let subscription_shared = log_subscription::shared(
        Arc::clone(&aws),
        subscriptions.clone(),
        args.subscription_filter_limit,
    );

    let stop = shutdown::controllers_stop(stop, leadership);
    health.set_ready(true);
    tracing::info!(concurrency = args.concurrency, resync = ?args.resync_period, "controllers starting");
    let n = args.concurrency;
    tokio::join!(
        controller::run(
            subscriptions,
            subscription_stream,
            controller::queue(),
            n,
            Arc::clone(&ctx),
            subscription_shared,
            stop.clone()
        ),
        controller::run(
            rules,
            rule_stream,
            controller::queue(),
            n,
            Arc::clone(&ctx),
            rule_shared,
            stop.clone()
        ),
        controller::run(
            alarms,
            alarm_stream,
            alarm_queue,
            n,
            Arc::clone(&ctx),
            Arc::clone(&alarm_family),
            stop.clone()
        ),
        controller::run(
            composites,
            composite_stream,
            composite_queue,
            n,
            Arc::clone(&ctx),
            alarm_family,
            stop.clone()
        ),
        controller::run(
            streams,
            stream_stream,
            controller::queue(),
            n,
            Arc::clone(&ctx),
            stream_shared,
            stop.clone()
        ),
    );
    let _ = server.await;
    Ok(())
}

/// Fails with a clear message if a CRD is not installed (or not readable).
async fn probe_crds(client: &Client, scope: &Scope) -> anyhow::Result<()> {
    probe::<Alarm>(client, scope).await?;
    probe::<CompositeAlarm>(client, scope).await?;
    probe::<MetricStream>(client, scope).await?;
    probe::<LogSubscription>(client, scope).await?;
    probe::<SamplingRule>(client, scope).await
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

fn hostname() -> String {
    std::env::var("HOSTNAME").unwrap_or_else(|_| "cloudwatch-operator".to_string())
}
