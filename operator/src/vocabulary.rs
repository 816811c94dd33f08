//! The operator's one vocabulary: API group, finalizer, field manager, tag and annotation keys,
//! condition types and reasons. Everything that appears on the wire or in a cluster is named here
//! once, so two controllers can never spell the same thing two ways.

/// API group of every custom resource.
pub const GROUP: &str = "cwo.dev";
/// API version of every custom resource.
pub const VERSION: &str = "v1alpha1";
/// `kubectl get cloudwatch` lists every kind in this category.
pub const CATEGORY: &str = "cloudwatch";

/// Finalizer on every managed object; removed only once the AWS object is confirmed gone (or
/// `deletionPolicy: Retain`).
pub const FINALIZER: &str = "cwo.dev/cleanup";
/// Field manager for every server-side apply the operator makes.
pub const FIELD_MANAGER: &str = "cloudwatch-operator";

/// Namespace annotation giving the default AWS region for objects in that namespace.
pub const REGION_ANNOTATION: &str = "cwo.dev/region";
/// Namespace annotation naming the `AWSAccount` objects in that namespace use when their spec
/// names none. The AWSAccount must still allow the namespace: the annotation chooses among the
/// accounts a cluster admin granted, it grants nothing.
pub const ACCOUNT_ANNOTATION: &str = "cwo.dev/account";

/// Tag naming the owner of an AWS object: `<cluster-id>/<namespace>/<kind>/<name>` when that fits
/// a tag value (255 characters from AWS's tag set), else a readable prefix of it, `+` and 32 hex
/// digits of its SHA-256 (`ownership` builds and reads it).
pub const OWNER_TAG: &str = "cwo.dev/owner";
/// Tag holding the UID of the Kubernetes object that created or took over the AWS object (a
/// record for people; ownership is decided by [`OWNER_TAG`]).
pub const OWNER_UID_TAG: &str = "cwo.dev/owner-uid";
/// Every tag the operator puts on an AWS object itself. They count toward AWS's per-resource tag
/// limit, so the schema leaves room for them (`common_fields::MAX_USER_TAGS`).
pub const OWNERSHIP_TAGS: [&str; 2] = [OWNER_TAG, OWNER_UID_TAG];

/// Condition types.
pub mod condition {
    /// The AWS object exists and matches the spec (or, under ObserveOnly, was observed).
    pub const READY: &str = "Ready";
    /// The last reconcile ran to completion against AWS.
    pub const SYNCED: &str = "Synced";
    /// kstatus' "abnormal-true" condition for work under way: present (`True`) while the object
    /// is not Ready for a reason that is retried (creating, waiting for a dependency, a
    /// recoverable AWS error), absent otherwise.
    pub const RECONCILING: &str = "Reconciling";
    /// kstatus' "abnormal-true" condition for a failure that waits for the spec to change:
    /// present (`True`) with a terminal reason, absent otherwise.
    pub const STALLED: &str = "Stalled";
    /// Every condition type the operator writes; it owns these and nobody else's.
    pub const OURS: [&str; 4] = [READY, SYNCED, RECONCILING, STALLED];
}

/// The reasons of the Events the operator publishes: what it did, or, for a Warning about a
/// failure, the condition reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventReason {
    /// The AWS object was created.
    Created,
    /// The AWS object this object managed was deleted outside the operator and created again.
    Recreated,
    /// The AWS object was changed to match a new spec.
    Updated,
    /// A change made outside the operator was put back.
    DriftCorrected,
    /// An existing AWS object was taken over (`adoption`).
    Adopted,
    /// The AWS object was deleted and created again (what AWS cannot update in place).
    Replaced,
    /// A metric stream was started as the spec asks.
    Started,
    /// A metric stream was stopped as the spec asks.
    Stopped,
    /// An alarm's live state moved.
    StateChanged,
    /// The AWS object was deleted with the Kubernetes object.
    Deleted,
    /// `deletionPolicy: Retain` left the AWS object in place.
    Retained,
    /// A reconcile failed for this reason (a Warning).
    Failed(crate::reason::Reason),
}

impl EventReason {
    /// The reason as it appears on the Event.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventReason::Created => "Created",
            EventReason::Recreated => "Recreated",
            EventReason::Updated => "Updated",
            EventReason::DriftCorrected => "DriftCorrected",
            EventReason::Adopted => "Adopted",
            EventReason::Replaced => "Replaced",
            EventReason::Started => "Started",
            EventReason::Stopped => "Stopped",
            EventReason::StateChanged => "StateChanged",
            EventReason::Deleted => "Deleted",
            EventReason::Retained => "Retained",
            EventReason::Failed(reason) => reason.as_str(),
        }
    }

    /// Whether the Event is a Warning: something a person should look at (an AWS object changed
    /// or removed behind the operator's back, or a failure).
    pub const fn is_warning(self) -> bool {
        matches!(
            self,
            EventReason::Recreated | EventReason::DriftCorrected | EventReason::Failed(_)
        )
    }
}
