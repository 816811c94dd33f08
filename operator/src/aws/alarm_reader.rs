//! Batched reads of CloudWatch alarms.
//!
//! DescribeAlarms takes up to 100 names per call and its default quota is 9 calls per second for
//! the whole account and region. Reading one alarm per call would spend that quota on a fleet of
//! a few thousand alarms, so every read goes through this reader:
//! - concurrent reconciles asking for alarms within a short window share one call per 100 names
//!   (per account and region), through a [`Batcher`];
//! - the periodic drift resync prefetches a whole chunk of alarms in one call (through the same
//!   batches, so a reconcile asking meanwhile joins it), and the reconciles it then triggers take
//!   their alarm from that prefetch instead of calling AWS again. A
//!   prefetched record is handed out once and kept only briefly, so memory stays bounded and no
//!   reconcile acts on an old reading;
//! - a call made on demand fills its room with alarms about to be reconciled; and a reading that
//!   an alarm does not exist serves every reconcile for longer (one resync period): it is what a
//!   create acts on, so a fleet created under PutMetricAlarm's quota (3 per second) is read a
//!   hundred alarms per call before its creates, and a composite waiting for its children does
//!   not read itself again on every retry. An absence a reconcile asked for is kept the same
//!   way when the alarm is one of the operator's objects not yet reconciled (a child a
//!   composite waits for, an alarm waiting for its metric filter); an alarm nobody here manages
//!   is read again each time;
//! - a write to an alarm (put or delete) drops its prefetched record, and a prefetch whose read
//!   started before the write keeps nothing for it, so a reading taken before a write is never
//!   handed to a reconcile after it; what the write made true (the alarm exists, or not) is
//!   known for as long as an absent reading is kept;
//! - a cleanup that must know whether an alarm not confirmed as its own still exists reads it
//!   afresh ([`Read::Fresh`], batched like every read): a kept reading that it does not exist
//!   could miss a Put this process did not make;
//! - the ARN prefix of each location (partition and account) is learned from the first alarm ARN
//!   an answer holds, so a created alarm's ARN needs no read.

use super::api::Api;
use super::batch::{BatchCall, Batcher, Kept, Read, Window};
use super::{Aws, Location};
use crate::error::Error;
use aws_sdk_cloudwatch::types::{AlarmType, CompositeAlarm, MetricAlarm};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock, Weak};
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

impl AlarmRecord {
    /// The alarm's ARN, as AWS reported it.
    pub fn arn(&self) -> Option<&str> {
        match self {
            AlarmRecord::Metric(m) => m.alarm_arn.as_deref(),
            AlarmRecord::Composite(c) => c.alarm_arn.as_deref(),
        }
    }
}

type Key = (Location, String);

/// The alarms the operator expects to read soon at a location (objects not yet `Ready` for their
/// current spec: new, changed, or waiting), to fill the room left in a DescribeAlarms call.
pub type Expected = Box<dyn Fn(&Location) -> Vec<ExpectedAlarm> + Send + Sync>;

/// An alarm the operator expects to read soon.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExpectedAlarm {
    pub name: String,
    /// Whether its object creates it when it does not exist (it is managed, not observed).
    pub creates: bool,
}

/// Prefetched records by (location, name) with when their read started, and what this process
/// last did to each alarm and when (kept as long as a prefetched record may live).
#[derive(Default)]
struct Prefetched {
    records: HashMap<Key, (Instant, Option<AlarmRecord>)>,
    written: HashMap<Key, (Instant, Wrote)>,
}

/// A write this process made to an alarm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wrote {
    /// PutMetricAlarm or PutCompositeAlarm: the alarm exists.
    Put,
    /// DeleteAlarms: it does not.
    Deleted,
}

/// Reads alarms in batches. Share it through its `Arc`.
pub struct AlarmReader {
    aws: Arc<Aws>,
    batcher: Arc<Batcher<AlarmRecord>>,
    /// Reads right after this process's own Put, gathered over a longer window.
    after_write: Arc<Batcher<AlarmRecord>>,
    prefetch_ttl: Duration,
    absent_ttl: Duration,
    prefetched: Mutex<Prefetched>,
    /// The ARN prefix (`arn:<partition>:cloudwatch:<region>:<account>:alarm:`) of each location,
    /// learned from the first alarm ARN AWS reports there.
    arn_prefixes: Mutex<HashMap<Location, String>>,
    expected: OnceLock<Expected>,
}

impl AlarmReader {
    /// A reader that gathers names for at least `window` (and while DescribeAlarms' rate limit
    /// is saturated) into one call — reads after this process's own Puts for `after_write` —,
    /// keeps records read ahead for `prefetch_ttl`, and readings of alarms that do not exist for
    /// `absent_ttl`.
    pub fn new(
        aws: Arc<Aws>,
        window: Duration,
        after_write: Window,
        prefetch_ttl: Duration,
        absent_ttl: Duration,
    ) -> Arc<Self> {
        Arc::new_cyclic(|me: &Weak<AlarmReader>| {
            let me = me.clone();
            let call: BatchCall<AlarmRecord> = Arc::new(move |location, names| {
                let me = me.clone();
                Box::pin(async move {
                    match me.upgrade() {
                        Some(reader) => reader.read_batch(&location, names).await,
                        None => Ok(HashMap::new()),
                    }
                })
            });
            let batcher = |window: Window, call: BatchCall<AlarmRecord>| {
                Batcher::new(
                    Api::DescribeAlarms,
                    Arc::clone(aws.limiter()),
                    window,
                    MAX_NAMES_PER_CALL,
                    call,
                )
            };
            AlarmReader {
                batcher: batcher(window.into(), Arc::clone(&call)),
                after_write: batcher(after_write, call),
                aws,
                prefetch_ttl,
                absent_ttl,
                prefetched: Mutex::default(),
                arn_prefixes: Mutex::default(),
                expected: OnceLock::new(),
            }
        })
    }

    /// Where to find the names of alarms about to be reconciled: a batch read on demand fills
    /// its room with them, so their reconciles need no call of their own.
    pub fn expect(&self, expected: Expected) {
        let _ = self.expected.set(expected);
    }

    /// The alarm `name` at `location` (metric or composite), or `None` when it does not exist,
    /// read as `read` allows.
    pub async fn describe(
        &self,
        location: &Location,
        name: &str,
        read: Read,
    ) -> Result<Option<AlarmRecord>, Error> {
        self.batcher.read(self, location, name, read).await
    }

    /// The alarm `name` read from AWS after this process wrote it: never a prefetched record.
    /// Such reads gather over the reader's longer `after_write` window: creates are paced by
    /// their own quota (PutCompositeAlarm: 3 per second), so a short window would read each
    /// one alone.
    pub async fn describe_after_write(
        &self,
        location: &Location,
        name: &str,
    ) -> Result<Option<AlarmRecord>, Error> {
        self.wrote(location, name, Wrote::Put);
        self.after_write.request(location, name).await
    }

    /// Whether the alarm `name` exists at `location`: what this process's own last write made
    /// true, if it wrote the alarm within the time a reading that an alarm does not exist is
    /// kept, else a read.
    pub async fn exists(&self, location: &Location, name: &str) -> Result<bool, Error> {
        let key = (location.clone(), name.to_string());
        let known = {
            let prefetched = self.prefetched.lock().expect("prefetch lock");
            prefetched
                .written
                .get(&key)
                .filter(|(at, _)| at.elapsed() <= self.absent_ttl)
                .map(|(_, wrote)| *wrote == Wrote::Put)
        };
        match known {
            Some(exists) => Ok(exists),
            None => Ok(self.describe(location, name, Read::Kept).await?.is_some()),
        }
    }

    /// Records that `name` at `location` was just written: a prefetched reading of it is out of
    /// date, and what the write made true is known for a while.
    pub fn wrote(&self, location: &Location, name: &str, wrote: Wrote) {
        let key = (location.clone(), name.to_string());
        let now = Instant::now();
        let ttl = self.absent_ttl;
        let mut prefetched = self.prefetched.lock().expect("prefetch lock");
        prefetched.records.remove(&key);
        prefetched
            .written
            .retain(|_, (at, _)| now.duration_since(*at) <= ttl);
        prefetched.written.insert(key, (now, wrote));
    }

    /// The ARN of the alarm `name` at `location`, from the account learned from an earlier
    /// answer (an alarm's ARN is `arn:<partition>:cloudwatch:<region>:<account>:alarm:<name>`);
    /// `None` until DescribeAlarms has reported one alarm there.
    pub fn arn_of(&self, location: &Location, name: &str) -> Option<String> {
        let prefixes = self.arn_prefixes.lock().expect("arn lock");
        prefixes
            .get(location)
            .map(|prefix| format!("{prefix}{name}"))
    }

    /// Reads `names` at `location` now, a hundred per call, and keeps the records for the
    /// reconciles that will ask for them shortly. The names go through the batcher, so a
    /// reconcile asking for one of them meanwhile joins the same call instead of making its own.
    pub async fn prefetch(&self, location: &Location, names: &[String]) -> Result<(), Error> {
        let started = Instant::now();
        let answers = futures::future::join_all(
            names
                .iter()
                .map(|name| self.batcher.request(location, name)),
        )
        .await;
        let mut found = HashMap::new();
        for (name, answer) in names.iter().zip(answers) {
            if let Some(record) = answer? {
                found.insert(name.clone(), record);
            }
        }
        self.keep(location, names, &found, started);
        Ok(())
    }

    /// The call behind the batcher: `names`, plus as many expected names as the call has room
    /// for (kept for their reconciles).
    async fn read_batch(
        &self,
        location: &Location,
        names: Vec<String>,
    ) -> Result<HashMap<String, AlarmRecord>, Error> {
        let expected = self.expected.get().map(|e| e(location)).unwrap_or_default();
        let extra = self.room_filler(location, &names, &expected);
        let created_here: HashSet<String> = expected
            .into_iter()
            .filter(|e| e.creates)
            .map(|e| e.name)
            .collect();
        let mut all = names;
        let asked = all.len();
        all.extend(extra);
        tracing::debug!(%location, asked = ?&all[..asked], filled = all.len() - asked, "reading alarms");
        let started = Instant::now();
        let found = describe(&self.aws, location, &all).await?;
        self.learn(location, &found);
        self.keep(location, &all[asked..], &found, started);
        let absent = absent_and_created_here(&all[..asked], &created_here, &found);
        self.keep(location, &absent, &found, started);
        Ok(found)
    }

    /// Expected names not in `names` and not already read, up to the call's room.
    fn room_filler(
        &self,
        location: &Location,
        names: &[String],
        expected: &[ExpectedAlarm],
    ) -> Vec<String> {
        let room = MAX_NAMES_PER_CALL.saturating_sub(names.len());
        if room == 0 {
            return Vec::new();
        }
        let prefetched = self.prefetched.lock().expect("prefetch lock");
        let mut extra: Vec<String> = expected
            .iter()
            .map(|e| e.name.clone())
            .filter(|n| {
                !names.contains(n)
                    && !prefetched
                        .records
                        .contains_key(&(location.clone(), n.clone()))
            })
            .collect();
        extra.sort();
        extra.dedup();
        extra.truncate(room);
        extra
    }

    /// Learns the location's ARN prefix from the records read.
    fn learn(&self, location: &Location, found: &HashMap<String, AlarmRecord>) {
        let mut prefixes = self.arn_prefixes.lock().expect("arn lock");
        if prefixes.contains_key(location) {
            return;
        }
        if let Some(prefix) = found
            .iter()
            .find_map(|(name, record)| arn_prefix(location, name, record.arn()?))
        {
            prefixes.insert(location.clone(), prefix);
        }
    }

    /// Keeps the records of a prefetch whose read started at `started`, except for alarms
    /// written since then.
    fn keep(
        &self,
        location: &Location,
        names: &[String],
        found: &HashMap<String, AlarmRecord>,
        started: Instant,
    ) {
        let now = Instant::now();
        let (ttl, absent_ttl) = (self.prefetch_ttl, self.absent_ttl);
        let mut prefetched = self.prefetched.lock().expect("prefetch lock");
        let Prefetched { records, written } = &mut *prefetched;
        records.retain(|_, (read_at, record)| {
            let age = now.duration_since(*read_at);
            age <= if record.is_some() { ttl } else { absent_ttl }
        });
        written.retain(|_, (at, _)| now.duration_since(*at) <= absent_ttl);
        for name in names {
            let key = (location.clone(), name.clone());
            if written.get(&key).is_some_and(|(at, _)| *at >= started) {
                continue;
            }
            records.insert(key, (started, found.get(name).cloned()));
        }
    }
}

impl Kept<AlarmRecord> for AlarmReader {
    /// A record read ahead is handed out once; a reading that the alarm does not exist serves
    /// every reconcile until it expires or this process writes the alarm.
    fn take(&self, location: &Location, name: &str) -> Option<Option<AlarmRecord>> {
        let key = (location.clone(), name.to_string());
        let mut prefetched = self.prefetched.lock().expect("prefetch lock");
        let (read_at, record) = prefetched.records.get(&key)?;
        let fresh = match record {
            Some(_) => read_at.elapsed() <= self.prefetch_ttl,
            None => read_at.elapsed() <= self.absent_ttl,
        };
        if !fresh {
            prefetched.records.remove(&key);
            return None;
        }
        match record {
            None => Some(None),
            Some(_) => prefetched.records.remove(&key).map(|(_, record)| record),
        }
    }

    fn forget_before(&self, location: &Location, name: &str, asked: Instant) {
        let key = (location.clone(), name.to_string());
        let mut prefetched = self.prefetched.lock().expect("prefetch lock");
        if prefetched
            .records
            .get(&key)
            .is_some_and(|(read_at, _)| *read_at < asked)
        {
            prefetched.records.remove(&key);
        }
    }
}

/// The names of `asked` that the answer `found` says do not exist and that objects about to be
/// reconciled will create (`created_here`): their reading is kept like one read ahead, so an
/// object that waits (a composite for its children, an alarm for its metric filter) does not
/// read the same absence again on every retry. This process's own Put of such an alarm
/// overrides the reading ([`AlarmReader::wrote`]). Other names are not kept: an alarm nobody
/// here creates (an observed one, a stranger's) can be created by someone else at any time.
fn absent_and_created_here(
    asked: &[String],
    created_here: &HashSet<String>,
    found: &HashMap<String, AlarmRecord>,
) -> Vec<String> {
    asked
        .iter()
        .filter(|n| created_here.contains(*n) && !found.contains_key(*n))
        .cloned()
        .collect()
}

/// `arn:<partition>:cloudwatch:<region>:<account>:alarm:` when `arn` is the ARN of the alarm
/// `name` at `location`.
fn arn_prefix(location: &Location, name: &str, arn: &str) -> Option<String> {
    let prefix = arn.strip_suffix(name)?;
    let parts: Vec<&str> = prefix.split(':').collect();
    match parts.as_slice() {
        ["arn", partition, "cloudwatch", region, account, "alarm", ""]
            if *region == location.region()
                && !partition.is_empty()
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit()) =>
        {
            Some(prefix.to_string())
        }
        _ => None,
    }
}

/// One DescribeAlarms call (and its pages) for at most 100 names, the first page in the
/// rate-limit slot the batch holds.
async fn describe(
    aws: &Aws,
    location: &Location,
    names: &[String],
) -> Result<HashMap<String, AlarmRecord>, Error> {
    debug_assert!(names.len() <= MAX_NAMES_PER_CALL);
    let client = &aws.clients(location).cloudwatch;
    let mut found = HashMap::new();
    let mut next_token: Option<String> = None;
    let mut first = true;
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
        let out = if first {
            aws.call_in_slot(location, Api::DescribeAlarms, request)
                .await?
        } else {
            aws.call(location, Api::DescribeAlarms, request).await?
        };
        first = false;
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

/// Every alarm of `alarm_type` at `location` whose name starts with `prefix` (every alarm when
/// it is empty), 100 per page: what `import` reads. Without AlarmTypes only metric alarms come
/// back, so the type is always named.
pub async fn list(
    aws: &Aws,
    location: &Location,
    prefix: &str,
    alarm_type: AlarmType,
) -> Result<Vec<AlarmRecord>, Error> {
    let client = &aws.clients(location).cloudwatch;
    let mut found = Vec::new();
    let mut next_token: Option<String> = None;
    loop {
        let request = client
            .describe_alarms()
            .alarm_types(alarm_type.clone())
            .max_records(100)
            .set_next_token(next_token.take());
        let request = match prefix {
            "" => request,
            prefix => request.alarm_name_prefix(prefix),
        };
        let out = aws
            .call(location, Api::DescribeAlarms, request.send())
            .await?;
        found.extend(
            out.metric_alarms()
                .iter()
                .filter(|a| a.alarm_name().is_some())
                .map(|a| AlarmRecord::Metric(Box::new(a.clone()))),
        );
        found.extend(
            out.composite_alarms()
                .iter()
                .filter(|a| a.alarm_name().is_some())
                .map(|a| AlarmRecord::Composite(Box::new(a.clone()))),
        );
        match out.next_token() {
            Some(token) if !token.is_empty() => next_token = Some(token.to_string()),
            _ => return Ok(found),
        }
    }
}

impl AlarmRecord {
    /// The alarm's name.
    pub fn name(&self) -> &str {
        match self {
            AlarmRecord::Metric(a) => a.alarm_name().unwrap_or_default(),
            AlarmRecord::Composite(a) => a.alarm_name().unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn reader() -> Arc<AlarmReader> {
        AlarmReader::new(
            crate::aws::unreachable().await,
            Duration::from_millis(10),
            Window::fixed(Duration::from_millis(10)),
            Duration::from_secs(60),
            Duration::from_secs(600),
        )
    }

    fn metric(name: &str) -> AlarmRecord {
        AlarmRecord::Metric(Box::new(MetricAlarm::builder().alarm_name(name).build()))
    }

    fn kept(reader: &AlarmReader, name: &str) -> Option<Option<AlarmRecord>> {
        let prefetched = reader.prefetched.lock().unwrap();
        let key = (here(), name.to_string());
        prefetched.records.get(&key).map(|(_, r)| r.clone())
    }

    fn here() -> Location {
        Location::of("us-east-1")
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[tokio::test]
    async fn a_prefetch_keeps_found_and_missing_alarms_for_the_next_reconcile() {
        let r = reader().await;
        let found = HashMap::from([("a".to_string(), metric("a"))]);
        r.keep(&here(), &names(&["a", "b"]), &found, Instant::now());
        assert_eq!(kept(&r, "a"), Some(Some(metric("a"))));
        assert_eq!(
            kept(&r, "b"),
            Some(None),
            "a missing alarm is a reading too"
        );
        // Handed out once.
        assert_eq!(
            r.describe(&here(), "a", Read::Kept).await.unwrap(),
            Some(metric("a"))
        );
        assert_eq!(kept(&r, "a"), None);
    }

    #[tokio::test]
    async fn a_reading_in_one_account_is_never_handed_to_another() {
        let r = reader().await;
        let found = HashMap::from([("a".to_string(), metric("a"))]);
        r.keep(&here(), &names(&["a"]), &found, Instant::now());
        let other = Location::new(Some("team-a"), "us-east-1");
        assert_eq!(r.take(&other, "a"), None);
        assert_eq!(
            kept(&r, "a"),
            Some(Some(metric("a"))),
            "still there for its own"
        );
    }

    #[tokio::test]
    async fn a_write_drops_the_prefetched_reading_of_that_alarm_only() {
        let r = reader().await;
        r.keep(
            &here(),
            &names(&["a", "b"]),
            &HashMap::new(),
            Instant::now(),
        );
        r.wrote(&here(), "a", Wrote::Put);
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
        r.wrote(&here(), "a", Wrote::Put);
        r.keep(&here(), &names(&["a", "b"]), &HashMap::new(), started);
        assert_eq!(kept(&r, "a"), None);
        assert_eq!(kept(&r, "b"), Some(None));

        // A prefetch that started after the write is current and kept.
        tokio::time::sleep(Duration::from_millis(2)).await;
        let found = HashMap::from([("a".to_string(), metric("a"))]);
        r.keep(&here(), &names(&["a"]), &found, Instant::now());
        assert_eq!(kept(&r, "a"), Some(Some(metric("a"))));
    }

    #[tokio::test(start_paused = true)]
    async fn a_reading_that_the_alarm_does_not_exist_is_kept_longer_than_a_record() {
        let r = reader().await;
        let found = HashMap::from([("a".to_string(), metric("a"))]);
        r.keep(&here(), &names(&["a", "b"]), &found, Instant::now());
        tokio::time::advance(Duration::from_secs(61)).await;
        assert_eq!(r.take(&here(), "a"), None, "a record goes stale");
        assert_eq!(r.take(&here(), "b"), Some(None));
        assert_eq!(
            r.take(&here(), "b"),
            Some(None),
            "an absent reading serves every reconcile"
        );
        r.wrote(&here(), "b", Wrote::Put);
        assert_eq!(r.take(&here(), "b"), None, "until a write");
        r.keep(&here(), &names(&["c"]), &HashMap::new(), Instant::now());
        tokio::time::advance(Duration::from_secs(601)).await;
        assert_eq!(r.take(&here(), "c"), None);
    }

    #[tokio::test]
    async fn the_account_is_learned_from_any_alarm_arn_of_the_region() {
        let r = reader().await;
        assert_eq!(r.arn_of(&here(), "cpu"), None);
        let mut with_arn = MetricAlarm::builder().alarm_name("a:b").build();
        with_arn.alarm_arn = Some("arn:aws:cloudwatch:us-east-1:123456789012:alarm:a:b".into());
        let found = HashMap::from([
            ("x".to_string(), metric("x")),
            ("a:b".to_string(), AlarmRecord::Metric(Box::new(with_arn))),
        ]);
        r.learn(&here(), &found);
        assert_eq!(
            r.arn_of(&here(), "cpu").as_deref(),
            Some("arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu")
        );
        assert_eq!(
            r.arn_of(&Location::of("eu-west-1"), "cpu"),
            None,
            "another region is not known"
        );
        assert_eq!(
            r.arn_of(&Location::new(Some("team-a"), "us-east-1"), "cpu"),
            None,
            "another account is not known"
        );
    }

    #[test]
    fn only_an_alarm_arn_of_the_same_region_and_name_teaches_the_account() {
        let at = here();
        let arn = "arn:aws-cn:cloudwatch:us-east-1:123456789012:alarm:cpu";
        assert_eq!(
            arn_prefix(&at, "cpu", arn).as_deref(),
            Some("arn:aws-cn:cloudwatch:us-east-1:123456789012:alarm:")
        );
        for (name, arn) in [
            ("cpu", "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:cpu"),
            (
                "cpu",
                "arn:aws:cloudwatch:us-east-1:123456789012:metric-stream/cpu",
            ),
            ("cpu", "arn:aws:cloudwatch:us-east-1:1234:alarm:cpu"),
            ("mem", "arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu"),
            ("cpu", "cpu"),
        ] {
            assert_eq!(arn_prefix(&at, name, arn), None, "{arn}");
        }
    }

    #[tokio::test]
    async fn a_batch_read_on_demand_fills_its_room_with_expected_names_not_yet_read() {
        let r = reader().await;
        r.expect(Box::new(|_| {
            (0..150)
                .map(|i| format!("e{i:03}"))
                .chain(["asked".to_string()])
                .map(|name| ExpectedAlarm {
                    name,
                    creates: true,
                })
                .collect()
        }));
        let expected = r.expected.get().unwrap()(&here());
        r.keep(&here(), &names(&["e000"]), &HashMap::new(), Instant::now());
        let extra = r.room_filler(&here(), &names(&["asked", "other"]), &expected);
        assert_eq!(extra.len(), 98);
        assert_eq!(extra[0], "e001", "already read, or asked for: left out");
        assert!(!extra.contains(&"asked".to_string()));
    }

    #[test]
    fn an_absence_asked_for_is_kept_only_for_alarms_about_to_be_created_here() {
        let created_here: HashSet<String> =
            names(&["child", "composite", "made"]).into_iter().collect();
        let found = HashMap::from([("made".to_string(), metric("made"))]);
        assert_eq!(
            absent_and_created_here(
                &names(&["child", "made", "observed"]),
                &created_here,
                &found
            ),
            names(&["child"]),
            "an alarm that exists is handed to the reconcile that asked, and one nobody here \
             manages may be created by someone else at any time"
        );
    }

    #[tokio::test]
    async fn a_cleanup_read_is_never_answered_by_a_kept_reading_that_the_alarm_is_gone() {
        // A reading that "a" does not exist is kept; then a Put this process did not make (a
        // killed predecessor's, an old replica's) creates it. Trusting the kept reading would
        // release the object's finalizer and leave the alarm in AWS.
        let r = reader().await;
        r.keep(&here(), &names(&["a"]), &HashMap::new(), Instant::now());
        assert_eq!(
            r.describe(&here(), "a", Read::Kept).await.unwrap(),
            None,
            "kept"
        );
        // Nothing listens at the endpoint: only a read from AWS fails.
        assert!(
            r.describe(&here(), "a", Read::Fresh).await.is_err(),
            "a cleanup read goes to AWS"
        );
    }

    #[tokio::test]
    async fn a_fresh_read_replaces_the_reading_kept_from_before_it() {
        let r = reader().await;
        r.keep(&here(), &names(&["a"]), &HashMap::new(), Instant::now());
        tokio::time::sleep(Duration::from_millis(2)).await;
        let _ = r.describe(&here(), "a", Read::Fresh).await;
        assert_eq!(kept(&r, "a"), None);
    }

    #[tokio::test]
    async fn what_this_process_wrote_answers_whether_an_alarm_exists() {
        let r = reader().await;
        r.wrote(&here(), "made", Wrote::Put);
        r.wrote(&here(), "gone", Wrote::Deleted);
        // Nothing listens at the endpoint: a read would fail.
        assert!(r.exists(&here(), "made").await.unwrap());
        assert!(!r.exists(&here(), "gone").await.unwrap());
    }
}
