//! Batched reads of CloudWatch alarms.
//!
//! DescribeAlarms takes up to 100 names per call and its default quota is 9 calls per second for
//! the whole account and region. Reading one alarm per call would spend that quota on a fleet of
//! a few thousand alarms, so every read goes through this reader:
//! - concurrent reconciles asking for alarms within a short window share one call per 100 names
//!   (per region), through a [`Batcher`];
//! - the periodic drift resync prefetches a whole chunk of alarms in one call, and the reconciles
//!   it then triggers take their alarm from that prefetch instead of calling AWS again. A
//!   prefetched record is handed out once and kept only briefly, so memory stays bounded and no
//!   reconcile acts on an old reading.

use super::Aws;
use super::api::Api;
use super::batch::{BatchCall, Batcher};
use crate::error::Error;
use aws_sdk_cloudwatch::types::{AlarmType, CompositeAlarm, MetricAlarm};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// DescribeAlarms accepts at most 100 names per call.
pub const MAX_NAMES_PER_CALL: usize = 100;

/// One alarm as DescribeAlarms returns it.
#[derive(Clone, Debug, PartialEq)]
pub enum AlarmRecord {
    Metric(Box<MetricAlarm>),
    Composite(Box<CompositeAlarm>),
}

type Prefetched = HashMap<(String, String), (Instant, Option<AlarmRecord>)>;

/// Reads alarms in batches. Share it through its `Arc`.
pub struct AlarmReader {
    aws: Arc<Aws>,
    batcher: Arc<Batcher<AlarmRecord>>,
    prefetch_ttl: Duration,
    prefetched: Mutex<Prefetched>,
}

impl AlarmReader {
    /// A reader that waits up to `window` to gather names into one call, and keeps prefetched
    /// records for `prefetch_ttl`.
    pub fn new(aws: Arc<Aws>, window: Duration, prefetch_ttl: Duration) -> Arc<Self> {
        let caller = Arc::clone(&aws);
        let call: BatchCall<AlarmRecord> = Arc::new(move |region, names| {
            let aws = Arc::clone(&caller);
            Box::pin(async move { describe(&aws, &region, &names).await })
        });
        Arc::new(AlarmReader {
            aws,
            batcher: Batcher::new(window, MAX_NAMES_PER_CALL, call),
            prefetch_ttl,
            prefetched: Mutex::default(),
        })
    }

    /// The alarm `name` in `region` (metric or composite), or `None` when it does not exist.
    pub async fn describe(&self, region: &str, name: &str) -> Result<Option<AlarmRecord>, Error> {
        let key = (region.to_string(), name.to_string());
        let prefetched = self.prefetched.lock().expect("prefetch lock").remove(&key);
        if let Some((read_at, record)) = prefetched
            && read_at.elapsed() <= self.prefetch_ttl
        {
            return Ok(record);
        }
        self.batcher.request(region, name).await
    }

    /// Reads `names` in `region` now, one call per 100 names, and keeps the records for the
    /// reconciles that will ask for them shortly.
    pub async fn prefetch(&self, region: &str, names: &[String]) -> Result<(), Error> {
        for chunk in names.chunks(MAX_NAMES_PER_CALL) {
            let found = describe(&self.aws, region, chunk).await?;
            let now = Instant::now();
            let ttl = self.prefetch_ttl;
            let mut prefetched = self.prefetched.lock().expect("prefetch lock");
            prefetched.retain(|_, (read_at, _)| now.duration_since(*read_at) <= ttl);
            for name in chunk {
                let record = found.get(name).cloned();
                prefetched.insert((region.to_string(), name.clone()), (now, record));
            }
        }
        Ok(())
    }
}

/// One DescribeAlarms call (and its pages) for at most 100 names.
async fn describe(
    aws: &Aws,
    region: &str,
    names: &[String],
) -> Result<HashMap<String, AlarmRecord>, Error> {
    debug_assert!(names.len() <= MAX_NAMES_PER_CALL);
    let client = &aws.clients(region).cloudwatch;
    let mut found = HashMap::new();
    let mut next_token: Option<String> = None;
    loop {
        let request = client
            .describe_alarms()
            .set_alarm_names(Some(names.to_vec()))
            // Without AlarmTypes only metric alarms come back.
            .alarm_types(AlarmType::MetricAlarm)
            .alarm_types(AlarmType::CompositeAlarm)
            .max_records(100)
            .set_next_token(next_token.take())
            .send();
        let out = aws.call(region, Api::DescribeAlarms, request).await?;
        for alarm in out.metric_alarms() {
            if let Some(name) = alarm.alarm_name() {
                found.insert(
                    name.to_string(),
                    AlarmRecord::Metric(Box::new(alarm.clone())),
                );
            }
        }
        for alarm in out.composite_alarms() {
            if let Some(name) = alarm.alarm_name() {
                found.insert(
                    name.to_string(),
                    AlarmRecord::Composite(Box::new(alarm.clone())),
                );
            }
        }
        match out.next_token() {
            Some(token) if !token.is_empty() => next_token = Some(token.to_string()),
            _ => return Ok(found),
        }
    }
}
