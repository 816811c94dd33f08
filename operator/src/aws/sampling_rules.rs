//! Shared reads of X-Ray sampling rules.
//!
//! X-Ray has no call that reads one rule: GetSamplingRules pages through every rule of the
//! account and region. Each reconcile paging all rules on its own would multiply those calls by
//! the number of SamplingRule objects, so every read goes through one [`RuleLister`]:
//! - per account and region, reconciles that ask for the rules share one listing, through a
//!   [`Batcher`] of a single key: a listing goes out when the rate limit grants it a slot, and
//!   everyone who asked before then shares its result (errors included, so a throttled listing
//!   is not repeated once per waiter);
//! - a listing is reused for a short time only (a few seconds), so drift made outside the
//!   operator is seen by the next resync;
//! - a cleanup deciding that a rule not confirmed as its own is gone takes a listing asked for
//!   after it ([`Read::Fresh`]), never a kept one;
//! - a write through the operator ([`RuleLister::invalidate`]) makes every earlier listing
//!   unusable, so a reconcile never acts on a listing taken before its own create or delete.

use super::api::Api;
use super::batch::{BatchCall, Batcher, Kept, Read};
use super::rate_limit::RateLimiter;
use super::{Aws, Location};
use crate::error::Error;
use aws_sdk_xray::types::SamplingRuleRecord;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::time::Instant;

/// Name of the rule X-Ray creates in every account and region.
pub const DEFAULT_RULE_NAME: &str = "Default";

/// Listings gather callers for at least this long when the rate limit is idle.
const LIST_WINDOW: Duration = Duration::from_millis(20);

/// Every sampling rule of one region, as one listing found them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuleListing {
    pub records: Vec<SamplingRuleRecord>,
}

impl RuleListing {
    /// The rule named `name`, if listed.
    pub fn find(&self, name: &str) -> Option<&SamplingRuleRecord> {
        self.records.iter().find(|r| {
            r.sampling_rule
                .as_ref()
                .and_then(|s| s.rule_name())
                .is_some_and(|n| n == name)
        })
    }

    /// Rules other than `Default` (which every region has): what X-Ray counts against its limit
    /// of 25 per region.
    pub fn custom_count(&self) -> usize {
        self.records
            .iter()
            .filter(|r| {
                r.sampling_rule.as_ref().and_then(|s| s.rule_name()) != Some(DEFAULT_RULE_NAME)
            })
            .count()
    }
}

/// The call that lists every rule of a location. `in_slot`: its first page goes out in a
/// rate-limit slot the caller holds.
pub type ListCall = Arc<
    dyn Fn(Location, bool) -> Pin<Box<dyn Future<Output = Result<RuleListing, Error>> + Send>>
        + Send
        + Sync,
>;

/// The last successful listing of a location.
struct Taken {
    /// The location's write count when the listing went out.
    generation: u64,
    started: Instant,
    finished: Instant,
    listing: Arc<RuleListing>,
}

#[derive(Default)]
struct Listings {
    writes: HashMap<Location, u64>,
    last: HashMap<Location, Taken>,
}

/// Lists sampling rules for all reconciles. Share it through its `Arc`.
pub struct RuleLister {
    fresh_for: Duration,
    batcher: Arc<Batcher<Arc<RuleListing>>>,
    listings: Mutex<Listings>,
}

/// The one key of a listing's batch: a listing answers for the whole location.
const ALL_RULES: &str = "";

impl RuleLister {
    /// A lister that reuses a listing for `fresh_for`, listing through `aws`.
    pub fn new(aws: Arc<Aws>, fresh_for: Duration) -> Arc<Self> {
        let limiter = Arc::clone(aws.limiter());
        let call: ListCall = Arc::new(move |location, in_slot| {
            let aws = Arc::clone(&aws);
            Box::pin(async move { list_all(&aws, &location, in_slot).await })
        });
        Self::with_call(call, limiter, fresh_for)
    }

    /// A lister over any listing call (tests use a counting one), paced by `limiter`.
    pub fn with_call(call: ListCall, limiter: Arc<RateLimiter>, fresh_for: Duration) -> Arc<Self> {
        Arc::new_cyclic(|me: &Weak<RuleLister>| {
            let me = me.clone();
            let batch_call: BatchCall<Arc<RuleListing>> = Arc::new(move |location, _keys| {
                let (call, me) = (Arc::clone(&call), me.clone());
                Box::pin(async move {
                    let writes = me.upgrade().map(|lister| lister.writes(&location));
                    let started = Instant::now();
                    let listing = Arc::new(call(location.clone(), true).await?);
                    if let (Some(lister), Some(generation)) = (me.upgrade(), writes) {
                        lister.keep(&location, generation, started, &listing);
                    }
                    Ok(HashMap::from([(ALL_RULES.to_string(), listing)]))
                })
            });
            RuleLister {
                fresh_for,
                batcher: Batcher::new(Api::GetSamplingRules, limiter, LIST_WINDOW, 1, batch_call),
                listings: Mutex::default(),
            }
        })
    }

    /// Every rule at `location`, as `read` allows: a successful listing younger than the
    /// freshness window, provided no write went through the operator since it went out, or a
    /// new listing, shared with everyone who asks before it goes out.
    pub async fn list(&self, location: &Location, read: Read) -> Result<Arc<RuleListing>, Error> {
        let listing = self.batcher.read(self, location, ALL_RULES, read).await?;
        Ok(listing.unwrap_or_default())
    }

    /// The location's write count.
    fn writes(&self, location: &Location) -> u64 {
        let listings = self.listings.lock().expect("rule lister lock");
        listings.writes.get(location).copied().unwrap_or(0)
    }

    /// Keeps a listing that went out at `started`, as of the write count `generation`.
    fn keep(
        &self,
        location: &Location,
        generation: u64,
        started: Instant,
        listing: &Arc<RuleListing>,
    ) {
        let mut listings = self.listings.lock().expect("rule lister lock");
        listings.last.insert(
            location.clone(),
            Taken {
                generation,
                started,
                finished: Instant::now(),
                listing: Arc::clone(listing),
            },
        );
    }

    /// Forgets what was listed at `location`: call after every write, so the next read sees it.
    pub fn invalidate(&self, location: &Location) {
        let mut listings = self.listings.lock().expect("rule lister lock");
        *listings.writes.entry(location.clone()).or_default() += 1;
    }
}

impl Kept<Arc<RuleListing>> for RuleLister {
    /// The last listing, while it is younger than the freshness window and no write went
    /// through the operator since it went out.
    fn take(&self, location: &Location, _all: &str) -> Option<Option<Arc<RuleListing>>> {
        let listings = self.listings.lock().expect("rule lister lock");
        let writes = listings.writes.get(location).copied().unwrap_or(0);
        let taken = listings.last.get(location)?;
        (taken.generation == writes && taken.finished.elapsed() <= self.fresh_for)
            .then(|| Some(Arc::clone(&taken.listing)))
    }

    fn forget_before(&self, location: &Location, _all: &str, asked: Instant) {
        let mut listings = self.listings.lock().expect("rule lister lock");
        if listings
            .last
            .get(location)
            .is_some_and(|t| t.started < asked)
        {
            listings.last.remove(location);
        }
    }
}

/// GetSamplingRules, every page; `in_slot` when the first page goes out in a rate-limit slot
/// the caller holds (a batch's).
pub async fn list_all(aws: &Aws, location: &Location, in_slot: bool) -> Result<RuleListing, Error> {
    let client = &aws.clients(location).xray;
    let mut records = Vec::new();
    let mut next_token: Option<String> = None;
    let mut first_in_slot = in_slot;
    loop {
        let request = client
            .get_sampling_rules()
            .set_next_token(next_token.take())
            .send();
        let out = if std::mem::take(&mut first_in_slot) {
            aws.call_in_slot(location, Api::GetSamplingRules, request)
                .await?
        } else {
            aws.call(location, Api::GetSamplingRules, request).await?
        };
        records.extend(out.sampling_rule_records().iter().cloned());
        match out.next_token() {
            Some(token) if !token.is_empty() => next_token = Some(token.to_string()),
            _ => return Ok(RuleListing { records }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::rate_limit::RateLimitConfig;
    use crate::reason::Reason;
    use aws_sdk_xray::types::SamplingRule;
    use std::sync::atomic::AtomicUsize;
    use std::sync::atomic::Ordering;

    fn record(name: &str) -> SamplingRuleRecord {
        SamplingRuleRecord::builder()
            .sampling_rule(
                SamplingRule::builder()
                    .rule_name(name)
                    .resource_arn("*")
                    .priority(1)
                    .fixed_rate(0.1)
                    .reservoir_size(1)
                    .service_name("*")
                    .service_type("*")
                    .host("*")
                    .http_method("*")
                    .url_path("*")
                    .version(1)
                    .build()
                    .unwrap(),
            )
            .build()
    }

    /// A listing call that counts its calls, takes 100 ms, and fails while `failing` is set.
    fn counting(calls: Arc<AtomicUsize>, failing: Arc<AtomicUsize>) -> ListCall {
        Arc::new(move |_location, _in_slot| {
            let calls = Arc::clone(&calls);
            let failing = Arc::clone(&failing);
            Box::pin(async move {
                calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(100)).await;
                if failing.load(Ordering::SeqCst) > 0 {
                    return Err(Error::new(
                        Reason::Throttled,
                        "GetSamplingRules: Rate exceeded",
                    ));
                }
                Ok(RuleListing {
                    records: vec![record("Default"), record("a"), record("b")],
                })
            })
        })
    }

    fn lister() -> (Arc<RuleLister>, Arc<AtomicUsize>, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let failing = Arc::new(AtomicUsize::new(0));
        let limiter = Arc::new(RateLimiter::new(RateLimitConfig {
            disabled: true,
            ..Default::default()
        }));
        let lister = RuleLister::with_call(
            counting(Arc::clone(&calls), Arc::clone(&failing)),
            limiter,
            Duration::from_secs(2),
        );
        (lister, calls, failing)
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_reconciles_share_one_listing() {
        let (lister, calls, _) = lister();
        let at = here();
        let all = futures::future::join_all((0..20).map(|_| lister.list(&at, Read::Kept))).await;
        assert!(all.iter().all(|r| r.as_ref().unwrap().records.len() == 3));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_listing_is_reused_only_briefly_so_drift_is_seen() {
        let (lister, calls, _) = lister();
        lister.list(&here(), Read::Kept).await.unwrap();
        tokio::time::advance(Duration::from_secs(1)).await;
        lister.list(&here(), Read::Kept).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        tokio::time::advance(Duration::from_secs(3)).await;
        lister.list(&here(), Read::Kept).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_cleanup_listing_is_never_a_kept_one_and_is_shared_while_unsent() {
        // A kept listing without the rule must not tell a cleanup it is gone: a create this
        // process did not make may have added it since.
        let (lister, calls, _) = lister();
        lister.list(&here(), Read::Kept).await.unwrap();
        let at = here();
        let all = futures::future::join_all((0..5).map(|_| lister.list(&at, Read::Fresh))).await;
        assert!(all.iter().all(|r| r.is_ok()));
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "one new listing for all five"
        );
        // What it read serves later reconciles as usual.
        lister.list(&here(), Read::Kept).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_makes_earlier_listings_unusable() {
        let (lister, calls, _) = lister();
        lister.list(&here(), Read::Kept).await.unwrap();
        lister.invalidate(&here());
        lister.list(&here(), Read::Kept).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn waiters_share_a_failed_listing_instead_of_repeating_it() {
        let (lister, calls, failing) = lister();
        failing.store(1, Ordering::SeqCst);
        let at = here();
        let all = futures::future::join_all((0..10).map(|_| lister.list(&at, Read::Kept))).await;
        assert!(
            all.iter()
                .all(|r| r.as_ref().unwrap_err().reason == Reason::Throttled)
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // A later caller tries again rather than reusing the failure.
        failing.store(0, Ordering::SeqCst);
        assert!(lister.list(&here(), Read::Kept).await.is_ok());
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn regions_and_accounts_are_listed_separately() {
        let (lister, calls, _) = lister();
        lister.list(&here(), Read::Kept).await.unwrap();
        lister
            .list(&Location::of("eu-west-1"), Read::Kept)
            .await
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        // The same region of another account: a listing of its own, with its credentials.
        lister
            .list(&Location::new(Some("team-a"), "us-east-1"), Read::Kept)
            .await
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        // A write in that account leaves the operator's own listing usable.
        lister.invalidate(&Location::new(Some("team-a"), "us-east-1"));
        lister.list(&here(), Read::Kept).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    fn here() -> Location {
        Location::of("us-east-1")
    }

    #[test]
    fn the_default_rule_does_not_count_against_the_limit() {
        let listing = RuleListing {
            records: vec![record("Default"), record("a"), record("b")],
        };
        assert_eq!(listing.custom_count(), 2);
        assert!(listing.find("a").is_some());
        assert!(listing.find("c").is_none());
    }
}
