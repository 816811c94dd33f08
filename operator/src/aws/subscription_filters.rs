//! Batched reads of CloudWatch Logs subscription filters, one listing per log group.
//!
//! DescribeSubscriptionFilters lists a log group's filters (a handful at most: the per-group
//! limit is 2 to 5) and its quota is 5 calls per second for the account and region, not
//! adjustable. Each call answers for one log group, so a batch here is one log group: through a
//! [`Batcher`] of one key per batch, reconciles of filters on the same log group that run
//! together share one call (and keep joining it while the quota's rate limit is saturated); each
//! gets the whole listing, which also names the filters already there when the per-group limit is
//! reached.
//!
//! The drift resync prefetches the log groups of a whole chunk of objects, one call per log
//! group, and the reconciles it then triggers take their listing from that prefetch. A
//! prefetched listing is handed to as many reconciles as it was read for, once each, and kept
//! only briefly, so no reconcile acts on an old reading; a write by the operator to a log group
//! drops what was prefetched for it.

use super::api::Api;
use super::batch::{BatchCall, Batcher};
use super::{Aws, Location};
use crate::error::Error;
use crate::reason::Reason;
use aws_sdk_cloudwatchlogs::types::SubscriptionFilter;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// Log groups listed per batch: one, since each is a call of its own.
const GROUPS_PER_BATCH: usize = 1;
/// DescribeSubscriptionFilters returns at most 50 filters per page.
const PAGE_SIZE: i32 = 50;

type Listing = Option<Vec<SubscriptionFilter>>;

/// Prefetched listings by (region, log group): when each was read, how many reconciles may still
/// take it, and the listing (`None`: the log group does not exist).
#[derive(Default)]
struct Prefetched {
    listings: HashMap<(Location, String), (Instant, usize, Listing)>,
}

impl Prefetched {
    /// Keeps `listing` of `key`, read at `now`, for `uses` reconciles; drops expired ones.
    fn put(
        &mut self,
        key: (Location, String),
        now: Instant,
        uses: usize,
        listing: Listing,
        ttl: Duration,
    ) {
        self.listings
            .retain(|_, (read_at, _, _)| now.duration_since(*read_at) <= ttl);
        self.listings.insert(key, (now, uses, listing));
    }

    /// Hands out the listing of `key` once, if it is younger than `ttl` at `now`.
    fn take(&mut self, key: &(Location, String), now: Instant, ttl: Duration) -> Option<Listing> {
        let (read_at, uses, listing) = self.listings.get_mut(key)?;
        if now.duration_since(*read_at) > ttl {
            self.listings.remove(key);
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

    fn forget(&mut self, key: &(Location, String)) {
        self.listings.remove(key);
    }
}

/// Reads subscription filters in batches. Share it through its `Arc`.
pub struct SubscriptionFilterReader {
    aws: Arc<Aws>,
    batcher: Arc<Batcher<Vec<SubscriptionFilter>>>,
    prefetch_ttl: Duration,
    prefetched: Mutex<Prefetched>,
}

impl SubscriptionFilterReader {
    /// A reader that waits at least `window` (and while the rate limit is saturated) for
    /// reconciles asking about the same log group, and keeps prefetched listings for
    /// `prefetch_ttl`.
    pub fn new(aws: Arc<Aws>, window: Duration, prefetch_ttl: Duration) -> Arc<Self> {
        let caller = Arc::clone(&aws);
        let call: BatchCall<Vec<SubscriptionFilter>> =
            Arc::new(move |location: Location, groups| {
                let aws = Arc::clone(&caller);
                Box::pin(async move {
                    let mut found = HashMap::new();
                    for (i, group) in groups.iter().enumerate() {
                        // The batch's slot serves its first log group (its only one).
                        if let Some(filters) = list_group(&aws, &location, group, i == 0).await? {
                            found.insert(group.clone(), filters);
                        }
                    }
                    Ok(found)
                })
            });
        let limiter = Arc::clone(aws.limiter());
        Arc::new(SubscriptionFilterReader {
            aws,
            batcher: Batcher::new(
                Api::DescribeSubscriptionFilters,
                limiter,
                window,
                GROUPS_PER_BATCH,
                call,
            ),
            prefetch_ttl,
            prefetched: Mutex::default(),
        })
    }

    /// Every filter of `log_group` at `location`, or `None` when the log group does not exist.
    pub async fn filters(&self, location: &Location, log_group: &str) -> Result<Listing, Error> {
        if let Some(listing) = self.take_prefetched(location, log_group) {
            return Ok(listing);
        }
        self.batcher.request(location, log_group).await
    }

    /// Reads the log groups of `uses` (log group → how many reconciles will ask for it) now,
    /// one call per log group, and keeps each listing for that many reconciles.
    pub async fn prefetch(
        &self,
        location: &Location,
        uses: &BTreeMap<String, usize>,
    ) -> Result<(), Error> {
        let groups: Vec<String> = uses.keys().cloned().collect();
        let found = list_groups(&self.aws, location, &groups).await?;
        let now = Instant::now();
        let mut prefetched = self.prefetched.lock().expect("prefetch lock");
        for (group, n) in uses {
            let key = (location.clone(), group.clone());
            prefetched.put(key, now, *n, found.get(group).cloned(), self.prefetch_ttl);
        }
        Ok(())
    }

    /// Drops what was prefetched for `log_group`, after a write to it.
    pub fn forget(&self, location: &Location, log_group: &str) {
        self.prefetched
            .lock()
            .expect("prefetch lock")
            .forget(&(location.clone(), log_group.to_string()));
    }

    fn take_prefetched(&self, location: &Location, log_group: &str) -> Option<Listing> {
        let key = (location.clone(), log_group.to_string());
        self.prefetched
            .lock()
            .expect("prefetch lock")
            .take(&key, Instant::now(), self.prefetch_ttl)
    }
}

/// Lists the filters of each of `groups`; a log group that does not exist is left out.
async fn list_groups(
    aws: &Aws,
    location: &Location,
    groups: &[String],
) -> Result<HashMap<String, Vec<SubscriptionFilter>>, Error> {
    let listings =
        futures::future::join_all(groups.iter().map(|g| list_group(aws, location, g, false))).await;
    let mut found = HashMap::new();
    for (group, listing) in groups.iter().zip(listings) {
        if let Some(filters) = listing? {
            found.insert(group.clone(), filters);
        }
    }
    Ok(found)
}

/// Every filter of one log group (all pages), or `None` when the log group does not exist;
/// `in_slot` when the first page goes out in a rate-limit slot the caller holds (a batch's).
async fn list_group(
    aws: &Aws,
    location: &Location,
    group: &str,
    in_slot: bool,
) -> Result<Option<Vec<SubscriptionFilter>>, Error> {
    let client = &aws.clients(location).logs;
    let mut filters = Vec::new();
    let mut next_token: Option<String> = None;
    let mut first_in_slot = in_slot;
    loop {
        let request = client
            .describe_subscription_filters()
            .log_group_name(group)
            .limit(PAGE_SIZE)
            .set_next_token(next_token.take())
            .send();
        let sent = if std::mem::take(&mut first_in_slot) {
            aws.call_in_slot(location, Api::DescribeSubscriptionFilters, request)
                .await
        } else {
            aws.call(location, Api::DescribeSubscriptionFilters, request)
                .await
        };
        let out = match sent {
            Ok(out) => out,
            // ResourceNotFoundException: the log group does not exist.
            Err(e) if e.reason == Reason::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        filters.extend(out.subscription_filters().iter().cloned());
        match out.next_token() {
            Some(token) if !token.is_empty() => next_token = Some(token.to_string()),
            _ => return Ok(Some(filters)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(group: &str) -> (Location, String) {
        (Location::of("us-east-1"), group.to_string())
    }

    fn listing(name: &str) -> Listing {
        Some(vec![
            SubscriptionFilter::builder().filter_name(name).build(),
        ])
    }

    const TTL: Duration = Duration::from_secs(30);

    #[test]
    fn a_prefetched_listing_serves_each_reconcile_it_was_read_for_once() {
        let mut p = Prefetched::default();
        let now = Instant::now();
        p.put(key("/g"), now, 2, listing("a"), TTL);
        assert_eq!(p.take(&key("/g"), now, TTL), Some(listing("a")));
        assert_eq!(p.take(&key("/g"), now, TTL), Some(listing("a")));
        assert_eq!(
            p.take(&key("/g"), now, TTL),
            None,
            "a third reconcile reads AWS"
        );
    }

    #[test]
    fn a_missing_log_group_is_prefetched_too() {
        let mut p = Prefetched::default();
        let now = Instant::now();
        p.put(key("/gone"), now, 1, None, TTL);
        assert_eq!(p.take(&key("/gone"), now, TTL), Some(None));
    }

    #[test]
    fn old_or_forgotten_listings_are_not_handed_out() {
        let mut p = Prefetched::default();
        let now = Instant::now();
        p.put(key("/g"), now, 5, listing("a"), TTL);
        assert_eq!(
            p.take(&key("/g"), now + TTL + Duration::from_secs(1), TTL),
            None
        );
        p.put(key("/g"), now, 5, listing("a"), TTL);
        p.forget(&key("/g"));
        assert_eq!(
            p.take(&key("/g"), now, TTL),
            None,
            "a write drops the prefetch"
        );
    }
}
