//! The LogSubscription controller: a CloudWatch Logs filter, reconciled along the path every
//! filter kind shares ([`crate::log_filter::apply`]), with what is a subscription's own:
//!
//! - the desired filter: a destinationRef is resolved to the LogDestination's ARN (cache),
//!   waiting with `DependencyNotReady` while it is missing or not Ready;
//! - before a create, the per-log-group filter limit (pure, from the log group's listing);
//! - PutSubscriptionFilter, DeleteSubscriptionFilter (their fields; the shared path sends them);
//! - a failed Put: an answer that proves nothing was created (the log group is gone, the limit,
//!   a terminal refusal) withdraws the ownership intent recorded before it; a test-message
//!   failure is retried for a grace period counted from its first occurrence
//!   (`status.testMessageFailingSince`); anything else keeps the intent.
//!
//! cleanup: the shared path's. A LogDestination this subscription sent to waits for it, and is
//! woken once it is gone.

use super::desired::{Desired, FilterConfig, NOUN, desired, desired_with, put_request};
use super::destination_ref::destination_arn;
use super::spec::{FilterOwnership, LogSubscription, LogSubscriptionStatus};
use super::{LogSubscriptions, limit, test_message};
use crate::aws::Location;
use crate::aws::api::Api;
use crate::aws::hard_limits::final_logs_limit;
use crate::error::{Error, Result};
use crate::log_filter::status::status;
use crate::log_filter::{self, FilterKey, LogFilterKind, PutFailure, Seen, Sent};
use crate::preview::Preview;
use crate::reason::Reason;
use crate::runtime::preview::Plannable;
use crate::runtime::{Applied, Failed, ManagedKind, Reconcile};
use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::operation::delete_subscription_filter::DeleteSubscriptionFilterError;
use aws_sdk_cloudwatchlogs::operation::put_subscription_filter::PutSubscriptionFilterError;
use aws_sdk_cloudwatchlogs::types::SubscriptionFilter;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::runtime::reflector::ObjectRef;
use std::sync::Arc;

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

    async fn apply(
        &self,
        r: &Reconcile<'_, Self>,
    ) -> Result<Applied<LogSubscriptionStatus>, Failed<LogSubscriptionStatus>> {
        // The test-message failure time is kept only by a failed Put.
        log_filter::apply(self, r, None, log_filter::deciding(self, r)).await
    }

    async fn cleanup(&self, r: &Reconcile<'_, Self>) -> Result<()> {
        log_filter::cleanup(self, r).await
    }

    /// Filters are read per log group; a chunk's log groups are read once each.
    const RESYNC_CHUNK: usize = 50;

    async fn prefetch(shared: &LogSubscriptions, location: &Location, objects: &[Arc<Self>]) {
        log_filter::prefetch(shared, location, objects).await;
    }

    fn deleted(&self, shared: &LogSubscriptions) {
        // The LogDestination this subscription sent to may be waiting to be deleted.
        if let Some(reference) = &self.spec.destination_ref {
            let namespace = self.namespace().unwrap_or_default();
            shared.wake_destination(ObjectRef::new(&reference.name).within(&namespace));
        }
    }
}

impl Plannable for LogSubscription {
    /// Filters carry no tags: the take-over is recorded in the object's status.
    const ADOPTION_WRITES: &'static str = "recorded in status; nothing is written to AWS";

    async fn preview(&self, r: &Reconcile<'_, Self>) -> Result<Preview> {
        log_filter::preview(self, r).await
    }
}

impl LogFilterKind for LogSubscription {
    crate::log_filter_accessors!(SubscriptionFilter);
    type Config = FilterConfig;
    const NOUN: &'static str = NOUN;
    const PUT: Api = Api::PutSubscriptionFilter;
    const DELETE: Api = Api::DeleteSubscriptionFilter;
    type PutError = PutSubscriptionFilterError;
    type DeleteError = DeleteSubscriptionFilterError;
    const MOVE: &'static str =
        "a filter cannot move to another log group, and a log group holds only a few filters";

    async fn desired_filter(&self, r: &Reconcile<'_, Self>) -> Result<Desired> {
        let destination = destination_arn(r.shared, self, r.location.region()).await?;
        Ok(desired_with(&self.spec, &self.name_any(), &destination))
    }

    fn room_for(
        r: &Reconcile<'_, Self>,
        filters: &[SubscriptionFilter],
        key: &FilterKey,
        leaving: Option<&FilterKey>,
    ) -> Result<()> {
        limit::check(filters, key, leaving, r.shared.filter_limit)
    }

    async fn put(client: &Client, d: &Desired) -> Sent<PutSubscriptionFilterError> {
        let request = put_request(client.put_subscription_filter(), d)
            .customize()
            .config_override(final_logs_limit::<PutSubscriptionFilterError>());
        request.send().await?;
        Ok(())
    }

    async fn delete(client: &Client, key: &FilterKey) -> Sent<DeleteSubscriptionFilterError> {
        let request = client
            .delete_subscription_filter()
            .log_group_name(&key.log_group_name)
            .filter_name(&key.filter_name);
        request.send().await?;
        Ok(())
    }

    fn intent(
        previous: Option<&LogSubscriptionStatus>,
        record: FilterOwnership,
        _: &Option<Time>,
    ) -> LogSubscriptionStatus {
        LogSubscriptionStatus {
            ownership: Some(record),
            ..previous.cloned().unwrap_or_default()
        }
    }

    fn put_failed(
        r: &Reconcile<'_, Self>,
        e: Error,
        put: PutFailure<'_, Self>,
    ) -> Failed<LogSubscriptionStatus> {
        put_failed(e, r.obj, put, r.shared.filter_limit)
    }
}

/// Turns a failed PutSubscriptionFilter into the failure to report, with the status it must
/// keep (`limit`: the configured filters per log group). An answer that proves the Put created
/// nothing (the log group is gone, the limit, a terminal refusal) withdraws the intent recorded
/// before it: the status from before this reconcile is written back. Any other failure keeps
/// the intent.
fn put_failed(
    e: Error,
    obj: &LogSubscription,
    p: PutFailure<'_, LogSubscription>,
    limit: u32,
) -> Failed<LogSubscriptionStatus> {
    let previous = obj.status.as_ref();
    let key = &p.d.key;
    let refused = |error: Error| Failed::with_status(error, previous.cloned().unwrap_or_default());
    match e.reason {
        // The log group was deleted since it was listed.
        Reason::NotFound => {
            return refused(Error::dependency(format!(
                "log group {:?} does not exist in {}; {key} is created once it exists ({})",
                key.log_group_name, p.location, e.message
            )));
        }
        // AWS's own count (the configured limit may be higher than the account's).
        Reason::LimitExceeded => {
            let others = limit::others(p.filters, key, p.plan.delete_old.as_ref());
            return refused(limit::refused(key, &others, limit));
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
            own: Some(since),
        };
        return Failed::with_status(failure, status(key, seen, previous));
    }
    if e.is_terminal() {
        return refused(e);
    }
    // Throttling, a 5xx, a timeout or a lost connection may come after an attempt that AWS
    // applied: the ownership record is kept, so that a filter created this way is recognised as
    // ours (and deleted with this object).
    let seen = Seen {
        ownership: Some(p.record),
        creation_time: None,
        own: previous.and_then(|s| s.test_message_failing_since.clone()),
    };
    Failed::with_status(e, status(key, seen, previous))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log_filter::{Change, FilterPlan, OwnershipOrigin};
    use crate::log_subscription::desired::tests::firehose_spec;

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
        let context = PutFailure {
            d: &d,
            record,
            filters: &[],
            plan: &plan,
            location: &Location::new(None, "us-east-1"),
            own: None,
        };
        let failed = put_failed(e, &obj, context, 2);
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
            Error::answered(Reason::Throttled, "ThrottlingException"),
            Error::answered(Reason::AwsUnavailable, "ServiceUnavailableException"),
            Error::answered(Reason::AwsUnavailable, "InternalFailure"),
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
            Error::answered(Reason::LimitExceeded, "LimitExceededException"),
            Error::answered(Reason::NotFound, "ResourceNotFoundException"),
            Error::answered(Reason::InvalidSpec, "InvalidParameterException"),
        ] {
            let (_, status) = after_failed_create(e.clone());
            let status = status.expect("the status from before is written back");
            assert_eq!(status.ownership, None, "{e}");
        }
        let (reason, _) = after_failed_create(Error::answered(
            Reason::NotFound,
            "ResourceNotFoundException",
        ));
        assert_eq!(
            reason,
            Reason::DependencyNotReady,
            "the log group went away"
        );
    }
}
