//! The controller runtime every kind shares.
//!
//! A kind implements [`ManagedKind`]: its `apply` runs desired → observed → diff → plan against
//! AWS and returns the kind's status fields and a [`Verdict`]; its `cleanup` deletes (or
//! retains) the AWS object. Everything else is here, once: the finalizer, region resolution,
//! conditions and observedGeneration, status written with server-side apply only when it
//! changed, Events, error policy (terminal: wait for a spec change; recoverable: backoff with
//! jitter), drift resync, metrics.

pub mod backoff;
pub mod context;
pub mod leader;
pub mod lifecycle;
pub mod reconcile;
pub mod region;
pub mod resync;
pub mod run;
pub mod serve;
pub mod status_write;
pub mod tag_reads;
pub mod watch;

use crate::common_fields::{CommonSpec, CommonStatus};
use crate::conditions::Verdict;
use crate::error::Result;
use context::Context;
use k8s_openapi::NamespaceResourceScope;
use kube::Resource;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::Debug;
use std::future::Future;

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
    };
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

    /// The spec fields every kind has.
    fn common_spec(&self) -> &CommonSpec;

    /// The current status, if any.
    fn status(&self) -> Option<&Self::Status>;

    /// The common part of a status.
    fn common_status(status: &Self::Status) -> &CommonStatus;

    /// The common part of a status, mutably.
    fn common_status_mut(status: &mut Self::Status) -> &mut CommonStatus;

    /// Makes AWS match the spec (or, under ObserveOnly, only reads it). Returns the kind's status
    /// fields (with `arn` and `awsName` filled in) and the verdict.
    ///
    /// A failure is normally an `Err`, and the runtime reports it on the status the object
    /// already has. A failure that must change status fields as well (a retry deadline, an
    /// ownership record) is returned as `Ok` with a failed verdict ([`Verdict::failed`]): the
    /// runtime writes that status and applies the same retry policy as for an error.
    fn apply(
        &self,
        ctx: &Context,
        region: &str,
    ) -> impl Future<Output = Result<Applied<Self::Status>>> + Send;

    /// Deletes the AWS object (the runtime calls this only under `deletionPolicy: Delete` and
    /// `managementPolicy: Manage`). An AWS object already gone is success. To wait (for example
    /// while a composite alarm still names this alarm), return a `DependencyNotReady` error: the
    /// finalizer stays until cleanup succeeds.
    fn cleanup(&self, ctx: &Context, region: &str) -> impl Future<Output = Result<()>> + Send;

    /// How many objects of one region the drift resync reads together (see [`resync`]): 1 for
    /// kinds whose AWS API reads one object per call.
    const RESYNC_CHUNK: usize = 1;

    /// Reads the AWS state of `objects` (all in `region`) ahead of their drift-resync
    /// reconciles, in as few calls as the API allows. Errors are left to the reconciles, which
    /// read again.
    fn prefetch(
        _ctx: &Context,
        _region: &str,
        _objects: &[std::sync::Arc<Self>],
    ) -> impl Future<Output = ()> + Send {
        async {}
    }

    /// Called when the object turns Ready, for kinds that others wait on.
    fn became_ready(&self, _ctx: &Context) {}

    /// Called once the AWS object is gone and the finalizer is about to be removed.
    fn deleted(&self, _ctx: &Context) {}
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

    /// Adds an event.
    pub fn notice(mut self, notice: Notice) -> Self {
        self.notices.push(notice);
        self
    }
}

/// An Event to publish on the object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// `Warning` or `Normal`.
    pub warning: bool,
    /// Short PascalCase reason, for example `Created`, `DriftCorrected`.
    pub reason: &'static str,
    /// What the operator did, for example `PutMetricAlarm`.
    pub action: &'static str,
    /// For people.
    pub note: String,
}

impl Notice {
    /// A normal event.
    pub fn normal(reason: &'static str, action: &'static str, note: impl Into<String>) -> Self {
        Notice {
            warning: false,
            reason,
            action,
            note: note.into(),
        }
    }

    /// A warning event.
    pub fn warning(reason: &'static str, action: &'static str, note: impl Into<String>) -> Self {
        Notice {
            warning: true,
            reason,
            action,
            note: note.into(),
        }
    }
}
