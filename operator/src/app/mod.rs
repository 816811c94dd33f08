//! `cloudwatch-operator run`: the one place that knows every kind. It connects to the cluster,
//! checks the CRDs are installed, serves metrics and health, takes the leader Lease, builds what
//! every reconcile shares (the [`Context`], with the AWSAccounts behind its account gate) and
//! what each kind shares (its [`ManagedKind::Shared`]), and runs one controller per kind with
//! bounded concurrency — and one for the cluster-scoped AWSAccounts — until SIGTERM or Ctrl-C.

pub mod args;
pub mod import;
pub mod manifests;
pub mod plan;
pub mod read_only;

use crate::alarm::Alarm;
use crate::aws::rate_limit::RateLimitConfig;
use crate::aws::{Aws, AwsSettings};
use crate::aws_account::{self, AWSAccount, Grants};
use crate::cloudwatch_alarm::AlarmFamily;
use crate::composite_alarm::CompositeAlarm;
use crate::log_destination::{self, LogDestination};
use crate::log_subscription::{self, LogSubscription};
use crate::metric_filter::{self, MetricFilter};
use crate::metric_stream::{self, MetricStream};
use crate::metrics::Metrics;
use crate::runtime::accounts::AccountUsers;
use crate::runtime::backoff::Backoffs;
use crate::runtime::cluster;
use crate::runtime::context::{Context, RuntimeConfig};
use crate::runtime::controller::{self, QUEUE};
use crate::runtime::events::EventPublisher;
use crate::runtime::leader::{self, LeaderElection};
use crate::runtime::serve::{self, Health};
use crate::runtime::shutdown;
use crate::runtime::tag_reads::TagReads;
use crate::runtime::watch::{self, Scope};
use crate::runtime::{ManagedKind, Reported};
use crate::sampling_rule::{self, SamplingRule};
use crate::vocabulary::FIELD_MANAGER;
use anyhow::Context as _;
use args::RunArgs;
use k8s_openapi::api::core::v1::Namespace;
use kube::Client;
use kube::api::{Api, ListParams};
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::ObjectRef;
use std::sync::Arc;
use std::time::Duration;

/// Runs the operator until a shutdown signal.
pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    crate::aws::batch::mark_process_start();
    let client = Client::try_default()
        .await
        .context("cannot connect to Kubernetes (in-cluster config or KUBECONFIG)")?;
    let scope = Scope {
        namespace: args.watch_namespace.clone(),
        label_selector: args.label_selector.clone(),
    };
    probe_crds(&client, &scope).await?;
    probe_accounts(&client).await?;
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
                read_only: false,
            },
            Arc::clone(&metrics),
        )
        .await?,
    );

    // Namespaces, metadata only, for the cwo.dev/region and cwo.dev/account annotations and the
    // labels AWSAccounts select namespaces by. A namespace that changes has its objects that use
    // an account looked at again (a grant by label may have come or gone).
    let ns_api: Api<PartialObjectMeta<Namespace>> = Api::all(client.clone());
    let ns_config = match &scope.namespace {
        Some(ns) => {
            kube::runtime::watcher::Config::default().fields(&format!("metadata.name={ns}"))
        }
        None => kube::runtime::watcher::Config::default(),
    };
    let (ns_changes, mut changed_namespaces) = tokio::sync::mpsc::channel::<String>(QUEUE);
    let (namespaces, namespaces_synced, ns_driver) =
        watch::cache_with_changes(ns_api, ns_config, move |ns| {
            if let Some(name) = &ns.metadata.name {
                let _ = ns_changes.try_send(name.clone());
            }
        });
    tokio::spawn(ns_driver);

    // AWSAccounts (cluster-scoped): the grants every reconcile asks before calling AWS, and a
    // controller of their own.
    let account_config = match &args.account_label_selector {
        Some(selector) => kube::runtime::watcher::Config::default().labels(selector),
        None => kube::runtime::watcher::Config::default(),
    };
    let (accounts, accounts_synced, account_stream) =
        watch::reconcile_stream(Api::<AWSAccount>::all(client.clone()), account_config);
    let (account_wakeups, account_queue) = tokio::sync::mpsc::channel(QUEUE);

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
        released: Default::default(),
        versions: Default::default(),
        settling: Default::default(),
        namespaces,
        namespaces_synced,
        accounts: Arc::new(Grants::new(accounts.clone())),
        accounts_synced,
        account_users: AccountUsers::default(),
    });
    ctx.account_users.on_released({
        let accounts = accounts.clone();
        move |account| {
            let account = ObjectRef::<AWSAccount>::new(account);
            if aws_account::controller::waits_for_its_users(accounts.get(&account).as_deref()) {
                let _ = account_wakeups.try_send(account);
            }
        }
    });
    tokio::spawn({
        let ctx = Arc::clone(&ctx);
        async move {
            while let Some(namespace) = changed_namespaces.recv().await {
                ctx.account_users.wake_namespace(&ctx, &namespace);
            }
        }
    });

    // Each kind's watch, and what its reconciles share. Alarms and composite alarms share one
    // family: the same DescribeAlarms batches, and each other's caches for the composite graph.
    let (alarms, alarms_synced, alarm_stream) =
        watch::reconcile_stream(scope.api::<Alarm>(client.clone()), scope.watcher_config());
    let (composites, composites_synced, composite_stream) = watch::reconcile_stream(
        scope.api::<CompositeAlarm>(client.clone()),
        scope.watcher_config(),
    );
    let (streams, streams_synced, stream_stream) = watch::reconcile_stream(
        scope.api::<MetricStream>(client.clone()),
        scope.watcher_config(),
    );
    let (rules, rules_synced, rule_stream) = watch::reconcile_stream(
        scope.api::<SamplingRule>(client.clone()),
        scope.watcher_config(),
    );
    let (subscriptions, subscriptions_synced, subscription_stream) = watch::reconcile_stream(
        scope.api::<LogSubscription>(client.clone()),
        scope.watcher_config(),
    );
    let (metric_filters, metric_filters_synced, metric_filter_stream) = watch::reconcile_stream(
        scope.api::<MetricFilter>(client.clone()),
        scope.watcher_config(),
    );
    let (destinations, destinations_synced, destination_stream) = watch::reconcile_stream(
        scope.api::<LogDestination>(client.clone()),
        scope.watcher_config(),
    );
    // Kinds that reference others (an alarm's metricFilterRef, a subscription's destinationRef)
    // read the referenced kind's cache and wake its objects; the referenced kind learns of its
    // referrers through what the referrer shares.
    let alarm_queue = controller::queue::<Alarm>();
    let composite_queue = controller::queue::<CompositeAlarm>();
    let stream_queue = controller::queue::<MetricStream>();
    let rule_queue = controller::queue::<SamplingRule>();
    let subscription_queue = controller::queue::<LogSubscription>();
    let metric_filter_queue = controller::queue::<MetricFilter>();
    let destination_queue = controller::queue::<LogDestination>();
    // Who uses which AWSAccount: every kind, before any controller starts.
    let users = &ctx.account_users;
    users.register(alarms.clone(), alarms_synced.clone(), alarm_queue.0.clone());
    users.register(
        composites.clone(),
        composites_synced.clone(),
        composite_queue.0.clone(),
    );
    users.register(streams.clone(), streams_synced, stream_queue.0.clone());
    users.register(rules.clone(), rules_synced, rule_queue.0.clone());
    users.register(
        subscriptions.clone(),
        subscriptions_synced.clone(),
        subscription_queue.0.clone(),
    );
    users.register(
        metric_filters.clone(),
        metric_filters_synced.clone(),
        metric_filter_queue.0.clone(),
    );
    users.register(
        destinations.clone(),
        destinations_synced.clone(),
        destination_queue.0.clone(),
    );
    let alarm_family = AlarmFamily::new(
        Arc::clone(&ctx),
        (alarms.clone(), alarms_synced, alarm_queue.0.clone()),
        (
            composites.clone(),
            composites_synced,
            composite_queue.0.clone(),
        ),
        (
            metric_filters.clone(),
            metric_filters_synced,
            metric_filter_queue.0.clone(),
        ),
    );
    let stream_shared = metric_stream::shared(Arc::clone(&aws));
    let rule_shared = sampling_rule::shared(Arc::clone(&aws));
    let subscription_shared = log_subscription::shared(
        Arc::clone(&aws),
        (
            subscriptions.clone(),
            subscriptions_synced,
            subscription_queue.0.clone(),
        ),
        (
            destinations.clone(),
            destinations_synced,
            destination_queue.0.clone(),
        ),
        args.subscription_filter_limit,
        Arc::clone(&ctx.released),
    );
    let metric_filter_shared = metric_filter::shared(
        Arc::clone(&aws),
        metric_filters.clone(),
        Arc::clone(&alarm_family) as _,
    );
    let destination_shared =
        log_destination::shared(Arc::clone(&aws), Arc::clone(&subscription_shared) as _);

    let stop = shutdown::controllers_stop(stop, leadership);
    health.set_ready(true);
    tracing::info!(
        concurrency = args.concurrency,
        log_filter_concurrency = args.log_filter_concurrency,
        resync = ?args.resync_period,
        "controllers starting"
    );
    let n = args.concurrency;
    let filters_n = args.log_filter_concurrency;
    tokio::join!(
        cluster::run(
            accounts,
            account_stream,
            account_queue,
            n,
            Arc::clone(&ctx),
            Arc::new(()),
            stop.clone()
        ),
        controller::run(
            subscriptions,
            subscription_stream,
            subscription_queue,
            filters_n,
            Arc::clone(&ctx),
            subscription_shared,
            stop.clone()
        ),
        controller::run(
            metric_filters,
            metric_filter_stream,
            metric_filter_queue,
            filters_n,
            Arc::clone(&ctx),
            metric_filter_shared,
            stop.clone()
        ),
        controller::run(
            destinations,
            destination_stream,
            destination_queue,
            n,
            Arc::clone(&ctx),
            destination_shared,
            stop.clone()
        ),
        controller::run(
            rules,
            rule_stream,
            rule_queue,
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
            stream_queue,
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
    probe::<MetricFilter>(client, scope).await?;
    probe::<LogDestination>(client, scope).await?;
    probe::<SamplingRule>(client, scope).await
}

async fn probe<K: ManagedKind>(client: &Client, scope: &Scope) -> anyhow::Result<()> {
    probe_api(scope.api::<K>(client.clone())).await
}

/// As [`probe_crds`], for the cluster-scoped AWSAccount CRD.
async fn probe_accounts(client: &Client) -> anyhow::Result<()> {
    probe_api(Api::<AWSAccount>::all(client.clone())).await
}

async fn probe_api<K: Reported>(api: Api<K>) -> anyhow::Result<()> {
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
