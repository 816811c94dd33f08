//! `cloudwatch-operator plan -f FILE|DIR|-`: what the operator would do in AWS for each object of
//! the manifests, without doing it.
//!
//! Every object goes through its kind's own read-and-decide step, the one its controller runs
//! before writing (`runtime::preview`), under a context that only reads: AWS through the
//! batched readers the controllers share, the cluster (when a kubeconfig is available) for the
//! objects' live copies (status: region, ownership records), the Alarm objects that `alarmRef`s
//! name, the other objects' claims and the namespaces' `cwo.dev/region`. Objects the manifests
//! hold replace their live copies, as `kubectl apply` would.

use super::args::parse_cluster_id;
use super::manifests::{self, Manifests, Placed};
use super::read_only::{self, AwsAccess, Cluster};
use crate::alarm::Alarm;
use crate::aws_account::{self, AWSAccount};
use crate::cloudwatch_alarm::AlarmFamily;
use crate::common_fields::CommonStatus;
use crate::composite_alarm::CompositeAlarm;
use crate::conditions::{Verdict, conditions};
use crate::log_destination::{self, DestinationSubscribers, LogDestination, LogDestinationStatus};
use crate::log_subscription::{self, LogSubscription};
use crate::metric_filter::{self, MetricFilter, MetricFilterStatus, MetricWatchers};
use crate::metric_stream::{self, MetricStream};
use crate::ownership::UNKNOWN_CLUSTER;
use crate::preview::Action;
use crate::runtime::ManagedKind;
use crate::runtime::preview::{ObjectPreview, preview};
use crate::runtime::watch::Synced;
use crate::sampling_rule::{self, SamplingRule};
use anyhow::Context as _;
use clap::{Args, ValueEnum};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, ListParams};
use kube::core::PartialObjectMeta;
use kube::{Client, ResourceExt};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;

/// Flags of `cloudwatch-operator plan`.
#[derive(Clone, Debug, Args)]
pub struct PlanArgs {
    /// Manifests to plan: a file, a directory (its .yaml, .yml and .json files) or `-` for
    /// standard input. Repeat for several. Documents that are not cwo.dev objects are set aside.
    #[arg(
        short = 'f',
        long = "filename",
        required = true,
        value_name = "FILE|DIR|-"
    )]
    pub filenames: Vec<String>,

    /// Read directories' subdirectories too.
    #[arg(short = 'R', long)]
    pub recursive: bool,

    /// Namespace of objects that name none. Default: the kubeconfig context's namespace, else
    /// `default`.
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,

    /// Output format: `text` for people, `json` for machines.
    #[arg(short = 'o', long, value_enum, default_value_t = PlanOutput::Text)]
    pub output: PlanOutput,

    /// AWS region for objects that set no spec.region and whose namespace has no cwo.dev/region
    /// annotation: the operator's --default-region. Default: the AWS SDK's region.
    #[arg(long, env = "CWO_DEFAULT_REGION")]
    pub default_region: Option<String>,

    /// Send every AWS call to this endpoint instead of AWS (the local emulator).
    #[arg(long, env = "CWO_AWS_ENDPOINT_URL")]
    pub aws_endpoint_url: Option<String>,

    /// The operator's --cluster-id, to recognise the AWS objects it owns. Default: read from the
    /// cluster (the UID of kube-system) when a kubeconfig is available; without either, an
    /// owner tag naming the object's namespace, kind and name is taken as this object's.
    #[arg(long, env = "CWO_CLUSTER_ID", value_parser = parse_cluster_id)]
    pub cluster_id: Option<String>,

    /// Subscription filters AWS allows per log group: the operator's
    /// --subscription-filter-limit.
    #[arg(long, env = "CWO_SUBSCRIPTION_FILTER_LIMIT", default_value_t = 2)]
    pub subscription_filter_limit: u32,

    /// Do not read the cluster, even when a kubeconfig is available.
    #[arg(long)]
    pub no_cluster: bool,
}

/// How `plan` prints its result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PlanOutput {
    Text,
    Json,
}

/// One object of the plan.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedObject {
    /// The file the object came from (`-`: standard input).
    pub source: String,
    #[serde(flatten)]
    pub object: ObjectPreview,
}

/// How many objects each action has.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub replace: usize,
    pub no_change: usize,
    pub observe: usize,
    pub refused: usize,
    pub waiting: usize,
    pub failed: usize,
    /// Objects that take over an existing AWS object (their ownership tags are written).
    pub adopt: usize,
}

/// The whole plan.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub objects: Vec<PlannedObject>,
    /// Documents that are not cwo.dev objects.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<String>,
    pub summary: Summary,
}

impl Plan {
    fn new(objects: Vec<PlannedObject>, ignored: Vec<String>) -> Self {
        let mut summary = Summary::default();
        for o in &objects {
            let count = match o.object.preview.action {
                Action::Create => &mut summary.create,
                Action::Update => &mut summary.update,
                Action::Replace => &mut summary.replace,
                Action::NoChange => &mut summary.no_change,
                Action::Observe => &mut summary.observe,
                Action::Refused => &mut summary.refused,
                Action::Waiting => &mut summary.waiting,
                Action::Failed => &mut summary.failed,
            };
            *count += 1;
            summary.adopt += usize::from(o.object.preview.adopts.is_some());
        }
        Plan {
            objects,
            ignored,
            summary,
        }
    }

    /// The exit code, as `terraform plan -detailed-exitcode` has it: 1 when an object would be
    /// refused or could not be planned, else 2 when AWS would be written (taking over an
    /// existing object writes its ownership tags), else 0.
    pub fn exit_code(&self) -> u8 {
        let previews = || self.objects.iter().map(|o| &o.object.preview);
        if previews().any(|p| p.action.is_problem()) {
            1
        } else if previews().any(|p| p.action.writes() || p.adopts.is_some()) {
            2
        } else {
            0
        }
    }

    /// The plan for people.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for o in &self.objects {
            let p = &o.object;
            let preview = &p.preview;
            // AWSAccounts are cluster-scoped, and hold nothing in a region.
            let name = if p.namespace.is_empty() {
                p.name.clone()
            } else {
                format!("{}/{}", p.namespace, p.name)
            };
            let place = match (&p.account, p.region.as_deref()) {
                (None, None) if p.namespace.is_empty() => String::new(),
                (None, region) => format!(" in {}", region.unwrap_or("(no region)")),
                (Some(account), region) => format!(
                    " in AWSAccount {account}, {}",
                    region.unwrap_or("(no region)")
                ),
            };
            let _ = writeln!(
                out,
                "{:<10} {} {name}: {}{place}",
                preview.action.as_str(),
                p.kind,
                p.aws_object,
            );
            let mut detail = |line: String| {
                let _ = writeln!(out, "{:<10}   {line}", "");
            };
            if let (Some(reason), Some(message)) = (preview.reason, &preview.message) {
                detail(format!("{reason}: {message}"));
            }
            for change in &preview.changes {
                detail(change.to_string());
            }
            if preview.reason.is_none()
                && let Some(message) = &preview.message
            {
                detail(message.clone());
            }
            if let Some(note) = &preview.adopts {
                detail(format!("adopts: {note} ({})", p.adoption_writes));
            }
            if let Some(wait) = &preview.waits_for {
                detail(format!("waits: {wait}"));
            }
        }
        for ignored in &self.ignored {
            let _ = writeln!(out, "{:<10} {ignored}: not a cwo.dev object", "ignored");
        }
        let s = &self.summary;
        let _ = writeln!(
            out,
            "\nPlan: {} to create, {} to update, {} to replace, {} unchanged, {} observed \
             ({} to adopt); {} refused, {} waiting, {} failed.",
            s.create,
            s.update,
            s.replace,
            s.no_change,
            s.observe,
            s.adopt,
            s.refused,
            s.waiting,
            s.failed
        );
        out
    }
}

/// Plans the manifests `args` names.
pub async fn plan(args: &PlanArgs) -> anyhow::Result<Plan> {
    let documents = manifests::read(&args.filenames, args.recursive)?;
    let cluster = if args.no_cluster {
        None
    } else {
        read_only::cluster().await?
    };
    let namespace = args
        .namespace
        .clone()
        .or_else(|| cluster.as_ref().map(|c| c.default_namespace.clone()))
        .unwrap_or_else(|| "default".to_string());
    let m = Manifests::from_documents(documents, &namespace)?;
    let aws = read_only::aws(&AwsAccess {
        default_region: args.default_region.clone(),
        endpoint_url: args.aws_endpoint_url.clone(),
    })
    .await?;

    // AWSAccounts are cluster-scoped: placed in no namespace.
    let namespaces: BTreeSet<String> = m
        .placed
        .iter()
        .filter(|p| !p.namespace.is_empty())
        .map(|p| p.namespace.clone())
        .collect();
    let live = match &cluster {
        Some(c) => Live::read(c, &namespaces, args.cluster_id.clone()).await?,
        None => Live::none(args.cluster_id.clone()),
    };
    let client = cluster
        .map(|c| c.client)
        .unwrap_or_else(read_only::no_cluster);
    // The manifests' AWSAccounts as they would be after the apply, beside the cluster's others.
    let mut accounts = m.accounts.clone();
    accounts.extend(
        live.accounts
            .into_iter()
            .filter(|a| !m.accounts.iter().any(|p| p.name_any() == a.name_any())),
    );
    let ctx = Arc::new(read_only::context(
        client,
        Arc::clone(&aws),
        live.namespaces,
        accounts,
        live.cluster_id,
    ));

    let alarms = with_live(m.alarms, live.alarms);
    let composites = with_live(m.composites, live.composites);
    let streams = with_live(m.streams, live.streams);
    let subscriptions = with_live(m.subscriptions, live.subscriptions);
    let rules = with_live(m.rules, live.rules);
    let metric_filters = with_live(m.metric_filters, live.metric_filters);
    let destinations = with_live(m.destinations, live.destinations);

    // Metric filters and destinations first: alarms and subscriptions that refer to one are
    // planned against it as its own plan leaves it.
    let filter_shared = metric_filter::shared(
        Arc::clone(&aws),
        read_only::store_of(metric_filters.known.iter().cloned()),
        NoReferrers::new(),
    );
    let destination_shared = log_destination::shared(Arc::clone(&aws), NoReferrers::new());
    let (f, d) = tokio::join!(
        preview(&metric_filters.planned, &ctx, &filter_shared),
        preview(&destinations.planned, &ctx, &destination_shared),
    );
    let filters_after = after_apply(&metric_filters, &f, |_, _| MetricFilterStatus::default());
    let destinations_after = after_apply(&destinations, &d, |obj, p| LogDestinationStatus {
        common: CommonStatus {
            arn: p
                .account_id
                .as_ref()
                .zip(p.region.as_ref())
                .map(|(id, region)| {
                    format!("arn:aws:logs:{region}:{id}:destination:{}", obj.aws_name())
                }),
            ..Default::default()
        },
        ..Default::default()
    });

    let family = AlarmFamily::new(
        Arc::clone(&ctx),
        (
            read_only::store_of(alarms.known.iter().cloned()),
            Synced::already(),
            tokio::sync::mpsc::channel(1).0,
        ),
        (
            read_only::store_of(composites.known.iter().cloned()),
            Synced::already(),
            tokio::sync::mpsc::channel(1).0,
        ),
        (
            read_only::store_of(filters_after),
            Synced::already(),
            tokio::sync::mpsc::channel(1).0,
        ),
    );
    let stream_shared = metric_stream::shared(Arc::clone(&aws));
    let rule_shared = sampling_rule::shared(Arc::clone(&aws));
    let subscription_shared = log_subscription::shared(
        Arc::clone(&aws),
        (
            read_only::store_of(subscriptions.known.iter().cloned()),
            Synced::already(),
            tokio::sync::mpsc::channel(1).0,
        ),
        (
            read_only::store_of(destinations_after),
            Synced::already(),
            tokio::sync::mpsc::channel(1).0,
        ),
        args.subscription_filter_limit,
        Arc::clone(&ctx.released),
    );

    let (a, c, s, l, r) = tokio::join!(
        preview(&alarms.planned, &ctx, &family),
        preview(&composites.planned, &ctx, &family),
        preview(&streams.planned, &ctx, &stream_shared),
        preview(&subscriptions.planned, &ctx, &subscription_shared),
        preview(&rules.planned, &ctx, &rule_shared),
    );
    let accounts = futures::future::join_all(m.accounts.iter().map(|account| async {
        ObjectPreview {
            kind: "AWSAccount",
            namespace: String::new(),
            name: account.name_any(),
            region: None,
            account: None,
            account_id: None,
            aws_object: format!("role {}", account.spec.role_arn),
            adoption_writes: "",
            preview: aws_account::preview::preview(account, &ctx).await,
        }
    }))
    .await;
    let mut by_key: BTreeMap<(&str, String, String), ObjectPreview> =
        [a, c, s, l, r, f, d, accounts]
            .into_iter()
            .flatten()
            .map(|p| ((p.kind, p.namespace.clone(), p.name.clone()), p))
            .collect();
    let objects = m
        .placed
        .iter()
        .filter_map(
            |Placed {
                 kind,
                 namespace,
                 name,
                 source,
             }| {
                let object = by_key.remove(&(*kind, namespace.clone(), name.clone()))?;
                Some(PlannedObject {
                    source: source.clone(),
                    object,
                })
            },
        )
        .collect();
    Ok(Plan::new(objects, m.ignored))
}

/// What the cluster holds that a plan needs.
struct Live {
    cluster_id: String,
    namespaces: Vec<PartialObjectMeta<Namespace>>,
    alarms: Vec<Alarm>,
    composites: Vec<CompositeAlarm>,
    streams: Vec<MetricStream>,
    subscriptions: Vec<LogSubscription>,
    metric_filters: Vec<MetricFilter>,
    destinations: Vec<LogDestination>,
    rules: Vec<SamplingRule>,
    accounts: Vec<AWSAccount>,
}

impl Live {
    /// No cluster: nothing but the cluster id given, if any.
    fn none(cluster_id: Option<String>) -> Self {
        Live {
            cluster_id: cluster_id.unwrap_or_else(|| UNKNOWN_CLUSTER.to_string()),
            namespaces: Vec::new(),
            alarms: Vec::new(),
            composites: Vec::new(),
            streams: Vec::new(),
            subscriptions: Vec::new(),
            metric_filters: Vec::new(),
            destinations: Vec::new(),
            rules: Vec::new(),
            accounts: Vec::new(),
        }
    }

    /// Reads the cluster: the cluster id (unless given), the manifests' namespaces and every
    /// object of every kind (in all namespaces, or in the manifests' namespaces where listing
    /// all is not allowed).
    async fn read(
        cluster: &Cluster,
        namespaces: &BTreeSet<String>,
        cluster_id: Option<String>,
    ) -> anyhow::Result<Self> {
        let client = &cluster.client;
        let cluster_id = match cluster_id {
            Some(id) => id,
            None => cluster_uid(client).await?,
        };
        let ns_api: Api<Namespace> = Api::all(client.clone());
        let mut found = Vec::new();
        for ns in namespaces {
            match ns_api.get_metadata_opt(ns).await {
                Ok(Some(meta)) => found.push(meta),
                Ok(None) => {}
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot read namespace {ns}"));
                }
            }
        }
        Ok(Live {
            cluster_id,
            namespaces: found,
            alarms: list(client, namespaces).await?,
            composites: list(client, namespaces).await?,
            streams: list(client, namespaces).await?,
            subscriptions: list(client, namespaces).await?,
            metric_filters: list(client, namespaces).await?,
            destinations: list(client, namespaces).await?,
            rules: list(client, namespaces).await?,
            accounts: list_accounts(client).await?,
        })
    }
}

/// The cluster id the operator uses by default: the UID of kube-system.
async fn cluster_uid(client: &Client) -> anyhow::Result<String> {
    let ns: Api<Namespace> = Api::all(client.clone());
    let kube_system = ns.get_metadata("kube-system").await.context(
        "cannot read the kube-system namespace for the cluster id; pass --cluster-id (the \
         operator's) or --no-cluster",
    )?;
    kube_system
        .metadata
        .uid
        .context("kube-system has no uid; pass --cluster-id")
}

/// Every AWSAccount (cluster-scoped); none where listing them is not allowed (objects that name an
/// account then plan as the operator would see them without it).
async fn list_accounts(client: &Client) -> anyhow::Result<Vec<AWSAccount>> {
    let api: Api<AWSAccount> = Api::all(client.clone());
    match api.list(&ListParams::default()).await {
        Ok(list) => Ok(list.items),
        Err(kube::Error::Api(e)) if e.code == 403 => Ok(Vec::new()),
        Err(e) => Err(e).context("cannot list AWSAccount"),
    }
}

/// Every object of kind `K`: in all namespaces, or, where that is not allowed, in `namespaces`.
async fn list<K: ManagedKind>(
    client: &Client,
    namespaces: &BTreeSet<String>,
) -> anyhow::Result<Vec<K>> {
    let all: Api<K> = Api::all(client.clone());
    match all.list(&ListParams::default()).await {
        Ok(list) => return Ok(list.items),
        Err(kube::Error::Api(e)) if e.code == 403 => {}
        Err(e) => return Err(e).with_context(|| format!("cannot list {}", K::KIND)),
    }
    let mut items = Vec::new();
    for ns in namespaces {
        let api: Api<K> = Api::namespaced(client.clone(), ns);
        let list = api
            .list(&ListParams::default())
            .await
            .with_context(|| format!("cannot list {} in namespace {ns}", K::KIND))?;
        items.extend(list.items);
    }
    Ok(items)
}

/// The objects of one kind a plan works with.
struct KindObjects<K> {
    /// The manifests' objects, each with its live copy's metadata and status when the cluster
    /// has it.
    planned: Vec<K>,
    /// Everything the cluster would hold after `kubectl apply`: the planned objects and the
    /// other live ones (for `alarmRef`s, the composite graph and filter claims).
    known: Vec<K>,
}

/// Puts each object of `planned` in the place of its live copy, keeping the copy's identity (UID,
/// creation time) and status: what the operator would see after the apply.
fn with_live<K: ManagedKind>(planned: Vec<K>, live: Vec<K>) -> KindObjects<K> {
    let key = |o: &K| (o.namespace().unwrap_or_default(), o.name_any());
    let mut live: BTreeMap<(String, String), K> = live.into_iter().map(|o| (key(&o), o)).collect();
    let planned: Vec<K> = planned
        .into_iter()
        .map(|mut obj| {
            if let Some(copy) = live.remove(&key(&obj)) {
                let meta = obj.meta_mut();
                meta.uid = copy.meta().uid.clone();
                meta.creation_timestamp = copy.meta().creation_timestamp.clone();
                obj = with_status(obj, &copy);
            }
            obj
        })
        .collect();
    let known = planned.iter().cloned().chain(live.into_values()).collect();
    KindObjects { planned, known }
}

/// Every object of `objects` the cluster would hold once the manifests are applied and their
/// plans carried out: a planned object whose plan writes or finds nothing to write would turn
/// Ready for its spec, in the region and account planned, with the status `ready` adds (a
/// destination's ARN); the others are as they are. Alarms and subscriptions resolve their
/// references against these, as they would after the apply.
fn after_apply<K: ManagedKind>(
    objects: &KindObjects<K>,
    previews: &[ObjectPreview],
    ready: impl Fn(&K, &ObjectPreview) -> K::Status,
) -> Vec<K> {
    let mut out = objects.known.clone();
    for (obj, p) in out.iter_mut().zip(previews) {
        let turns_ready = matches!(
            p.preview.action,
            Action::Create | Action::Update | Action::Replace | Action::NoChange
        );
        if !turns_ready {
            continue;
        }
        let mut status = ready(obj, p);
        let common = K::common_status_mut(&mut status);
        let generation = obj.meta().generation;
        common.observed_generation = generation;
        common.region = p.region.clone();
        common.account = p.account.clone();
        common.conditions = conditions(
            &[],
            &Verdict::available("planned"),
            generation,
            Timestamp::now(),
        );
        *obj = with_status_value(obj, &status);
    }
    out
}

/// Stands for the alarms and subscriptions that refer to metric filters and destinations, which
/// a plan never needs: they are asked only when a filter or destination is deleted or turns
/// Ready.
struct NoReferrers(Synced);

impl NoReferrers {
    fn new() -> Arc<Self> {
        Arc::new(NoReferrers(Synced::already()))
    }
}

impl MetricWatchers for NoReferrers {
    fn synced(&self) -> &Synced {
        &self.0
    }
    fn holding(&self, _: &str, _: &str) -> Vec<String> {
        Vec::new()
    }
    fn wake(&self, _: &str, _: &str) {}
}

impl DestinationSubscribers for NoReferrers {
    fn synced(&self) -> &Synced {
        &self.0
    }
    fn subscribing(&self, _: &str, _: &str) -> Vec<String> {
        Vec::new()
    }
    fn wake(&self, _: &str, _: &str) {}
}

/// `obj` with the status of `copy`.
fn with_status<K: ManagedKind>(obj: K, copy: &K) -> K {
    let Some(status) = copy.status() else {
        return obj;
    };
    with_status_value(&obj, status)
}

/// `obj` with `status`.
fn with_status_value<K: ManagedKind>(obj: &K, status: &K::Status) -> K {
    let mut value = serde_json::to_value(obj).expect("objects serialize");
    value["status"] = serde_json::to_value(status).expect("statuses serialize");
    serde_json::from_value(value).expect("an object with its own kind's status deserializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::field_diff::FieldChange;
    use crate::preview::Preview;
    use serde_json::json;

    fn planned(name: &str, preview: Preview) -> PlannedObject {
        PlannedObject {
            source: "alarms.yaml".into(),
            object: ObjectPreview {
                kind: "Alarm",
                namespace: "web".into(),
                name: name.into(),
                region: Some("us-east-1".into()),
                account: None,
                account_id: None,
                aws_object: format!("alarm {name:?}"),
                adoption_writes: "writes only the ownership tags",
                preview,
            },
        }
    }

    fn threshold(old: i64, new: i64) -> FieldChange {
        FieldChange {
            field: "threshold".into(),
            old: Some(json!(old)),
            new: Some(json!(new)),
        }
    }

    #[test]
    fn nothing_to_write_exits_0() {
        let plan = Plan::new(
            vec![
                planned("a", Preview::update(vec![])),
                planned("b", Preview::observe(vec![threshold(80, 90)])),
            ],
            vec![],
        );
        assert_eq!(plan.exit_code(), 0);
        assert_eq!(plan.summary.no_change, 1);
        assert_eq!(plan.summary.observe, 1);
        // No objects at all: nothing to write either.
        assert_eq!(Plan::new(vec![], vec![]).exit_code(), 0);
    }

    #[test]
    fn a_create_an_update_a_replace_or_an_adoption_exits_2() {
        for preview in [
            Preview::create(),
            Preview::update(vec![threshold(80, 90)]),
            Preview::replace(vec![], "log group moves"),
            Preview::update(vec![]).adopting(Some("takes over alarm \"a\"".into())),
        ] {
            let plan = Plan::new(
                vec![
                    planned("same", Preview::update(vec![])),
                    planned("a", preview),
                ],
                vec![],
            );
            assert_eq!(plan.exit_code(), 2, "{}", plan.text());
        }
    }

    #[test]
    fn a_refused_waiting_or_failed_object_exits_1_even_beside_writes() {
        for error in [
            Error::invalid_spec("period must be 10, 30 or a multiple of 60"),
            Error::dependency("alarm \"x\" is not Ready"),
            Error::new(crate::reason::Reason::AccessDenied, "no"),
        ] {
            let plan = Plan::new(
                vec![
                    planned("new", Preview::create()),
                    planned("bad", Preview::from_error(&error)),
                ],
                vec![],
            );
            assert_eq!(plan.exit_code(), 1, "{}", plan.text());
        }
    }

    #[test]
    fn text_shows_each_change_old_to_new_and_the_condition_message() {
        let plan = Plan::new(
            vec![
                planned("cpu", Preview::update(vec![threshold(80, 90)])),
                planned(
                    "bad",
                    Preview::from_error(&Error::invalid_spec("period 7 is not allowed")),
                ),
            ],
            vec!["ConfigMap c (alarms.yaml)".into()],
        );
        let text = plan.text();
        assert!(
            text.contains("update     Alarm web/cpu: alarm \"cpu\" in us-east-1\n"),
            "{text}"
        );
        assert!(text.contains("  threshold: 80 → 90\n"), "{text}");
        assert!(
            text.contains("  InvalidSpec: period 7 is not allowed\n"),
            "{text}"
        );
        assert!(
            text.contains("ignored    ConfigMap c (alarms.yaml): not a cwo.dev object"),
            "{text}"
        );
        assert!(
            text.ends_with(
                "Plan: 0 to create, 1 to update, 0 to replace, 0 unchanged, 0 observed \
                 (0 to adopt); 1 refused, 0 waiting, 0 failed.\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn text_names_an_objects_account_and_an_aws_account_by_its_name_alone() {
        let mut in_account = planned("cpu", Preview::create());
        in_account.object.account = Some("payments-prod".into());
        let mut account = planned("payments-prod", Preview::update(vec![]));
        account.object.kind = "AWSAccount";
        account.object.namespace = String::new();
        account.object.region = None;
        account.object.aws_object = "role arn:aws:iam::210987654321:role/cwo".into();
        let text = Plan::new(vec![in_account, account], vec![]).text();
        assert!(
            text.contains(
                "create     Alarm web/cpu: alarm \"cpu\" in AWSAccount payments-prod, us-east-1\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "no change  AWSAccount payments-prod: role arn:aws:iam::210987654321:role/cwo\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn json_holds_the_source_the_identity_and_the_changes() {
        let plan = Plan::new(
            vec![planned("cpu", Preview::update(vec![threshold(80, 90)]))],
            vec![],
        );
        let value = serde_json::to_value(&plan).unwrap();
        assert_eq!(
            value["objects"][0],
            json!({
                "source": "alarms.yaml",
                "kind": "Alarm",
                "namespace": "web",
                "name": "cpu",
                "region": "us-east-1",
                "awsObject": "alarm \"cpu\"",
                "action": "update",
                "changes": [{"field": "threshold", "old": 80, "new": 90}],
            })
        );
        assert_eq!(value["summary"]["update"], 1);
        assert!(value.get("ignored").is_none(), "{value}");
    }
}
