//! The LogSubscription controller: the thin shell that runs the pure steps against AWS.
//!
//! apply:
//! 1. desired identity and filter from the spec (pure);
//! 2. the log group's filters through the batched DescribeSubscriptionFilters reader (network);
//!    a missing log group is `DependencyNotReady`;
//! 3. ownership from this object's status record and the other LogSubscription objects' records
//!    (pure, from the controller's cache), the plan and the per-log-group limit (pure);
//! 4. as planned: DeleteSubscriptionFilter of the filter under its previous identity (network),
//!    a status write recording the filter as this object's before it is created (Kubernetes),
//!    PutSubscriptionFilter (network) — nothing at all when the plan is empty;
//! 5. status (pure); the runtime writes it only if it changed.
//!
//! cleanup: DeleteSubscriptionFilter of the filter this object's status records as its own,
//! unless another object's claim on it now takes precedence, then a describe to confirm it is
//! gone.

use super::desired::{Desired, FilterKey, desired, put_request};
use super::diff::{Change, FilterPlan, plan};
use super::observed::{creation_time, find, observed};
use super::ownership::{Decision, claim_of, claims_of_others, decide, own_record, record_key};
use super::spec::{FilterOwnership, LogSubscription, LogSubscriptionStatus, OwnershipOrigin};
use super::status::{Seen, failure_notice, status};
use super::{limit, test_message};
use crate::aws::api::Api;
use crate::aws::hard_limits::HardLimitIsFinal;
use crate::common_fields::ManagementPolicy;
use crate::conditions::Verdict;
use crate::error::{Error, Result};
use crate::field_diff::changed_fields;
use crate::reason::Reason;
use crate::runtime::context::Context;
use crate::runtime::lifecycle::{change_notice, observed_message, ownership_confirmed};
use crate::runtime::status_write::write_status;
use crate::runtime::{Applied, ManagedKind, Notice};
use aws_sdk_cloudwatchlogs::operation::put_subscription_filter::PutSubscriptionFilterError;
use aws_sdk_cloudwatchlogs::types::SubscriptionFilter;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use std::collections::BTreeMap;
use std::sync::Arc;

impl ManagedKind for LogSubscription {
    const KIND: &'static str = "LogSubscription";
    type Status = LogSubscriptionStatus;

    crate::common_field_accessors!(LogSubscriptionStatus);

    async fn apply(&self, ctx: &Context, region: &str) -> Result<Applied<LogSubscriptionStatus>> {
        apply(self, ctx, region).await
    }

    async fn cleanup(&self, ctx: &Context, region: &str) -> Result<()> {
        cleanup(self, ctx, region).await
    }

    /// Filters are read per log group; a chunk's log groups are read once each.
    const RESYNC_CHUNK: usize = 50;

    async fn prefetch(ctx: &Context, region: &str, objects: &[Arc<Self>]) {
        let mut uses: BTreeMap<String, usize> = BTreeMap::new();
        for o in objects {
            *uses.entry(o.spec.log_group_name.clone()).or_default() += 1;
        }
        if let Err(e) = ctx.subscription_filters.prefetch(region, &uses).await {
            tracing::debug!(error = %e, "prefetching subscription filters failed");
        }
    }
}

async fn apply(
    obj: &LogSubscription,
    ctx: &Context,
    region: &str,
) -> Result<Applied<LogSubscriptionStatus>> {
    let d = desired(&obj.spec, &obj.name_any());
    let what = d.key.to_string();
    let previous = obj.status.as_ref();
    let observe_only = obj.spec.common.management_policy == ManagementPolicy::ObserveOnly;

    let Some(filters) = ctx
        .subscription_filters
        .filters(region, &d.key.log_group_name)
        .await?
    else {
        let missing = format!(
            "log group {:?} does not exist in {region}",
            d.key.log_group_name
        );
        if observe_only {
            let keep = Seen {
                ownership: previous.and_then(|p| p.ownership.clone()),
                ..Seen::default()
            };
            return Ok(Applied::new(
                status(&d.key, keep, previous),
                Verdict::waiting(
                    Reason::NotFound,
                    format!("{missing}, so neither does {what}"),
                ),
            ));
        }
        return Err(Error::dependency(format!(
            "{missing}; {what} is created once it exists"
        )));
    };
    let found = find(&filters, &d.key.filter_name);
    if observe_only {
        return Ok(observe(&d, found, previous, region));
    }

    // Ownership: this object's record, weighed against the records of the other objects. The
    // controller starts reconciling only once its cache holds every object, so none is missed.
    let objects = ctx.log_subscriptions.state();
    let others = claims_of_others(objects.iter().map(|o| o.as_ref()), obj, region, &d.key);
    let record = own_record(obj);
    let recorded = record.filter(|r| record_key(r) == d.key).map(|r| r.origin);
    let taking = if found.is_some() || !others.is_empty() {
        OwnershipOrigin::Adopted
    } else {
        OwnershipOrigin::Created
    };
    let me = claim_of(obj, region, &d.key, Some(recorded.unwrap_or(taking)))
        .expect("a claim with an origin always exists");
    let mut notices = Vec::new();
    let origin = match decide(
        &what,
        recorded,
        &me,
        obj.spec.common.adoption,
        &others,
        found.is_some(),
    ) {
        Decision::Manage { origin, adopted } => {
            if let Some(note) = adopted {
                notices.push(Notice::normal("Adopted", "PutSubscriptionFilter", note));
            }
            origin
        }
        Decision::Yield { message } => {
            // Drop the record, so that this object neither claims nor deletes the filter.
            let verdict = Verdict::failed(Reason::AlreadyExistsUnowned, message);
            return Ok(failed(
                status(&d.key, Seen::default(), previous),
                verdict,
                previous,
                notices,
            ));
        }
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

    let owned = own_record(obj).map(record_key);
    let plan = plan(
        &d.key,
        &d.config,
        owned.as_ref(),
        found.map(observed).as_ref(),
    );
    let limit = ctx.config.subscription_filter_limit;
    if plan.change == Some(Change::Create) {
        // Checked before the old filter is deleted, so a move that cannot complete leaves the
        // subscription where it was.
        limit::check(&filters, &d.key, plan.delete_old.as_ref(), limit)?;
    }
    if let Some(old) = &plan.delete_old
        && delete_owned(obj, ctx, region, old).await?
    {
        notices.push(Notice::normal(
            "Replaced",
            "DeleteSubscriptionFilter",
            format!("deleted {old}, which this object owned, to replace it with {what}"),
        ));
    }

    let mut read_back = None;
    if let Some(change) = &plan.change {
        if *change == Change::Create {
            record_before_create(obj, ctx, region, &d.key, &record).await?;
        }
        let client = &ctx.aws.clients(region).logs;
        let request = put_request(client.put_subscription_filter(), &d)
            .customize()
            .config_override(
                aws_sdk_cloudwatchlogs::config::Builder::default()
                    .retry_classifier(HardLimitIsFinal::<PutSubscriptionFilterError>::new()),
            );
        let result = ctx
            .aws
            .call(region, Api::PutSubscriptionFilter, request.send())
            .await;
        ctx.subscription_filters
            .forget(region, &d.key.log_group_name);
        if let Err(e) = result {
            return put_failed(
                e,
                obj,
                PutContext {
                    d: &d,
                    record,
                    filters: &filters,
                    plan: &plan,
                    limit,
                    region,
                },
                notices,
            );
        }
        let confirmed = recorded.is_some()
            && ownership_confirmed(previous.map(|p| &p.common), &d.key.filter_name);
        let spec_changed =
            previous.and_then(|p| p.common.observed_generation) != obj.metadata.generation;
        notices.push(match change {
            Change::Create if confirmed => Notice::warning(
                "Recreated",
                "PutSubscriptionFilter",
                format!("{what} was deleted outside the operator and has been created again"),
            ),
            Change::Create => Notice::normal(
                "Created",
                "PutSubscriptionFilter",
                format!("created {what} in {region}"),
            ),
            Change::Update { fields } => {
                change_notice(confirmed && !spec_changed, "PutSubscriptionFilter", fields)
            }
        });
        if *change == Change::Create {
            // Only for the creation time in status; a failed read leaves it for the next resync.
            read_back = ctx
                .subscription_filters
                .filters(region, &d.key.log_group_name)
                .await
                .ok()
                .flatten();
        }
    }

    let current = read_back
        .as_deref()
        .and_then(|fs| find(fs, &d.key.filter_name))
        .or(found);
    let seen = Seen {
        ownership: Some(record),
        creation_time: current.and_then(creation_time),
        test_message_failing_since: None,
    };
    Ok(Applied {
        status: status(&d.key, seen, previous),
        verdict: Verdict::ready(Reason::Available, format!("{what} matches the spec")),
        notices,
    })
}

/// ObserveOnly: report the filter and how it differs from the spec; never write.
fn observe(
    d: &Desired,
    found: Option<&SubscriptionFilter>,
    previous: Option<&LogSubscriptionStatus>,
    region: &str,
) -> Applied<LogSubscriptionStatus> {
    let what = d.key.to_string();
    let seen = Seen {
        ownership: previous.and_then(|p| p.ownership.clone()),
        creation_time: found.and_then(creation_time),
        test_message_failing_since: None,
    };
    let verdict = match found {
        None => Verdict::waiting(
            Reason::NotFound,
            format!("{what} does not exist in {region}"),
        ),
        Some(f) => Verdict::ready(
            Reason::Observed,
            observed_message(&what, &changed_fields(&d.config, &observed(f))),
        ),
    };
    Applied::new(status(&d.key, seen, previous), verdict)
}

/// A failure reported with the status it must keep, announced once.
fn failed(
    status: LogSubscriptionStatus,
    verdict: Verdict,
    previous: Option<&LogSubscriptionStatus>,
    mut notices: Vec<Notice>,
) -> Applied<LogSubscriptionStatus> {
    notices.extend(failure_notice(previous, &verdict));
    Applied {
        status,
        verdict,
        notices,
    }
}

/// What a failed Put is judged against.
struct PutContext<'a> {
    d: &'a Desired,
    record: FilterOwnership,
    filters: &'a [SubscriptionFilter],
    plan: &'a FilterPlan,
    limit: u32,
    region: &'a str,
}

/// Turns a failed PutSubscriptionFilter into the error or failed status to report.
fn put_failed(
    e: Error,
    obj: &LogSubscription,
    p: PutContext<'_>,
    notices: Vec<Notice>,
) -> Result<Applied<LogSubscriptionStatus>> {
    let previous = obj.status.as_ref();
    let key = &p.d.key;
    match e.reason {
        // The log group was deleted since it was listed.
        Reason::NotFound => {
            return Err(Error::dependency(format!(
                "log group {:?} does not exist in {}; {key} is created once it exists ({})",
                key.log_group_name, p.region, e.message
            )));
        }
        // AWS's own count (the configured limit may be higher than the account's).
        Reason::LimitExceeded => {
            let others = limit::others(p.filters, key, p.plan.delete_old.as_ref());
            return Err(limit::refused(key, &others, p.limit));
        }
        _ => {}
    }
    if test_message::is_test_message_failure(&e) {
        let same_generation =
            previous.and_then(|s| s.common.observed_generation) == obj.metadata.generation;
        let since = previous
            .filter(|_| same_generation)
            .and_then(|s| s.test_message_failing_since.as_ref());
        let (since, verdict) = test_message::verdict(&e, since, Timestamp::now());
        let seen = Seen {
            ownership: Some(p.record),
            creation_time: None,
            test_message_failing_since: Some(since),
        };
        return Ok(failed(
            status(key, seen, previous),
            verdict,
            previous,
            notices,
        ));
    }
    if e.aws_code.is_none() && !e.is_terminal() {
        // No answer from AWS (a timeout, a lost connection): the Put may have been applied. The
        // ownership record is kept, so that a filter created this way is recognised as ours.
        let seen = Seen {
            ownership: Some(p.record),
            creation_time: None,
            test_message_failing_since: previous.and_then(|s| s.test_message_failing_since.clone()),
        };
        let verdict = Verdict::failed(e.reason, e.message);
        return Ok(failed(
            status(key, seen, previous),
            verdict,
            previous,
            notices,
        ));
    }
    Err(e)
}

/// Records the filter as this object's in status before PutSubscriptionFilter creates it.
/// Filters carry no tags: if the process stopped between the Put and the runtime's status write,
/// nothing else would tell this object's filter from someone else's, and the restarted operator
/// would refuse its own filter (or, under adoption, take it over as a stranger's).
async fn record_before_create(
    obj: &LogSubscription,
    ctx: &Context,
    region: &str,
    key: &FilterKey,
    record: &FilterOwnership,
) -> Result<()> {
    let mut intent = obj.status.clone().unwrap_or_default();
    intent.ownership = Some(record.clone());
    intent.common.region = Some(region.to_string());
    intent.common.aws_name = Some(key.filter_name.clone());
    let api = kube::Api::namespaced(ctx.client.clone(), &obj.namespace().unwrap_or_default());
    write_status(ctx, &api, obj, &intent).await?;
    Ok(())
}

/// Deletes `key`, a filter this object's status records as its own, unless another object's
/// claim on it now takes precedence. A filter (or log group) already gone counts as deleted.
/// Returns whether a delete was sent.
async fn delete_owned(
    obj: &LogSubscription,
    ctx: &Context,
    region: &str,
    key: &FilterKey,
) -> Result<bool> {
    let origin = own_record(obj).map_or(OwnershipOrigin::Created, |r| r.origin);
    let objects = ctx.log_subscriptions.state();
    let others = claims_of_others(objects.iter().map(|o| o.as_ref()), obj, region, key);
    let me =
        claim_of(obj, region, key, Some(origin)).expect("a claim with an origin always exists");
    if let Some(winner) = others.iter().find(|c| c.outranks(&me)) {
        tracing::info!(filter = %key, owner = %winner.object, "not deleting a filter another object now manages");
        return Ok(false);
    }
    let client = &ctx.aws.clients(region).logs;
    let request = client
        .delete_subscription_filter()
        .log_group_name(&key.log_group_name)
        .filter_name(&key.filter_name)
        .send();
    let result = ctx
        .aws
        .call(region, Api::DeleteSubscriptionFilter, request)
        .await;
    ctx.subscription_filters.forget(region, &key.log_group_name);
    match result {
        Ok(_) => Ok(true),
        Err(e) if e.reason == Reason::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

async fn cleanup(obj: &LogSubscription, ctx: &Context, region: &str) -> Result<()> {
    // Only a filter this object recorded as its own; one it never created or adopted stays.
    let Some(key) = own_record(obj).map(record_key) else {
        return Ok(());
    };
    if !delete_owned(obj, ctx, region, &key).await? {
        return Ok(());
    }
    let still_there = ctx
        .subscription_filters
        .filters(region, &key.log_group_name)
        .await?
        .is_some_and(|fs| find(&fs, &key.filter_name).is_some());
    if still_there {
        return Err(Error::new(
            Reason::AwsUnavailable,
            format!("{key} is still listed after DeleteSubscriptionFilter; checking again"),
        ));
    }
    Ok(())
}
