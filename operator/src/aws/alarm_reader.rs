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
//!   reconcile acts on an old reading;
//! - a write to an alarm (put or delete) drops its prefetched record, and a prefetch whose read
//!   started before the write keeps nothing for it, so a reading taken before a write is never
//!   handed to a reconcile after it.

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

type Key = (String, String);

/// Prefetched records by (region, name) with when their read started, and when each alarm was
/// last written (kept as long as a prefetched record lives).
#[derive(Default)]
struct Prefetched {
    records: HashMap<Key, (Instant, Option<AlarmRecord>)>,
    written: HashMap<Key, Instant>,
}

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
        let prefetched = self
            .prefetched
            .lock()
            .expect("prefetch lock")
            .records
            .remove(&key);
        if let Some((read_at, record)) = prefetched
            && read_at.elapsed() <= self.prefetch_ttl
        {
            return Ok(record);
        }
        self.batcher.request(region, name).await
    }

    /// The alarm `name` read from AWS after this process wrote it: never a prefetched record.
    pub async fn describe_after_write(
        &self,
        region: &str,
        name: &str,
    ) -> Result<Option<AlarmRecord>, Error> {
        self.wrote(region, name);
        self.batcher.request(region, name).await
    }

    /// Records that `name` in `region` was just written (put or deleted): a prefetched reading of
    /// it is out of date.
    pub fn wrote(&self, region: &str, name: &str) {
        let key = (region.to_string(), name.to_string());
        let now = Instant::now();
        let ttl = self.prefetch_ttl;
        let mut prefetched = self.prefetched.lock().expect("prefetch lock");
        prefetched.records.remove(&key);
        prefetched
            .written
            .retain(|_, at| now.duration_since(*at) <= ttl);
        prefetched.written.insert(key, now);
    }

    /// Reads `names` in `region` now, one call per 100 names, and keeps the records for the
    /// reconciles that will ask for them shortly.
    pub async fn prefetch(&self, region: &str, names: &[String]) -> Result<(), Error> {
        for chunk in names.chunks(MAX_NAMES_PER_CALL) {
            let started = Instant::now();
            let found = describe(&self.aws, region, chunk).await?;
            self.keep(region, chunk, &found, started);
        }
        Ok(())
    }

    /// Keeps the records of a prefetch whose read started at `started`, except for alarms
    /// written since then.
    fn keep(
        &self,
        region: &str,
        names: &[String],
        found: &HashMap<String, AlarmRecord>,
        started: Instant,
    ) {
        let now = Instant::now();
        let ttl = self.prefetch_ttl;
        let mut prefetched = self.prefetched.lock().expect("prefetch lock");
        let Prefetched { records, written } = &mut *prefetched;
        records.retain(|_, (read_at, _)| now.duration_since(*read_at) <= ttl);
        written.retain(|_, at| now.duration_since(*at) <= ttl);
        for name in names {
            let key = (region.to_string(), name.clone());
            if written.get(&key).is_some_and(|at| *at >= started) {
                continue;
            }
            records.insert(key, (started, found.get(name).cloned()));
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::AwsSettings;
    use crate::metrics::Metrics;

    async fn reader() -> Arc<AlarmReader> {
        let settings = AwsSettings {
            default_region: Some("us-east-1".into()),
            // Nothing listens here; these tests never call AWS.
            endpoint_url: Some("http://127.0.0.1:9".into()),
            rate_limits: Default::default(),
        };
        let aws = Aws::load(settings, Arc::new(Metrics::new())).await.unwrap();
        AlarmReader::new(
            Arc::new(aws),
            Duration::from_millis(10),
            Duration::from_secs(60),
        )
    }

    fn metric(name: &str) -> AlarmRecord {
        AlarmRecord::Metric(Box::new(MetricAlarm::builder().alarm_name(name).build()))
    }

    fn kept(reader: &AlarmReader, name: &str) -> Option<Option<AlarmRecord>> {
        let prefetched = reader.prefetched.lock().unwrap();
        let key = ("us-east-1".to_string(), name.to_string());
        prefetched.records.get(&key).map(|(_, r)| r.clone())
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[tokio::test]
    async fn a_prefetch_keeps_found_and_missing_alarms_for_the_next_reconcile() {
        let r = reader().await;
        let found = HashMap::from([("a".to_string(), metric("a"))]);
        r.keep("us-east-1", &names(&["a", "b"]), &found, Instant::now());
        assert_eq!(kept(&r, "a"), Some(Some(metric("a"))));
        assert_eq!(
            kept(&r, "b"),
            Some(None),
            "a missing alarm is a reading too"
        );
        // Handed out once.
        assert_eq!(
            r.describe("us-east-1", "a").await.unwrap(),
            Some(metric("a"))
        );
        assert_eq!(kept(&r, "a"), None);
    }

    #[tokio::test]
    async fn a_write_drops_the_prefetched_reading_of_that_alarm_only() {
        let r = reader().await;
        r.keep(
            "us-east-1",
            &names(&["a", "b"]),
            &HashMap::new(),
            Instant::now(),
        );
        r.wrote("us-east-1", "a");
        assert_eq!(
            kept(&r, "a"),
            None,
            "the reading before the put is out of date"
        );
        assert_eq!(kept(&r, "b"), Some(None));
    }

    #[tokio::test]
    async fn a_prefetch_that_started_before_a_write_keeps_nothing_for_the_written_alarm() {
        // The race: the resync sweep reads "a" (not there yet), a reconcile creates "a", then the
        // sweep's answer arrives. Keeping it would tell the next reader that "a" does not exist.
        let r = reader().await;
        let started = Instant::now();
        tokio::time::sleep(Duration::from_millis(2)).await;
        r.wrote("us-east-1", "a");
        r.keep("us-east-1", &names(&["a", "b"]), &HashMap::new(), started);
        assert_eq!(kept(&r, "a"), None);
        assert_eq!(kept(&r, "b"), Some(None));

        // A prefetch that started after the write is current and kept.
        tokio::time::sleep(Duration::from_millis(2)).await;
        let found = HashMap::from([("a".to_string(), metric("a"))]);
        r.keep("us-east-1", &names(&["a"]), &found, Instant::now());
        assert_eq!(kept(&r, "a"), Some(Some(metric("a"))));
    }
}
