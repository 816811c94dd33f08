//! What every reconcile of every kind shares: the Kubernetes client, AWS access, metrics, the
//! event recorder, runtime settings, per-object backoff and tag-read schedules, the version of
//! each object this process last wrote, the namespace cache (for the region and account
//! annotations and the labels accounts select on), and the accounts (who may use which, and who
//! uses which). What only one kind (or one family of kinds) shares is that kind's
//! [`ManagedKind::Shared`](super::ManagedKind::Shared).

use super::accounts::{AccountGate, AccountUsers};
use super::backoff::Backoffs;
use super::confirmed::Confirmed;
use super::events::EventPublisher;
use super::released::Released;
use super::settling::Settling;
use super::tag_reads::TagReads;
use super::versions::KnownVersions;
use super::watch::Synced;
use crate::aws::Aws;
use crate::metrics::Metrics;
use crate::ownership::Owner;
use crate::vocabulary::{ACCOUNT_ANNOTATION, REGION_ANNOTATION};
use k8s_openapi::api::core::v1::Namespace;
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Client, Resource, ResourceExt};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// Settings of the controller runtime.
#[derive(Clone, Debug)]
pub struct RuntimeConfig {
    /// Identifies this cluster in the `cwo.dev/owner` tag of AWS objects.
    pub cluster_id: String,
    /// How often every object is re-read from AWS to detect drift (in batches spread over the
    /// period; see `runtime::resync`).
    pub resync_period: Duration,
}

/// Shared by every reconcile of every kind.
pub struct Context {
    pub client: Client,
    pub aws: Arc<Aws>,
    pub metrics: Arc<Metrics>,
    pub events: EventPublisher,
    pub config: RuntimeConfig,
    pub backoffs: Backoffs,
    pub tag_reads: TagReads,
    /// Objects this process saw confirm their ownership.
    pub confirmed: Confirmed,
    /// Objects whose cleanup this process finished, while caches may still show them.
    pub released: Arc<Released>,
    /// The newest version of each object this process wrote, to tell a cached copy that lacks
    /// the write.
    pub versions: Arc<KnownVersions>,
    /// New objects waiting out a deletion that may have raced with their finalizer, before
    /// their first create (see `runtime::settling`).
    pub settling: Arc<Settling>,
    /// Namespaces (metadata only), for the `cwo.dev/region` and `cwo.dev/account` annotations
    /// and the labels AWSAccounts select namespaces by.
    pub namespaces: Store<PartialObjectMeta<Namespace>>,
    pub namespaces_synced: Synced,
    /// Who may use which AWSAccount (the accounts' cache, behind the runtime's own interface).
    pub accounts: Arc<dyn AccountGate>,
    pub accounts_synced: Synced,
    /// Who uses which AWSAccount.
    pub account_users: AccountUsers,
}

impl Context {
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

    /// The `cwo.dev/account` annotation of `namespace`, if set.
    pub fn namespace_account(&self, namespace: &str) -> Option<String> {
        self.namespaces
            .get(&ObjectRef::new(namespace))
            .and_then(|ns| {
                ns.metadata
                    .annotations
                    .as_ref()?
                    .get(ACCOUNT_ANNOTATION)
                    .cloned()
            })
    }

    /// The labels of `namespace` (none when it is not cached).
    pub fn namespace_labels(&self, namespace: &str) -> BTreeMap<String, String> {
        self.namespaces
            .get(&ObjectRef::new(namespace))
            .and_then(|ns| ns.metadata.labels.clone())
            .unwrap_or_default()
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
