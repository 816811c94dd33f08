//! The reconcile shell every kind runs through:
//! 1. finalizer helper (kube): adds `cwo.dev/cleanup` before anything is written to AWS, and
//!    routes a deleting object to cleanup;
//! 2. region resolution (pure);
//! 3. the kind's `apply` or `cleanup` (network: AWS);
//! 4. status composed from the result (pure) and written only if it changed (network: Kubernetes);
//! 5. Events, metrics and the next requeue: none on success (the drift resync of
//!    `runtime::resync` visits every object once per period), backoff with jitter on a
//!    recoverable error, nothing on a terminal one (it waits for the spec to change).

use super::context::Context;
use super::region;
use super::status_write::{Written, write_status};
use super::{ManagedKind, Notice};
use crate::common_fields::{DeletionPolicy, ManagementPolicy};
use crate::conditions::{Verdict, conditions, status_of};
use crate::error::Error;
use crate::metrics::KubeWrite;
use crate::reason::Reason;
use crate::vocabulary::{FINALIZER, condition};
use k8s_openapi::jiff::Timestamp;
use kube::api::Api;
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType};
use kube::runtime::finalizer::{self, finalizer};
use kube::{Resource, ResourceExt};
use std::sync::Arc;
use tracing::{Instrument, info_span};

/// Cleanup could not finish yet; its status was written and it asks for this requeue.
#[derive(Debug, thiserror::Error)]
#[error("cleanup is not finished")]
struct CleanupPending(Action);

/// Reconciles one object of kind `K`. Never fails: every error is reported in the object's
/// status and turned into the right requeue here, so the controller's error policy is unused.
pub async fn reconcile<K: ManagedKind>(obj: Arc<K>, ctx: Arc<Context>) -> Result<Action, Error> {
    let key = object_key(&*obj);
    let span = info_span!("reconcile", kind = K::KIND, object = %key);
    async move {
        let _timer = ctx.metrics.reconcile_started(K::KIND);
        let Some(namespace) = obj.namespace() else {
            return Ok(Action::await_change());
        };
        let api: Api<K> = Api::namespaced(ctx.client.clone(), &namespace);
        // kube's helper adds the finalizer to a live object that lacks it, and removes it from
        // a deleting object once cleanup succeeds: either is one write to the API server.
        let finalizer_write = obj.finalizers().iter().any(|f| f == FINALIZER)
            == obj.meta().deletion_timestamp.is_some();
        let result = finalizer(&api, FINALIZER, Arc::clone(&obj), |event| async {
            match event {
                finalizer::Event::Apply(o) => Ok(apply(&api, &o, &ctx).await),
                finalizer::Event::Cleanup(o) => cleanup(&api, &o, &ctx).await,
            }
        })
        .await;
        Ok(match result {
            Ok(action) => {
                if finalizer_write {
                    ctx.metrics.kube_write(K::KIND, KubeWrite::Finalizer);
                }
                action
            }
            Err(finalizer::Error::CleanupFailed(CleanupPending(action))) => action,
            Err(finalizer::Error::ApplyFailed(CleanupPending(action))) => action,
            Err(e) => {
                // Adding or removing the finalizer failed (a conflict, or the API server).
                tracing::warn!(error = %e, "finalizer update failed");
                ctx.metrics
                    .reconcile_failed(K::KIND, Reason::KubernetesError);
                Action::requeue(ctx.backoffs.failed(&key))
            }
        })
    }
    .instrument(span)
    .await
}

/// The controller's error policy. `reconcile` reports its own errors, so this only runs if the
/// controller itself fails to call it.
pub fn error_policy<K: ManagedKind>(obj: Arc<K>, error: &Error, ctx: Arc<Context>) -> Action {
    tracing::warn!(kind = K::KIND, object = %object_key(&*obj), %error, "reconcile failed");
    Action::requeue(ctx.backoffs.failed(&object_key(&*obj)))
}

/// `namespace/name`, the key for backoff and metrics bookkeeping.
pub fn object_key<K: Resource>(obj: &K) -> String {
    format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any())
}

async fn apply<K: ManagedKind>(api: &Api<K>, obj: &K, ctx: &Context) -> Action {
    let key = object_key(obj);
    let result = async {
        ctx.namespaces_synced.wait().await;
        let region = resolve_region(obj, ctx)?;
        let applied = obj.apply(ctx, &region).await?;
        Ok::<_, Error>((region, applied))
    }
    .await;
    match result {
        Ok((region, applied)) => {
            let mut status = applied.status;
            let common = K::common_status_mut(&mut status);
            common.region = Some(region);
            let ready = applied.verdict.ready;
            set_conditions::<K>(obj, &mut status, &applied.verdict);
            if let Err(e) = write_status(ctx, api, obj, &status).await {
                return report_failure(api, obj, ctx, e).await;
            }
            publish(ctx, obj, &applied.notices).await;
            let was_ready = obj
                .status()
                .and_then(|s| status_of(&K::common_status(s).conditions, condition::READY))
                .is_some_and(|c| c.status == "True");
            if ready && !was_ready {
                obj.became_ready(ctx);
            }
            ctx.metrics.set_ready(K::KIND, &key, Some(ready));
            if !applied.verdict.synced {
                // A failure the kind reported together with status it must keep (see
                // `ManagedKind::apply`): the same retry policy as an error.
                ctx.metrics
                    .reconcile_failed(K::KIND, applied.verdict.reason);
                return retry_policy(ctx, &key, applied.verdict.reason);
            }
            ctx.backoffs.succeeded(&key);
            next_resync(ctx)
        }
        Err(e) => report_failure(api, obj, ctx, e).await,
    }
}

/// The requeue after a failure: none for a terminal reason (only a spec change can help, and it
/// triggers a reconcile by itself), backoff with jitter otherwise.
fn retry_policy(ctx: &Context, key: &str, reason: Reason) -> Action {
    if reason.is_terminal() {
        ctx.backoffs.succeeded(key);
        Action::await_change()
    } else {
        Action::requeue(ctx.backoffs.failed(key))
    }
}

async fn cleanup<K: ManagedKind>(
    api: &Api<K>,
    obj: &K,
    ctx: &Context,
) -> Result<Action, CleanupPending> {
    let key = object_key(obj);
    let spec = obj.common_spec();
    let removes_aws_object = spec.deletion_policy == DeletionPolicy::Delete
        && spec.management_policy == ManagementPolicy::Manage;
    if removes_aws_object {
        // An object that never reached AWS has no recorded region; resolving it again is
        // harmless because cleanup treats "not found" as deleted.
        let result = async {
            ctx.namespaces_synced.wait().await;
            let region = resolve_region(obj, ctx)?;
            obj.cleanup(ctx, &region).await
        }
        .await;
        if let Err(e) = result {
            return Err(CleanupPending(report_failure(api, obj, ctx, e).await));
        }
        publish(
            ctx,
            obj,
            &[Notice::normal(
                "Deleted",
                "Delete",
                "deleted the AWS object",
            )],
        )
        .await;
    } else if spec.management_policy == ManagementPolicy::Manage {
        publish(
            ctx,
            obj,
            &[Notice::normal(
                "Retained",
                "Delete",
                "deletionPolicy is Retain: the AWS object was left in place",
            )],
        )
        .await;
    }
    obj.deleted(ctx);
    ctx.backoffs.succeeded(&key);
    ctx.metrics.set_ready(K::KIND, &key, None);
    Ok(Action::await_change())
}

/// Reports an error on the object (status, a Warning event when the problem is new, metrics)
/// and returns the requeue its policy asks for.
async fn report_failure<K: ManagedKind>(
    api: &Api<K>,
    obj: &K,
    ctx: &Context,
    error: Error,
) -> Action {
    let key = object_key(obj);
    ctx.metrics.reconcile_failed(K::KIND, error.reason);
    ctx.metrics.set_ready(K::KIND, &key, Some(false));
    let mut status = obj.status().cloned().unwrap_or_default();
    let verdict = Verdict::failed(error.reason, error.message.clone());
    let previous = status_of(&K::common_status(&status).conditions, condition::READY)
        .map(|c| (c.reason.clone(), c.message.clone()));
    set_conditions::<K>(obj, &mut status, &verdict);
    let is_new = previous != Some((verdict.reason.as_str().to_string(), verdict.message.clone()));
    match write_status(ctx, api, obj, &status).await {
        Ok(Written::Yes) | Ok(Written::Unchanged) => {}
        Err(e) => tracing::warn!(error = %e, "could not write the failure status"),
    }
    if is_new {
        tracing::warn!(error = %error, "reconcile failed");
        publish(
            ctx,
            obj,
            &[Notice::warning(
                error.reason.as_str(),
                "Reconcile",
                error.message.clone(),
            )],
        )
        .await;
    } else {
        tracing::debug!(error = %error, "reconcile failed again");
    }
    retry_policy(ctx, &key, error.reason)
}

fn set_conditions<K: ManagedKind>(obj: &K, status: &mut K::Status, verdict: &Verdict) {
    let generation = obj.meta().generation;
    let common = K::common_status_mut(status);
    common.observed_generation = generation;
    common.conditions = conditions(&common.conditions, verdict, generation, Timestamp::now());
}

/// The object's region (see [`region::resolve`]). Callers wait for the namespace cache first
/// (`ctx.namespaces_synced`): before it holds its first list, a namespace's region annotation
/// would look absent and a new object would land in the default region.
pub(crate) fn resolve_region<K: ManagedKind>(obj: &K, ctx: &Context) -> Result<String, Error> {
    let status_region = obj
        .status()
        .and_then(|s| K::common_status(s).region.clone());
    let namespace_region = obj.namespace().and_then(|ns| ctx.namespace_region(&ns));
    region::resolve(
        obj.common_spec().region.as_deref(),
        status_region.as_deref(),
        namespace_region.as_deref(),
        ctx.aws.default_region(),
    )
}

/// After a successful reconcile nothing is scheduled per object: the drift resync
/// ([`super::resync`]) visits every object once per period, in batches.
fn next_resync(_ctx: &Context) -> Action {
    Action::await_change()
}

async fn publish<K: ManagedKind>(ctx: &Context, obj: &K, notices: &[Notice]) {
    let reference = obj.object_ref(&());
    for n in notices {
        let event = Event {
            type_: if n.warning {
                EventType::Warning
            } else {
                EventType::Normal
            },
            reason: n.reason.to_string(),
            note: Some(n.note.clone()),
            action: n.action.to_string(),
            secondary: None,
        };
        ctx.metrics.kube_write(K::KIND, KubeWrite::Event);
        if let Err(e) = ctx.recorder.publish(&event, &reference).await {
            tracing::warn!(error = %e, reason = n.reason, "could not publish event");
        }
    }
}
