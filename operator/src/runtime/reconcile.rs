//! The reconcile shell every kind runs through:
//! 0. the object from the watch cache, or, when the cache may not yet hold this process's last
//!    write to it, from the API server (network: Kubernetes; see `runtime::versions`);
//! 1. finalizer helper (kube): adds `cwo.dev/cleanup` before anything is written to AWS, and
//!    routes a deleting object to cleanup;
//! 2. region and account resolution, and whether the object's namespace may use that account
//!    (pure: `runtime::accounts`; a refusal ends here, before anything is called in AWS), the
//!    account's credentials (network: STS, when they are due) and the [`Reconcile`] scope;
//! 3. the kind's `apply` (network: AWS), or its `cleanup`, which runs as a task of its own
//!    beside the controller (`runtime::cleanups`) and queues the object again when it ends;
//! 4. status composed from the result (pure) and written only if it changed (network: Kubernetes);
//! 5. Events, metrics and the next requeue: none on success (the drift resync of
//!    `runtime::resync` visits every object once per period), backoff with jitter on a
//!    recoverable error, nothing on a terminal one (it waits for the spec to change). A failure
//!    is announced with one Warning Event when it is new, not on every retry.

use super::accounts::{self, account_in_use};
use super::cleanups::Cleanups;
use super::context::Context;
use super::region;
use super::status_write::{Written, write_status};
use super::{Applied, Failed, ManagedKind, Notice, Reconcile, Reported};
use crate::aws::Location;
use crate::aws::accounts::Role;
use crate::common_fields::{DeletionPolicy, ManagementPolicy};
use crate::conditions::{Verdict, conditions, status_of};
use crate::error::Error;
use crate::metrics::KubeWrite;
use crate::reason::{ConditionReason, Reason};
use crate::vocabulary::{EventReason, FINALIZER, condition};
use k8s_openapi::jiff::Timestamp;
use kube::api::Api;
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{self, finalizer};
use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};
use std::sync::Arc;
use std::time::Duration;
use tracing::{Instrument, info_span};

/// A deleting object whose cleanup runs is looked at again after this long even if the wake-up
/// at the cleanup's end were lost.
const CLEANUP_RECHECK: Duration = Duration::from_secs(60);

/// A cleanup that waits quietly (see [`Error::quiet`]) is tried again after this long, unless
/// what it waits for wakes it sooner.
const QUIET_WAIT_RECHECK: Duration = Duration::from_secs(10);

/// A finalizer write refused because the object changed since the copy it was made from is
/// tried again after this long, from the copy the watch will have brought by then.
const CHANGED_MEANWHILE_RECHECK: Duration = Duration::from_secs(1);

/// What a controller of kind `K` hands to each reconcile.
pub struct KindContext<K: ManagedKind> {
    /// Shared by every kind.
    pub ctx: Arc<Context>,
    /// Shared by this kind.
    pub shared: Arc<K::Shared>,
    /// The kind's cleanups under way (see [`super::cleanups`]).
    pub cleanups: Arc<Cleanups<K>>,
}

/// Cleanup could not finish yet; its status was written and it asks for this requeue.
#[derive(Debug, thiserror::Error)]
#[error("cleanup is not finished")]
struct CleanupPending(Action);

/// Reconciles one object of kind `K`. Never fails: every error is reported in the object's
/// status and turned into the right requeue here, so the controller's error policy is unused.
pub async fn reconcile<K: ManagedKind>(
    obj: Arc<K>,
    kc: Arc<KindContext<K>>,
) -> Result<Action, Error> {
    let key = object_key(&*obj);
    let span = info_span!("reconcile", kind = K::KIND, object = %key);
    async move {
        let ctx = &*kc.ctx;
        let _timer = ctx.metrics.reconcile_started(K::KIND);
        let Some(namespace) = obj.namespace() else {
            return Ok(Action::await_change());
        };
        let api: Api<K> = Api::namespaced(ctx.client.clone(), &namespace);
        let obj = match current(&api, obj, ctx).await {
            Ok(Some(obj)) => obj,
            // Deleted (and released) since the cache saw it.
            Ok(None) => return Ok(Action::await_change()),
            Err(e) => {
                tracing::warn!(error = %e, "reading the object failed");
                ctx.metrics
                    .reconcile_failed(K::KIND, Reason::KubernetesError);
                return Ok(Action::requeue(ctx.backoffs.failed(&key)));
            }
        };
        let has_finalizer = obj.finalizers().iter().any(|f| f == FINALIZER);
        tracing::debug!(
            version = obj.meta().resource_version.as_deref().unwrap_or_default(),
            deleting = obj.meta().deletion_timestamp.is_some(),
            finalizer = has_finalizer,
            "reconcile starts"
        );
        if has_finalizer
            && obj.meta().deletion_timestamp.is_none()
            && super::never_reconciled(&*obj)
        {
            // A new object: its first create waits from here (see `runtime::settling`).
            let uid = obj.uid().unwrap_or_default();
            let now = std::time::Instant::now();
            ctx.settling.seen(&uid, now);
            // The wait is spent out of the controller's reconcile slots: slept inside one, a
            // burst of new objects (ten thousand applied at once) held every slot for the
            // whole wait and created `concurrency` objects per wait.
            if let Some(wait) = ctx.settling.wait(&uid, now).filter(|w| !w.is_zero()) {
                tracing::debug!(?wait, "a new object: its first create waits");
                return Ok(Action::requeue(wait));
            }
        }
        // kube's helper adds the finalizer to a live object that lacks it, and removes it from
        // a deleting object once cleanup succeeds: either is one write to the API server.
        let finalizer_write = has_finalizer == obj.meta().deletion_timestamp.is_some();
        let result = finalizer(&api, FINALIZER, Arc::clone(&obj), |event| async {
            match event {
                finalizer::Event::Apply(o) => Ok(apply(&api, &o, &kc).await),
                finalizer::Event::Cleanup(o) => cleanup(&api, &o, &kc).await,
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
            Err(finalizer::Error::AddFinalizer(e) | finalizer::Error::RemoveFinalizer(e))
                if changed_meanwhile(&e) =>
            {
                // The watch cache trails this process's own writes: a reconcile woken before
                // the cache holds the finalizer it just added tries to add it again. Nothing
                // failed; the next copy is reconciled.
                tracing::debug!(error = %e, "the object changed since this copy of it");
                Action::requeue(CHANGED_MEANWHILE_RECHECK)
            }
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

/// Whether a finalizer write was refused because the object's finalizers are no longer what the
/// copy it was made from shows: kube's finalizer helper sends a JSON patch that first tests them,
/// and the API server answers a failed test with a 422 that names no object (a validation error
/// of the object itself names its kind and name, and is a real failure).
fn changed_meanwhile(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(status)
        if status.code == 422
            && status.details.as_ref().is_some_and(|d| d.kind.is_empty() && d.name.is_empty()))
}

/// `obj` if it holds every status write this process made to it, else the object as the API
/// server has it now; `None` when it is gone (or replaced by a new object of the same name).
async fn current<K: ManagedKind>(
    api: &Api<K>,
    obj: Arc<K>,
    ctx: &Context,
) -> Result<Option<Arc<K>>, kube::Error> {
    let uid = obj.uid().unwrap_or_default();
    if ctx
        .versions
        .is_current(&uid, obj.meta().resource_version.as_deref())
    {
        return Ok(Some(obj));
    }
    Ok(read_fresh(api, &*obj, ctx).await?.map(Arc::new))
}

/// `obj` as the API server has it now (its version noted, see `runtime::versions`); `None` when
/// it is gone (or replaced by a new object of the same name).
pub(super) async fn read_fresh<K: ManagedKind>(
    api: &Api<K>,
    obj: &K,
    ctx: &Context,
) -> Result<Option<K>, kube::Error> {
    let uid = obj.uid().unwrap_or_default();
    ctx.metrics.fresh_read(K::KIND);
    let Some(mut fresh) = api.get_opt(&obj.name_any()).await? else {
        return Ok(None);
    };
    if fresh.uid().as_deref() != Some(uid.as_str()) {
        return Ok(None);
    }
    super::watch::strip(&mut fresh);
    ctx.versions
        .saw(&uid, fresh.meta().resource_version.as_deref());
    Ok(Some(fresh))
}

/// The controller's error policy. `reconcile` reports its own errors, so this only runs if the
/// controller itself fails to call it.
pub fn error_policy<K: ManagedKind>(obj: Arc<K>, error: &Error, kc: Arc<KindContext<K>>) -> Action {
    tracing::warn!(kind = K::KIND, object = %object_key(&*obj), %error, "reconcile failed");
    Action::requeue(kc.ctx.backoffs.failed(&object_key(&*obj)))
}

/// `namespace/name`, the key for backoff and metrics bookkeeping.
pub fn object_key<K: Resource>(obj: &K) -> String {
    format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any())
}

/// The scope of one reconcile of `obj`, once its region and account are known and the account's
/// credentials work.
async fn scope<'a, K: ManagedKind>(
    obj: &'a K,
    kc: &'a KindContext<K>,
) -> Result<Reconcile<'a, K>, Error> {
    let ctx = &*kc.ctx;
    let (location, account_id) = locate(obj, ctx).await?;
    Ok(Reconcile::new(obj, ctx, &kc.shared, location, account_id))
}

/// Where `obj` lives and the id of its account, once the account's credentials work: what a
/// reconcile, or a plan of it, needs before it reads AWS.
pub async fn locate<K: ManagedKind>(obj: &K, ctx: &Context) -> Result<(Location, String), Error> {
    // Before the namespace cache holds its first list, a namespace's region annotation would
    // look absent and a new object would land in the default region; before the accounts' cache
    // does, an account would look missing.
    ctx.namespaces_synced.wait().await;
    ctx.accounts_synced.wait().await;
    let location = place(obj, ctx)?;
    let identity = ctx
        .aws
        .identity(&location)
        .await
        .map_err(|e| match location.account() {
            Some(account) => Error {
                message: format!("AWSAccount {account}: {}", e.message),
                ..e
            },
            None => e,
        })?;
    Ok((location, identity.account_id))
}

/// Where `obj` lives, once its namespace has been let into its account; the account's session is
/// set up to assume the account's role (nothing is called yet). Callers wait for the namespace
/// and account caches first.
pub fn place<K: ManagedKind>(obj: &K, ctx: &Context) -> Result<Location, Error> {
    let (location, role) = resolve_location(obj, ctx)?;
    if let (Some(account), Some(role)) = (location.account(), role) {
        ctx.aws.use_account(account, &role);
    }
    Ok(location)
}

/// Where `obj` lives (see [`region::resolve`] and [`accounts::resolve`]) and, for an account an
/// AWSAccount names, the role to assume there — or why its namespace may not use it (pure).
pub fn resolve_location<K: ManagedKind>(
    obj: &K,
    ctx: &Context,
) -> Result<(Location, Option<Role>), Error> {
    let region = resolve_region(obj, ctx)?;
    let namespace = obj.namespace().unwrap_or_default();
    let recorded = accounts::recorded(obj.status().map(K::common_status));
    let account = accounts::resolve(
        obj.common_spec().account_ref.as_deref(),
        recorded,
        ctx.namespace_account(&namespace).as_deref(),
    )?;
    match account {
        None => Ok((Location::of(&region), None)),
        Some(account) => {
            let role = ctx.accounts.admit(
                &account,
                &namespace,
                &ctx.namespace_labels(&namespace),
                &region,
                recorded.is_some(),
            )?;
            Ok((Location::new(Some(&account), &region), Some(role)))
        }
    }
}

async fn apply<K: ManagedKind>(api: &Api<K>, obj: &K, kc: &KindContext<K>) -> Action {
    let ctx = &*kc.ctx;
    let key = object_key(obj);
    let r = match scope(obj, kc).await {
        Ok(r) => r,
        Err(e) => return report_failure(api, obj, ctx, obj.status(), Failed::from(e)).await,
    };
    let Applied {
        mut status,
        verdict,
        notices,
    } = match obj.apply(&r).await {
        Ok(applied) => applied,
        // The object waits before its first create (`Reconcile::before_create`): it comes back
        // when the wait is over. Or it went away before its AWS object was created: its
        // deletion, seen by the watch, queues it again.
        Err(failed) if failed.error.quiet => {
            return match failed.error.retry_in {
                Some(wait) => Action::requeue(wait),
                None => Action::await_change(),
            };
        }
        Err(mut failed) => {
            if let Some(status) = failed.status.as_mut() {
                r.record_place(K::common_status_mut(status));
            }
            return report_failure(api, obj, ctx, r.shown().as_ref(), failed).await;
        }
    };
    r.record_place(K::common_status_mut(&mut status));
    set_conditions::<K>(obj, &mut status, &verdict);
    let shown = r.shown();
    match write_status(ctx, api, obj, shown.as_ref(), &status).await {
        Ok(Written::Gone) => {
            drop(r);
            undo_create(obj, kc, &notices, status).await;
            return Action::await_change();
        }
        Ok(_) => {}
        // Reported over what the object shows now: an intent recorded by this reconcile stays.
        Err(e) => return report_failure(api, obj, ctx, shown.as_ref(), Failed::from(e)).await,
    }
    publish(ctx, obj, &notices).await;
    if verdict.reason == ConditionReason::Available {
        ctx.confirmed.record(obj, &r.name);
    }
    if verdict.ready && !is_ready(obj) {
        obj.became_ready(&kc.shared);
    }
    ctx.metrics.set_ready(K::KIND, &key, Some(verdict.ready));
    ctx.backoffs.succeeded(&key);
    ctx.settling.forget(&obj.uid().unwrap_or_default());
    // Nothing is scheduled for this object: the drift resync (`runtime::resync`) visits every
    // object once per period, in batches; an object waiting on a missing AWS object (ObserveOnly)
    // is seen again then too.
    Action::await_change()
}

/// The object was deleted, and released, while this reconcile worked on it: its status write
/// found nothing. That happens when a deletion races with the finalizer the operator adds first
/// (the API server can delete an object whose finalizer was added while the deletion was under
/// way, kubernetes/kubernetes#77988), so that no cleanup will ever run for it. If this reconcile
/// created the AWS object, nothing else would delete it: it is deleted now, as the object's
/// cleanup would have (`deletionPolicy: Delete`), from the status the reconcile meant to write,
/// which records the AWS object as this object's own.
async fn undo_create<K: ManagedKind>(
    obj: &K,
    kc: &KindContext<K>,
    notices: &[Notice],
    status: K::Status,
) {
    let created = notices
        .iter()
        .any(|n| matches!(n.reason, EventReason::Created | EventReason::Recreated));
    let spec = obj.common_spec();
    if !created
        || spec.deletion_policy != DeletionPolicy::Delete
        || spec.management_policy != ManagementPolicy::Manage
    {
        return;
    }
    let mut gone = obj.clone();
    gone.set_status(status);
    let undone = crate::aws::for_deletion(async {
        let r = scope(&gone, kc).await?;
        gone.cleanup(&r).await
    })
    .await;
    match undone {
        Ok(()) => tracing::info!(
            "the object was deleted while its AWS object was being created; that AWS object was deleted again"
        ),
        Err(e) => tracing::warn!(
            error = %e,
            aws_object = %gone.describe(),
            "the object was deleted while its AWS object was being created, and deleting that AWS object failed: it is left in AWS"
        ),
    }
    forget_released(&gone, kc);
}

/// What the process keeps about an object that is gone, dropped; and the objects that wait for
/// its deletion woken.
fn forget_released<K: ManagedKind>(obj: &K, kc: &KindContext<K>) {
    let ctx = &*kc.ctx;
    ctx.released.record(&obj.uid().unwrap_or_default());
    obj.deleted(&kc.shared);
    if let Some(account) = account_in_use(obj, ctx) {
        ctx.account_users.released(&account);
    }
    ctx.confirmed.forget::<K>(obj);
    ctx.versions.forget(&obj.uid().unwrap_or_default());
    ctx.settling.forget(&obj.uid().unwrap_or_default());
    let key = object_key(obj);
    ctx.backoffs.succeeded(&key);
    ctx.metrics.set_ready(K::KIND, &key, None);
}

pub(super) fn is_ready<K: Reported>(obj: &K) -> bool {
    obj.reported()
        .and_then(|s| status_of(K::conditions_of(s), condition::READY))
        .is_some_and(|c| c.status == "True")
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
    obj: &Arc<K>,
    kc: &Arc<KindContext<K>>,
) -> Result<Action, CleanupPending> {
    let ctx = &*kc.ctx;
    let key = object_key(&**obj);
    let spec = obj.common_spec();
    let removes_aws_object = spec.deletion_policy == DeletionPolicy::Delete
        && spec.management_policy == ManagementPolicy::Manage;
    if removes_aws_object {
        // An object that never reached AWS has no recorded region; resolving it again is
        // harmless because cleanup treats "not found" as deleted.
        let (task_obj, task_kc, task_key) = (Arc::clone(obj), Arc::clone(kc), key.clone());
        let outcome = kc.cleanups.outcome(
            &obj.uid().unwrap_or_default(),
            ObjectRef::from_obj(&**obj),
            move || {
                crate::aws::for_deletion(async move {
                    let r = scope(&*task_obj, &*task_kc).await?;
                    tracing::debug!(object = %task_key, confirmed = r.confirmed, "cleanup starts");
                    task_obj.cleanup(&r).await
                })
            },
        );
        match outcome {
            None => return Err(CleanupPending(Action::requeue(CLEANUP_RECHECK))),
            Some(Err(e)) if e.quiet => {
                tracing::debug!(error = %e, "cleanup waits");
                return Err(CleanupPending(Action::requeue(QUIET_WAIT_RECHECK)));
            }
            Some(Err(e)) => {
                return Err(CleanupPending(
                    report_failure(api, &**obj, ctx, obj.status(), Failed::from(e)).await,
                ));
            }
            Some(Ok(())) => tracing::debug!("cleanup done"),
        }
        publish(
            ctx,
            &**obj,
            &[Notice::new(
                EventReason::Deleted,
                "Delete",
                "deleted the AWS object",
            )],
        )
        .await;
    } else if spec.management_policy == ManagementPolicy::Manage {
        publish(
            ctx,
            &**obj,
            &[Notice::new(
                EventReason::Retained,
                "Delete",
                "deletionPolicy is Retain: the AWS object was left in place",
            )],
        )
        .await;
    }
    forget_released(&**obj, kc);
    Ok(Action::await_change())
}

/// Reports a failure on the object (status, the Events of what was done before it, a Warning
/// Event when the problem is new, metrics) and returns the requeue its policy asks for. The
/// failure's conditions go on its own status fields if it has them, else on `shown`, what the
/// object shows now.
pub(super) async fn report_failure<K: Reported>(
    api: &Api<K>,
    obj: &K,
    ctx: &Context,
    shown: Option<&K::Status>,
    failed: Failed<K::Status>,
) -> Action {
    let Failed {
        error,
        status,
        mut notices,
    } = failed;
    let key = object_key(obj);
    ctx.metrics.reconcile_failed(K::LABEL, error.reason);
    ctx.metrics.set_ready(K::LABEL, &key, Some(false));
    let previous = obj
        .reported()
        .and_then(|s| status_of(K::conditions_of(s), condition::READY))
        .map(|c| (c.reason.clone(), c.message.clone()));
    let mut status = status.or_else(|| shown.cloned()).unwrap_or_default();
    let verdict = Verdict::failed(error.reason, error.message.clone());
    set_conditions::<K>(obj, &mut status, &verdict);
    if let Err(e) = write_status(ctx, api, obj, shown, &status).await {
        tracing::warn!(error = %e, "could not write the failure status");
    }
    let is_new = previous != Some((verdict.reason.as_str().to_string(), verdict.message.clone()));
    if is_new {
        tracing::warn!(error = %error, "reconcile failed");
        notices.push(Notice::new(
            EventReason::Failed(error.reason),
            "Reconcile",
            error.message.clone(),
        ));
    } else {
        tracing::debug!(error = %error, "reconcile failed again");
    }
    publish(ctx, obj, &notices).await;
    retry_policy(ctx, &key, error.reason)
}

pub(super) fn set_conditions<K: Reported>(obj: &K, status: &mut K::Status, verdict: &Verdict) {
    let generation = obj.meta().generation;
    let next = conditions(
        K::conditions_of(status),
        verdict,
        generation,
        Timestamp::now(),
    );
    K::set_conditions(status, generation, next);
}

/// The object's region (see [`region::resolve`]). Callers wait for the namespace cache first
/// (`ctx.namespaces_synced`).
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

pub(super) async fn publish<K: Reported>(ctx: &Context, obj: &K, notices: &[Notice]) {
    let reference = obj.object_ref(&());
    for n in notices {
        tracing::debug!(reason = n.reason.as_str(), action = %n.action, note = %n.note, "event");
        ctx.metrics.kube_write(K::LABEL, KubeWrite::Event);
        if let Err(e) = ctx.events.publish(n, &reference).await {
            tracing::warn!(error = %e, reason = n.reason.as_str(), "could not publish event");
        }
    }
}
