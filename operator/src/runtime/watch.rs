//! The watch behind each controller, kept lean: objects are cached without `managedFields` and
//! without the `last-applied-configuration` annotation (together often larger than the object
//! itself), lists arrive in pages and are consistent reads (see [`Scope::watcher_config`]), and
//! only changes that matter
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

    /// The watcher configuration for the scope: paged lists (500 objects a page) that are
    /// consistent reads. A streaming list would start from resourceVersion "0", which the API
    /// server may answer from a stale watch cache: a process started right after its killed
    /// predecessor released an object could then see that object as it was before its
    /// deletion and write it to AWS again, where nothing would ever delete it.
    pub fn watcher_config(&self) -> watcher::Config {
        let config = watcher::Config::default().list_semantic(watcher::ListSemantic::MostRecent);
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

/// Whether a cache holds its first complete list. Until then a lookup that finds nothing
/// proves nothing: a reconcile that reads another kind's cache (a composite resolving its
/// `alarmRef`s, an alarm looking for composites that still name it, any object looking up its
/// namespace's region) waits for it first, so a restart never reports a missing dependency or
/// picks the wrong region for an object that is merely not listed yet.
#[derive(Clone, Debug)]
pub struct Synced(tokio::sync::watch::Receiver<bool>);

impl Synced {
    /// A signal and the callback that raises it on the watch's first `InitDone`.
    pub fn new<K>() -> (Self, impl FnMut(&Result<watcher::Event<K>, watcher::Error>)) {
        let (tx, rx) = tokio::sync::watch::channel(false);
        let raise = move |event: &Result<watcher::Event<K>, watcher::Error>| {
            if matches!(event, Ok(watcher::Event::InitDone)) {
                tx.send_if_modified(|synced| !std::mem::replace(synced, true));
            }
        };
        (Synced(rx), raise)
    }

    /// A signal raised from the start, for a cache filled by hand (`plan` reads its objects from
    /// manifests and the cluster before anything looks them up).
    pub fn already() -> Self {
        Synced(tokio::sync::watch::channel(true).1)
    }

    /// Whether the first complete list has arrived.
    pub fn is_synced(&self) -> bool {
        *self.0.borrow()
    }

    /// Waits for the first complete list (returns at once after it; also returns when the
    /// watch is gone, as the operator is then stopping).
    pub async fn wait(&self) {
        let mut rx = self.0.clone();
        let _ = rx.wait_for(|synced| *synced).await;
    }
}

/// A reflector store of `K`, its [`Synced`] signal and the stream of objects worth reconciling.
pub fn reconcile_stream<K>(
    api: Api<K>,
    config: watcher::Config,
) -> (
    Store<K>,
    Synced,
    impl Stream<Item = Result<K, watcher::Error>> + Send + 'static,
)
where
    K: Resource + Clone + Debug + DeserializeOwned + Send + Sync + 'static,
    K::DynamicType: Default + Eq + Hash + Clone + Send + Sync,
{
    let (reader, writer) = reflector::store();
    let (synced, raise) = Synced::new();
    let stream = watcher(api, config)
        .default_backoff()
        .modify(strip)
        .reflect(writer)
        .inspect(raise)
        .applied_objects()
        .predicate_filter(
            predicates::generation.combine(predicates::finalizers),
            Default::default(),
        );
    (reader, synced, stream)
}

/// A reflector store of `K` that nothing reconciles (for lookups), its [`Synced`] signal, and
/// the future that keeps it up to date.
pub fn cache<K>(
    api: Api<K>,
    config: watcher::Config,
) -> (
    Store<K>,
    Synced,
    impl std::future::Future<Output = ()> + Send + 'static,
)
where
    K: Resource + Clone + Debug + DeserializeOwned + Send + Sync + 'static,
    K::DynamicType: Default + Eq + Hash + Clone + Send + Sync,
{
    cache_with_changes(api, config, |_: &K| {})
}

/// As [`cache`], calling `changed` with every object that changes once the first full list is in
/// (not for the objects of a list, first or later: those are not changes).
pub fn cache_with_changes<K>(
    api: Api<K>,
    config: watcher::Config,
    mut changed: impl FnMut(&K) + Send + 'static,
) -> (
    Store<K>,
    Synced,
    impl std::future::Future<Output = ()> + Send + 'static,
)
where
    K: Resource + Clone + Debug + DeserializeOwned + Send + Sync + 'static,
    K::DynamicType: Default + Eq + Hash + Clone + Send + Sync,
{
    let (reader, writer) = reflector::store();
    let (synced, raise) = Synced::new();
    let driver = watcher(api, config)
        .default_backoff()
        .modify(strip)
        .reflect(writer)
        .inspect(raise)
        .for_each(move |event| {
            if let Ok(watcher::Event::Apply(obj)) = &event {
                changed(obj);
            }
            futures::future::ready(())
        });
    (reader, synced, driver)
}

#[cfg(test)]
mod synced_tests {
    use super::*;
    use k8s_openapi::api::core::v1::ConfigMap;

    #[tokio::test]
    async fn raised_by_the_first_complete_list_only() {
        let (synced, mut raise) = Synced::new::<ConfigMap>();
        raise(&Ok(watcher::Event::Init));
        raise(&Ok(watcher::Event::InitApply(ConfigMap::default())));
        assert!(!synced.is_synced(), "a list still arriving is not synced");
        let waiter = tokio::spawn({
            let synced = synced.clone();
            async move { synced.wait().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        raise(&Ok(watcher::Event::InitDone));
        waiter.await.unwrap();
        assert!(synced.is_synced());
        // A later re-list (after a watch error) does not lower it: the cache keeps serving the
        // previous list until the new one is complete.
        raise(&Ok(watcher::Event::Init));
        assert!(synced.is_synced());
    }

    #[tokio::test]
    async fn every_waiter_is_woken() {
        let (synced, mut raise) = Synced::new::<ConfigMap>();
        let waiters: Vec<_> = (0..5)
            .map(|_| {
                let synced = synced.clone();
                tokio::spawn(async move { synced.wait().await })
            })
            .collect();
        tokio::task::yield_now().await;
        raise(&Ok(watcher::Event::InitDone));
        for w in waiters {
            tokio::time::timeout(std::time::Duration::from_secs(1), w)
                .await
                .expect("woken")
                .unwrap();
        }
    }
}

#[cfg(test)]
mod config_tests {
    use super::*;
    use kube::runtime::watcher::{InitialListStrategy, ListSemantic};

    #[test]
    fn lists_are_consistent_reads_in_pages() {
        let config = Scope::default().watcher_config();
        // Not a streaming list: kube starts those at resourceVersion "0", served from the API
        // server's watch cache however stale it is.
        assert_eq!(config.initial_list_strategy, InitialListStrategy::ListWatch);
        assert_eq!(config.list_semantic, ListSemantic::MostRecent);
        assert_eq!(config.page_size, Some(500));
        let scoped = Scope {
            namespace: Some("team".into()),
            label_selector: Some("cwo.dev/shard=a".into()),
        }
        .watcher_config();
        assert_eq!(scoped.list_semantic, ListSemantic::MostRecent);
        assert_eq!(scoped.label_selector.as_deref(), Some("cwo.dev/shard=a"));
    }
}
