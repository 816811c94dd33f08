//! One reconcile of one object, as every kind's `apply` and `cleanup` receive it: what the shell
//! worked out about the object once (region, AWS name, owner, whether the spec changed, whether
//! an earlier reconcile already confirmed it owns the AWS object), and the steps every kind takes
//! the same way.

use super::ManagedKind;
use super::context::Context;
use super::notices::{self, Subject};
use super::reconcile::{object_key, read_fresh};
use super::status_write::{Written, write_status};
use crate::aws::Location;
use crate::common_fields::{Adoption, CommonStatus, ManagementPolicy};
use crate::conditions::{Verdict, status_of};
use crate::error::{Error, Result};
use crate::ownership::{self, Owner};
use crate::reason::{ConditionReason, Reason};
use crate::runtime::Notice;
use crate::tags::TagDiff;
use crate::vocabulary::condition;
use kube::ResourceExt;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

/// One reconcile of the object `obj` of kind `K`.
pub struct Reconcile<'a, K: ManagedKind> {
    /// The object.
    pub obj: &'a K,
    /// What every reconcile of every kind shares.
    pub ctx: &'a Context,
    /// What every reconcile of this kind shares.
    pub shared: &'a K::Shared,
    /// The AWS region the object lives in.
    pub region: String,
    /// The account and region the object lives in: every AWS call for it goes there.
    pub location: Location,
    /// The 12-digit id of the account.
    pub account_id: String,
    /// The AWS object's name.
    pub name: String,
    /// The AWS object in words, for messages and Events (`alarm "cpu"`).
    pub what: String,
    /// `Kind/namespace/name`: the object's key in per-object bookkeeping (tag reads).
    pub key: String,
    /// Who owns the AWS object when this object does.
    pub owner: Owner,
    /// The spec changed since the status was last written.
    pub spec_changed: bool,
    /// An earlier reconcile reported the AWS object Ready as managed by this object, under the
    /// same name (its status says so, or this process saw it: `runtime::confirmed`): its
    /// ownership needs no fresh proof.
    pub confirmed: bool,
    /// The status the object shows now: its status when the reconcile began, until
    /// [`Reconcile::record_intent`] writes another.
    shown: Mutex<Option<K::Status>>,
}

impl<'a, K: ManagedKind> Reconcile<'a, K> {
    /// The reconcile of `obj` at `location`, in the account `account_id`.
    pub fn new(
        obj: &'a K,
        ctx: &'a Context,
        shared: &'a K::Shared,
        location: Location,
        account_id: String,
    ) -> Self {
        let name = obj.aws_name();
        let previous = obj.status().map(K::common_status);
        Reconcile {
            key: format!("{}/{}", K::KIND, object_key(obj)),
            what: obj.describe(),
            owner: ctx.owner(obj),
            spec_changed: previous.and_then(|p| p.observed_generation) != obj.meta().generation,
            confirmed: ownership_confirmed(previous, &name, &location)
                || ctx.confirmed.holds(obj, &name),
            shown: Mutex::new(obj.status().cloned()),
            name,
            obj,
            ctx,
            shared,
            region: location.region().to_string(),
            location,
            account_id,
        }
    }

    /// Records where the object lives in its status: region, account and account id.
    pub fn record_place(&self, status: &mut CommonStatus) {
        status.region = Some(self.region.clone());
        status.account = self.location.account().map(str::to_string);
        status.account_id = Some(self.account_id.clone());
    }

    /// The status the object had when the reconcile began.
    pub fn previous(&self) -> Option<&'a K::Status> {
        self.obj.status()
    }

    /// The status the object shows now: [`Reconcile::previous`], or the intent recorded since.
    /// A failure that names no status of its own is written over this one, so a recorded intent
    /// stays recorded.
    pub fn shown(&self) -> Option<K::Status> {
        self.shown.lock().expect("shown status lock").clone()
    }

    /// `managementPolicy: ObserveOnly`: read and report, never write.
    pub fn observe_only(&self) -> bool {
        self.obj.common_spec().management_policy == ManagementPolicy::ObserveOnly
    }

    /// The object's `adoption` policy.
    pub fn adoption(&self) -> Adoption {
        self.obj.common_spec().adoption
    }

    /// What this reconcile's Events are about.
    pub fn subject(&self) -> Subject<'_> {
        Subject {
            what: &self.what,
            region: &self.region,
            confirmed: self.confirmed,
            spec_changed: self.spec_changed,
        }
    }

    /// A difference found now was made outside the operator (see [`Subject::drift`]).
    pub fn drift(&self) -> bool {
        self.subject().drift()
    }

    /// Whether to read the AWS object's tags now: at once while ownership is unconfirmed or
    /// after a spec change (the tags may be part of it), otherwise on the tag resync schedule.
    pub fn tags_due(&self) -> bool {
        self.ctx
            .tag_reads
            .due(&self.key, !self.confirmed || self.spec_changed)
    }

    /// The tags were just written with a create: the next read can wait a full period.
    pub fn tags_written(&self) {
        self.ctx.tag_reads.due(&self.key, true);
    }

    /// The object is going away: drop its tag-read schedule.
    pub fn forget_tags(&self) {
        self.ctx.tag_reads.forget(&self.key);
    }

    /// Decides from the AWS object's tags whether this object may manage it (see
    /// [`ownership::gate`]): `Ok(Some(notice))` when it takes the object over.
    pub fn gate(&self, tags: &BTreeMap<String, String>) -> Result<Option<Notice>> {
        Ok(ownership::gate(tags, &self.owner, self.adoption(), &self.what)?.map(notices::adopted))
    }

    /// The Event for a create by `action` (see [`Subject::created`]).
    pub fn created(&self, action: &'static str) -> Notice {
        self.subject().created(action)
    }

    /// The Event for a configuration write by `action` that changed `fields`.
    pub fn changed(&self, action: &'static str, fields: &[String]) -> Notice {
        self.subject().changed(action, fields)
    }

    /// The Event for tag changes that put back changes made outside the operator.
    pub fn tags_changed(&self, action: &'static str, diff: &TagDiff) -> Option<Notice> {
        self.subject().tags_changed(action, diff)
    }

    /// Ready: the AWS object matches the spec. Every path that ends in sync uses this message, so
    /// a reconcile after a write has no status to rewrite (the Event tells what was done).
    pub fn matches_spec(&self) -> Verdict {
        Verdict::available(format!("{} matches the spec", self.what))
    }

    /// ObserveOnly, and the AWS object is missing.
    pub fn not_found(&self) -> Verdict {
        Verdict::waiting(
            Reason::NotFound,
            format!("{} does not exist in {}", self.what, self.region),
        )
    }

    /// ObserveOnly: the AWS object was read; `differences` from the spec are listed.
    pub fn observed(&self, differences: &[String]) -> Verdict {
        Verdict::observed(notices::observed_message(&self.what, differences))
    }

    /// Called right before a call that creates the AWS object: the first time for this object in
    /// this process, waits until the object has held the finalizer for a while and reads it from
    /// the API server, and fails (quietly: nothing to report) if it is gone or being deleted, so
    /// that nothing is created for an object whose deletion raced with its finalizer. See
    /// `runtime::settling`. The wait is not spent here: while it lasts this fails quietly and the
    /// object comes back when it is over, so the reconcile's slot is free meanwhile (a new
    /// object's reconcile waits before it gets here; an object that was reconciled before, whose
    /// AWS object is created again, starts its wait here).
    pub async fn before_create(&self) -> Result<()> {
        let uid = self.obj.uid().unwrap_or_default();
        let Some(wait) = self.ctx.settling.wait(&uid, Instant::now()) else {
            return Ok(());
        };
        if !wait.is_zero() {
            tracing::debug!(?wait, "the first create of this process waits");
            return Err(Error::new(
                Reason::KubernetesError,
                format!(
                    "waiting {wait:?} before creating {} (runtime::settling)",
                    self.what
                ),
            )
            .quietly_for(wait));
        }
        let api: kube::Api<K> = kube::Api::namespaced(
            self.ctx.client.clone(),
            &self.obj.namespace().unwrap_or_default(),
        );
        let fresh = read_fresh(&api, self.obj, self.ctx).await.map_err(|e| {
            Error::new(
                Reason::KubernetesError,
                format!("reading the object before creating {}: {e}", self.what),
            )
        })?;
        let live = fresh.is_some_and(|o| o.meta().deletion_timestamp.is_none());
        if !live {
            tracing::debug!("the object is gone or being deleted: nothing is created");
            return Err(Error::new(
                Reason::KubernetesError,
                format!(
                    "the object was deleted before {} was created; nothing is created",
                    self.what
                ),
            )
            .quietly());
        }
        self.ctx.settling.settled(&uid);
        Ok(())
    }

    /// Writes `status`, which names what is about to be created and where, before an AWS call
    /// that creates something the object cannot otherwise prove it owns (AWS objects without
    /// tags): if the process stops right after the call, the restarted operator finds its intent
    /// recorded. From then on the intent is what the object shows: a failure of this reconcile
    /// that names no status keeps it (the call may have worked: a timeout, a 5xx, throttling after
    /// an attempt that got through); a kind drops it only on an answer that proves nothing was
    /// created, by failing with the status from before ([`Reconcile::previous`]). See
    /// ARCHITECTURE.md, "AWS objects without tags".
    pub async fn record_intent(&self, mut status: K::Status) -> Result<()> {
        self.before_create().await?;
        let common = K::common_status_mut(&mut status);
        self.record_place(common);
        common.aws_name = Some(self.name.clone());
        let api = kube::Api::namespaced(
            self.ctx.client.clone(),
            &self.obj.namespace().unwrap_or_default(),
        );
        let shown = self.shown();
        let written = write_status(self.ctx, &api, self.obj, shown.as_ref(), &status).await?;
        intent_recorded(written)?;
        *self.shown.lock().expect("shown status lock") = Some(status);
        Ok(())
    }
}

/// Whether the AWS call an intent announces may go ahead: only once the intent is in the
/// object's status. An object gone meanwhile (its deletion finished while this reconcile worked
/// from an older copy) can record nothing, and nothing would ever delete what the call created.
fn intent_recorded(written: Written) -> Result<()> {
    match written {
        Written::Yes | Written::Unchanged => Ok(()),
        Written::Gone => Err(Error::new(
            Reason::KubernetesError,
            "the object was deleted before this reconcile could record what it was about to \
             create; nothing is created",
        )),
    }
}

/// Whether an earlier reconcile already established that this object manages the AWS object
/// `aws_name` at `location`: it reported it Ready as managed (not merely observed), there.
pub fn ownership_confirmed(
    status: Option<&CommonStatus>,
    aws_name: &str,
    location: &Location,
) -> bool {
    status.is_some_and(|s| {
        s.aws_name.as_deref() == Some(aws_name)
            && s.region.as_deref() == Some(location.region())
            && s.account.as_deref() == location.account()
            && status_of(&s.conditions, condition::READY).is_some_and(|c| {
                c.status == "True" && c.reason == ConditionReason::Available.as_str()
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_intent_the_object_could_not_record_stops_the_call_it_announces() {
        assert!(intent_recorded(Written::Yes).is_ok());
        assert!(
            intent_recorded(Written::Unchanged).is_ok(),
            "already recorded"
        );
        let refused = intent_recorded(Written::Gone).expect_err("the object is gone");
        assert!(refused.message.contains("nothing is created"), "{refused}");
    }
    use crate::conditions::conditions;
    use k8s_openapi::jiff::Timestamp;

    fn status(name: &str, verdict: Verdict) -> CommonStatus {
        CommonStatus {
            aws_name: Some(name.into()),
            region: Some("us-east-1".into()),
            conditions: conditions(&[], &verdict, Some(1), Timestamp::from_second(1).unwrap()),
            ..Default::default()
        }
    }

    fn here() -> Location {
        Location::of("us-east-1")
    }

    #[test]
    fn only_a_managed_ready_status_for_the_same_name_confirms_ownership() {
        let ready = status("a", Verdict::available(""));
        assert!(ownership_confirmed(Some(&ready), "a", &here()));
        assert!(!ownership_confirmed(Some(&ready), "b", &here()));
        let observed = status("a", Verdict::observed(""));
        assert!(!ownership_confirmed(Some(&observed), "a", &here()));
        let failing = status("a", Verdict::failed(Reason::Throttled, ""));
        assert!(!ownership_confirmed(Some(&failing), "a", &here()));
        assert!(!ownership_confirmed(None, "a", &here()));
    }

    #[test]
    fn ownership_confirmed_in_one_account_or_region_proves_nothing_in_another() {
        let mut ready = status("a", Verdict::available(""));
        ready.account = Some("team-a".into());
        let there = Location::new(Some("team-a"), "us-east-1");
        assert!(ownership_confirmed(Some(&ready), "a", &there));
        assert!(!ownership_confirmed(Some(&ready), "a", &here()));
        assert!(!ownership_confirmed(
            Some(&ready),
            "a",
            &Location::new(Some("team-b"), "us-east-1")
        ));
        assert!(!ownership_confirmed(
            Some(&ready),
            "a",
            &there.in_region("eu-west-1")
        ));
    }
}
