//! The reconcile shell of cluster-scoped kinds: objects a cluster admin writes to configure the
//! operator (the AWSAccount), rather than AWS objects of a namespace. They follow the namespaced
//! kinds' conventions, through the same pieces:
//! 1. finalizer helper (kube): adds `cwo.dev/cleanup`, and routes a deleting object to cleanup,
//!    which may hold the object (a `DependencyNotReady` error) until nothing needs it any more;
//! 2. the kind's `apply` or `cleanup`, with the shared [`Context`] (network: whatever the kind
//!    checks);
//! 3. `Ready`/`Synced` and `Reconciling` or `Stalled`, with observedGeneration, written with
//!    server-side apply only when they changed; one Warning Event when a failure is new;
//! 4. the next requeue: after [`ClusterKind::recheck`] when `apply` completed (what such an
//!    object declares can stop working without any change in the cluster: a role's trust
//!    policy), nothing on a terminal error, backoff with jitter on a recoverable one.
//!
//! No region, account, AWS name or ownership: those belong to the namespaced shell.

use super::context::Context;
use super::reconcile::{is_ready, publish, report_failure, set_conditions};
use super::status_write::write_status;
use super::{Applied, Failed, Reported};
use crate::error::{Error, Result};
use crate::metrics::KubeWrite;
use crate::reason::Reason;
use crate::vocabulary::FINALIZER;
use futures::{Stream, StreamExt};
use k8s_openapi::ClusterResourceScope;
use kube::api::Api;
use kube::runtime::controller::{Action, Config as ControllerConfig, Controller};
use kube::runtime::finalizer::{self, finalizer};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Resource, ResourceExt};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tracing::{Instrument, info_span};

/// A cluster-scoped custom resource the operator reconciles.
pub trait ClusterKind: Reported + Resource<Scope = ClusterResourceScope> {
    /// What every reconcile of this kind shares, built once when the operator starts.
    type Shared: Send + Sync + 'static;

    /// Checks what the object declares and reports it. Returns the kind's status fields, the
    /// verdict and the Events to publish, or the failure with the status fields to keep.
    fn apply(
        &self,
        ctx: &Context,
        shared: &Self::Shared,
    ) -> impl Future<Output = Result<Applied<Self::Status>, Failed<Self::Status>>> + Send;

    /// Runs before the finalizer is removed. A `DependencyNotReady` error holds the object (it
    /// is retried with backoff, and whoever it waited for may queue it sooner).
    fn cleanup(
        &self,
        ctx: &Context,
        shared: &Self::Shared,
    ) -> impl Future<Output = Result<()>> + Send;

    /// How long a Ready object waits before it is checked again.
    fn recheck(ctx: &Context) -> Duration;
}

/// What a controller of the cluster-scoped kind `K` hands to each reconcile.
pub struct ClusterContext<K: ClusterKind> {
    pub ctx: Arc<Context>,
    pub shared: Arc<K::Shared>,
}

/// Cleanup could not finish; its failure was reported and it asks for this requeue.
#[derive(Debug, thiserror::Error)]
#[error("cleanup is not finished")]
struct Held(Action);

/// Reconciles one object of the cluster-scoped kind `K`. Never fails: every error is reported in
/// the object's status and turned into the right requeue here.
pub async fn reconcile<K: ClusterKind>(
    obj: Arc<K>,
    kc: Arc<ClusterContext<K>>,
) -> Result<Action, Error> {
    let key = obj.name_any();
    let span = info_span!("reconcile", kind = K::LABEL, object = %key);
    async move {
        let ctx = &*kc.ctx;
        let _timer = ctx.metrics.reconcile_started(K::LABEL);
        let api: Api<K> = Api::all(ctx.client.clone());
        let finalizer_write = obj.finalizers().iter().any(|f| f == FINALIZER)
            == obj.meta().deletion_timestamp.is_some();
        let result = finalizer(&api, FINALIZER, Arc::clone(&obj), |event| async {
            match event {
                finalizer::Event::Apply(o) => Ok::<_, Held>(apply(&api, &o, &kc).await),
                finalizer::Event::Cleanup(o) => match o.cleanup(ctx, &kc.shared).await {
                    Ok(()) => {
                        ctx.backoffs.succeeded(&key);
                        ctx.metrics.set_ready(K::LABEL, &key, None);
                        Ok(Action::await_change())
                    }
                    Err(e) => Err(Held(
                        report_failure(&api, &*o, ctx, o.reported(), Failed::from(e)).await,
                    )),
                },
            }
        })
        .await;
        Ok(match result {
            Ok(action) => {
                if finalizer_write {
                    ctx.metrics.kube_write(K::LABEL, KubeWrite::Finalizer);
                }
                action
            }
            Err(finalizer::Error::CleanupFailed(Held(action))) => action,
            Err(finalizer::Error::ApplyFailed(Held(action))) => action,
            Err(e) => {
                tracing::warn!(error = %e, "finalizer update failed");
                ctx.metrics
                    .reconcile_failed(K::LABEL, Reason::KubernetesError);
                Action::requeue(ctx.backoffs.failed(&key))
            }
        })
    }
    .instrument(span)
    .await
}

async fn apply<K: ClusterKind>(api: &Api<K>, obj: &K, kc: &ClusterContext<K>) -> Action {
    let ctx = &*kc.ctx;
    let key = obj.name_any();
    let Applied {
        mut status,
        verdict,
        notices,
    } = match obj.apply(ctx, &kc.shared).await {
        Ok(applied) => applied,
        Err(failed) => return report_failure(api, obj, ctx, obj.reported(), failed).await,
    };
    set_conditions::<K>(obj, &mut status, &verdict);
    if let Err(e) = write_status(ctx, api, obj, obj.reported(), &status).await {
        return report_failure(api, obj, ctx, obj.reported(), Failed::from(e)).await;
    }
    publish(ctx, obj, &notices).await;
    if verdict.ready != is_ready(obj) {
        tracing::info!(ready = verdict.ready, "{}", verdict.message);
    }
    ctx.metrics.set_ready(K::LABEL, &key, Some(verdict.ready));
    ctx.backoffs.succeeded(&key);
    Action::requeue(K::recheck(ctx))
}

/// The controller's error policy; `reconcile` reports its own errors.
fn error_policy<K: ClusterKind>(obj: Arc<K>, error: &Error, kc: Arc<ClusterContext<K>>) -> Action {
    tracing::warn!(kind = K::LABEL, object = %obj.name_any(), %error, "reconcile failed");
    Action::requeue(kc.ctx.backoffs.failed(&obj.name_any()))
}

/// Runs the controller of the cluster-scoped kind `K` over `stream` until `shutdown`, also
/// reconciling what arrives on `queue` (wake-ups from other controllers).
pub async fn run<K: ClusterKind>(
    store: Store<K>,
    stream: impl Stream<Item = Result<K, kube::runtime::watcher::Error>> + Send + 'static,
    queue: mpsc::Receiver<ObjectRef<K>>,
    concurrency: u16,
    ctx: Arc<Context>,
    shared: Arc<K::Shared>,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    let requests = futures::stream::unfold(queue, |mut rx| async move {
        rx.recv().await.map(|obj| (obj, rx))
    });
    Controller::for_stream(stream, store)
        .with_config(ControllerConfig::default().concurrency(concurrency))
        .reconcile_on(requests)
        .graceful_shutdown_on(shutdown)
        .run(
            reconcile::<K>,
            error_policy::<K>,
            Arc::new(ClusterContext { ctx, shared }),
        )
        .for_each(|result| {
            if let Err(e) = result {
                tracing::debug!(kind = K::LABEL, error = %e, "controller event");
            }
            futures::future::ready(())
        })
        .await;
}
