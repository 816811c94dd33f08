//! Batched reads of CloudWatch Logs destinations.
//!
//! DescribeDestinations lists the destinations of the account and region, 50 per page, matching
//! `destinationNamePrefix` as a prefix; there is no call that reads one destination by name, and
//! the quota is 5 calls per second. Reconciles asking within a short window (and while the rate
//! limit is saturated) share one listing through a [`Batcher`] (a batch of one name lists with
//! that name as the prefix, a larger batch lists everything), and each picks its own destination
//! out by its whole name.
//!
//! The drift resync prefetches a chunk of destinations with one listing, and the reconciles it
//! then triggers take their record from that prefetch. A prefetched record is handed out once and
//! kept only briefly; a write by the operator drops it, and a cleanup proving ownership reads
//! afresh ([`Read::Fresh`]).

use super::api::Api;
use super::batch::{BatchCall, Batcher, Kept, Read};
use super::{Aws, Location};
use crate::error::Error;
use aws_sdk_cloudwatchlogs::types::Destination;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// DescribeDestinations returns at most 50 destinations per page.
const PAGE_SIZE: i32 = 50;
/// Names answered by one listing.
const NAMES_PER_BATCH: usize = 100;

type Key = (Location, String);

/// Reads destinations in batches. Share it through its `Arc`.
pub struct DestinationReader {
    aws: Arc<Aws>,
    batcher: Arc<Batcher<Destination>>,
    prefetch_ttl: Duration,
    prefetched: Mutex<HashMap<Key, (Instant, Option<Destination>)>>,
}

impl DestinationReader {
    /// A reader that waits at least `window` (and while the rate limit is saturated) to gather
    /// names into one listing, and keeps prefetched records for `prefetch_ttl`.
    pub fn new(aws: Arc<Aws>, window: Duration, prefetch_ttl: Duration) -> Arc<Self> {
        let caller = Arc::clone(&aws);
        let call: BatchCall<Destination> = Arc::new(move |location: Location, names| {
            let aws = Arc::clone(&caller);
            // The listing's first page goes out in the batch's slot.
            Box::pin(async move { describe(&aws, &location, &names, true).await })
        });
        let limiter = Arc::clone(aws.limiter());
        Arc::new(DestinationReader {
            aws,
            batcher: Batcher::new(
                Api::DescribeDestinations,
                limiter,
                window,
                NAMES_PER_BATCH,
                call,
            ),
            prefetch_ttl,
            prefetched: Mutex::default(),
        })
    }

    /// The destination `name` at `location`, or `None` when it does not exist, read as `read`
    /// allows.
    pub async fn describe(
        &self,
        location: &Location,
        name: &str,
        read: Read,
    ) -> Result<Option<Destination>, Error> {
        self.batcher.read(self, location, name, read).await
    }

    /// Records that `name` at `location` was just written: a prefetched reading of it is out of
    /// date.
    pub fn wrote(&self, location: &Location, name: &str) {
        self.prefetched
            .lock()
            .expect("prefetch lock")
            .remove(&(location.clone(), name.to_string()));
    }

    /// Reads `names` at `location` now, with one listing, and keeps the records for the
    /// reconciles that will ask for them shortly.
    pub async fn prefetch(&self, location: &Location, names: &[String]) -> Result<(), Error> {
        let started = Instant::now();
        let found = describe(&self.aws, location, names, false).await?;
        self.keep(location, names, &found, started);
        Ok(())
    }

    /// Keeps the records of a listing of `names` whose read started at `started`.
    fn keep(
        &self,
        location: &Location,
        names: &[String],
        found: &HashMap<String, Destination>,
        started: Instant,
    ) {
        let now = Instant::now();
        let ttl = self.prefetch_ttl;
        let mut prefetched = self.prefetched.lock().expect("prefetch lock");
        prefetched.retain(|_, (read_at, _)| now.duration_since(*read_at) <= ttl);
        for name in names {
            prefetched.insert(
                (location.clone(), name.clone()),
                (started, found.get(name).cloned()),
            );
        }
    }
}

impl Kept<Destination> for DestinationReader {
    /// A prefetched record is handed out once, while it is younger than the prefetch's TTL.
    fn take(&self, location: &Location, name: &str) -> Option<Option<Destination>> {
        let key = (location.clone(), name.to_string());
        let prefetched = self.prefetched.lock().expect("prefetch lock").remove(&key);
        prefetched
            .filter(|(read_at, _)| read_at.elapsed() <= self.prefetch_ttl)
            .map(|(_, record)| record)
    }

    fn forget_before(&self, location: &Location, name: &str, asked: Instant) {
        let key = (location.clone(), name.to_string());
        let mut prefetched = self.prefetched.lock().expect("prefetch lock");
        if prefetched
            .get(&key)
            .is_some_and(|(read_at, _)| *read_at < asked)
        {
            prefetched.remove(&key);
        }
    }
}

/// Every destination at `location` whose name starts with `prefix` (every page). What `import`
/// reads.
pub async fn list_all(
    aws: &Aws,
    location: &Location,
    prefix: &str,
) -> Result<Vec<Destination>, Error> {
    let client = &aws.clients(location).logs;
    let mut found = Vec::new();
    let mut next_token: Option<String> = None;
    loop {
        let request = client
            .describe_destinations()
            .set_destination_name_prefix((!prefix.is_empty()).then(|| prefix.to_string()))
            .limit(PAGE_SIZE)
            .set_next_token(next_token.take())
            .send();
        let out = aws
            .call(location, Api::DescribeDestinations, request)
            .await?;
        found.extend(out.destinations().iter().cloned());
        match out.next_token() {
            Some(token) if !token.is_empty() => next_token = Some(token.to_string()),
            _ => return Ok(found),
        }
    }
}

/// The destinations among `names` that exist at `location`, by name; `in_slot` when the first
/// page goes out in a rate-limit slot the caller holds (a batch's).
async fn describe(
    aws: &Aws,
    location: &Location,
    names: &[String],
    in_slot: bool,
) -> Result<HashMap<String, Destination>, Error> {
    let client = &aws.clients(location).logs;
    // One name: its own prefix narrows the listing. Several: one listing of everything.
    let prefix = match names {
        [one] => Some(one.clone()),
        _ => None,
    };
    let mut found = HashMap::new();
    let mut next_token: Option<String> = None;
    let mut first_in_slot = in_slot;
    loop {
        let request = client
            .describe_destinations()
            .set_destination_name_prefix(prefix.clone())
            .limit(PAGE_SIZE)
            .set_next_token(next_token.take())
            .send();
        let out = if std::mem::take(&mut first_in_slot) {
            aws.call_in_slot(location, Api::DescribeDestinations, request)
                .await?
        } else {
            aws.call(location, Api::DescribeDestinations, request)
                .await?
        };
        for d in out.destinations() {
            // The prefix matches longer names too: only whole names count.
            if let Some(name) = d.destination_name()
                && names.iter().any(|n| n == name)
            {
                found.insert(name.to_string(), d.clone());
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

    async fn reader() -> Arc<DestinationReader> {
        DestinationReader::new(
            crate::aws::unreachable().await,
            Duration::from_millis(10),
            Duration::from_secs(60),
        )
    }

    fn here() -> Location {
        Location::of("us-east-1")
    }

    fn kept(reader: &DestinationReader, name: &str) -> Option<Option<Destination>> {
        let prefetched = reader.prefetched.lock().unwrap();
        let key = (here(), name.to_string());
        prefetched.get(&key).map(|(_, d)| d.clone())
    }

    #[tokio::test]
    async fn a_prefetched_reading_is_handed_out_once() {
        let r = reader().await;
        let found = HashMap::from([(
            "a".to_string(),
            Destination::builder().destination_name("a").build(),
        )]);
        r.keep(&here(), &["a".into(), "b".into()], &found, Instant::now());
        let a = r.describe(&here(), "a", Read::Kept).await.unwrap();
        assert_eq!(a.and_then(|d| d.destination_name), Some("a".into()));
        assert_eq!(kept(&r, "a"), None);
        assert_eq!(
            kept(&r, "b"),
            Some(None),
            "a missing destination is a reading too"
        );
    }

    #[tokio::test]
    async fn a_cleanup_read_is_never_answered_by_a_kept_reading_that_the_destination_is_gone() {
        // A reading that "a" does not exist is kept; then a PutDestination this process did not
        // make (a killed predecessor's) creates it. Trusting the kept reading would release the
        // object's finalizer and leave the destination in AWS.
        let r = reader().await;
        r.keep(&here(), &["a".into()], &HashMap::new(), Instant::now());
        assert!(
            r.describe(&here(), "a", Read::Kept)
                .await
                .unwrap()
                .is_none(),
            "kept"
        );
        r.keep(&here(), &["a".into()], &HashMap::new(), Instant::now());
        // Nothing listens at the endpoint: only a read from AWS fails.
        assert!(
            r.describe(&here(), "a", Read::Fresh).await.is_err(),
            "a cleanup read goes to AWS"
        );
    }

    #[tokio::test]
    async fn a_fresh_read_drops_the_reading_kept_from_before_it() {
        let r = reader().await;
        r.keep(&here(), &["a".into()], &HashMap::new(), Instant::now());
        tokio::time::sleep(Duration::from_millis(2)).await;
        let _ = r.describe(&here(), "a", Read::Fresh).await;
        assert_eq!(kept(&r, "a"), None);
    }
}
