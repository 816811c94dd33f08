//! Drift resync: every object is re-read from AWS once per resync period, in chunks spread
//! evenly (with jitter) over the period, so the load never comes in bursts and the reads batch.
//!
//! A chunk holds up to [`ManagedKind::RESYNC_CHUNK`] objects of one location (account and
//! region; an object whose namespace may not use its account is not read at all). Before the
//! chunk's
//! reconciles are triggered, [`ManagedKind::prefetch`] reads their AWS state in as few calls as
//! the API allows (100 alarms per DescribeAlarms), and the reconciles take it from there. A
//! thousand idle alarms then cost ten DescribeAlarms per period instead of a thousand.
//!
//! Objects waiting on a terminal error are skipped: only a spec change can help them, and a spec
//! change triggers a reconcile by itself. Objects being deleted are skipped: their cleanup runs
//! on its own backoff. Objects no reconcile has written a status for yet are skipped: their first
//! reconcile is on its way.

use super::backoff::random_unit;
use super::context::Context;
use super::reconcile::place;
use super::{ManagedKind, never_reconciled};
use crate::aws::Location;
use crate::conditions::status_of;
use crate::vocabulary::condition;
use kube::runtime::reflector::{ObjectRef, Store};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// One object as the sweep planner sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// `namespace/name`, for a stable order.
    pub key: String,
    /// The account and region the object lives in.
    pub location: Location,
}

/// Groups `candidates` into chunks of at most `chunk` objects of one location, in a stable order
/// (location, then key), so that consecutive periods visit objects at the same points in time.
pub fn plan(mut candidates: Vec<Candidate>, chunk: usize) -> Vec<(Location, Vec<String>)> {
    let chunk = chunk.max(1);
    candidates.sort_by(|a, b| (&a.location, &a.key).cmp(&(&b.location, &b.key)));
    let mut by_location: BTreeMap<Location, Vec<String>> = BTreeMap::new();
    for c in candidates {
        by_location.entry(c.location).or_default().push(c.key);
    }
    by_location
        .into_iter()
        .flat_map(|(location, keys)| {
            keys.chunks(chunk)
                .map(|c| (location.clone(), c.to_vec()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// When chunk `index` of `count` starts within a period beginning at `start`: evenly spaced, each
/// moved later by up to half the spacing (`unit` in [0, 1)), so chunks never bunch up.
pub fn slot(start: Instant, period: Duration, index: usize, count: usize, unit: f64) -> Instant {
    let spacing = period / count.max(1) as u32;
    start + spacing * index as u32 + spacing.mul_f64(unit * 0.5)
}

/// Whether the sweep should visit `obj`: not while it is being deleted, not before a reconcile
/// has written its status (its first reconcile is under way or queued by the object's own
/// events, and a visit queued behind it would repeat its AWS calls even when it ends on a
/// terminal error), and not while it waits on a terminal error for its current generation.
pub fn due<K: ManagedKind>(obj: &K) -> bool {
    if obj.meta().deletion_timestamp.is_some() {
        return false;
    }
    let Some(status) = obj.status().filter(|_| !never_reconciled(obj)) else {
        return false;
    };
    let common = K::common_status(status);
    let stalled =
        status_of(&common.conditions, condition::STALLED).is_some_and(|c| c.status == "True");
    !(stalled && common.observed_generation == obj.meta().generation)
}

/// The objects due for a visit, by key, and their chunks.
#[allow(clippy::type_complexity)]
fn chunks<K: ManagedKind>(
    store: &Store<K>,
    ctx: &Context,
) -> (BTreeMap<String, Arc<K>>, Vec<(Location, Vec<String>)>) {
    let objects: BTreeMap<String, Arc<K>> = store
        .state()
        .into_iter()
        .filter(|o| due(&**o))
        .map(|o| (super::reconcile::object_key(&*o), o))
        .collect();
    let candidates = objects
        .iter()
        .filter_map(|(key, o)| {
            let location = place(&**o, ctx).ok()?;
            Some(Candidate {
                key: key.clone(),
                location,
            })
        })
        .collect();
    let chunks = plan(candidates, K::RESYNC_CHUNK);
    (objects, chunks)
}

/// At start-up every object is reconciled at once, `concurrency` at a time — too few at a time
/// for their reads to batch well. As soon as the cache has the objects, read them all in full
/// chunks, back to back, so the start-up reconciles find their AWS state already read.
/// (`Store::wait_until_ready` is not used: its one-shot wakes only the last of several waiters,
/// and the controller waits on it too; an empty cache is polled briefly instead.)
async fn warm_up<K: ManagedKind>(store: &Store<K>, ctx: &Context, shared: &K::Shared) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while store.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (objects, chunks) = chunks(store, ctx);
    for (location, keys) in chunks {
        let chunk: Vec<Arc<K>> = keys
            .iter()
            .filter_map(|k| objects.get(k).cloned())
            .collect();
        K::prefetch(shared, &location, &chunk).await;
    }
}

/// Runs the drift resync of kind `K` forever: one sweep per resync period, each visiting every
/// object due, chunk by chunk. `wake` is the controller's trigger queue (bounded: a full queue
/// slows the sweep down rather than growing).
pub async fn run<K: ManagedKind>(
    store: Store<K>,
    ctx: Arc<Context>,
    shared: Arc<K::Shared>,
    wake: mpsc::Sender<ObjectRef<K>>,
) {
    let started = Instant::now();
    // Where an object lives depends on its namespace's annotations and labels and on the
    // AWSAccounts: wait for both caches.
    ctx.namespaces_synced.wait().await;
    ctx.accounts_synced.wait().await;
    if K::RESYNC_CHUNK > 1 {
        warm_up(&store, &ctx, &shared).await;
    }
    // Every object is reconciled from the initial listing; the first sweep starts one period
    // after start-up.
    let mut start = started + ctx.config.resync_period;
    loop {
        tokio::time::sleep_until(start).await;
        let period = ctx.config.resync_period;
        let (objects, chunks) = chunks(&store, &ctx);
        let count = chunks.len();
        tracing::debug!(
            kind = K::KIND,
            objects = objects.len(),
            chunks = count,
            "drift resync"
        );
        for (index, (location, keys)) in chunks.into_iter().enumerate() {
            tokio::time::sleep_until(slot(start, period, index, count, random_unit())).await;
            let chunk: Vec<Arc<K>> = keys
                .iter()
                .filter_map(|k| objects.get(k).cloned())
                .collect();
            K::prefetch(&shared, &location, &chunk).await;
            for obj in &chunk {
                if wake.send(ObjectRef::from_obj(&**obj)).await.is_err() {
                    return;
                }
            }
        }
        start += period;
        // A sweep that overran its period (a full queue) starts the next one at once.
        start = start.max(Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(key: &str, region: &str) -> Candidate {
        Candidate {
            key: key.into(),
            location: Location::of(region),
        }
    }

    #[test]
    fn chunks_hold_one_region_and_at_most_the_chunk_size() {
        let mut candidates: Vec<Candidate> = (0..250)
            .map(|i| c(&format!("ns/a{i:03}"), "us-east-1"))
            .collect();
        candidates.push(c("ns/b", "eu-west-1"));
        let chunks = plan(candidates, 100);
        let sizes: Vec<(&str, usize)> = chunks.iter().map(|(l, k)| (l.region(), k.len())).collect();
        assert_eq!(
            sizes,
            vec![
                ("eu-west-1", 1),
                ("us-east-1", 100),
                ("us-east-1", 100),
                ("us-east-1", 50)
            ]
        );
    }

    #[test]
    fn two_accounts_never_share_a_chunk() {
        let mut candidates: Vec<Candidate> = (0..3)
            .map(|i| c(&format!("ns/a{i}"), "us-east-1"))
            .collect();
        candidates.extend((0..3).map(|i| Candidate {
            key: format!("team/b{i}"),
            location: Location::new(Some("team-a"), "us-east-1"),
        }));
        let chunks = plan(candidates, 100);
        let shape: Vec<(Option<&str>, Vec<&str>)> = chunks
            .iter()
            .map(|(l, k)| (l.account(), k.iter().map(String::as_str).collect()))
            .collect();
        assert_eq!(
            shape,
            vec![
                (None, vec!["ns/a0", "ns/a1", "ns/a2"]),
                (Some("team-a"), vec!["team/b0", "team/b1", "team/b2"]),
            ]
        );
    }

    #[test]
    fn the_plan_is_stable_whatever_the_input_order() {
        let a = vec![c("ns/x", "r"), c("ns/y", "r"), c("ns/z", "r")];
        let mut b = a.clone();
        b.reverse();
        assert_eq!(plan(a, 2), plan(b, 2));
    }

    #[test]
    fn slots_are_spread_over_the_period_and_never_bunch_up() {
        let start = Instant::now();
        let period = Duration::from_secs(600);
        let mut previous = None;
        for index in 0..10 {
            for unit in [0.0, 0.5, 0.999] {
                let at = slot(start, period, index, 10, unit)
                    .duration_since(start)
                    .as_secs_f64();
                let offset = at - 60.0 * index as f64;
                assert!(
                    (0.0..30.0).contains(&offset),
                    "index {index} unit {unit}: {offset}"
                );
                assert!(at < 600.0);
            }
            let earliest = slot(start, period, index, 10, 0.0);
            if let Some(p) = previous {
                assert!(
                    earliest.duration_since(p) >= Duration::from_secs(30),
                    "chunks keep half a spacing apart"
                );
            }
            previous = Some(slot(start, period, index, 10, 0.999));
        }
    }
}
