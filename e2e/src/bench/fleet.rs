//! The objects a scenario creates, and the benchmark's own Kubernetes traffic: creating them
//! with bounded parallelism, listing their readiness, editing and deleting them. Every write the
//! benchmark sends is counted, so the API server's request counts can be split into the
//! benchmark's writes and the operator's.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use futures::{StreamExt, TryStreamExt};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde::Deserialize;
use serde_json::{Value, json};

use cwo_e2e::operator::REGION;
use cwo_emulator::DEFAULT_ACCOUNT;

/// Requests the benchmark keeps in flight when creating or editing objects: enough to keep the
/// API server busy, few enough not to starve the operator of the two cores.
pub const PARALLEL_REQUESTS: usize = 24;

/// Subscription filters put on one log group (AWS's default limit, and the emulator's).
pub const FILTERS_PER_LOG_GROUP: usize = 2;

/// Firehose delivery streams the metric streams and subscriptions deliver to.
const DELIVERY_STREAMS: usize = 5;

/// Children of each composite alarm.
pub const COMPOSITE_CHILDREN: usize = 10;

/// Metric filters put on one log group (AWS allows 100).
pub const METRIC_FILTERS_PER_LOG_GROUP: usize = 10;

/// Subscriptions sending to each log destination (by `destinationRef`); the others send to a
/// delivery stream directly.
const SUBSCRIPTIONS_PER_DESTINATION: usize = 4;

/// The seven kinds, in the order they are created (what is referenced before what refers to
/// it: filters before the alarms on their metrics, children before the composites naming them,
/// destinations before the subscriptions sending to them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    MetricFilter,
    Alarm,
    CompositeAlarm,
    MetricStream,
    LogDestination,
    LogSubscription,
    SamplingRule,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::MetricFilter,
        Kind::Alarm,
        Kind::CompositeAlarm,
        Kind::MetricStream,
        Kind::LogDestination,
        Kind::LogSubscription,
        Kind::SamplingRule,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Alarm => "Alarm",
            Kind::CompositeAlarm => "CompositeAlarm",
            Kind::MetricStream => "MetricStream",
            Kind::LogSubscription => "LogSubscription",
            Kind::SamplingRule => "SamplingRule",
            Kind::MetricFilter => "MetricFilter",
            Kind::LogDestination => "LogDestination",
        }
    }

    fn plural(self) -> &'static str {
        match self {
            Kind::Alarm => "alarms",
            Kind::CompositeAlarm => "compositealarms",
            Kind::MetricStream => "metricstreams",
            Kind::LogSubscription => "logsubscriptions",
            Kind::SamplingRule => "samplingrules",
            Kind::MetricFilter => "metricfilters",
            Kind::LogDestination => "logdestinations",
        }
    }

    fn resource(self) -> ApiResource {
        ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("cwo.dev", "v1alpha1", self.name()),
            self.plural(),
        )
    }

    pub fn api(self, client: &kube::Client, namespace: &str) -> Api<DynamicObject> {
        Api::namespaced_with(client.clone(), namespace, &self.resource())
    }
}

/// The cluster-scoped AWSAccount kind.
fn aws_account_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("cwo.dev", "v1alpha1", "AWSAccount"),
        "awsaccounts",
    )
}

/// How many objects of each kind a scenario creates.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Fleet {
    pub alarms: usize,
    pub composite_alarms: usize,
    pub metric_streams: usize,
    pub log_subscriptions: usize,
    pub sampling_rules: usize,
    /// Metric filters; alarm `i` watches the metric of filter `i` (`metricFilterRef`) while
    /// there are filters.
    pub metric_filters: usize,
    /// Log destinations; the first subscriptions send to them (`destinationRef`).
    pub log_destinations: usize,
    /// AWS accounts the objects are spread over, each an `AWSAccount` named by the objects'
    /// `spec.accountRef` ([`Fleet::account_of`]); 0: none, every object in the operator's own
    /// account.
    pub accounts: usize,
}

/// The `AWSAccount` (cluster-scoped) of the fleet's `k`-th account.
pub fn account_name(k: usize) -> String {
    format!("bench-account-{k}")
}

/// The AWS account id of the fleet's `k`-th account (a 12-digit access key id is that account's
/// in the emulator).
pub fn account_id(k: usize) -> String {
    assert!(k < 100, "at most 100 accounts");
    (210_987_654_300 + k as u64).to_string()
}

/// The role the operator assumes in the fleet's `k`-th account.
pub fn role_arn(k: usize) -> String {
    format!("arn:aws:iam::{}:role/cloudwatch-operator", account_id(k))
}

impl Fleet {
    pub fn alarms(n: usize) -> Fleet {
        Fleet {
            alarms: n,
            ..Fleet::default()
        }
    }

    pub fn count(&self, kind: Kind) -> usize {
        match kind {
            Kind::Alarm => self.alarms,
            Kind::CompositeAlarm => self.composite_alarms,
            Kind::MetricStream => self.metric_streams,
            Kind::LogSubscription => self.log_subscriptions,
            Kind::SamplingRule => self.sampling_rules,
            Kind::MetricFilter => self.metric_filters,
            Kind::LogDestination => self.log_destinations,
        }
    }

    pub fn total(&self) -> usize {
        Kind::ALL.iter().map(|k| self.count(*k)).sum()
    }

    /// The kinds this fleet has objects of.
    pub fn kinds(&self) -> Vec<Kind> {
        Kind::ALL
            .into_iter()
            .filter(|k| self.count(*k) > 0)
            .collect()
    }

    /// "1,000 Alarm, 100 CompositeAlarm, ..." (", over 3 AWS accounts" when spread)
    pub fn describe(&self) -> String {
        let kinds = self
            .kinds()
            .iter()
            .map(|k| format!("{} {}", thousands(self.count(*k) as u64), k.name()))
            .collect::<Vec<_>>()
            .join(", ");
        if self.accounts == 0 {
            kinds
        } else {
            format!("{kinds}, over {} AWS accounts", self.accounts)
        }
    }

    /// Alarms, composites over them, and the kinds that need AWS resources created first.
    pub fn needs_delivery_streams(&self) -> bool {
        self.metric_streams > 0 || self.log_subscriptions > 0 || self.log_destinations > 0
    }

    /// The account (`0..accounts`) object `i` of `kind` is in, `None` for the operator's own.
    /// Alarms go by blocks of [`COMPOSITE_CHILDREN`], the children of one composite, and a
    /// composite goes with its children: CloudWatch resolves a composite's rule in the
    /// composite's own account. Subscriptions and metric filters go by log group (a group is in
    /// one account), and a metric filter's ten to a group are in the account of the block of
    /// alarms watching them (an alarm's `metricFilterRef` names a filter of its own account);
    /// the other kinds take turns. A destination serves subscriptions of every account.
    pub fn account_of(&self, kind: Kind, i: usize) -> Option<usize> {
        if self.accounts == 0 {
            return None;
        }
        let n = self.accounts;
        Some(match kind {
            Kind::Alarm => (i / COMPOSITE_CHILDREN) % n,
            Kind::CompositeAlarm => (composite_child(i, 0, self.alarms) / COMPOSITE_CHILDREN) % n,
            Kind::MetricFilter => (i / METRIC_FILTERS_PER_LOG_GROUP) % n,
            Kind::LogSubscription => (i / FILTERS_PER_LOG_GROUP) % n,
            Kind::MetricStream | Kind::LogDestination | Kind::SamplingRule => i % n,
        })
    }

    /// The AWS account id object `i` of `kind` is in.
    fn account_id_of(&self, kind: Kind, i: usize) -> String {
        self.account_of(kind, i)
            .map(account_id)
            .unwrap_or_else(|| DEFAULT_ACCOUNT.to_string())
    }

    /// The account ids the fleet is spread over; the operator's own alone when it is not.
    pub fn account_ids(&self) -> Vec<String> {
        if self.accounts == 0 {
            return vec![DEFAULT_ACCOUNT.to_string()];
        }
        (0..self.accounts).map(account_id).collect()
    }

    /// How many objects of `kind` each account of [`Fleet::account_ids`] holds.
    pub fn per_account(&self, kind: Kind) -> Vec<usize> {
        let mut out = vec![0; self.accounts.max(1)];
        for i in 0..self.count(kind) {
            out[self.account_of(kind, i).unwrap_or(0)] += 1;
        }
        out
    }

    /// Metric and composite alarms in each account of [`Fleet::account_ids`].
    #[cfg(test)]
    pub fn alarms_per_account(&self) -> Vec<usize> {
        let metric = self.per_account(Kind::Alarm);
        let composite = self.per_account(Kind::CompositeAlarm);
        metric.iter().zip(&composite).map(|(m, c)| m + c).collect()
    }

    /// Σ ⌈n / 100⌉ over the accounts, `n` the alarms of `kinds` in each: the fewest
    /// DescribeAlarms (or DeleteAlarms) calls that can cover them, since a call names at most
    /// 100 alarms of one account.
    pub fn hundreds_per_account(&self, kinds: &[Kind]) -> usize {
        let mut per_account = vec![0; self.accounts.max(1)];
        for kind in kinds {
            for (k, n) in self.per_account(*kind).into_iter().enumerate() {
                per_account[k] += n;
            }
        }
        per_account.iter().map(|n| n.div_ceil(100)).sum()
    }

    /// The log groups of [`Fleet::log_groups`] in account `k` of [`Fleet::account_ids`].
    pub fn log_groups_in(&self, k: usize) -> Vec<String> {
        (0..self.log_subscriptions)
            .step_by(FILTERS_PER_LOG_GROUP)
            .filter(|i| self.account_of(Kind::LogSubscription, *i).unwrap_or(0) == k)
            .map(log_group)
            .collect()
    }

    /// The log groups of [`Fleet::metric_log_groups`] in account `k` of [`Fleet::account_ids`].
    pub fn metric_log_groups_in(&self, k: usize) -> Vec<String> {
        (0..self.metric_filters)
            .step_by(METRIC_FILTERS_PER_LOG_GROUP)
            .filter(|i| self.account_of(Kind::MetricFilter, *i).unwrap_or(0) == k)
            .map(|i| metric_log_group(i / METRIC_FILTERS_PER_LOG_GROUP))
            .collect()
    }

    /// The delivery streams each account holds (the same names in every account).
    pub fn delivery_streams(&self) -> Vec<String> {
        if !self.needs_delivery_streams() {
            return Vec::new();
        }
        (0..DELIVERY_STREAMS)
            .map(|i| format!("bench-delivery-{i}"))
            .collect()
    }

    pub fn log_groups(&self) -> Vec<String> {
        (0..self.log_subscriptions)
            .step_by(FILTERS_PER_LOG_GROUP)
            .map(log_group)
            .collect()
    }

    /// The log groups the metric filters read, in every account.
    pub fn metric_log_groups(&self) -> Vec<String> {
        (0..self.metric_filters.div_ceil(METRIC_FILTERS_PER_LOG_GROUP))
            .map(metric_log_group)
            .collect()
    }

    /// Every object's manifest, in creation order.
    pub fn manifests(&self) -> Vec<(Kind, Value)> {
        let mut out = Vec::with_capacity(self.total());
        let account = |kind: Kind, i: usize| self.account_id_of(kind, i);
        // `spec.accountRef` names the object's AWSAccount when the fleet is spread.
        let object = |kind: Kind, i: usize, mut manifest: Value| {
            if let Some(k) = self.account_of(kind, i) {
                manifest["spec"]["accountRef"] = json!(account_name(k));
            }
            (kind, manifest)
        };
        out.extend(
            (0..self.metric_filters).map(|i| object(Kind::MetricFilter, i, metric_filter(i))),
        );
        out.extend((0..self.alarms).map(|i| {
            let manifest = alarm(i, self.metric_filters, &account(Kind::Alarm, i));
            object(Kind::Alarm, i, manifest)
        }));
        out.extend((0..self.composite_alarms).map(|i| {
            let manifest = composite(i, self.alarms, &account(Kind::CompositeAlarm, i));
            object(Kind::CompositeAlarm, i, manifest)
        }));
        out.extend((0..self.metric_streams).map(|i| {
            let manifest = metric_stream(i, &account(Kind::MetricStream, i));
            object(Kind::MetricStream, i, manifest)
        }));
        out.extend((0..self.log_destinations).map(|i| {
            let manifest =
                log_destination(i, &account(Kind::LogDestination, i), &self.account_ids());
            object(Kind::LogDestination, i, manifest)
        }));
        out.extend((0..self.log_subscriptions).map(|i| {
            let manifest =
                log_subscription(i, self.log_destinations, &account(Kind::LogSubscription, i));
            object(Kind::LogSubscription, i, manifest)
        }));
        out.extend(
            (0..self.sampling_rules).map(|i| object(Kind::SamplingRule, i, sampling_rule(i))),
        );
        out
    }
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn alarm_name(i: usize) -> String {
    format!("bench-alarm-{i:05}")
}

/// The log group subscription `i` is on (two subscriptions per group).
pub fn log_group(i: usize) -> String {
    format!("/bench/group-{:04}", i / FILTERS_PER_LOG_GROUP)
}

pub fn composite_name(i: usize) -> String {
    format!("bench-composite-{i:03}")
}

pub fn metric_stream_name(i: usize) -> String {
    format!("bench-stream-{i:03}")
}

/// The object's name, which is also the subscription filter's name in CloudWatch Logs.
pub fn log_subscription_name(i: usize) -> String {
    format!("bench-sub-{i:04}")
}

/// The object's name, which is also the X-Ray rule's name.
pub fn sampling_rule_name(i: usize) -> String {
    format!("bench-rule-{i:02}")
}

fn metric_log_group(i: usize) -> String {
    format!("/bench/metrics-{i:04}")
}

pub fn metric_filter_name(i: usize) -> String {
    format!("bench-filter-{i:04}")
}

pub fn log_destination_name(i: usize) -> String {
    format!("bench-destination-{i:03}")
}

/// Child `c` of composite `i`: alarms `10i` to `10i + 9`, wrapping round the fleet's alarms.
fn composite_child(i: usize, c: usize, alarms: usize) -> usize {
    (i * COMPOSITE_CHILDREN + c) % alarms.max(1)
}

fn firehose_arn(i: usize, account: &str) -> String {
    format!(
        "arn:aws:firehose:{REGION}:{account}:deliverystream/bench-delivery-{}",
        i % DELIVERY_STREAMS
    )
}

/// The threshold every alarm starts with; the edit phase raises it.
pub const THRESHOLD: f64 = 100.0;

/// Alarm `i`: on the metric of metric filter `i` while `i < filters`, else on a shard's latency.
fn alarm(i: usize, filters: usize, account: &str) -> Value {
    if i < filters {
        return json!({
            "apiVersion": "cwo.dev/v1alpha1",
            "kind": "Alarm",
            "metadata": {"name": alarm_name(i)},
            "spec": {
                "description": format!("error lines of service {i} above the threshold"),
                "metricFilterRef": {"name": metric_filter_name(i)},
                "statistic": "Sum",
                "period": 60,
                "evaluationPeriods": 3,
                "datapointsToAlarm": 2,
                "comparisonOperator": "GreaterThanThreshold",
                "threshold": THRESHOLD,
                "treatMissingData": "notBreaching",
                "alarmActions": [format!("arn:aws:sns:{REGION}:{account}:bench-oncall")],
                "tags": {"team": "bench"}
            }
        });
    }
    json!({
        "apiVersion": "cwo.dev/v1alpha1",
        "kind": "Alarm",
        "metadata": {"name": alarm_name(i)},
        "spec": {
            "description": format!("p90 latency of shard {i} above the threshold"),
            "namespace": "Bench/Service",
            "metricName": "Latency",
            "dimensions": [{"name": "Shard", "value": format!("shard-{i:05}")}],
            "statistic": "Average",
            "period": 60,
            "evaluationPeriods": 3,
            "datapointsToAlarm": 2,
            "comparisonOperator": "GreaterThanThreshold",
            "threshold": THRESHOLD,
            "treatMissingData": "missing",
            "alarmActions": [format!("arn:aws:sns:{REGION}:{account}:bench-oncall")],
            "tags": {"team": "bench"}
        }
    })
}

/// Composite `i` is in ALARM when any of its ten alarms is (alarms `10i` to `10i + 9`).
fn composite(i: usize, alarms: usize, account: &str) -> Value {
    let children: Vec<Value> = (0..COMPOSITE_CHILDREN)
        .map(|c| json!({"alarm": {"alarmRef": alarm_name(composite_child(i, c, alarms))}}))
        .collect();
    json!({
        "apiVersion": "cwo.dev/v1alpha1",
        "kind": "CompositeAlarm",
        "metadata": {"name": composite_name(i)},
        "spec": {
            "description": format!("any shard of group {i} is slow"),
            "rule": {"anyOf": children},
            "alarmActions": [format!("arn:aws:sns:{REGION}:{account}:bench-oncall")],
            "tags": {"team": "bench"}
        }
    })
}

fn metric_stream(i: usize, account: &str) -> Value {
    json!({
        "apiVersion": "cwo.dev/v1alpha1",
        "kind": "MetricStream",
        "metadata": {"name": metric_stream_name(i)},
        "spec": {
            "firehoseArn": firehose_arn(i, account),
            "roleArn": format!("arn:aws:iam::{account}:role/bench-metric-stream"),
            "outputFormat": "json",
            "includeFilters": [{"namespace": format!("Bench/Stream{i}")}],
            "tags": {"team": "bench"}
        }
    })
}

/// Two subscriptions per log group, the default limit. The first ones send to the log
/// destinations (each to one of `destinations`, by reference, whichever account it is in), the
/// others to a delivery stream of their own account.
fn log_subscription(i: usize, destinations: usize, account: &str) -> Value {
    let mut spec = json!({
        "logGroupName": log_group(i),
        "filterPattern": "ERROR",
    });
    if i < destinations * SUBSCRIPTIONS_PER_DESTINATION {
        spec["destinationRef"] = json!({"name": log_destination_name(i % destinations)});
    } else {
        spec["destinationArn"] = json!(firehose_arn(i, account));
        spec["roleArn"] = json!(format!(
            "arn:aws:iam::{account}:role/bench-logs-to-firehose"
        ));
    }
    json!({
        "apiVersion": "cwo.dev/v1alpha1",
        "kind": "LogSubscription",
        "metadata": {"name": log_subscription_name(i)},
        "spec": spec
    })
}

/// Ten metric filters per log group, each counting the errors of one service, with a test.
fn metric_filter(i: usize) -> Value {
    json!({
        "apiVersion": "cwo.dev/v1alpha1",
        "kind": "MetricFilter",
        "metadata": {"name": metric_filter_name(i)},
        "spec": {
            "logGroupName": metric_log_group(i / METRIC_FILTERS_PER_LOG_GROUP),
            "filterPattern": format!("{{ $.level = \"ERROR\" && $.service = \"service-{i}\" }}"),
            "metricTransformations": [{
                "metricName": "ErrorLines",
                "metricNamespace": format!("Bench/Service{i}"),
                "metricValue": "1",
                "defaultValue": 0,
                "unit": "Count"
            }],
            "tests": [
                {"logEvent": format!("{{\"level\":\"ERROR\",\"service\":\"service-{i}\"}}"), "value": 1},
                {"logEvent": format!("{{\"level\":\"INFO\",\"service\":\"service-{i}\"}}"), "noMatch": true}
            ]
        }
    })
}

/// Destination `i`, in `account` in front of that account's delivery stream; every account of
/// the fleet (`senders`) may subscribe to it, as a central logging account lets its senders.
fn log_destination(i: usize, account: &str, senders: &[String]) -> Value {
    json!({
        "apiVersion": "cwo.dev/v1alpha1",
        "kind": "LogDestination",
        "metadata": {"name": log_destination_name(i)},
        "spec": {
            "targetArn": firehose_arn(i, account),
            "roleArn": format!("arn:aws:iam::{account}:role/bench-logs-to-firehose"),
            "senderAccountIds": senders,
            "tags": {"team": "bench"}
        }
    })
}

fn sampling_rule(i: usize) -> Value {
    json!({
        "apiVersion": "cwo.dev/v1alpha1",
        "kind": "SamplingRule",
        "metadata": {"name": sampling_rule_name(i)},
        "spec": {
            "priority": 1000 + i,
            "fixedRate": 0.05,
            "reservoirSize": 1,
            "serviceName": format!("bench-{i}"),
            "tags": {"team": "bench"}
        }
    })
}

/// The benchmark's side of the Kubernetes API: one client, and a count of what it wrote.
pub struct Cluster {
    pub client: kube::Client,
    pub namespace: String,
    writes: AtomicU64,
}

/// One object's readiness, as one LIST shows it.
#[derive(Clone, Debug)]
pub struct ObjectState {
    pub kind: Kind,
    pub name: String,
    /// Ready=True, for the current generation.
    pub ready: bool,
    /// The Ready condition's reason (`""` before the first status).
    pub reason: String,
}

#[derive(Deserialize)]
struct MinimalList {
    items: Vec<MinimalObject>,
}

/// Only what readiness needs: a LIST of 10,000 objects is tens of megabytes, and deserializing
/// all of it would take CPU from the operator being measured.
#[derive(Deserialize)]
struct MinimalObject {
    metadata: MinimalMeta,
    #[serde(default)]
    status: Option<MinimalStatus>,
}

#[derive(Deserialize)]
struct MinimalMeta {
    name: String,
    #[serde(default)]
    generation: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MinimalStatus {
    #[serde(default)]
    observed_generation: Option<i64>,
    #[serde(default)]
    conditions: Vec<MinimalCondition>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MinimalCondition {
    #[serde(rename = "type")]
    type_: String,
    status: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    observed_generation: Option<i64>,
}

impl Cluster {
    /// Creates `namespace` and returns the benchmark's client for it.
    pub async fn new(client: kube::Client, namespace: &str) -> Result<Cluster> {
        let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
        let ns: k8s_openapi::api::core::v1::Namespace =
            serde_json::from_value(json!({"metadata": {"name": namespace}}))?;
        namespaces
            .create(&PostParams::default(), &ns)
            .await
            .with_context(|| format!("creating namespace {namespace}"))?;
        Ok(Cluster {
            client,
            namespace: namespace.to_string(),
            writes: AtomicU64::new(0),
        })
    }

    /// Writes the benchmark has sent to the API server so far (creates, patches, deletes,
    /// retries included).
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    /// Creates every manifest, [`PARALLEL_REQUESTS`] at a time; a request the API server
    /// refuses for load (429, 5xx, timeouts) is retried.
    pub async fn create_all(&self, manifests: Vec<(Kind, Value)>) -> Result<()> {
        futures::stream::iter(manifests.into_iter().map(|(kind, manifest)| async move {
            let api = kind.api(&self.client, &self.namespace);
            let object: DynamicObject = serde_json::from_value(manifest)?;
            let params = PostParams::default();
            // A retry after a lost answer finds the object already there.
            let exists = |e: &kube::Error| matches!(e, kube::Error::Api(s) if s.code == 409);
            self.write(|| api.create(&params, &object), exists)
                .await
                .with_context(|| {
                    format!(
                        "creating {} {}",
                        kind.name(),
                        object.metadata.name.as_deref().unwrap_or("?")
                    )
                })
        }))
        .buffer_unordered(PARALLEL_REQUESTS)
        .try_collect::<Vec<()>>()
        .await?;
        Ok(())
    }

    /// Creates the AWSAccounts of a spread fleet, each granting the benchmark's namespace the
    /// role [`role_arn`] of its account.
    pub async fn create_accounts(&self, fleet: &Fleet) -> Result<()> {
        let api: Api<DynamicObject> = Api::all_with(self.client.clone(), &aws_account_resource());
        for k in 0..fleet.accounts {
            let object: DynamicObject = serde_json::from_value(json!({
                "apiVersion": "cwo.dev/v1alpha1",
                "kind": "AWSAccount",
                "metadata": {"name": account_name(k)},
                "spec": {"roleArn": role_arn(k), "namespaces": [self.namespace]}
            }))?;
            let params = PostParams::default();
            let exists = |e: &kube::Error| matches!(e, kube::Error::Api(s) if s.code == 409);
            self.write(|| api.create(&params, &object), exists)
                .await
                .with_context(|| format!("creating AWSAccount {}", account_name(k)))?;
        }
        Ok(())
    }

    /// Waits until the fleet's `accounts` AWSAccounts are Ready for their generation, or
    /// `timeout` passes (false).
    pub async fn wait_accounts_ready(&self, accounts: usize, timeout: Duration) -> Result<bool> {
        let api: Api<DynamicObject> = Api::all_with(self.client.clone(), &aws_account_resource());
        let t0 = Instant::now();
        loop {
            let list = api.list(&ListParams::default()).await?;
            let ready = list
                .items
                .iter()
                .filter(|o| {
                    let generation = o.metadata.generation;
                    o.data["status"]["conditions"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|c| {
                            c["type"] == "Ready"
                                && c["status"] == "True"
                                && c["observedGeneration"].as_i64() == generation
                        })
                })
                .count();
            if ready == accounts {
                eprintln!(
                    "cwo-bench:   {accounts} AWSAccounts Ready after {:.1} s",
                    t0.elapsed().as_secs_f64()
                );
                return Ok(true);
            }
            if t0.elapsed() >= timeout {
                eprintln!("cwo-bench:   {ready} of {accounts} AWSAccounts Ready after {timeout:?}");
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Merge-patches the threshold of each named alarm to `threshold`.
    pub async fn set_thresholds(&self, names: &[String], threshold: f64) -> Result<()> {
        let api = Kind::Alarm.api(&self.client, &self.namespace);
        futures::stream::iter(names.iter().map(|name| {
            let api = api.clone();
            async move {
                let patch = Patch::Merge(json!({"spec": {"threshold": threshold}}));
                let params = PatchParams::default();
                self.write(|| api.patch(name, &params, &patch), |_| false)
                    .await
                    .with_context(|| format!("patching alarm {name}"))
            }
        }))
        .buffer_unordered(PARALLEL_REQUESTS)
        .try_collect::<Vec<()>>()
        .await?;
        Ok(())
    }

    /// Merge-patches one object.
    pub async fn merge_patch(&self, kind: Kind, name: &str, patch: Value) -> Result<()> {
        let api = kind.api(&self.client, &self.namespace);
        let (patch, params) = (Patch::Merge(patch), PatchParams::default());
        self.write(|| api.patch(name, &params, &patch), |_| false)
            .await
            .with_context(|| format!("patching {} {name}", kind.name()))
    }

    /// Deletes every object of `kinds` in the namespace: one DeleteCollection per kind, as
    /// `kubectl delete --all` does. Marking 10,000 objects can outlast the API server's request
    /// timeout, which then drops the connection; the DeleteCollection is sent again (objects
    /// already marked are skipped quickly), as a user would rerun `kubectl delete`. Returns, per
    /// kind, the seconds from the call until its DeleteCollection returned (every object of the
    /// kind marked for deletion).
    pub async fn delete_all(&self, kinds: &[Kind]) -> Result<BTreeMap<String, f64>> {
        let start = Instant::now();
        let mut marked = BTreeMap::new();
        for kind in kinds {
            let api = kind.api(&self.client, &self.namespace);
            let (delete, list) = (DeleteParams::default(), ListParams::default());
            self.write(|| api.delete_collection(&delete, &list), |_| false)
                .await
                .with_context(|| format!("deleting every {}", kind.name()))?;
            marked.insert(kind.name().to_string(), start.elapsed().as_secs_f64());
        }
        Ok(marked)
    }

    /// Sends one write to the API server, counted in [`Cluster::writes`], and sends it again (up
    /// to five times, backing off) while the server refuses it for load (429, 5xx) or drops the
    /// connection. `done_on_retry` tells a retry's error that means the first attempt worked.
    async fn write<T, Fut>(
        &self,
        mut send: impl FnMut() -> Fut,
        done_on_retry: impl Fn(&kube::Error) -> bool,
    ) -> Result<()>
    where
        Fut: std::future::Future<Output = kube::Result<T>>,
    {
        let mut attempt = 0;
        loop {
            self.writes.fetch_add(1, Ordering::Relaxed);
            match send().await {
                Ok(_) => return Ok(()),
                Err(e) if attempt > 0 && done_on_retry(&e) => return Ok(()),
                Err(e) if attempt < 5 && retriable(&e) => {
                    attempt += 1;
                    eprintln!("cwo-bench:   a write failed ({e}); sending it again");
                    tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Every object of `kinds`, one LIST per kind (sent together).
    pub async fn states(&self, kinds: &[Kind]) -> Result<Vec<ObjectState>> {
        let lists =
            futures::future::try_join_all(kinds.iter().map(|kind| self.states_of(*kind))).await?;
        Ok(lists.into_iter().flatten().collect())
    }

    /// The status of every object of `kinds`, keyed `Kind/name`: compared before and after a
    /// phase, it shows which status fields the operator rewrote.
    pub async fn statuses(&self, kinds: &[Kind]) -> Result<BTreeMap<String, Value>> {
        let mut out = BTreeMap::new();
        for kind in kinds {
            let list = kind
                .api(&self.client, &self.namespace)
                .list(&ListParams::default())
                .await?;
            for o in list.items {
                let key = format!("{}/{}", kind.name(), o.metadata.name.unwrap_or_default());
                out.insert(key, o.data.get("status").cloned().unwrap_or(Value::Null));
            }
        }
        Ok(out)
    }

    /// The status of every AWSAccount, keyed `AWSAccount/name`, as [`Cluster::statuses`].
    pub async fn account_statuses(&self) -> Result<BTreeMap<String, Value>> {
        let api: Api<DynamicObject> = Api::all_with(self.client.clone(), &aws_account_resource());
        Ok(api
            .list(&ListParams::default())
            .await?
            .items
            .into_iter()
            .map(|o| {
                let key = format!("AWSAccount/{}", o.metadata.name.unwrap_or_default());
                (key, o.data.get("status").cloned().unwrap_or(Value::Null))
            })
            .collect())
    }

    async fn states_of(&self, kind: Kind) -> Result<Vec<ObjectState>> {
        let url = format!(
            "/apis/cwo.dev/v1alpha1/namespaces/{}/{}",
            self.namespace,
            kind.plural()
        );
        let request = kube::core::Request::new(url).list(&ListParams::default())?;
        let list: MinimalList = self.client.request(request).await?;
        Ok(list
            .items
            .into_iter()
            .map(|o| {
                let generation = o.metadata.generation;
                let status = o.status.unwrap_or(MinimalStatus {
                    observed_generation: None,
                    conditions: Vec::new(),
                });
                let observed = generation.is_some() && status.observed_generation == generation;
                let ready = status.conditions.iter().find(|c| c.type_ == "Ready");
                ObjectState {
                    kind,
                    name: o.metadata.name,
                    ready: observed
                        && ready.is_some_and(|c| {
                            c.status == "True"
                                && c.observed_generation.is_none_or(|g| Some(g) == generation)
                        }),
                    reason: ready.map(|c| c.reason.clone()).unwrap_or_default(),
                }
            })
            .collect())
    }
}

/// Status fields that differ between two [`Cluster::statuses`], with the number of objects each
/// changed in; a condition's fields are named `conditions[Type].field`.
pub fn changed_status_fields(
    before: &BTreeMap<String, Value>,
    after: &BTreeMap<String, Value>,
) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for (key, new) in after {
        let Some(old) = before.get(key) else { continue };
        let mut fields = std::collections::BTreeSet::new();
        let empty = serde_json::Map::new();
        let (old, new) = (
            old.as_object().unwrap_or(&empty),
            new.as_object().unwrap_or(&empty),
        );
        for field in old.keys().chain(new.keys()) {
            let (a, b) = (old.get(field), new.get(field));
            if a == b {
                continue;
            }
            if field == "conditions" {
                let by_type = |v: Option<&Value>| -> BTreeMap<String, Value> {
                    v.and_then(Value::as_array)
                        .map(|cs| {
                            cs.iter()
                                .map(|c| (c["type"].as_str().unwrap_or("?").to_string(), c.clone()))
                                .collect()
                        })
                        .unwrap_or_default()
                };
                let (ca, cb) = (by_type(a), by_type(b));
                for t in ca.keys().chain(cb.keys()) {
                    let (x, y) = (
                        ca.get(t).cloned().unwrap_or(Value::Null),
                        cb.get(t).cloned().unwrap_or(Value::Null),
                    );
                    for f in x
                        .as_object()
                        .into_iter()
                        .chain(y.as_object())
                        .flat_map(|m| m.keys())
                    {
                        if x.get(f) != y.get(f) {
                            fields.insert(transition(
                                &format!("conditions[{t}].{f}"),
                                f,
                                x.get(f),
                                y.get(f),
                            ));
                        }
                    }
                }
            } else {
                fields.insert(transition(field, field, a, b));
            }
        }
        for f in fields {
            *out.entry(f).or_default() += 1;
        }
    }
    out
}

/// `path`, with `: old → new` for the fields whose values are a closed set (a condition's
/// status and reason, an alarm's state), since those say what happened.
fn transition(path: &str, field: &str, old: Option<&Value>, new: Option<&Value>) -> String {
    if !matches!(field, "status" | "reason" | "stateValue" | "running") {
        return path.to_string();
    }
    let show = |v: Option<&Value>| match v {
        None | Some(Value::Null) => "none".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    };
    format!("{path}: {} → {}", show(old), show(new))
}

fn retriable(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(s) => s.code == 429 || s.code >= 500,
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

/// What [`wait_until`] saw.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Wait {
    /// Seconds from `since` to the poll that satisfied the condition (or to the timeout).
    pub seconds: f64,
    /// Whether the condition was met before the timeout.
    pub met: bool,
    /// LISTs made (one per kind per poll).
    pub polls: u64,
    /// Mean time one poll's LISTs took, in seconds; polls are at least 0.5 s apart and at least
    /// four times this, so polling costs the API server at most a fifth of its time.
    pub mean_poll_seconds: f64,
    /// Objects whose Ready reason was `Throttled` at any poll.
    pub throttled_objects: Vec<String>,
    /// Ready reasons at the last poll, with their counts.
    pub last_reasons: BTreeMap<String, u64>,
    /// Objects at the last poll, and how many were Ready.
    pub last_total: usize,
    pub last_ready: usize,
    /// Per kind, seconds from `since` to the last poll that still listed an object of the kind
    /// (absent: none was ever listed), and to the last poll that listed one not Ready: when each
    /// kind's part of the work ended, to within a poll.
    pub kind_last_listed: BTreeMap<String, f64>,
    pub kind_last_unready: BTreeMap<String, f64>,
}

/// Polls the objects of `kinds` until `done` accepts them or `timeout` passes since `since`,
/// printing progress every 5 s. `done` also gets the seconds elapsed.
pub async fn wait_until(
    cluster: &Cluster,
    kinds: &[Kind],
    what: &str,
    since: Instant,
    timeout: Duration,
    mut done: impl FnMut(&[ObjectState]) -> bool,
) -> Result<Wait> {
    let mut wait = Wait::default();
    let mut throttled = std::collections::BTreeSet::new();
    let mut poll_time = Duration::ZERO;
    let mut last_progress = Instant::now();
    let mut failures = 0;
    loop {
        let started = Instant::now();
        let states = match cluster.states(kinds).await {
            Ok(s) => s,
            Err(e) if failures < 10 => {
                failures += 1;
                eprintln!("cwo-bench:   listing failed ({e:#}); retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            Err(e) => return Err(e),
        };
        let took = started.elapsed();
        poll_time += took;
        wait.polls += 1;
        for s in states.iter().filter(|s| s.reason == "Throttled") {
            throttled.insert(format!("{}/{}", s.kind.name(), s.name));
        }
        wait.last_total = states.len();
        wait.last_ready = states.iter().filter(|s| s.ready).count();
        let at = since.elapsed().as_secs_f64();
        for s in &states {
            wait.kind_last_listed.insert(s.kind.name().to_string(), at);
            if !s.ready {
                wait.kind_last_unready.insert(s.kind.name().to_string(), at);
            }
        }
        let finished = done(&states);
        if finished || since.elapsed() >= timeout {
            wait.seconds = since.elapsed().as_secs_f64();
            wait.met = finished;
            wait.mean_poll_seconds = poll_time.as_secs_f64() / wait.polls as f64;
            wait.throttled_objects = throttled.into_iter().collect();
            wait.last_reasons = states.iter().fold(BTreeMap::new(), |mut m, s| {
                *m.entry(if s.reason.is_empty() {
                    "(none)".to_string()
                } else {
                    s.reason.clone()
                })
                .or_default() += 1;
                m
            });
            return Ok(wait);
        }
        if last_progress.elapsed() >= Duration::from_secs(5) {
            last_progress = Instant::now();
            eprintln!(
                "cwo-bench:   {what}: {} objects, {} Ready ({:.0} s)",
                wait.last_total,
                wait.last_ready,
                since.elapsed().as_secs_f64()
            );
        }
        tokio::time::sleep(
            Duration::from_millis(500)
                .max(took * 4)
                .saturating_sub(took),
        )
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mixed_fleet_is_spread_as_aws_limits_require() {
        let fleet = Fleet {
            alarms: 1000,
            composite_alarms: 100,
            metric_streams: 50,
            log_subscriptions: 200,
            sampling_rules: 20,
            metric_filters: 100,
            log_destinations: 10,
            accounts: 0,
        };
        let manifests = fleet.manifests();
        assert_eq!(manifests.len(), 1480);
        assert_eq!(fleet.log_groups().len(), 100);
        assert_eq!(fleet.metric_log_groups().len(), 10);
        // Each metric filter is watched by one alarm, and created before it.
        let position = |kind: Kind, name: &str| {
            manifests
                .iter()
                .position(|(k, m)| *k == kind && m["metadata"]["name"] == name)
                .unwrap()
        };
        let watching: Vec<_> = manifests
            .iter()
            .filter_map(|(_, m)| m["spec"]["metricFilterRef"]["name"].as_str())
            .collect();
        assert_eq!(watching.len(), 100);
        assert!(position(Kind::MetricFilter, watching[0]) < position(Kind::Alarm, &alarm_name(0)));
        // Four subscriptions per destination send to it by reference.
        let by_reference = manifests
            .iter()
            .filter(|(_, m)| m["spec"]["destinationRef"].is_object())
            .count();
        assert_eq!(by_reference, 40);
        let mut per_group = BTreeMap::<String, usize>::new();
        for (_, m) in manifests
            .iter()
            .filter(|(k, _)| *k == Kind::LogSubscription)
        {
            *per_group
                .entry(m["spec"]["logGroupName"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        assert!(per_group.values().all(|n| *n <= FILTERS_PER_LOG_GROUP));
        // Each composite names ten distinct alarms that exist.
        let first = &manifests
            .iter()
            .find(|(k, _)| *k == Kind::CompositeAlarm)
            .unwrap()
            .1;
        let refs: std::collections::BTreeSet<_> = first["spec"]["rule"]["anyOf"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["alarm"]["alarmRef"].as_str())
            .collect();
        assert_eq!(refs.len(), COMPOSITE_CHILDREN);
    }

    /// The mixed fleet at its full and `--quick` sizes.
    fn mixed(accounts: usize) -> [Fleet; 2] {
        let full = Fleet {
            alarms: 1000,
            composite_alarms: 100,
            metric_streams: 50,
            log_subscriptions: 200,
            sampling_rules: 20,
            metric_filters: 100,
            log_destinations: 10,
            accounts,
        };
        let quick = Fleet {
            alarms: 100,
            composite_alarms: 10,
            metric_streams: 5,
            log_subscriptions: 20,
            sampling_rules: 2,
            metric_filters: 10,
            log_destinations: 2,
            accounts,
        };
        [full, quick]
    }

    /// name → (kind, manifest).
    fn by_name(fleet: &Fleet) -> BTreeMap<String, (Kind, Value)> {
        fleet
            .manifests()
            .into_iter()
            .map(|(k, m)| (m["metadata"]["name"].as_str().unwrap().to_string(), (k, m)))
            .collect()
    }

    fn account_ref(m: &Value) -> Option<&str> {
        m["spec"]["accountRef"].as_str()
    }

    #[test]
    fn a_spread_fleet_puts_each_composite_in_the_account_of_all_its_children() {
        for fleet in mixed(3) {
            let objects = by_name(&fleet);
            let composites: Vec<&Value> = objects
                .values()
                .filter(|(k, _)| *k == Kind::CompositeAlarm)
                .map(|(_, m)| m)
                .collect();
            assert_eq!(composites.len(), fleet.composite_alarms);
            for composite in composites {
                let own = account_ref(composite).expect("a composite names its account");
                for child in composite["spec"]["rule"]["anyOf"].as_array().unwrap() {
                    let name = child["alarm"]["alarmRef"].as_str().unwrap();
                    let (_, alarm) = &objects[name];
                    assert_eq!(account_ref(alarm), Some(own), "{name} of {composite}");
                }
            }
        }
    }

    #[test]
    fn a_spread_fleet_gives_every_account_objects_of_each_kind_and_arns_of_its_own() {
        for fleet in mixed(3) {
            let mut kinds_per_account = BTreeMap::<usize, std::collections::BTreeSet<Kind>>::new();
            let manifests = fleet.manifests();
            assert_eq!(manifests.len(), fleet.total());
            for (kind, m) in &manifests {
                let name = account_ref(m).unwrap_or_else(|| panic!("no accountRef: {m}"));
                let k: usize = name
                    .strip_prefix("bench-account-")
                    .and_then(|k| k.parse().ok())
                    .unwrap_or_else(|| panic!("{name} is not one of the fleet's accounts"));
                assert!(k < 3, "{name}");
                kinds_per_account.entry(k).or_default().insert(*kind);
                // Every ARN the object carries is in its account: AWS refuses a stream's
                // Firehose or role in another account.
                let id = account_id(k);
                let spec = m["spec"].to_string();
                let arns = spec.matches("arn:aws:").count();
                let own = spec.matches(&format!(":{id}:")).count();
                assert_eq!(arns, own, "{m}");
            }
            // Each kind is in every account it has objects enough for: the quick fleet's two
            // sampling rules and two destinations are in two, its ten metric filters on one log
            // group in one.
            for kind in Kind::ALL {
                let holding = kinds_per_account
                    .values()
                    .filter(|kinds| kinds.contains(&kind))
                    .count();
                let enough = match kind {
                    Kind::MetricFilter => fleet.metric_log_groups().len(),
                    _ => fleet.count(kind),
                };
                assert_eq!(holding, enough.min(3), "{kind:?}");
            }
        }
    }

    #[test]
    fn a_spread_fleet_puts_each_alarm_on_a_filters_metric_in_the_filters_account() {
        for fleet in mixed(3) {
            let objects = by_name(&fleet);
            let watching: Vec<&Value> = objects
                .values()
                .filter(|(k, m)| *k == Kind::Alarm && m["spec"]["metricFilterRef"].is_object())
                .map(|(_, m)| m)
                .collect();
            assert_eq!(watching.len(), fleet.metric_filters);
            for alarm in watching {
                let name = alarm["spec"]["metricFilterRef"]["name"].as_str().unwrap();
                let (kind, filter) = &objects[name];
                assert_eq!(*kind, Kind::MetricFilter);
                assert_eq!(account_ref(filter), account_ref(alarm), "{name} of {alarm}");
                assert!(account_ref(alarm).is_some());
            }
        }
    }

    #[test]
    fn a_spread_fleets_destinations_let_every_account_subscribe() {
        for fleet in mixed(3) {
            let objects = by_name(&fleet);
            let ids: Vec<Value> = (0..3).map(|k| json!(account_id(k))).collect();
            let mut sending_accounts = BTreeMap::<&str, std::collections::BTreeSet<&str>>::new();
            for (kind, m) in objects.values() {
                if *kind == Kind::LogDestination {
                    assert_eq!(m["spec"]["senderAccountIds"].as_array(), Some(&ids), "{m}");
                }
                if let Some(name) = m["spec"]["destinationRef"]["name"].as_str() {
                    assert_eq!(objects[name].0, Kind::LogDestination);
                    sending_accounts
                        .entry(name)
                        .or_default()
                        .insert(account_ref(m).unwrap());
                }
            }
            // Subscriptions reach destinations from other accounts than the destination's.
            assert_eq!(sending_accounts.len(), fleet.log_destinations);
            assert!(
                sending_accounts
                    .iter()
                    .any(|(d, from)| from.iter().any(|a| Some(*a) != account_ref(&objects[*d].1))),
                "{sending_accounts:?}"
            );
        }
    }

    #[test]
    fn a_spread_fleets_log_groups_are_each_in_one_account_and_each_created_once() {
        for fleet in mixed(3) {
            let mut group_account = BTreeMap::<String, &str>::new();
            let manifests = fleet.manifests();
            for (_, m) in manifests
                .iter()
                .filter(|(k, _)| matches!(k, Kind::LogSubscription | Kind::MetricFilter))
            {
                let group = m["spec"]["logGroupName"].as_str().unwrap().to_string();
                let account = account_ref(m).unwrap();
                let first = *group_account.entry(group.clone()).or_insert(account);
                assert_eq!(first, account, "{group} is in two accounts");
            }
            let in_account = |k| [fleet.log_groups_in(k), fleet.metric_log_groups_in(k)].concat();
            let mut created: Vec<String> = (0..3).flat_map(in_account).collect();
            created.sort();
            let mut all = [fleet.log_groups(), fleet.metric_log_groups()].concat();
            all.sort();
            assert_eq!(created, all, "each group created once, in one account");
            for k in 0..3 {
                for group in in_account(k) {
                    assert_eq!(group_account[&group], account_name(k));
                }
            }
        }
    }

    #[test]
    fn an_unspread_fleet_names_no_account_and_stays_in_the_operators_own() {
        for fleet in mixed(0) {
            for (_, m) in fleet.manifests() {
                assert_eq!(account_ref(&m), None, "{m}");
                let spec = m["spec"].to_string();
                assert_eq!(
                    spec.matches("arn:aws:").count(),
                    spec.matches(&format!(":{DEFAULT_ACCOUNT}:")).count(),
                    "{m}"
                );
            }
            assert_eq!(fleet.account_ids(), [DEFAULT_ACCOUNT]);
            assert_eq!(fleet.log_groups_in(0), fleet.log_groups());
            assert_eq!(fleet.metric_log_groups_in(0), fleet.metric_log_groups());
        }
    }

    #[test]
    fn alarm_reads_need_a_hundred_per_call_in_each_account() {
        let [full, quick] = mixed(3);
        // 100 blocks of ten alarms, dealt in turn: 34, 33, 33 blocks, each with its composite.
        assert_eq!(full.alarms_per_account(), [374, 363, 363]);
        assert_eq!(
            full.hundreds_per_account(&[Kind::Alarm, Kind::CompositeAlarm]),
            12
        );
        assert_eq!(full.hundreds_per_account(&[Kind::Alarm]), 4 + 4 + 4);
        assert_eq!(quick.alarms_per_account(), [44, 33, 33]);
        assert_eq!(
            quick.hundreds_per_account(&[Kind::Alarm, Kind::CompositeAlarm]),
            3
        );
        let [one, _] = mixed(0);
        assert_eq!(one.alarms_per_account(), [1100]);
        assert_eq!(
            one.hundreds_per_account(&[Kind::Alarm, Kind::CompositeAlarm]),
            11
        );
        // One account reads as none does; a hundred (the most there are ids for) get a block of
        // ten alarms and its composite each, one call apiece.
        let [single, _] = mixed(1);
        assert_eq!(single.alarms_per_account(), [1100]);
        let [many, _] = mixed(100);
        assert_eq!(many.alarms_per_account().iter().sum::<usize>(), 1100);
        assert_eq!(
            many.hundreds_per_account(&[Kind::Alarm, Kind::CompositeAlarm]),
            100
        );
        assert_eq!(account_id(99), "210987654399");
    }

    #[test]
    fn changed_status_fields_name_the_field_and_the_condition() {
        let before = BTreeMap::from([(
            "Alarm/a".to_string(),
            json!({"stateValue": "OK", "arn": "x", "conditions": [{"type": "Ready", "status": "True", "message": "m"}]}),
        )]);
        let after = BTreeMap::from([(
            "Alarm/a".to_string(),
            json!({"stateValue": "ALARM", "arn": "x", "conditions": [{"type": "Ready", "status": "True", "message": "n"}]}),
        )]);
        let changed = changed_status_fields(&before, &after);
        assert_eq!(
            changed,
            BTreeMap::from([
                ("conditions[Ready].message".to_string(), 1),
                ("stateValue: OK → ALARM".to_string(), 1)
            ])
        );
        assert!(changed_status_fields(&before, &before).is_empty());
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
