//! The LogSubscription controller: the thin shell that runs the pure steps against AWS.
//!
//! apply:
//! 1. a destinationRef resolved to the LogDestination's ARN (cache), waiting with
//!    `DependencyNotReady` while it is missing or not Ready; desired identity and filter from
//!    the spec (pure);
//! 2. the log group's filters through the batched DescribeSubscriptionFilters reader (network);
//!    a missing log group is `DependencyNotReady`;
//! 3. ownership from this object's status record and the other LogSubscription objects' records
//!    (pure, from the controller's cache), the plan and the per-log-group limit (pure);
//! 4. as planned: DeleteSubscriptionFilter of the filter under its previous identity (network),
//!    a status write recording the filter as this object's before it is created (Kubernetes),
//!    PutSubscriptionFilter (network) — nothing at all when the plan is empty;
//! 5. status (pure); the runtime writes it only if it changed.
//!
//! `assess` runs steps 1 to 3; `apply` carries out what it decided (step 4), and `plan`
//! describes it (`preview`).
//!
//! cleanup: DeleteSubscriptionFilter of the filter this object's status records as its own,
//! unless another object's claim on it now takes precedence (its success, or "not found", means
//! the filter is gone). A LogDestination this subscription sent to waits for it, and is woken
//! once it is gone.

use super::desired::{Desired, FilterKey, desired, desired_with, put_request};
use super::destination_ref::destination_arn;
use super::diff::{Change, FilterPlan, plan};
use super::observed::{creation_time, find, observed};
use super::ownership::{Decision, claim, claims_of_others, decide, own_record, record_key};
use super::spec::{FilterOwnership, LogSubscription, LogSubscriptionStatus, OwnershipOrigin};
use super::status::{Seen, status};
use super::{LogSubscriptions, limit, test_message};
use crate::aws::Location;
use crate::aws::api::Api;
use crate::aws::hard_limits::HardLimitIsFinal;
use crate::conditions::Verdict;
use crate::error::{Error, Result};
use crate::field_diff::{FieldChange, changed_fields, changes};
use crate::preview::Preview;
use crate::reason::Reason;
use crate::runtime::notices::Subject;
use crate::runtime::preview::Plannable;
use crate::runtime::{Applied, Failed, ManagedKind, Notice, Reconcile};
use crate::vocabulary::EventReason;
use aws_sdk_cloudwatchlogs::operation::put_subscription_filter::PutSubscriptionFilterError;
use aws_sdk_cloudwatchlogs::types::SubscriptionFilter;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::runtime::reflector::ObjectRef;
use std::collections::BTreeMap;
use std::sync::Arc;

type Outcome = Result<Applied<LogSubscriptionStatus>, Failed<LogSubscriptionStatus>>;

impl ManagedKind for LogSubscription {
    const KIND: &'static str = "LogSubscription";
    type Status = LogSubscriptionStatus;
    type Shared = LogSubscriptions;

    crate::common_field_accessors!(LogSubscriptionStatus);

    fn aws_name(&self) -> String {
        desired(&self.spec, &self.name_any()).key.filter_name
    }

    fn describe(&self) -> String {
        desired(&self.spec, &self.name_any()).key.to_string()
    }

    async fn apply(&self, r: &Reconcile<'_, Self>) -> Outcome {
        apply(self, r).await
    }

    async fn cleanup(&self, r: &Reconcile<'_, Self>) -> Result<()> {
        cleanup(self, r).await
    }

    /// Filters are read per log group; a chunk's log groups are read once each.
    const RESYNC_CHUNK: usize = 50;

    async fn prefetch(shared: &LogSubscriptions, location: &Location, objects: &[Arc<Self>]) {
        let mut uses: BTreeMap<String, usize> = BTreeMap::new();
        for o in objects {
            *uses.entry(o.spec.log_group_name.clone()).or_default() += 1;
        }
        if let Err(e) = shared.filters.prefetch(location, &uses).await {
            tracing::debug!(error = %e, "prefetching subscription filters failed");
        }
    }

    fn deleted(&self, shared: &LogSubscriptions) {
        // The LogDestination this subscription sent to may be waiting to be deleted.
        if let Some(reference) = &self.spec.destination_ref {
            let namespace = self.namespace().unwrap_or_default();
            shared.wake_destination(ObjectRef::new(&reference.name).within(&namespace));
        }
    }
}

/// What a reconcile of a filter found in AWS and decided, before it writes anything. `apply`
/// carries it out; `plan` describes it.
struct Assessment {
    d: Desired,
    step: Step,
}

/// What the reconcile does next.
enum Step {
    /// The log group does not exist. Under ObserveOnly that is reported; otherwise the filter
    /// waits for it, and `plan` is what would be done then.
    LogGroupMissing { plan: FilterPlan },
    /// ObserveOnly: the filter found, if any.
    Observed { found: Option<SubscriptionFilter> },
    /// Another object's claim on the filter outranks this one's: it is given up.
    Yield { message: String },
    /// This object manages the filter.
    Manage(Box<Managed>),
}

/// A filter this object manages (`adopted`: it takes it over now), and the plan that makes AWS
/// match.
struct Managed {
    /// Every filter of the log group.
    filters: Vec<SubscriptionFilter>,
    found: Option<SubscriptionFilter>,
    /// The ownership record to keep.
    record: FilterOwnership,
    /// The origin of this object's own ownership record, if it had one.
    recorded: Option<OwnershipOrigin>,
    adopted: Option<Notice>,
    plan: FilterPlan,
}

/// Steps 1 to 3 of the module, up to the writes.
async fn assess(obj: &LogSubscription, r: &Reconcile<'_, LogSubscription>) -> Result<Assessment> {
    let location = &r.location;
    let destination = destination_arn(r.shared, obj, location.region()).await?;
    let d = desired_with(&obj.spec, &obj.name_any(), &destination);
    let owned = own_record(obj).map(record_key);
    let assessment = |step| Assessment { d: d.clone(), step };

    let Some(filters) = r
        .shared
        .filters
        .filters(location, &d.key.log_group_name)
        .await?
    else {
        let plan = plan(&d.key, &d.config, owned.as_ref(), None);
        return Ok(assessment(Step::LogGroupMissing { plan }));
    };
    let found = find(&filters, &d.key.filter_name).cloned();
    if r.observe_only() {
        return Ok(assessment(Step::Observed { found }));
    }

    // Ownership: this object's record, weighed against the records of the other objects. The
    // controller starts reconciling only once its cache holds every object, so none is missed.
    let objects = r.shared.objects.state();
    let others = claims_of_others(objects.iter().map(|o| o.as_ref()), obj, location, &d.key);
    let recorded = own_record(obj)
        .filter(|r| record_key(r) == d.key)
        .map(|r| r.origin);
    let taking = if found.is_some() || !others.is_empty() {
        OwnershipOrigin::Adopted
    } else {
        OwnershipOrigin::Created
    };
    let me = claim(obj, recorded.unwrap_or(taking));
    let (origin, adopted) = match decide(
        &r.what,
        recorded,
        &me,
        obj.spec.common.adoption,
        &others,
        found.is_some(),
    ) {
        Decision::Manage { origin, adopted } => (
            origin,
            adopted.map(|note| Notice::new(EventReason::Adopted, "PutSubscriptionFilter", note)),
        ),
        Decision::Yield { message } => return Ok(assessment(Step::Yield { message })),
        Decision::Refuse { message } => {
            return Err(Error::new(Reason::AlreadyExistsUnowned, message));
        }
    };
    let record = FilterOwnership {
        origin,
        owner_uid: obj.uid().unwrap_or_default(),
        log_group_name: d.key.log_group_name.clone(),
        filter_name: d.key.filter_name.clone(),
    };
    let plan = plan(
        &d.key,
        &d.config,
        owned.as_ref(),
        found.as_ref().map(observed).as_ref(),
    );
    if plan.change == Some(Change::Create) {
        // Checked before the old filter is deleted, so a move that cannot complete leaves the
        // subscription where it was.
        limit::check(
            &filters,
            &d.key,
            plan.delete_old.as_ref(),
            r.shared.filter_limit,
        )?;
    }
    Ok(assessment(Step::Manage(Box::new(Managed {
        filters,
        found,
        record,
        recorded,
        adopted,
        plan,
    }))))
}

/// The wait while the log group does not exist.
fn log_group_missing(d: &Desired, location: &Location, what: &str, observe_only: bool) -> String {
    let missing = format!(
        "log group {:?} does not exist in {location}",
        d.key.log_group_name
    );
    if observe_only {
        format!("{missing}, so neither does {what}")
    } else {
        format!("{missing}; {what} is created once it exists")
    }
}

async fn apply(obj: &LogSubscription, r: &Reconcile<'_, LogSubscription>) -> Outcome {
    let location = &r.location;
    let what = r.what.as_str();
    let previous = r.previous();
    let Assessment { d, step } = assess(obj, r).await?;
    let Managed {
        filters,
        found,
        record,
        recorded,
        adopted,
        plan,
    } = match step {
        Step::LogGroupMissing { .. } => {
            let message = log_group_missing(&d, location, what, r.observe_only());
            if r.observe_only() {
                let keep = Seen {
                    ownership: previous.and_then(|p| p.ownership.clone()),
                    ..Seen::default()
                };
                return Ok(Applied::new(
                    status(&d.key, keep, previous),
                    Verdict::waiting(Reason::NotFound, message),
                ));
            }
            return Err(Error::dependency(message).into());
        }
        Step::Observed { found } => return Ok(observe(r, &d, found.as_ref())),
        Step::Yield { message } => {
            // Drop the record, so that this object neither claims nor deletes the filter.
            let error = Error::new(Reason::AlreadyExistsUnowned, message);
            let status = status(&d.key, Seen::default(), previous);
            return Err(Failed::with_status(error, status));
        }
        Step::Manage(managed) => *managed,
    };
    let mut notices: Vec<Notice> = adopted.into_iter().collect();
    let limit = r.shared.filter_limit;
    if let Some(old) = &plan.delete_old
        && delete_owned(obj, r, old).await?
    {
        notices.push(Notice::new(
            EventReason::Replaced,
            "DeleteSubscriptionFilter",
            format!("deleted {old}, which this object owned, to replace it with {what}"),
        ));
    }

    let mut read_back = None;
    if let Some(change) = &plan.change {
        if *change == Change::Create {
            // Filters carry no tags: if the process stopped between the Put and the status
            // write, nothing else would tell this object's filter from someone else's, and the
            // restarted operator would refuse its own filter (or, under adoption, take it over
            // as a stranger's). So the ownership record is written first.
            let mut intent = previous.cloned().unwrap_or_default();
            intent.ownership = Some(record.clone());
            r.record_intent(intent).await?;
        }
        let client = &r.ctx.aws.clients(location).logs;
        let request = put_request(client.put_subscription_filter(), &d)
            .customize()
            .config_override(
                aws_sdk_cloudwatchlogs::config::Builder::default()
                    .retry_classifier(HardLimitIsFinal::<PutSubscriptionFilterError>::new()),
            );
        let result = r
            .ctx
            .aws
            .call(location, Api::PutSubscriptionFilter, request.send())
            .await;
        r.shared.filters.forget(location, &d.key.log_group_name);
        if let Err(e) = result {
            return Err(put_failed(
                e,
                obj,
                PutContext {
                    d: &d,
                    record,
                    filters: &filters,
                    plan: &plan,
                    limit,
                    location,
                },
                notices,
            ));
        }
        // Managed before only if the ownership record was this object's already.
        let subject = Subject {
            confirmed: r.confirmed && recorded.is_some(),
            ..r.subject()
        };
        notices.push(match change {
            Change::Create => subject.created("PutSubscriptionFilter"),
            Change::Update { fields } => subject.changed("PutSubscriptionFilter", fields),
        });
        if *change == Change::Create {
            // Only for the creation time in status; a failed read leaves it for the next resync.
            read_back = r
                .shared
                .filters
                .filters(location, &d.key.log_group_name)
                .await
                .ok()
                .flatten();
        }
    }

    let current = read_back
        .as_deref()
        .and_then(|fs| find(fs, &d.key.filter_name))
        .or(found.as_ref());
    let seen = Seen {
        ownership: Some(record),
        creation_time: current.and_then(creation_time),
        test_message_failing_since: None,
    };
    Ok(Applied::new(status(&d.key, seen, previous), r.matches_spec()).notices(notices))
}

/// What `apply` would do, described (see [`crate::runtime::preview`]).
async fn preview(obj: &LogSubscription, r: &Reconcile<'_, LogSubscription>) -> Result<Preview> {
    let Assessment { d, step } = assess(obj, r).await?;
    Ok(match step {
        Step::LogGroupMissing { plan } => {
            let message = log_group_missing(&d, &r.location, &r.what, r.observe_only());
            if r.observe_only() {
                Preview::observe_missing(message)
            } else {
                planned(&d, &plan).waiting_for(Some(&Error::dependency(message)))
            }
        }
        Step::Observed { found: None } => Preview::observe_missing(r.not_found().message),
        Step::Observed { found: Some(f) } => Preview::observe(changes(&d.config, &observed(&f))),
        Step::Yield { message } => {
            Preview::from_error(&Error::new(Reason::AlreadyExistsUnowned, message))
        }
        Step::Manage(managed) => {
            let Managed { adopted, plan, .. } = *managed;
            planned(&d, &plan).adopting(adopted.map(|n| n.note))
        }
    })
}

/// The writes of `plan` for the filter `d`, described.
fn planned(d: &Desired, plan: &FilterPlan) -> Preview {
    let Some(old) = &plan.delete_old else {
        return match plan.change {
            Some(Change::Create) => Preview::create(),
            _ => Preview::update(plan.changes.clone()),
        };
    };
    let moved = |field: &str, old: &str, new: &str| {
        (old != new).then(|| FieldChange {
            field: field.to_string(),
            old: Some(old.into()),
            new: Some(new.into()),
        })
    };
    let mut changes: Vec<FieldChange> = [
        moved("filterName", &old.filter_name, &d.key.filter_name),
        moved("logGroupName", &old.log_group_name, &d.key.log_group_name),
    ]
    .into_iter()
    .flatten()
    .collect();
    changes.extend(plan.changes.iter().cloned());
    Preview::replace(
        changes,
        format!(
            "{old} is deleted first, then {} is created: a filter cannot move to another log \
             group, and a log group holds only a few filters",
            d.key
        ),
    )
}

/// ObserveOnly: report the filter and how it differs from the spec; never write.
fn observe(
    r: &Reconcile<'_, LogSubscription>,
    d: &Desired,
    found: Option<&SubscriptionFilter>,
) -> Applied<LogSubscriptionStatus> {
    let previous = r.previous();
    let seen = Seen {
        ownership: previous.and_then(|p| p.ownership.clone()),
        creation_time: found.and_then(creation_time),
        test_message_failing_since: None,
    };
    let verdict = match found {
        None => r.not_found(),
        Some(f) => r.observed(&changed_fields(&d.config, &observed(f))),
    };
    Applied::new(status(&d.key, seen, previous), verdict)
}

/// What a failed Put is judged against.
struct PutContext<'a> {
    d: &'a Desired,
    record: FilterOwnership,
    filters: &'a [SubscriptionFilter],
    plan: &'a FilterPlan,
    limit: u32,
    location: &'a Location,
}

/// Turns a failed PutSubscriptionFilter into the failure to report, with the status it must
/// keep. An answer that proves the Put created nothing (the log group is gone, the limit, a
/// terminal refusal) withdraws the intent recorded before it: the status from before this
/// reconcile is written back. Any other failure keeps the intent.
fn put_failed(
    e: Error,
    obj: &LogSubscription,
    p: PutContext<'_>,
    notices: Vec<Notice>,
) -> Failed<LogSubscriptionStatus> {
    let previous = obj.status.as_ref();
    let key = &p.d.key;
    let refused = |error: Error, notices: Vec<Notice>| {
        Failed::with_status(error, previous.cloned().unwrap_or_default()).notices(notices)
    };
    match e.reason {
        // The log group was deleted since it was listed.
        Reason::NotFound => {
            let error = Error::dependency(format!(
                "log group {:?} does not exist in {}; {key} is created once it exists ({})",
                key.log_group_name, p.location, e.message
            ));
            return refused(error, notices);
        }
        // AWS's own count (the configured limit may be higher than the account's).
        Reason::LimitExceeded => {
            let others = limit::others(p.filters, key, p.plan.delete_old.as_ref());
            return refused(limit::refused(key, &others, p.limit), notices);
        }
        _ => {}
    }
    if test_message::is_test_message_failure(&e) {
        let same_generation =
            previous.and_then(|s| s.common.observed_generation) == obj.metadata.generation;
        let since = previous
            .filter(|_| same_generation)
            .and_then(|s| s.test_message_failing_since.as_ref());
        let (since, failure) = test_message::failure(&e, since, Timestamp::now());
        let seen = Seen {
            ownership: Some(p.record),
            creation_time: None,
            test_message_failing_since: Some(since),
        };
        return Failed::with_status(failure, status(key, seen, previous)).notices(notices);
    }
    if e.is_terminal() {
        return refused(e, notices);
    }
    // Throttling, a 5xx, a timeout or a lost connection may come after an attempt that AWS
    // applied: the ownership record is kept, so that a filter created this way is recognised as
    // ours (and deleted with this object).
    let seen = Seen {
        ownership: Some(p.record),
        creation_time: None,
        test_message_failing_since: previous.and_then(|s| s.test_message_failing_since.clone()),
    };
    Failed::with_status(e, status(key, seen, previous)).notices(notices)
}

/// Deletes `key`, a filter this object's status records as its own, unless another object's
/// claim on it now takes precedence. A filter (or log group) already gone counts as deleted.
/// Returns whether a delete was sent.
async fn delete_owned(
    obj: &LogSubscription,
    r: &Reconcile<'_, LogSubscription>,
    key: &FilterKey,
) -> Result<bool> {
    let location = &r.location;
    let origin = own_record(obj).map_or(OwnershipOrigin::Created, |r| r.origin);
    let objects = r.shared.objects.state();
    let others = claims_of_others(objects.iter().map(|o| o.as_ref()), obj, location, key);
    let me = claim(obj, origin);
    if let Some(winner) = others.iter().find(|c| c.outranks(&me)) {
        tracing::info!(filter = %key, owner = %winner.object, "not deleting a filter another object now manages");
        return Ok(false);
    }
    let client = &r.ctx.aws.clients(location).logs;
    let request = client
        .delete_subscription_filter()
        .log_group_name(&key.log_group_name)
        .filter_name(&key.filter_name)
        .send();
    let result = r
        .ctx
        .aws
        .call(location, Api::DeleteSubscriptionFilter, request)
        .await;
    r.shared.filters.forget(location, &key.log_group_name);
    match result {
        Ok(_) => Ok(true),
        Err(e) if e.reason == Reason::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

impl Plannable for LogSubscription {
    /// Filters carry no tags: the take-over is recorded in the object's status.
    const ADOPTION_WRITES: &'static str = "recorded in status; nothing is written to AWS";

    async fn preview(&self, r: &Reconcile<'_, Self>) -> Result<Preview> {
        preview(self, r).await
    }
}

async fn cleanup(obj: &LogSubscription, r: &Reconcile<'_, LogSubscription>) -> Result<()> {
    // Only a filter this object recorded as its own; one it never created or adopted stays.
    // DeleteSubscriptionFilter's success means the filter is gone: no read follows.
    let Some(key) = own_record(obj).map(record_key) else {
        return Ok(());
    };
    delete_owned(obj, r, &key).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log_subscription::desired::tests::firehose_spec;

    fn aws(reason: Reason, code: &str) -> Error {
        Error {
            aws_code: Some(code.into()),
            ..Error::new(reason, "from AWS")
        }
    }

    /// The status a Put failing with `e` leaves, for a create whose intent names the filter.
    fn after_failed_create(e: Error) -> (Reason, Option<LogSubscriptionStatus>) {
        let mut obj = LogSubscription::new("x", firehose_spec());
        obj.metadata.uid = Some("u-1".into());
        let d = desired(&obj.spec, "x");
        let record = FilterOwnership {
            origin: OwnershipOrigin::Created,
            owner_uid: "u-1".into(),
            log_group_name: d.key.log_group_name.clone(),
            filter_name: d.key.filter_name.clone(),
        };
        let plan = FilterPlan {
            delete_old: None,
            change: Some(Change::Create),
            changes: Vec::new(),
        };
        let context = PutContext {
            d: &d,
            record,
            filters: &[],
            plan: &plan,
            limit: 2,
            location: &Location::new(None, "us-east-1"),
        };
        let failed = put_failed(e, &obj, context, Vec::new());
        (failed.error.reason, failed.status)
    }

    fn keeps_the_record(status: Option<LogSubscriptionStatus>) -> bool {
        status
            .and_then(|s| s.ownership)
            .is_some_and(|r| r.owner_uid == "u-1" && r.filter_name == "x")
    }

    #[test]
    fn a_put_that_may_have_been_applied_keeps_the_intent() {
        for e in [
            aws(Reason::Throttled, "ThrottlingException"),
            aws(Reason::AwsUnavailable, "ServiceUnavailableException"),
            aws(Reason::AwsUnavailable, "InternalFailure"),
            Error::new(Reason::AwsUnavailable, "timed out"),
        ] {
            let (reason, status) = after_failed_create(e.clone());
            assert_eq!(reason, e.reason);
            assert!(keeps_the_record(status), "{e}");
        }
    }

    #[test]
    fn a_put_refused_outright_withdraws_the_intent() {
        for e in [
            aws(Reason::LimitExceeded, "LimitExceededException"),
            aws(Reason::NotFound, "ResourceNotFoundException"),
            aws(Reason::InvalidSpec, "InvalidParameterException"),
        ] {
            let (_, status) = after_failed_create(e.clone());
            let status = status.expect("the status from before is written back");
            assert_eq!(status.ownership, None, "{e}");
        }
        let (reason, _) = after_failed_create(aws(Reason::NotFound, "ResourceNotFoundException"));
        assert_eq!(
            reason,
            Reason::DependencyNotReady,
            "the log group went away"
        );
    }
}
