//! The MetricFilter controller: the thin shell that runs the pure steps against AWS.
//!
//! apply:
//! 1. desired identity and filter from the spec (pure);
//! 2. spec.tests through TestMetricFilter when the spec changed since the results in status
//!    (network), judged (pure): a failing test is terminal and nothing is written;
//! 3. the log group's metric filters through the batched DescribeMetricFilters reader (network);
//!    a missing log group is `DependencyNotReady`;
//! 4. ownership from this object's status record and the other MetricFilter objects' records
//!    (pure, from the controller's cache), and the plan (pure);
//! 5. as planned: DeleteMetricFilter of the filter under its previous identity (network), a
//!    status write recording the filter as this object's before it is created (Kubernetes),
//!    PutMetricFilter (network) — nothing at all when the plan is empty;
//! 6. status (pure); the runtime writes it only if it changed.
//!
//! `check_tests` runs step 2 and `assess` steps 3 and 4; `apply` carries out what they decided
//! (step 5), and `plan` describes it (`preview`).
//!
//! cleanup: wait while an Alarm in the namespace still watches this filter's metric; then
//! DeleteMetricFilter of the filter this object's status records as its own, unless another
//! object's claim on it now takes precedence (its success, or "not found", means the filter is
//! gone: no read before or after).

use super::MetricFilters;
use super::desired::{Desired, FilterKey, desired, put_request};
use super::diff::{Change, FilterPlan, plan};
use super::expectations::{failure, results};
use super::observed::{creation_time, find, observed};
use super::ownership::{Decision, claim, claims_of_others, decide, own_record, record_key};
use super::spec::{
    FilterOwnership, MetricFilter, MetricFilterStatus, OwnershipOrigin, TestResults,
};
use super::status::{Seen, status};
use crate::aws::Location;
use crate::aws::api::Api;
use crate::aws::hard_limits::HardLimitIsFinal;
use crate::aws::metric_filters;
use crate::conditions::Verdict;
use crate::error::{Error, Result};
use crate::field_diff::{FieldChange, changed_fields, changes};
use crate::preview::Preview;
use crate::reason::Reason;
use crate::runtime::notices::Subject;
use crate::runtime::preview::Plannable;
use crate::runtime::{Applied, Failed, ManagedKind, Notice, Reconcile};
use crate::vocabulary::EventReason;
use aws_sdk_cloudwatchlogs::operation::put_metric_filter::PutMetricFilterError;
use aws_sdk_cloudwatchlogs::types::MetricFilter as MetricFilterRecord;
use kube::ResourceExt;
use std::collections::BTreeMap;
use std::sync::Arc;

type Outcome = Result<Applied<MetricFilterStatus>, Failed<MetricFilterStatus>>;

impl ManagedKind for MetricFilter {
    const KIND: &'static str = "MetricFilter";
    type Status = MetricFilterStatus;
    type Shared = MetricFilters;

    crate::common_field_accessors!(MetricFilterStatus);

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

    async fn prefetch(shared: &MetricFilters, location: &Location, objects: &[Arc<Self>]) {
        let mut uses: BTreeMap<String, usize> = BTreeMap::new();
        for o in objects {
            *uses.entry(o.spec.log_group_name.clone()).or_default() += 1;
        }
        if let Err(e) = shared.filters.prefetch(location, &uses).await {
            tracing::debug!(error = %e, "prefetching metric filters failed");
        }
    }

    fn became_ready(&self, shared: &MetricFilters) {
        // Alarms waiting for this filter's metric can go ahead now.
        shared
            .watchers
            .wake(&self.namespace().unwrap_or_default(), &self.name_any());
    }
}

impl Plannable for MetricFilter {
    /// Filters carry no tags: the take-over is recorded in the object's status.
    const ADOPTION_WRITES: &'static str = "recorded in status; nothing is written to AWS";

    async fn preview(&self, r: &Reconcile<'_, Self>) -> Result<Preview> {
        preview(self, r).await
    }
}

async fn apply(obj: &MetricFilter, r: &Reconcile<'_, MetricFilter>) -> Outcome {
    let tests = check_tests(obj, r).await?;
    // Whatever fails after the tests passed keeps their results in status, so a retry (waiting
    // for the log group, say) does not ask TestMetricFilter again.
    apply_tested(obj, r, tests.clone())
        .await
        .map_err(|mut failed| {
            let status = failed
                .status
                .get_or_insert_with(|| r.previous().cloned().unwrap_or_default());
            status.tests = tests;
            failed
        })
}

/// What a reconcile of a filter found in AWS and decided once spec.tests passed, before it
/// writes anything. `apply` carries it out; `plan` describes it.
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
    Observed { found: Option<MetricFilterRecord> },
    /// Another object's claim on the filter outranks this one's: it is given up.
    Yield { message: String },
    /// This object manages the filter.
    Manage(Box<Managed>),
}

/// A filter this object manages (`adopted`: it takes it over now), and the plan that makes AWS
/// match.
struct Managed {
    found: Option<MetricFilterRecord>,
    /// The ownership record to keep.
    record: FilterOwnership,
    /// The origin of this object's own ownership record, if it had one.
    recorded: Option<OwnershipOrigin>,
    adopted: Option<Notice>,
    plan: FilterPlan,
}

/// Steps 3 and 4 of the module, up to the writes.
async fn assess(obj: &MetricFilter, r: &Reconcile<'_, MetricFilter>) -> Result<Assessment> {
    let location = &r.location;
    let d = desired(&obj.spec, &obj.name_any());
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
        .filter(|r| r.names(&d.key.log_group_name, &d.key.filter_name))
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
            adopted.map(|note| Notice::new(EventReason::Adopted, "PutMetricFilter", note)),
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
    Ok(assessment(Step::Manage(Box::new(Managed {
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

/// The rest of `apply`, once spec.tests passed (`tests`: their results).
async fn apply_tested(
    obj: &MetricFilter,
    r: &Reconcile<'_, MetricFilter>,
    tests: Option<TestResults>,
) -> Outcome {
    let location = &r.location;
    let what = r.what.as_str();
    let previous = r.previous();
    let Assessment { d, step } = assess(obj, r).await?;
    let Managed {
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
                    tests,
                    ..Seen::default()
                };
                return Ok(Applied::new(
                    status(&d.key, keep, previous),
                    Verdict::waiting(Reason::NotFound, message),
                ));
            }
            return Err(Error::dependency(message).into());
        }
        Step::Observed { found } => return Ok(observe(r, &d, found.as_ref(), tests)),
        Step::Yield { message } => {
            // Drop the record, so that this object neither claims nor deletes the filter.
            let error = Error::new(Reason::AlreadyExistsUnowned, message);
            let seen = Seen {
                tests,
                ..Seen::default()
            };
            return Err(Failed::with_status(error, status(&d.key, seen, previous)));
        }
        Step::Manage(managed) => *managed,
    };
    let mut notices: Vec<Notice> = adopted.into_iter().collect();
    if let Some(old) = &plan.delete_old
        && delete_owned(obj, r, old).await?
    {
        notices.push(Notice::new(
            EventReason::Replaced,
            "DeleteMetricFilter",
            format!("deleted {old}, which this object owned, to replace it with {what}"),
        ));
    }

    let mut read_back = None;
    if let Some(change) = &plan.change {
        if *change == Change::Create {
            // Metric filters carry no tags: if the process stopped between the Put and the
            // status write, nothing else would tell this object's filter from someone else's,
            // and the restarted operator would refuse its own filter (or, under adoption, take
            // it over as a stranger's). So the ownership record is written first.
            let mut intent = previous.cloned().unwrap_or_default();
            intent.ownership = Some(record.clone());
            intent.tests = tests.clone();
            r.record_intent(intent).await?;
        }
        let client = &r.ctx.aws.clients(location).logs;
        let request = put_request(client.put_metric_filter(), &d)
            .customize()
            .config_override(
                aws_sdk_cloudwatchlogs::config::Builder::default()
                    .retry_classifier(HardLimitIsFinal::<PutMetricFilterError>::new()),
            );
        let result = r
            .ctx
            .aws
            .call(location, Api::PutMetricFilter, request.send())
            .await;
        r.shared.filters.forget(location, &d.key.log_group_name);
        if let Err(e) = result {
            let keep = Seen {
                ownership: Some(record),
                creation_time: None,
                tests,
            };
            return Err(
                put_failed(e, &d.key, location, status(&d.key, keep, previous)).notices(notices),
            );
        }
        // Managed before only if the ownership record was this object's already.
        let subject = Subject {
            confirmed: r.confirmed && recorded.is_some(),
            ..r.subject()
        };
        notices.push(match change {
            Change::Create => subject.created("PutMetricFilter"),
            Change::Update { fields } => subject.changed("PutMetricFilter", fields),
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
        tests,
    };
    Ok(Applied::new(status(&d.key, seen, previous), r.matches_spec()).notices(notices))
}

/// What `apply` would do, described (see [`crate::runtime::preview`]): spec.tests judged as
/// `apply` judges them (a failing test is the refusal the object would show), then the rest.
async fn preview(obj: &MetricFilter, r: &Reconcile<'_, MetricFilter>) -> Result<Preview> {
    check_tests(obj, r).await.map_err(|failed| failed.error)?;
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
            "{old} is deleted first, then {} is created: a metric filter cannot move to another \
             log group",
            d.key
        ),
    )
}

/// spec.tests, judged from TestMetricFilter's answer. The results in status are reused while
/// they are for the current generation: the tests depend on the spec alone, so an idle resync
/// asks AWS nothing. A failing test stops the reconcile before anything is written, with the
/// results in status.
async fn check_tests(
    obj: &MetricFilter,
    r: &Reconcile<'_, MetricFilter>,
) -> Result<Option<TestResults>, Failed<MetricFilterStatus>> {
    let tests = &obj.spec.tests;
    if tests.is_empty() {
        return Ok(None);
    }
    let generation = obj.metadata.generation.unwrap_or_default();
    let previous = r.previous();
    let recorded = previous
        .and_then(|p| p.tests.clone())
        .filter(|t| t.observed_generation == generation && t.results.len() == tests.len());
    let results = match recorded {
        Some(results) => results,
        None => {
            let messages: Vec<String> = tests.iter().map(|t| t.log_event.clone()).collect();
            let matches =
                metric_filters::test(&r.ctx.aws, &r.location, &obj.spec.filter_pattern, &messages)
                    .await?;
            let metric_value = obj
                .spec
                .metric_transformations
                .first()
                .map(|t| t.metric_value.as_str())
                .unwrap_or_default();
            results(tests, metric_value, &matches, generation)
        }
    };
    if let Some(error) = failure(tests, &results) {
        let mut status = previous.cloned().unwrap_or_default();
        status.tests = Some(results);
        return Err(Failed::with_status(error, status));
    }
    Ok(Some(results))
}

/// ObserveOnly: report the filter and how it differs from the spec; never write.
fn observe(
    r: &Reconcile<'_, MetricFilter>,
    d: &Desired,
    found: Option<&MetricFilterRecord>,
    tests: Option<TestResults>,
) -> Applied<MetricFilterStatus> {
    let previous = r.previous();
    let seen = Seen {
        ownership: previous.and_then(|p| p.ownership.clone()),
        creation_time: found.and_then(creation_time),
        tests,
    };
    let verdict = match found {
        None => r.not_found(),
        Some(f) => r.observed(&changed_fields(&d.config, &observed(f))),
    };
    Applied::new(status(&d.key, seen, previous), verdict)
}

/// Turns a failed PutMetricFilter into the failure to report; `keep` is the status to write
/// when the Put may have been applied.
fn put_failed(
    e: Error,
    key: &FilterKey,
    location: &Location,
    keep: MetricFilterStatus,
) -> Failed<MetricFilterStatus> {
    match e.reason {
        // The log group was deleted since it was listed.
        Reason::NotFound => Error::dependency(format!(
            "log group {:?} does not exist in {location}; {key} is created once it exists ({})",
            key.log_group_name, e.message
        ))
        .into(),
        // CloudWatch Logs allows 100 metric filters per log group, a hard limit.
        Reason::LimitExceeded => Error::new(
            Reason::LimitExceeded,
            format!(
                "cannot create {key}: CloudWatch Logs refused it with LimitExceededException \
                 ({}). A log group holds at most 100 metric filters: remove one of them or \
                 filter another log group",
                e.message
            ),
        )
        .into(),
        // No answer from AWS (a timeout, a lost connection): the Put may have been applied. The
        // ownership record is kept, so that a filter created this way is recognised as ours.
        _ if e.aws_code.is_none() && !e.is_terminal() => Failed::with_status(e, keep),
        _ => e.into(),
    }
}

/// Deletes `key`, a filter this object's status records as its own, unless another object's
/// claim on it now takes precedence. A filter (or log group) already gone counts as deleted.
/// Returns whether a delete was sent.
async fn delete_owned(
    obj: &MetricFilter,
    r: &Reconcile<'_, MetricFilter>,
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
        .delete_metric_filter()
        .log_group_name(&key.log_group_name)
        .filter_name(&key.filter_name)
        .send();
    let result = r
        .ctx
        .aws
        .call(location, Api::DeleteMetricFilter, request)
        .await;
    r.shared.filters.forget(location, &key.log_group_name);
    match result {
        Ok(_) => Ok(true),
        Err(e) if e.reason == Reason::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

async fn cleanup(obj: &MetricFilter, r: &Reconcile<'_, MetricFilter>) -> Result<()> {
    // An alarm still watching this filter's metric is deleted first (as a composite is before
    // its children). Before the alarms' cache holds its first list, "none" proves nothing.
    let watchers = &r.shared.watchers;
    watchers.synced().wait().await;
    let watching = watchers.watching(&obj.namespace().unwrap_or_default(), &obj.name_any());
    if !watching.is_empty() {
        return Err(Error::dependency(format!(
            "{} is still watched by Alarm {}; it is deleted once they no longer name it in \
             metricFilterRef",
            r.what,
            watching.join(", ")
        )));
    }
    // Only a filter this object recorded as its own; one it never created or adopted stays.
    // DeleteMetricFilter's success means the filter is gone: no read follows.
    let Some(key) = own_record(obj).map(record_key) else {
        return Ok(());
    };
    delete_owned(obj, r, &key).await?;
    Ok(())
}
