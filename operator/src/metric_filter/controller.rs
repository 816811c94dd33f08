//! The MetricFilter controller: a CloudWatch Logs filter, reconciled along the path every
//! filter kind shares ([`crate::log_filter::apply`]), with what is a metric filter's own:
//!
//! - first, spec.tests through TestMetricFilter when the spec changed since the results in
//!   status (network), judged (pure): a failing test is terminal and nothing is written; the
//!   results are kept in status whatever happens next;
//! - PutMetricFilter, DeleteMetricFilter (their fields; the shared path sends them);
//! - a failed Put: an answer that proves nothing was created (the log group is gone, the limit, a
//!   terminal refusal) withdraws the ownership intent recorded before it; any other failure
//!   (throttling, a 5xx, a timeout) keeps it, as a subscription filter's does.
//!
//! cleanup: wait while an Alarm in the namespace still watches this filter's metric; then the
//! shared path's.

use super::MetricFilters;
use super::desired::{Desired, FilterConfig, NOUN, desired, put_request};
use super::expectations::{failure, results};
use super::spec::{FilterOwnership, MetricFilter, MetricFilterStatus, TestResults};
use crate::aws::Location;
use crate::aws::api::Api;
use crate::aws::hard_limits::final_logs_limit;
use crate::aws::metric_filters;
use crate::error::{Error, Result};
use crate::log_filter::status::status;
use crate::log_filter::{self, FilterKey, LogFilterKind, PutFailure, Seen, Sent};
use crate::preview::Preview;
use crate::reason::Reason;
use crate::runtime::preview::Plannable;
use crate::runtime::{Applied, Failed, ManagedKind, Reconcile};
use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::operation::delete_metric_filter::DeleteMetricFilterError;
use aws_sdk_cloudwatchlogs::operation::put_metric_filter::PutMetricFilterError;
use aws_sdk_cloudwatchlogs::types::MetricFilter as MetricFilterRecord;
use kube::ResourceExt;
use std::sync::Arc;

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

    async fn apply(
        &self,
        r: &Reconcile<'_, Self>,
    ) -> Result<Applied<MetricFilterStatus>, Failed<MetricFilterStatus>> {
        // Before the tests, which wait for TestMetricFilter's rate limit.
        let deciding = log_filter::deciding(self, r);
        let tests = check_tests(self, r).await?;
        // Whatever fails after the tests passed keeps their results in status, so a retry
        // (waiting for the log group, say) does not ask TestMetricFilter again.
        log_filter::apply(self, r, tests.clone(), deciding)
            .await
            .map_err(|mut failed| {
                let status = failed
                    .status
                    .get_or_insert_with(|| r.previous().cloned().unwrap_or_default());
                status.tests = tests;
                failed
            })
    }

    async fn cleanup(&self, r: &Reconcile<'_, Self>) -> Result<()> {
        cleanup(self, r).await
    }

    /// Filters are read per log group; a chunk's log groups are read once each.
    const RESYNC_CHUNK: usize = 50;

    async fn prefetch(shared: &MetricFilters, location: &Location, objects: &[Arc<Self>]) {
        log_filter::prefetch(shared, location, objects).await;
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

    /// spec.tests judged as `apply` judges them (a failing test is the refusal the object would
    /// show), then the rest.
    async fn preview(&self, r: &Reconcile<'_, Self>) -> Result<Preview> {
        check_tests(self, r).await.map_err(|failed| failed.error)?;
        log_filter::preview(self, r).await
    }
}

impl LogFilterKind for MetricFilter {
    crate::log_filter_accessors!(MetricFilterRecord);
    type Config = FilterConfig;
    const NOUN: &'static str = NOUN;
    const PUT: Api = Api::PutMetricFilter;
    const DELETE: Api = Api::DeleteMetricFilter;
    type PutError = PutMetricFilterError;
    type DeleteError = DeleteMetricFilterError;
    const MOVE: &'static str = "a metric filter cannot move to another log group";

    async fn desired_filter(&self, _: &Reconcile<'_, Self>) -> Result<Desired> {
        Ok(desired(&self.spec, &self.name_any()))
    }

    async fn put(client: &Client, d: &Desired) -> Sent<PutMetricFilterError> {
        let request = put_request(client.put_metric_filter(), d)
            .customize()
            .config_override(final_logs_limit::<PutMetricFilterError>());
        request.send().await?;
        Ok(())
    }

    async fn delete(client: &Client, key: &FilterKey) -> Sent<DeleteMetricFilterError> {
        let request = client
            .delete_metric_filter()
            .log_group_name(&key.log_group_name)
            .filter_name(&key.filter_name);
        request.send().await?;
        Ok(())
    }

    fn intent(
        previous: Option<&MetricFilterStatus>,
        record: FilterOwnership,
        tests: &Option<TestResults>,
    ) -> MetricFilterStatus {
        MetricFilterStatus {
            ownership: Some(record),
            tests: tests.clone(),
            ..previous.cloned().unwrap_or_default()
        }
    }

    fn put_failed(
        r: &Reconcile<'_, Self>,
        e: Error,
        put: PutFailure<'_, Self>,
    ) -> Failed<MetricFilterStatus> {
        let key = &put.d.key;
        let previous = r.previous();
        let seen = |ownership| Seen {
            ownership,
            creation_time: None,
            own: put.own.clone(),
        };
        let keep = status(key, seen(Some(put.record.clone())), previous);
        let withdrawn = status(
            key,
            seen(previous.and_then(|p| p.ownership.clone())),
            previous,
        );
        put_failed(e, key, put.location, keep, withdrawn)
    }
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

/// Turns a failed PutMetricFilter into the failure to report; `keep` is the status to write
/// when the Put may have been applied.
/// Turns a failed PutMetricFilter into the failure to report, with the status it must keep:
/// `keep` holds the ownership intent recorded before the Put, `withdrawn` the ownership record
/// from before this reconcile. An answer that proves the Put created nothing (the log group is
/// gone, the limit, a terminal refusal) withdraws the intent; any other failure keeps it.
fn put_failed(
    e: Error,
    key: &FilterKey,
    location: &Location,
    keep: MetricFilterStatus,
    withdrawn: MetricFilterStatus,
) -> Failed<MetricFilterStatus> {
    let refused = |error: Error| Failed::with_status(error, withdrawn);
    match e.reason {
        // The log group was deleted since it was listed.
        Reason::NotFound => refused(Error::dependency(format!(
            "log group {:?} does not exist in {location}; {key} is created once it exists ({})",
            key.log_group_name, e.message
        ))),
        // CloudWatch Logs allows 100 metric filters per log group, a hard limit.
        Reason::LimitExceeded => refused(Error::new(
            Reason::LimitExceeded,
            format!(
                "cannot create {key}: CloudWatch Logs refused it with LimitExceededException \
                 ({}). A log group holds at most 100 metric filters: remove one of them or \
                 filter another log group",
                e.message
            ),
        )),
        _ if e.is_terminal() => refused(e),
        // Throttling, a 5xx, a timeout or a lost connection may come after an attempt that AWS
        // applied: the ownership record is kept, so that a filter created this way is
        // recognised as ours (and deleted with this object).
        _ => Failed::with_status(e, keep),
    }
}

async fn cleanup(obj: &MetricFilter, r: &Reconcile<'_, MetricFilter>) -> Result<()> {
    // An alarm still watching this filter's metric is deleted first (as a composite is before
    // its children), unless it is leaving too: then both go at once. Before the alarms' cache
    // holds its first list, "none" proves nothing.
    let watchers = &r.shared.watchers;
    watchers.synced().wait().await;
    let holding = watchers.holding(&obj.namespace().unwrap_or_default(), &obj.name_any());
    if !holding.is_empty() {
        return Err(Error::dependency(format!(
            "{} is still watched by Alarm {}; it is deleted once they no longer name it in \
             metricFilterRef or are being deleted",
            r.what,
            holding.join(", ")
        )));
    }
    log_filter::cleanup(obj, r).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> FilterKey {
        FilterKey {
            noun: NOUN,
            log_group_name: "/app".into(),
            filter_name: "errors".into(),
        }
    }

    /// The status a Put failing with `e` leaves, for a create whose intent names the filter.
    fn after_failed_create(e: Error) -> (Reason, Option<FilterOwnership>) {
        let intent = FilterOwnership {
            origin: crate::log_filter::OwnershipOrigin::Created,
            owner_uid: "u-1".into(),
            log_group_name: "/app".into(),
            filter_name: "errors".into(),
        };
        let keep = MetricFilterStatus {
            ownership: Some(intent),
            ..Default::default()
        };
        let failed = put_failed(
            e,
            &key(),
            &Location::new(None, "us-east-1"),
            keep,
            MetricFilterStatus::default(),
        );
        let status = failed
            .status
            .expect("a failed create always names its status");
        (failed.error.reason, status.ownership)
    }

    #[test]
    fn a_put_that_may_have_been_applied_keeps_the_intent() {
        for e in [
            Error::answered(Reason::Throttled, "ThrottlingException"),
            Error::answered(Reason::AwsUnavailable, "ServiceUnavailableException"),
            Error::new(Reason::AwsUnavailable, "timed out"),
        ] {
            let (reason, ownership) = after_failed_create(e.clone());
            assert_eq!(reason, e.reason);
            assert!(ownership.is_some_and(|o| o.owner_uid == "u-1"), "{e}");
        }
    }

    #[test]
    fn a_put_refused_outright_withdraws_the_intent() {
        for e in [
            Error::answered(Reason::LimitExceeded, "LimitExceededException"),
            Error::answered(Reason::NotFound, "ResourceNotFoundException"),
            Error::answered(Reason::InvalidSpec, "InvalidParameterException"),
        ] {
            let (_, ownership) = after_failed_create(e.clone());
            assert_eq!(ownership, None, "{e}");
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
