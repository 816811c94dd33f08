//! What every reconcile shares: the Kubernetes client, AWS access, metrics, the event recorder,
//! runtime settings, per-object backoff, and the caches other kinds need (namespaces for the
//! region annotation; alarms and composite alarms for the composite graph).

use super::backoff::Backoffs;
use super::tag_reads::TagReads;
use super::watch::Synced;
use crate::alarm::Alarm;
use crate::aws::Aws;
use crate::aws::alarm_deleter::AlarmDeleter;
use crate::aws::alarm_reader::AlarmReader;
use crate::aws::metric_stream_switch::MetricStreamSwitch;
use crate::aws::sampling_rules::RuleLister;
use crate::aws::subscription_filters::SubscriptionFilterReader;
use crate::composite_alarm::CompositeAlarm;
use crate::log_subscription::LogSubscription;
use crate::metrics::Metrics;
use crate::ownership::Owner;
use crate::vocabulary::REGION_ANNOTATION;
use k8s_openapi::api::core::v1::Namespace;
use kube::core::PartialObjectMeta;
use kube::runtime::events::Recorder;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Client, Resource, ResourceExt};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Settings of the controller runtime.
#[derive(Clone, Debug)]
pub struct RuntimeConfig {
    /// Identifies this cluster in the `cwo.dev/owner` tag of AWS objects.
    pub cluster_id: String,
    /// How often every object is re-read from AWS to detect drift (in batches spread over the
    /// period; see `runtime::resync`).
    pub resync_period: Duration,
    /// Subscription filters AWS allows per log group.
    pub subscription_filter_limit: u32,
}

/// Shared by every reconcile of every kind.
pub struct Context {
    pub client: Client,
    pub aws: Arc<Aws>,
    pub alarm_reader: Arc<AlarmReader>,
    pub alarm_deleter: Arc<AlarmDeleter>,
    /// Lists X-Ray sampling rules, one shared listing per region at a time.
    pub sampling_rules: Arc<RuleLister>,
    /// Starts and stops metric streams, one call per batch of names per region.
    pub metric_stream_switch: Arc<MetricStreamSwitch>,
    pub metrics: Arc<Metrics>,
    pub recorder: Recorder,
    pub config: RuntimeConfig,
    pub backoffs: Backoffs,
    pub tag_reads: TagReads,
    /// Namespaces (metadata only), for the `cwo.dev/region` annotation.
    pub namespaces: Store<PartialObjectMeta<Namespace>>,
    pub namespaces_synced: Synced,
    /// Alarm objects, for composite alarms' `alarmRef`s.
    pub alarms: Store<Alarm>,
    pub alarms_synced: Synced,
    /// CompositeAlarm objects, for the composite alarm graph.
    pub composites: Store<CompositeAlarm>,
    pub composites_synced: Synced,
    /// Lists subscription filters, one shared DescribeSubscriptionFilters per log group.
    pub subscription_filters: Arc<SubscriptionFilterReader>,
    /// LogSubscription objects (the controller's own cache): their status records which filters
    /// they own, since filters carry no tags.
    pub log_subscriptions: Store<LogSubscription>,
    /// Asks the Alarm controller to reconcile an object now.
    pub alarm_wakeups: mpsc::Sender<ObjectRef<Alarm>>,
    /// Asks the CompositeAlarm controller to reconcile an object now.
    pub composite_wakeups: mpsc::Sender<ObjectRef<CompositeAlarm>>,
}

impl Context {
    /// Reconciles the Alarm `obj` soon. Best effort: when the queue is full the object's own
    /// backoff brings it back anyway.
    pub fn wake_alarm(&self, obj: ObjectRef<Alarm>) {
        let _ = self.alarm_wakeups.try_send(obj);
    }

    /// Reconciles the CompositeAlarm `obj` soon (best effort, as [`Context::wake_alarm`]).
    pub fn wake_composite(&self, obj: ObjectRef<CompositeAlarm>) {
        let _ = self.composite_wakeups.try_send(obj);
    }

    /// The owner identity of `obj`, for the ownership tags of its AWS object.
    pub fn owner<K: Resource<DynamicType = ()>>(&self, obj: &K) -> Owner {
        Owner {
            cluster_id: self.config.cluster_id.clone(),
            namespace: obj.namespace().unwrap_or_default(),
            kind: K::kind(&()).to_string(),
            name: obj.name_any(),
            uid: obj.uid().unwrap_or_default(),
        }
    }

    /// The `cwo.dev/region` annotation of `namespace`, if set.
    pub fn namespace_region(&self, namespace: &str) -> Option<String> {
        self.namespaces
            .get(&ObjectRef::new(namespace))
            .and_then(|ns| {
                ns.metadata
                    .annotations
                    .as_ref()?
                    .get(REGION_ANNOTATION)
                    .cloned()
            })
    }
}
