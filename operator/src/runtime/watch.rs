//! The watch behind each controller, kept lean: objects are cached without `managedFields` and
//! without the `last-applied-configuration` annotation (together often larger than the object
//! itself), lists stream instead of arriving as one large page, and only changes that matter
//! wake a reconcile — a new generation (spec change or deletion) or a finalizer change — not the
//! operator's own status writes.

use futures::{Stream, StreamExt};
use kube::api::Api;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{Predicate, WatchStreamExt, predicates, watcher};
use kube::{Resource, ResourceExt};
use serde::de::DeserializeOwned;
use std::fmt::Debug;
use std::hash::Hash;

/// Annotation `kubectl apply` (client-side) stores the whole last manifest in.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Which objects a controller watches.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    /// Only this namespace (all namespaces when `None`).
    pub namespace: Option<String>,
    /// Only objects matching this label selector.
    pub label_selector: Option<String>,
}

impl Scope {
    /// The API for `K` within the scope.
    pub fn api<K>(&self, client: kube::Client) -> Api<K>
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        K::DynamicType: Default,
    {
        match &self.namespace {
            Some(ns) => Api::namespaced(client, ns),
            None => Api::all(client),
        }
    }

    /// The watcher configuration for the scope.
    pub fn watcher_config(&self) -> watcher::Config {
        let config = watcher::Config::default().streaming_lists();
        match &self.label_selector {
            Some(selector) => config.labels(selector),
            None => config,
        }
    }
}

/// Drops what the operator never reads from a cached object.
pub fn strip<K: Resource>(obj: &mut K) {
    obj.managed_fields_mut().clear();
    obj.annotations_mut().remove(LAST_APPLIED);
}

/// A reflector store of `K` and the stream of objects worth reconciling.
pub fn reconcile_stream<K>(
    api: Api<K>,
    config: watcher::Config,
) -> (
    Store<K>,
    impl Stream<Item = Result<K, watcher::Error>> + Send + 'static,
)
where
    K: Resource + Clone + Debug + DeserializeOwned + Send + Sync + 'static,
    K::DynamicType: Default + Eq + Hash + Clone + Send + Sync,
{
    let (reader, writer) = reflector::store();
    let stream = watcher(api, config)
        .default_backoff()
        .modify(strip)
        .reflect(writer)
        .applied_objects()
        .predicate_filter(
            predicates::generation.combine(predicates::finalizers),
            Default::default(),
        );
    (reader, stream)
}

/// A reflector store of `K` that nothing reconciles (for lookups), kept up to date by the
/// returned future.
pub fn cache<K>(
    api: Api<K>,
    config: watcher::Config,
) -> (
    Store<K>,
    impl std::future::Future<Output = ()> + Send + 'static,
)
where
    K: Resource + Clone + Debug + DeserializeOwned + Send + Sync + 'static,
    K::DynamicType: Default + Eq + Hash + Clone + Send + Sync,
{
    let (reader, writer) = reflector::store();
    let driver = watcher(api, config)
        .default_backoff()
        .modify(strip)
        .reflect(writer)
        .for_each(|_| futures::future::ready(()));
    (reader, driver)
}
