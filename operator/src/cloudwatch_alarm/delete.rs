//! Deleting a CloudWatch alarm. DeleteAlarms ignores unknown names silently and refuses (the whole
//! call) to delete an alarm a composite still names, so its success means every name of the call
//! is gone: an alarm this object is known to own is deleted without a read before or after. An
//! alarm whose ownership was never confirmed is read first (its type, its ARN; afresh, batched,
//! never from a kept reading) and its tags checked, so that only this object's alarm is deleted
//! and no alarm of it is left behind.

use super::apply::AlarmKind;
use super::family::AlarmFamily;
use crate::aws::Aws;
use crate::aws::Location;
use crate::aws::alarm_reader::{AlarmRecord, Wrote};
use crate::aws::batch::Read;
use crate::aws::cloudwatch_tags;
use crate::composite_alarm::CompositeAlarm;
use crate::error::{Error, Result};
use crate::ownership::Owner;
use crate::reason::Reason;
use crate::runtime::Reconcile;
use k8s_openapi::jiff::Timestamp;
use kube::runtime::reflector::ObjectRef;
use std::time::Duration;

/// The two kinds of CloudWatch alarm, which DeleteAlarms treats differently (at most one
/// composite per call).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlarmType {
    Metric,
    Composite,
}

/// How sure the caller is that the alarm is its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ownership<'a> {
    /// An earlier reconcile confirmed it: delete without reading the tags.
    Confirmed,
    /// Delete only if the alarm's owner tag names this owner.
    Unconfirmed(&'a Owner),
}

/// The cleanup of an alarm object: wait while the CompositeAlarm objects `parents` still name it
/// (AWS refuses to delete an alarm a composite's rule names); then delete the alarm if it is
/// this object's, and confirm it is gone.
pub async fn cleanup<K: AlarmKind>(
    r: &Reconcile<'_, K>,
    parents: &[ObjectRef<CompositeAlarm>],
) -> Result<()> {
    if !parents.is_empty() {
        let names: Vec<String> = parents
            .iter()
            .map(|p| format!("{}/{}", p.namespace.as_deref().unwrap_or_default(), p.name))
            .collect();
        let waiting = Error::dependency(format!(
            "{} is still used by CompositeAlarm {}; it is deleted once they no longer name it",
            r.what,
            names.join(", ")
        ));
        // Deleting a composite together with its alarms is the usual case: the alarms wait for
        // it without writing that they do (the composite's deletion wakes them). A parent that
        // stays is worth a status and an event, once the deletions made with this one (a
        // `kubectl delete -f` of a directory, a GitOps prune: alarms often come first) have
        // had time to reach it.
        let deleting_for = r.obj.meta().deletion_timestamp.as_ref().map(|t| {
            let elapsed = Timestamp::now().duration_since(t.0);
            Duration::try_from(elapsed).unwrap_or_default()
        });
        return Err(
            if waits_quietly(all_leaving(r.shared, parents), deleting_for) {
                waiting.quietly()
            } else {
                waiting
            },
        );
    }
    r.forget_tags();
    let ownership = if r.confirmed {
        Ownership::Confirmed
    } else {
        Ownership::Unconfirmed(&r.owner)
    };
    delete(
        r.shared,
        &r.ctx.aws,
        &r.location,
        &r.name,
        K::TYPE,
        ownership,
    )
    .await
}

/// How long an alarm waits for composites that are not (yet) being deleted before it reports
/// the wait.
const REPORT_WAIT_AFTER: Duration = Duration::from_secs(20);

/// Whether a cleanup waiting for the composites that name it writes nothing: they are all
/// being deleted, or the object's own deletion is younger than [`REPORT_WAIT_AFTER`].
fn waits_quietly(parents_leaving: bool, deleting_for: Option<Duration>) -> bool {
    parents_leaving || deleting_for.is_some_and(|d| d < REPORT_WAIT_AFTER)
}

/// Whether every composite of `parents` is being deleted (one the cache no longer holds counts
/// as gone).
fn all_leaving(family: &AlarmFamily, parents: &[ObjectRef<CompositeAlarm>]) -> bool {
    parents.iter().all(|p| {
        family
            .composites
            .get(p)
            .is_none_or(|c| c.metadata.deletion_timestamp.is_some())
    })
}

/// Deletes the alarm `name` of type `kind` if it is owned as `ownership` says. A missing alarm
/// counts as deleted; an alarm of the other type was never this object's.
pub async fn delete(
    family: &AlarmFamily,
    aws: &Aws,
    location: &Location,
    name: &str,
    kind: AlarmType,
    ownership: Ownership<'_>,
) -> Result<()> {
    if let Ownership::Unconfirmed(owner) = ownership {
        // Read afresh, never from a kept reading: a Put this process did not make (a killed
        // predecessor's late one, an old replica's) may have created the alarm since, and
        // finding it gone here releases the object for good.
        let arn = match (
            family.reader.describe(location, name, Read::Fresh).await?,
            kind,
        ) {
            (Some(AlarmRecord::Metric(m)), AlarmType::Metric) => m.alarm_arn.clone(),
            (Some(AlarmRecord::Composite(c)), AlarmType::Composite) => c.alarm_arn.clone(),
            other => {
                tracing::debug!(alarm = %name, found = other.0.is_some(), "unconfirmed alarm not found afresh: nothing to delete");
                return Ok(());
            }
        };
        let tags = cloudwatch_tags::list(aws, location, arn.as_deref().unwrap_or_default()).await?;
        if !owner.owns(&tags) {
            tracing::info!(alarm = %name, "not deleting an alarm this object does not own");
            return Ok(());
        }
    }
    let deleted = match kind {
        AlarmType::Metric => family.deleter.delete_metric_alarm(location, name).await,
        AlarmType::Composite => family.deleter.delete_composite_alarm(location, name).await,
    };
    match deleted {
        Ok(()) => {
            family.reader.wrote(location, name, Wrote::Deleted);
            Ok(())
        }
        // AWS refuses to delete an alarm that a composite alarm's rule still names.
        Err(e) if e.reason == Reason::InvalidSpec => Err(Error::dependency(format!(
            "alarm {name:?} cannot be deleted yet because a composite alarm still uses it: {}",
            e.message
        ))),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_for_composites_being_deleted_is_quiet_however_long() {
        assert!(waits_quietly(true, Some(Duration::from_secs(3600))));
        assert!(waits_quietly(true, None));
    }

    #[test]
    fn a_wait_for_a_composite_that_stays_is_reported_once_the_grace_is_over() {
        assert!(waits_quietly(false, Some(Duration::from_secs(1))));
        assert!(waits_quietly(false, Some(Duration::from_secs(19))));
        assert!(!waits_quietly(false, Some(REPORT_WAIT_AFTER)));
        assert!(!waits_quietly(false, Some(Duration::from_secs(600))));
        // No deletion time (never the case for a cleanup): reported.
        assert!(!waits_quietly(false, None));
    }
}
