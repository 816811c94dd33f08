//! The controller runtime every kind shares. It knows no kind: a kind implements
//! [`ManagedKind`] and the runtime does the rest, once, for all of them.
//!
//! A kind's `apply` runs desired → observed → diff → plan against AWS and returns the kind's
//! status fields and a [`Verdict`]; its `cleanup` deletes the AWS object. Both receive a
//! [`Reconcile`]: the object with everything the shell worked out about it (region, AWS name,
//! owner, whether the spec changed, whether ownership is already confirmed) and the steps every
//! kind takes the same way (the Created/Updated/DriftCorrected Events, the ownership gate, the
//! tag-read schedule, the Ready verdicts). Everything else is here too: the finalizer, region
//! resolution, conditions and observedGeneration, status written with server-side apply only
//! when it changed, Events, error policy (terminal: wait for a spec change; recoverable: backoff
//! with jitter), drift resync, metrics.
//!
//! Cluster-scoped kinds a cluster admin writes to configure the operator (the AWSAccount)
//! implement [`cluster::ClusterKind`] instead and run through [`cluster`]'s shell: the same
//! finalizer, conditions, status writes, Events and error policy, without a region, an account or
//! an AWS object of their own. What both shells need of a kind is [`Reported`].

pub mod accounts;
pub mod backoff;
pub mod cleanups;
pub mod cluster;
pub mod confirmed;
pub mod context;
pub mod controller;
pub mod events;
pub mod import;
pub mod leader;
pub mod notices;
pub mod preview;
pub mod reconcile;
pub mod references;
pub mod region;
pub mod released;
pub mod resync;
pub mod scope;
pub mod serve;
pub mod settling;
#[cfg(test)]
mod shell_tests;
pub mod shutdown;
pub mod status_write;
pub mod tag_reads;
pub mod versions;
pub mod watch;

use crate::aws::Location;
use crate::common_fields::{CommonSpec, CommonStatus};
use crate::conditions::Verdict;
use crate::error::{Error, Result};
use crate::vocabulary::EventReason;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::Resource;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;

pub use scope::Reconcile;

/// The accessors of [`ManagedKind`] that are the same for every kind (each spec flattens
/// `common: CommonSpec`, each status `common: CommonStatus`). Use inside the `impl` block.
#[macro_export]
macro_rules! common_field_accessors {
    ($status:ty) => {
        fn common_spec(&self) -> &$crate::common_fields::CommonSpec {
            &self.spec.common
        }

        fn status(&self) -> Option<&$status> {
            self.status.as_ref()
        }

        fn common_status(status: &$status) -> &$crate::common_fields::CommonStatus {
            &status.common
        }

        fn common_status_mut(status: &mut $status) -> &mut $crate::common_fields::CommonStatus {
            &mut status.common
        }

        fn set_status(&mut self, status: $status) {
            self.status = Some(status);
        }
    };
}

/// What the shells read and write of any kind they reconcile, namespaced or cluster-scoped: its
/// status, and the conditions and observedGeneration in it. Every [`ManagedKind`] has it through
/// [`CommonStatus`]; a cluster-scoped kind implements it itself.
pub trait Reported:
    Resource<DynamicType = ()> + Clone + Debug + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// The kind, as a fixed metric label.
    const LABEL: &'static str;

    /// The status type.
    type Status: Clone + Debug + Default + PartialEq + Serialize + DeserializeOwned + Send + Sync;

    /// The current status, if any.
    fn reported(&self) -> Option<&Self::Status>;

    /// The conditions of a status.
    fn conditions_of(status: &Self::Status) -> &[Condition];

    /// Sets the conditions of a status and the generation they describe.
    fn set_conditions(
        status: &mut Self::Status,
        generation: Option<i64>,
        conditions: Vec<Condition>,
    );
}

impl<K: ManagedKind> Reported for K {
    const LABEL: &'static str = <K as ManagedKind>::KIND;
    type Status = <K as ManagedKind>::Status;

    fn reported(&self) -> Option<&Self::Status> {
        self.status()
    }

    fn conditions_of(status: &Self::Status) -> &[Condition] {
        &K::common_status(status).conditions
    }

    fn set_conditions(
        status: &mut Self::Status,
        generation: Option<i64>,
        conditions: Vec<Condition>,
    ) {
        let common = K::common_status_mut(status);
        common.observed_generation = generation;
        common.conditions = conditions;
    }
}

/// Whether `obj` has yet to reach `Ready` for its current spec (new, changed since its status,
/// or waiting for something), and is not being deleted: a reconcile of it is still to come and
/// will read AWS, so a read made for another object can be kept for it.
pub fn awaits_reconcile<K: ManagedKind>(obj: &K) -> bool {
    obj.meta().deletion_timestamp.is_none()
        && !obj.status().map(K::common_status).is_some_and(|s| {
            s.observed_generation == obj.meta().generation
                && crate::conditions::status_of(&s.conditions, crate::vocabulary::condition::READY)
                    .is_some_and(|c| c.status == "True")
        })
}

/// Whether no reconcile has written `obj`'s status yet: it has none, or only the default the API
/// server serves for a new object (`crds::INITIAL_STATUS`, generation 0 observed).
pub fn never_reconciled<K: ManagedKind>(obj: &K) -> bool {
    obj.status()
        .map(K::common_status)
        .and_then(|s| s.observed_generation)
        .unwrap_or(0)
        == 0
}

/// A custom resource the operator manages.
pub trait ManagedKind:
    Resource<DynamicType = (), Scope = NamespaceResourceScope>
    + Clone
    + Debug
    + Serialize
    + DeserializeOwned
    + Send
    + Sync
    + 'static
{
    /// The kind, as a fixed metric label.
    const KIND: &'static str;

    /// The kind's status type (which flattens [`CommonStatus`]).
    type Status: Clone + Debug + Default + PartialEq + Serialize + DeserializeOwned + Send + Sync;

    /// What every reconcile of this kind shares: caches of other objects, batched AWS readers
    /// and writers, settings. Built once when the operator starts.
    type Shared: Send + Sync + 'static;

    /// The spec fields every kind has.
    fn common_spec(&self) -> &CommonSpec;

    /// The current status, if any.
    fn status(&self) -> Option<&Self::Status>;

    /// The common part of a status.
    fn common_status(status: &Self::Status) -> &CommonStatus;

    /// The common part of a status, mutably.
    fn common_status_mut(status: &mut Self::Status) -> &mut CommonStatus;

    /// Replaces the status (of a copy: what a reconcile would have written).
    fn set_status(&mut self, status: Self::Status);

    /// The AWS object's name: the spec's name override, else `metadata.name`.
    fn aws_name(&self) -> String;

    /// The AWS object in words, for messages and Events, for example `alarm "cpu"`.
    fn describe(&self) -> String;

    /// Makes AWS match the spec (or, under ObserveOnly, only reads it). Returns the kind's status
    /// fields (with `arn` and `awsName` filled in), the verdict and the Events to publish. A
    /// failure that must also change status fields (a retry deadline, an ownership record)
    /// carries them in its [`Failed`].
    fn apply(
        &self,
        r: &Reconcile<'_, Self>,
    ) -> impl Future<Output = Result<Applied<Self::Status>, Failed<Self::Status>>> + Send;

    /// Deletes the AWS object (the runtime calls this only under `deletionPolicy: Delete` and
    /// `managementPolicy: Manage`). An AWS object already gone is success. To wait (for example
    /// while a composite alarm still names this alarm), return a `DependencyNotReady` error: the
    /// finalizer stays until cleanup succeeds.
    fn cleanup(&self, r: &Reconcile<'_, Self>) -> impl Future<Output = Result<()>> + Send;

    /// How many objects of one region the drift resync reads together (see [`resync`]): 1 for
    /// kinds whose AWS API reads one object per call.
    const RESYNC_CHUNK: usize = 1;

    /// Reads the AWS state of `objects` (all at `location`: one account and region) ahead of
    /// their drift-resync reconciles, in as few calls as the API allows. Errors are left to the
    /// reconciles, which read again.
    fn prefetch(
        _shared: &Self::Shared,
        _location: &Location,
        _objects: &[Arc<Self>],
    ) -> impl Future<Output = ()> + Send {
        async {}
    }

    /// Called when the object turns Ready, for kinds that others wait on.
    fn became_ready(&self, _shared: &Self::Shared) {}

    /// Called once the AWS object is gone and the finalizer is about to be removed.
    fn deleted(&self, _shared: &Self::Shared) {}
}

/// What a successful `apply` found and did.
#[derive(Clone, Debug, PartialEq)]
pub struct Applied<S> {
    /// The kind's status fields; the runtime adds conditions, observedGeneration and region.
    pub status: S,
    /// Ready/Synced with reason and message.
    pub verdict: Verdict,
    /// Events to publish about what was done.
    pub notices: Vec<Notice>,
}

impl<S> Applied<S> {
    /// A result with no events.
    pub fn new(status: S, verdict: Verdict) -> Self {
        Applied {
            status,
            verdict,
            notices: Vec::new(),
        }
    }

    /// Adds events.
    pub fn notices(mut self, notices: impl IntoIterator<Item = Notice>) -> Self {
        self.notices.extend(notices);
        self
    }
}

/// A failed `apply`: the error, and what must be written with it.
#[derive(Clone, Debug, PartialEq)]
pub struct Failed<S> {
    pub error: Error,
    /// Status fields to write with the failure instead of the object's current ones (for
    /// example an ownership record the failed call may have made true).
    pub status: Option<S>,
    /// Events about what was done before the failure.
    pub notices: Vec<Notice>,
}

impl<S> Failed<S> {
    /// A failure that writes these status fields with its conditions.
    pub fn with_status(error: Error, status: S) -> Self {
        Failed {
            error,
            status: Some(status),
            notices: Vec::new(),
        }
    }

    /// Adds events about what was done before the failure.
    pub fn notices(mut self, notices: impl IntoIterator<Item = Notice>) -> Self {
        self.notices.extend(notices);
        self
    }
}

impl<S> From<Error> for Failed<S> {
    fn from(error: Error) -> Self {
        Failed {
            error,
            status: None,
            notices: Vec::new(),
        }
    }
}

/// An Event to publish on the object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// What happened; it decides whether the Event is a Warning.
    pub reason: EventReason,
    /// What the operator did, for example `PutMetricAlarm`.
    pub action: &'static str,
    /// For people.
    pub note: String,
}

impl Notice {
    /// An event.
    pub fn new(reason: EventReason, action: &'static str, note: impl Into<String>) -> Self {
        Notice {
            reason,
            action,
            note: note.into(),
        }
    }

    /// Whether it is a Warning.
    pub fn is_warning(&self) -> bool {
        self.reason.is_warning()
    }
}

#[cfg(test)]
mod tests {
    use super::references::placed_status;
    use super::shell_tests::{Widget, WidgetSpec, WidgetStatus};
    use super::*;

    fn widget(generation: i64, status: Option<CommonStatus>) -> Widget {
        let mut w = Widget::new("gear", WidgetSpec::default());
        w.metadata.generation = Some(generation);
        w.status = status.map(|common| WidgetStatus { common });
        w
    }

    #[test]
    fn an_object_awaits_its_reconcile_until_it_is_ready_for_its_spec() {
        assert!(awaits_reconcile(&widget(1, None)), "new");
        assert!(
            awaits_reconcile(&widget(2, Some(placed_status("us-east-1", true, 1)))),
            "changed since its status"
        );
        assert!(
            awaits_reconcile(&widget(1, Some(placed_status("us-east-1", false, 1)))),
            "waiting, or retrying"
        );
        assert!(
            !awaits_reconcile(&widget(1, Some(placed_status("us-east-1", true, 1)))),
            "ready for its spec"
        );
        let mut deleting = widget(1, None);
        deleting.metadata.deletion_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                k8s_openapi::jiff::Timestamp::from_second(1).unwrap(),
            ));
        assert!(!awaits_reconcile(&deleting), "being deleted");
    }
}
