//! Batched deletion of CloudWatch alarms.
//!
//! DeleteAlarms takes up to 100 names per call, with a default quota of 3 calls per second:
//! deleting a thousand alarms one per call takes over five minutes, in batches a few seconds.
//! Deletions of metric alarms share one call per region through a [`Batcher`]: while
//! DeleteAlarms' rate limit is saturated, names keep joining the pending call. Composite alarms
//! are deleted alone: AWS accepts at most one composite per call.
//!
//! AWS refuses the whole call when one of the alarms is still named by a composite alarm's rule;
//! the batch is then retried one name at a time, so only that alarm waits.

use super::api::Api;
use super::batch::{BatchCall, Batcher, Window};
use super::{Aws, Location};
use crate::error::Error;
use crate::reason::Reason;
use std::collections::HashMap;
use std::sync::Arc;

/// DeleteAlarms accepts at most 100 names per call.
pub const MAX_NAMES_PER_CALL: usize = 100;

/// Deletes alarms, batching metric alarms. Share it through its `Arc`.
pub struct AlarmDeleter {
    aws: Arc<Aws>,
    /// Per name: `None` when deleted, the error when AWS refused that name.
    batcher: Arc<Batcher<Option<Error>>>,
}

impl AlarmDeleter {
    /// A deleter that gathers metric alarm names until `window` closes (and while DeleteAlarms'
    /// rate limit is saturated) into one call.
    pub fn new(aws: Arc<Aws>, window: impl Into<Window>) -> Arc<Self> {
        let caller = Arc::clone(&aws);
        let call: BatchCall<Option<Error>> = Arc::new(move |location: Location, names| {
            let aws = Arc::clone(&caller);
            Box::pin(async move { delete_batch(&aws, &location, &names).await })
        });
        let limiter = Arc::clone(aws.limiter());
        Arc::new(AlarmDeleter {
            aws,
            batcher: Batcher::new(Api::DeleteAlarms, limiter, window, MAX_NAMES_PER_CALL, call),
        })
    }

    /// Deletes the metric alarm `name` at `location`, in one call with other deletions.
    pub async fn delete_metric_alarm(&self, location: &Location, name: &str) -> Result<(), Error> {
        match self.batcher.request(location, name).await? {
            Some(Some(refused)) => Err(refused),
            _ => Ok(()),
        }
    }

    /// Deletes the composite alarm `name` at `location`, alone in its call.
    pub async fn delete_composite_alarm(
        &self,
        location: &Location,
        name: &str,
    ) -> Result<(), Error> {
        delete_one(&self.aws, location, name).await
    }
}

async fn delete_one(aws: &Aws, location: &Location, name: &str) -> Result<(), Error> {
    let client = &aws.clients(location).cloudwatch;
    aws.call(
        location,
        Api::DeleteAlarms,
        client.delete_alarms().alarm_names(name).send(),
    )
    .await
    .map(|_| ())
}

async fn delete_batch(
    aws: &Aws,
    location: &Location,
    names: &[String],
) -> Result<HashMap<String, Option<Error>>, Error> {
    let client = &aws.clients(location).cloudwatch;
    let request = client
        .delete_alarms()
        .set_alarm_names(Some(names.to_vec()))
        .send();
    match aws.call_in_slot(location, Api::DeleteAlarms, request).await {
        Ok(_) => Ok(names.iter().map(|n| (n.clone(), None)).collect()),
        // One alarm still named by a composite fails the whole call: find out which.
        Err(e) if e.reason == Reason::InvalidSpec && names.len() > 1 => {
            let mut results = HashMap::new();
            for name in names {
                match delete_one(aws, location, name).await {
                    Ok(()) => results.insert(name.clone(), None),
                    Err(e) if e.reason == Reason::InvalidSpec => {
                        results.insert(name.clone(), Some(e))
                    }
                    Err(e) => return Err(e),
                };
            }
            Ok(results)
        }
        Err(e) => Err(e),
    }
}
