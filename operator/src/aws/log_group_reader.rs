//! Batched reads of what CloudWatch Logs keeps per log group (subscription filters, metric
//! filters), one listing per log group.
//!
//! The Describe call of each (DescribeSubscriptionFilters, DescribeMetricFilters) lists one log
//! group's filters, and its quota is a few calls per second for the account and region. Each
//! call answers for one log group, so a batch here is one log group: through a [`Batcher`] of one
//! key per batch, reconciles of filters on the same log group that run together share one listing
//! (and keep joining it while the quota's rate limit is saturated); each gets the whole listing.
//! One pager serves both: each item type says only how its Describe call asks for a page
//! ([`LogGroupItem`]).
//!
//! The drift resync prefetches the log groups of a whole chunk of objects, one listing per log
//! group, and the reconciles it then triggers take their listing from that prefetch. A
//! prefetched listing is handed to as many reconciles as it was read for, once each, and kept
//! only briefly, so no reconcile acts on an old reading; once the operator writes a filter, a
//! listing read before is no longer handed to that filter's reconciles (those of the other filters
//! on the log group still take it: what they decide on is their own filter, which that write did
//! not touch; a create the listing does not show yet is missed only by the check that the log
//! group has room, and AWS refuses a create beyond its limit anyway).
//!
//! Objects on one log group are usually created together, but their reconciles do not all run
//! at once (the controller runs a few dozen at a time, and an object waits for what it refers
//! to). So a listing a reconcile reads is kept, briefly, for the other objects on the log group
//! that have yet to be reconciled ([`Pending`]): the next of them takes it instead of listing the
//! log group again. A listing that says the log group does not exist is not kept (objects wait
//! for it to appear and must see it when it does).
//!
//! A created filter's log group is read once more after the Put, for the filter's creation time.
//! That read waits until the other reconciles on the log group under way have sent their Puts or
//! decided not to create ([`Creating`], held from a reconcile's start), so that their reads after
//! then share one listing instead of one each. The
//! Puts of a burst of creates queue on their API's rate limit, so the wait lasts as long as
//! those creates keep ending (each end gives the rest another [`OTHER_CREATES_QUIET`]), up to
//! [`OTHER_CREATES_LONGEST`].

use super::api::Api;
use super::batch::{BatchCall, Batcher};
use super::{Aws, Location};
use crate::error::Error;
use crate::reason::Reason;
use aws_sdk_cloudwatchlogs::Client;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// How long the read after a create waits for the next of the other creates planned on its log
/// group to send its Put: a create that ends gives the rest this long again.
pub const OTHER_CREATES_QUIET: Duration = Duration::from_secs(10);

/// How long the read after a create waits at most for the other creates planned on its log
/// group, however steadily they end.
pub const OTHER_CREATES_LONGEST: Duration = Duration::from_secs(60);

/// Log groups listed per batch: one, since each is a call of its own.
const GROUPS_PER_BATCH: usize = 1;

/// A log group's items, or `None` when the log group does not exist.
pub type Listing<T> = Option<Vec<T>>;

/// An item CloudWatch Logs keeps per log group (a subscription filter, a metric filter), as its
/// Describe call lists them: one log group's, page by page.
pub trait LogGroupItem: Clone + Send + Sync + Sized + 'static {
    /// The Describe call.
    const API: Api;
    /// The Describe call's error.
    type Error: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static;

    /// Sends the Describe call for the page of at most `limit` of `group`'s items after `token`
    /// (`None`: the first page).
    fn page(
        client: &Client,
        group: &str,
        limit: i32,
        token: Option<String>,
    ) -> impl Future<Output = Page<Self>> + Send;
}

/// One page of a log group's items as the Describe call answers it: the items and the token of
/// the next page, if any.
pub type Page<T> =
    Result<(Vec<T>, Option<String>), SdkError<<T as LogGroupItem>::Error, HttpResponse>>;

/// DescribeSubscriptionFilters and DescribeMetricFilters return at most 50 items per page.
const PAGE_SIZE: i32 = 50;

/// How many objects on a log group (by name) have yet to be reconciled for their spec.
pub type Pending = Box<dyn Fn(&str) -> usize + Send + Sync>;

/// Prefetched listings by (location, log group): when each was read, how many reconciles may still
/// take it, and the listing; and when this process last wrote each filter, by (location, log
/// group, filter name).
struct Prefetched<T> {
    listings: HashMap<(Location, String), (Instant, usize, Listing<T>)>,
    written: HashMap<(Location, String, String), Instant>,
}

impl<T> Default for Prefetched<T> {
    fn default() -> Self {
        Prefetched {
            listings: HashMap::new(),
            written: HashMap::new(),
        }
    }
}

impl<T: Clone> Prefetched<T> {
    /// Keeps `listing` of `key`, whose read started at `started`, for `uses` reconciles; drops
    /// expired ones.
    fn put(
        &mut self,
        key: (Location, String),
        started: Instant,
        uses: usize,
        listing: Listing<T>,
        ttl: Duration,
    ) {
        let now = Instant::now();
        self.listings
            .retain(|_, (read_at, _, _)| now.duration_since(*read_at) <= ttl);
        self.written.retain(|_, at| now.duration_since(*at) <= ttl);
        if uses == 0 {
            return;
        }
        self.listings.insert(key, (started, uses, listing));
    }

    /// Hands out the listing of `key` once to the reconcile of the filter `filter`, if it is
    /// younger than `ttl` at `now` and its read started after this process last wrote that
    /// filter.
    fn take(
        &mut self,
        key: &(Location, String),
        filter: &str,
        now: Instant,
        ttl: Duration,
    ) -> Option<Listing<T>> {
        let (read_at, uses, listing) = self.listings.get_mut(key)?;
        if now.duration_since(*read_at) > ttl {
            self.listings.remove(key);
            return None;
        }
        let written = (key.0.clone(), key.1.clone(), filter.to_string());
        if self.written.get(&written).is_some_and(|at| *at >= *read_at) {
            return None;
        }
        let listing = listing.clone();
        if *uses <= 1 {
            self.listings.remove(key);
        } else {
            *uses -= 1;
        }
        Some(listing)
    }

    /// Remembers a write of the filter `filter` of `key`: a listing whose read started before
    /// it is no longer handed to that filter's reconciles.
    fn wrote(&mut self, key: &(Location, String), filter: &str) {
        self.written.insert(
            (key.0.clone(), key.1.clone(), filter.to_string()),
            Instant::now(),
        );
    }
}

/// The creates under way per log group: from the read that planned each to the end of its Put.
#[derive(Default)]
struct Creates {
    under_way: Mutex<HashMap<(Location, String), usize>>,
    /// Raised whenever a create ends.
    ended: Notify,
}

impl Creates {
    /// Marks a create under way on `key`, until the returned guard is dropped.
    fn start(self: &Arc<Self>, key: (Location, String)) -> Creating {
        *self
            .under_way
            .lock()
            .expect("creates lock")
            .entry(key.clone())
            .or_default() += 1;
        Creating {
            creates: Arc::clone(self),
            key,
        }
    }

    fn count(&self, key: &(Location, String)) -> usize {
        let under_way = self.under_way.lock().expect("creates lock");
        under_way.get(key).copied().unwrap_or(0)
    }

    /// Waits until no create is under way on `key`: while they keep ending, at most `quiet`
    /// after the last one ended (or after the wait began), and `longest` in all.
    async fn settled(&self, key: &(Location, String), quiet: Duration, longest: Duration) {
        let start = Instant::now();
        let end = start + longest;
        let mut deadline = (start + quiet).min(end);
        let mut under_way = usize::MAX;
        loop {
            let ended = self.ended.notified();
            tokio::pin!(ended);
            // Registered before the count is read, so an end in between is not missed.
            ended.as_mut().enable();
            let now = self.count(key);
            if now == 0 {
                return;
            }
            if now < under_way && under_way != usize::MAX {
                deadline = (Instant::now() + quiet).min(end);
            }
            under_way = now;
            if tokio::time::timeout_at(deadline, ended).await.is_err() {
                return;
            }
        }
    }
}

/// A create planned on a log group, from the read that planned it until it is dropped (once its
/// Put has been sent, or when the reconcile gives up); or a reconcile on the log group still
/// deciding whether to create, until it has decided. Only running reconciles hold one, so a read
/// waiting for them waits for work under way, never for a reconcile still queued behind it.
pub struct Creating {
    creates: Arc<Creates>,
    key: (Location, String),
}

impl Drop for Creating {
    fn drop(&mut self) {
        {
            let mut under_way = self.creates.under_way.lock().expect("creates lock");
            if let Some(n) = under_way.get_mut(&self.key) {
                *n -= 1;
                if *n == 0 {
                    under_way.remove(&self.key);
                }
            }
        }
        self.creates.ended.notify_waiters();
    }
}

/// Reads one kind of per-log-group item in batches. Share it through its `Arc`.
pub struct LogGroupReader<T> {
    aws: Arc<Aws>,
    batcher: Arc<Batcher<Vec<T>>>,
    prefetch_ttl: Duration,
    prefetched: Mutex<Prefetched<T>>,
    creates: Arc<Creates>,
    pending: OnceLock<Pending>,
}

impl<T: LogGroupItem> LogGroupReader<T> {
    /// A reader that waits at least `window` (and while the rate limit is saturated) for
    /// reconciles asking about the same log group, and keeps prefetched listings for
    /// `prefetch_ttl`.
    pub fn new(aws: Arc<Aws>, window: Duration, prefetch_ttl: Duration) -> Arc<Self> {
        let caller = Arc::clone(&aws);
        let call: BatchCall<Vec<T>> = Arc::new(move |location: Location, groups| {
            let aws = Arc::clone(&caller);
            Box::pin(async move {
                let mut found = HashMap::new();
                for (i, group) in groups.iter().enumerate() {
                    // The batch's slot serves its first log group (its only one).
                    if let Some(items) = list_group::<T>(&aws, &location, group, i == 0).await? {
                        found.insert(group.clone(), items);
                    }
                }
                Ok(found)
            })
        });
        let limiter = Arc::clone(aws.limiter());
        Arc::new(LogGroupReader {
            aws,
            batcher: Batcher::new(T::API, limiter, window, GROUPS_PER_BATCH, call),
            prefetch_ttl,
            prefetched: Mutex::default(),
            creates: Arc::default(),
            pending: OnceLock::new(),
        })
    }

    /// Where to find how many objects on a log group have yet to be reconciled: the listing read
    /// after a create is kept for them.
    pub fn expect(&self, pending: Pending) {
        let _ = self.pending.set(pending);
    }

    /// Marks a create planned on `log_group` at `location`, or a reconcile there still deciding
    /// whether to create (from its start, so that what it waits for before its read, such as a
    /// metric filter's tests, counts too), until the returned guard is dropped: the reads after
    /// the other creates on the log group wait for it.
    pub fn creating(&self, location: &Location, log_group: &str) -> Creating {
        self.creates
            .start((location.clone(), log_group.to_string()))
    }

    /// Every item of `log_group` at `location` after this reconcile created one of them (its own
    /// [`Creating`] dropped): read once the other creates planned on the log group have sent
    /// their Puts (see [`OTHER_CREATES_QUIET`]), so that their reads share one listing.
    pub async fn filters_after_create(
        &self,
        location: &Location,
        log_group: &str,
    ) -> Result<Listing<T>, Error> {
        let key = (location.clone(), log_group.to_string());
        self.creates
            .settled(&key, OTHER_CREATES_QUIET, OTHER_CREATES_LONGEST)
            .await;
        self.read_for_pending(location, log_group).await
    }

    /// Every item of `log_group` at `location`, or `None` when the log group does not exist,
    /// for the reconcile of its filter `filter`.
    pub async fn filters(
        &self,
        location: &Location,
        log_group: &str,
        filter: &str,
    ) -> Result<Listing<T>, Error> {
        if let Some(listing) = self.take_prefetched(location, log_group, filter) {
            return Ok(listing);
        }
        self.read_for_pending(location, log_group).await
    }

    /// Lists `log_group` (in a batch) and keeps the listing for the other objects on it that
    /// have yet to be reconciled, unless it says the log group does not exist.
    async fn read_for_pending(
        &self,
        location: &Location,
        log_group: &str,
    ) -> Result<Listing<T>, Error> {
        let started = Instant::now();
        let listing = self.batcher.request(location, log_group).await?;
        self.keep_for_pending(location, log_group, started, &listing);
        Ok(listing)
    }

    /// Keeps `listing` of `log_group`, whose read started at `started`, for the other objects on
    /// the log group that have yet to be reconciled; not when it says the log group does not
    /// exist.
    fn keep_for_pending(
        &self,
        location: &Location,
        log_group: &str,
        started: Instant,
        listing: &Listing<T>,
    ) {
        if listing.is_none() {
            return;
        }
        // The object reading is itself among the pending ones until its status is written.
        let others = self
            .pending
            .get()
            .map_or(0, |pending| pending(log_group).saturating_sub(1));
        self.prefetched.lock().expect("prefetch lock").put(
            (location.clone(), log_group.to_string()),
            started,
            others,
            listing.clone(),
            self.prefetch_ttl,
        );
    }

    /// Reads the log groups of `uses` (log group → how many reconciles will ask for it) now,
    /// one listing per log group, and keeps each listing for that many reconciles.
    pub async fn prefetch(
        &self,
        location: &Location,
        uses: &BTreeMap<String, usize>,
    ) -> Result<(), Error> {
        let groups: Vec<String> = uses.keys().cloned().collect();
        let started = Instant::now();
        let found = list_groups::<T>(&self.aws, location, &groups).await?;
        let mut prefetched = self.prefetched.lock().expect("prefetch lock");
        for (group, n) in uses {
            let key = (location.clone(), group.clone());
            prefetched.put(
                key,
                started,
                *n,
                found.get(group).cloned(),
                self.prefetch_ttl,
            );
        }
        Ok(())
    }

    /// Notes a write of the filter `filter` of `log_group` (call it before the write is sent
    /// and after its answer): what was read before is no longer handed to its reconciles.
    pub fn wrote(&self, location: &Location, log_group: &str, filter: &str) {
        self.prefetched
            .lock()
            .expect("prefetch lock")
            .wrote(&(location.clone(), log_group.to_string()), filter);
    }

    fn take_prefetched(
        &self,
        location: &Location,
        log_group: &str,
        filter: &str,
    ) -> Option<Listing<T>> {
        let key = (location.clone(), log_group.to_string());
        self.prefetched.lock().expect("prefetch lock").take(
            &key,
            filter,
            Instant::now(),
            self.prefetch_ttl,
        )
    }
}

/// Lists the items of each of `groups`, together, each call waiting for its own rate-limit
/// slot; a log group that does not exist is left out.
async fn list_groups<T: LogGroupItem>(
    aws: &Aws,
    location: &Location,
    groups: &[String],
) -> Result<HashMap<String, Vec<T>>, Error> {
    let listings = futures::future::join_all(
        groups
            .iter()
            .map(|g| list_group::<T>(aws, location, g, false)),
    )
    .await;
    let mut found = HashMap::new();
    for (group, listing) in groups.iter().zip(listings) {
        if let Some(items) = listing? {
            found.insert(group.clone(), items);
        }
    }
    Ok(found)
}

/// Every item of one log group (all pages), or `None` when the log group does not exist;
/// `in_slot` when the first page goes out in a rate-limit slot the caller holds (a batch's), so
/// it must not wait for another (`Aws::call_in_slot`).
async fn list_group<T: LogGroupItem>(
    aws: &Aws,
    location: &Location,
    group: &str,
    in_slot: bool,
) -> Result<Listing<T>, Error> {
    tracing::debug!(%location, log_group = group, operation = %T::API, "listing a log group");
    let client = &aws.clients(location).logs;
    let mut items = Vec::new();
    let mut next_token: Option<String> = None;
    let mut first_in_slot = in_slot;
    loop {
        let request = T::page(client, group, PAGE_SIZE, next_token.take());
        let sent = if std::mem::take(&mut first_in_slot) {
            aws.call_in_slot(location, T::API, request).await
        } else {
            aws.call(location, T::API, request).await
        };
        let (page, next) = match sent {
            Ok(page) => page,
            // ResourceNotFoundException: the log group does not exist.
            Err(e) if e.reason == Reason::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        items.extend(page);
        match next {
            Some(token) if !token.is_empty() => next_token = Some(token),
            _ => return Ok(Some(items)),
        }
    }
}

/// DescribeLogGroups returns at most 50 log groups per page.
const LOG_GROUPS_PAGE_SIZE: i32 = 50;

/// Every item of every log group at `location`, log group by log group: DescribeLogGroups (every
/// page), then each group's items, together (a group deleted in between is left out). What
/// `import` reads.
pub async fn list_all<T: LogGroupItem>(aws: &Aws, location: &Location) -> Result<Vec<T>, Error> {
    let client = &aws.clients(location).logs;
    let mut groups = Vec::new();
    let mut next_token: Option<String> = None;
    loop {
        let request = client
            .describe_log_groups()
            .limit(LOG_GROUPS_PAGE_SIZE)
            .set_next_token(next_token.take())
            .send();
        let out = aws.call(location, Api::DescribeLogGroups, request).await?;
        groups.extend(
            out.log_groups()
                .iter()
                .filter_map(|g| g.log_group_name.clone()),
        );
        match out.next_token() {
            Some(token) if !token.is_empty() => next_token = Some(token.to_string()),
            _ => break,
        }
    }
    let listings = futures::future::join_all(
        groups
            .iter()
            .map(|group| list_group::<T>(aws, location, group, false)),
    )
    .await;
    let mut items = Vec::new();
    for listing in listings {
        items.extend(listing?.into_iter().flatten());
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudwatchlogs::types::MetricFilter;

    fn key(group: &str) -> (Location, String) {
        (Location::of("us-east-1"), group.to_string())
    }

    fn listing(name: &str) -> Listing<String> {
        Some(vec![name.to_string()])
    }

    fn filters(name: &str) -> Listing<MetricFilter> {
        Some(vec![MetricFilter::builder().filter_name(name).build()])
    }

    const TTL: Duration = Duration::from_secs(30);

    /// Waits for the creates under way on `/g` as the read after a create does (10 s after the
    /// last one ended, 60 s in all), and says after how many milliseconds it went on.
    async fn settled_after_ms(creates: &Arc<Creates>) -> u128 {
        let start = Instant::now();
        creates
            .settled(&key("/g"), Duration::from_secs(10), Duration::from_secs(60))
            .await;
        start.elapsed().as_millis()
    }

    #[tokio::test(start_paused = true)]
    async fn the_read_after_a_create_waits_for_the_other_creates_on_its_log_group() {
        let creates = Arc::new(Creates::default());
        assert_eq!(settled_after_ms(&creates).await, 0, "none under way");

        let first = creates.start(key("/g"));
        let second = creates.start(key("/g"));
        let elsewhere = creates.start(key("/other"));
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(1_000)).await;
            drop(first);
            tokio::time::sleep(Duration::from_millis(2_000)).await;
            drop(second);
        });
        assert_eq!(
            settled_after_ms(&creates).await,
            3_000,
            "until the last create on the log group has sent its Put, whatever other log groups do"
        );
        assert_eq!(creates.count(&key("/g")), 0);
        assert_eq!(creates.count(&key("/other")), 1);
        drop(elsewhere);
        assert_eq!(creates.count(&key("/other")), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn the_read_after_a_create_waits_no_longer_than_its_deadline() {
        let creates = Arc::new(Creates::default());
        let _stuck = creates.start(key("/g"));
        assert_eq!(settled_after_ms(&creates).await, 10_000);
    }

    #[tokio::test(start_paused = true)]
    async fn the_read_after_a_create_waits_while_the_other_creates_keep_ending() {
        // Twelve creates on the log group whose Puts queue on the rate limit: one ends every
        // 8 s, each within the quiet time of the one before.
        let creates = Arc::new(Creates::default());
        let queued: Vec<Creating> = (0..12).map(|_| creates.start(key("/g"))).collect();
        tokio::spawn(async move {
            for create in queued {
                tokio::time::sleep(Duration::from_millis(8_000)).await;
                drop(create);
            }
        });
        assert_eq!(
            settled_after_ms(&creates).await,
            60_000,
            "until the last has ended, but no longer than 60 s in all"
        );

        let creates = Arc::new(Creates::default());
        let (first, stuck) = (creates.start(key("/g")), creates.start(key("/g")));
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(4_000)).await;
            drop(first);
        });
        assert_eq!(
            settled_after_ms(&creates).await,
            14_000,
            "a create that stops ending is waited for 10 s after the last end"
        );
        drop(stuck);
    }

    #[tokio::test]
    async fn a_listing_read_is_kept_for_the_other_objects_on_its_log_group_still_to_be_reconciled()
    {
        let reader = LogGroupReader::<MetricFilter>::new(
            crate::aws::unreachable().await,
            Duration::from_millis(10),
            TTL,
        );
        // Three objects on /g await their reconcile (the reader among them), none elsewhere.
        reader.expect(Box::new(|group| if group == "/g" { 3 } else { 0 }));
        let here = Location::of("us-east-1");
        reader.keep_for_pending(&here, "/g", Instant::now(), &filters("a"));
        assert_eq!(reader.take_prefetched(&here, "/g", "f"), Some(filters("a")));
        assert_eq!(reader.take_prefetched(&here, "/g", "f"), Some(filters("a")));
        assert_eq!(
            reader.take_prefetched(&here, "/g", "f"),
            None,
            "kept for the two others only"
        );
        reader.keep_for_pending(&here, "/other", Instant::now(), &filters("b"));
        assert_eq!(
            reader.take_prefetched(&here, "/other", "f"),
            None,
            "nobody else awaits a reconcile there"
        );
        reader.keep_for_pending(&here, "/g", Instant::now(), &None);
        assert_eq!(
            reader.take_prefetched(&here, "/g", "f"),
            None,
            "a missing log group is read again: the objects waiting for it must see it appear"
        );
        let before = Instant::now();
        reader.wrote(&here, "/g", "mine");
        reader.keep_for_pending(&here, "/g", before, &filters("c"));
        assert_eq!(
            reader.take_prefetched(&here, "/g", "mine"),
            None,
            "read before a write of the filter asking"
        );
        assert_eq!(
            reader.take_prefetched(&here, "/g", "another"),
            Some(filters("c")),
            "another filter's reconcile still takes it"
        );
    }

    #[test]
    fn a_prefetched_listing_serves_each_reconcile_it_was_read_for_once() {
        let mut p = Prefetched::default();
        let now = Instant::now();
        p.put(key("/g"), now, 2, listing("a"), TTL);
        assert_eq!(p.take(&key("/g"), "f", now, TTL), Some(listing("a")));
        assert_eq!(p.take(&key("/g"), "h", now, TTL), Some(listing("a")));
        assert_eq!(
            p.take(&key("/g"), "i", now, TTL),
            None,
            "a third reconcile reads AWS"
        );
        p.put(key("/g"), now, 0, listing("d"), TTL);
        assert_eq!(p.take(&key("/g"), "f", now, TTL), None, "kept for nobody");
    }

    #[test]
    fn a_listing_read_before_a_write_of_a_filter_is_not_handed_to_that_filters_reconciles() {
        let mut p = Prefetched::default();
        let before = Instant::now();
        std::thread::sleep(Duration::from_millis(2));
        p.wrote(&key("/g"), "f");
        p.put(key("/g"), before, 3, listing("a"), TTL);
        assert_eq!(
            p.take(&key("/g"), "f", Instant::now(), TTL),
            None,
            "stale for f"
        );
        assert_eq!(
            p.take(&key("/g"), "h", Instant::now(), TTL),
            Some(listing("a")),
            "h was not written: the refusal above used nothing up"
        );
        p.put(key("/other"), before, 1, listing("b"), TTL);
        assert_eq!(
            p.take(&key("/other"), "f", Instant::now(), TTL),
            Some(listing("b")),
            "a filter of the same name on another log group is another filter"
        );
        let after = Instant::now();
        p.put(key("/g"), after, 1, listing("c"), TTL);
        assert_eq!(
            p.take(&key("/g"), "f", Instant::now(), TTL),
            Some(listing("c")),
            "read after the write"
        );
        // Kept, then written: the write of the filter comes after the read.
        p.put(key("/g"), Instant::now(), 2, listing("e"), TTL);
        std::thread::sleep(Duration::from_millis(2));
        p.wrote(&key("/g"), "f");
        assert_eq!(p.take(&key("/g"), "f", Instant::now(), TTL), None);
        assert_eq!(
            p.take(&key("/g"), "h", Instant::now(), TTL),
            Some(listing("e"))
        );
    }

    #[test]
    fn a_missing_log_group_is_prefetched_too() {
        let mut p = Prefetched::<String>::default();
        let now = Instant::now();
        p.put(key("/gone"), now, 1, None, TTL);
        assert_eq!(p.take(&key("/gone"), "f", now, TTL), Some(None));
    }

    #[test]
    fn old_listings_are_not_handed_out() {
        let mut p = Prefetched::default();
        let now = Instant::now();
        p.put(key("/g"), now, 5, listing("a"), TTL);
        assert_eq!(
            p.take(&key("/g"), "f", now + TTL + Duration::from_secs(1), TTL),
            None
        );
    }
}
