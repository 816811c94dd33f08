//! Gathers single-item requests from concurrent reconciles into one AWS call per batch, in
//! windows that follow the API's rate limiter.
//!
//! Several AWS APIs take a list (DescribeAlarms: 100 names, DeleteAlarms: 100 names,
//! Start/StopMetricStreams: a list of names) while each reconcile needs one item; others answer
//! for a whole group at once (DescribeSubscriptionFilters for a log group, GetSamplingRules for a
//! region). A [`Batcher`] keeps one open batch per location. When a batch opens it reserves the
//! API's next rate-limit slot, and it stays open — later requests join it — until that slot comes
//! and its [`Window`] has closed. So while the limiter is saturated, requests pile into the one
//! pending batch instead of each waiting for a slot of its own, and a batch goes out when the
//! limiter grants its token; the window only matters when the limiter is idle (or off), where it
//! gathers the requests of reconciles running together. A window closes after a fixed time, or —
//! for requests that arrive over seconds, such as the deletions of a collection — once no request
//! has joined for a quiet gap, and at the latest after its longest time: a batch is held only
//! while requests are still arriving. A batch that fills up closes at once and goes out at its
//! slot; the next request opens another batch with the next slot. A request for a key that a
//! batch not yet sent already holds joins that batch.
//!
//! Readers keep readings beside their batcher ([`Kept`]: records read ahead by the drift resync,
//! a listing shared for a few seconds) and read through [`Batcher::read`], which says once for
//! all of them when a kept reading may answer and when it may not ([`Read`]).

use super::Location;
use super::api::Api;
use super::rate_limit::RateLimiter;
use crate::error::Error;
use crate::reason::Reason;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::{Notify, oneshot};
use tokio::time::Instant;

/// The call that serves one batch: given a location and at most `max_batch` distinct keys, a
/// result per key (or one error for all). It runs in the rate-limit slot the batch reserved, so
/// its first request must not wait for another (`Aws::call_in_slot`).
pub type BatchCall<V> = Arc<
    dyn Fn(
            Location,
            Vec<String>,
        ) -> Pin<Box<dyn Future<Output = Result<HashMap<String, V>, Error>> + Send>>
        + Send
        + Sync,
>;

type Reply<V> = oneshot::Sender<Result<Option<V>, Error>>;

/// How long after this process started a [`Read::Fresh`] waits before it goes out: a write a
/// killed predecessor sent just before it died can still be applied by AWS a moment later, after
/// any read this process makes at once.
pub const PREDECESSOR_WRITES_SETTLE: Duration = Duration::from_secs(5);

/// When the operator started serving (set once by the running operator; unset in tools and
/// tests, which then do not wait).
static SERVING_SINCE: OnceLock<std::time::Instant> = OnceLock::new();

/// Marks the start of this operator process, for [`PREDECESSOR_WRITES_SETTLE`].
pub fn mark_process_start() {
    let _ = SERVING_SINCE.set(std::time::Instant::now());
}

/// How long a fresh read made `now` waits, for a process started at `started`.
fn settle_wait(started: Option<std::time::Instant>, now: std::time::Instant) -> Duration {
    started.map_or(Duration::ZERO, |s| {
        (s + PREDECESSOR_WRITES_SETTLE).saturating_duration_since(now)
    })
}

/// Which readings may answer a read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Read {
    /// A reading the reader keeps (read ahead, or shared for a while) answers while it is
    /// usable; otherwise a call.
    Kept,
    /// Only a call that goes out after the request (a batch not yet sent may still take it);
    /// a kept reading from before the request is dropped once the answer is in. What decides
    /// that an object whose ownership is not confirmed is gone must use this: a write this
    /// process did not make (a killed predecessor's late create, an old replica's) can have made
    /// it after any kept reading was taken, and trusting that reading would release the object's
    /// finalizer and leave the AWS object behind.
    Fresh,
}

/// The readings a reader keeps beside its [`Batcher`], by location and key.
pub trait Kept<V> {
    /// A usable kept reading of `key` at `location` (`Some(None)`: a reading that it does not
    /// exist), handed out as the reader's rules say (a record read ahead is handed out once).
    fn take(&self, location: &Location, key: &str) -> Option<Option<V>>;

    /// Drops the kept reading of `key` at `location` if its read started before `asked`.
    fn forget_before(&self, location: &Location, key: &str, asked: Instant);
}

/// How long a batch that is not full waits for more requests (its rate-limit slot aside).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// The batch goes out once no request has joined it for this long...
    pub quiet: Duration,
    /// ...or once it has been open this long, whichever comes first.
    pub longest: Duration,
}

impl Window {
    /// A window that closes a fixed time after the batch opens.
    pub const fn fixed(length: Duration) -> Self {
        Window {
            quiet: length,
            longest: length,
        }
    }

    /// When a batch that is not full goes out: opened at `opened`, last joined at `joined`,
    /// holding the rate-limit slot `slot`. Never before its slot.
    pub fn closes(&self, opened: Instant, joined: Instant, slot: Instant) -> Instant {
        let quiet = joined + self.quiet;
        slot.max(quiet.min(opened + self.longest))
    }
}

impl From<Duration> for Window {
    fn from(length: Duration) -> Self {
        Window::fixed(length)
    }
}

/// A batch not yet sent.
struct Batch<V> {
    id: u64,
    waiters: HashMap<String, Vec<Reply<V>>>,
    opened: Instant,
    /// When the last new key joined.
    joined: Instant,
    /// Raised when the batch fills up, so it need not wait out its window.
    full: Arc<Notify>,
}

/// The batches of one location that have not gone out yet: at most one open, the others full
/// and waiting for their slots.
struct Pending<V> {
    open: Option<u64>,
    unsent: Vec<Batch<V>>,
}

impl<V> Default for Pending<V> {
    fn default() -> Self {
        Pending {
            open: None,
            unsent: Vec::new(),
        }
    }
}

struct State<V> {
    next_id: u64,
    pending: HashMap<Location, Pending<V>>,
}

/// Batches requests per location. `V` is the per-key answer; a key the call did not answer gets
/// `None`.
pub struct Batcher<V> {
    api: Api,
    limiter: Arc<RateLimiter>,
    window: Window,
    max_batch: usize,
    call: BatchCall<V>,
    state: Mutex<State<V>>,
}

impl<V: Clone + Send + 'static> Batcher<V> {
    /// A batcher of calls to `api`, paced by `limiter`: a batch gathers until its `window`
    /// closes (a fixed `Duration` converts to one), and until its slot, and holds at most
    /// `max_batch` keys.
    pub fn new(
        api: Api,
        limiter: Arc<RateLimiter>,
        window: impl Into<Window>,
        max_batch: usize,
        call: BatchCall<V>,
    ) -> Arc<Self> {
        Arc::new(Batcher {
            api,
            limiter,
            window: window.into(),
            max_batch: max_batch.max(1),
            call,
            state: Mutex::new(State {
                next_id: 0,
                pending: HashMap::new(),
            }),
        })
    }

    /// Requests `key` at `location` and waits for its batch's answer.
    pub async fn request(
        self: &Arc<Self>,
        location: &Location,
        key: &str,
    ) -> Result<Option<V>, Error> {
        let (tx, rx) = oneshot::channel();
        {
            let mut state = self.state.lock().expect("batcher lock");
            let State { next_id, pending } = &mut *state;
            let at = pending.entry(location.clone()).or_default();
            if let Some(batch) = at.unsent.iter_mut().find(|b| b.waiters.contains_key(key)) {
                batch.waiters.entry(key.to_string()).or_default().push(tx);
            } else {
                let open = at
                    .open
                    .and_then(|id| at.unsent.iter().position(|b| b.id == id));
                let index = match open {
                    Some(index) => index,
                    None => {
                        let id = *next_id;
                        *next_id += 1;
                        let full = Arc::new(Notify::new());
                        let slot = self.limiter.reserve(location, self.api);
                        self.send_at_slot(location.clone(), id, slot, Arc::clone(&full));
                        at.open = Some(id);
                        let now = Instant::now();
                        at.unsent.push(Batch {
                            id,
                            waiters: HashMap::new(),
                            opened: now,
                            joined: now,
                            full,
                        });
                        at.unsent.len() - 1
                    }
                };
                let batch = &mut at.unsent[index];
                batch.waiters.insert(key.to_string(), vec![tx]);
                batch.joined = Instant::now();
                if batch.waiters.len() >= self.max_batch {
                    at.open = None;
                    batch.full.notify_one();
                }
            }
        }
        rx.await.unwrap_or_else(|_| {
            Err(Error::new(
                Reason::AwsUnavailable,
                "batched AWS call was cancelled",
            ))
        })
    }

    /// Reads `key` at `location` as `read` allows: from `kept`, or through a batch.
    pub async fn read(
        self: &Arc<Self>,
        kept: &impl Kept<V>,
        location: &Location,
        key: &str,
        read: Read,
    ) -> Result<Option<V>, Error> {
        match read {
            Read::Kept => match kept.take(location, key) {
                Some(reading) => Ok(reading),
                None => self.request(location, key).await,
            },
            Read::Fresh => {
                let wait = settle_wait(SERVING_SINCE.get().copied(), std::time::Instant::now());
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                let asked = Instant::now();
                let answer = self.request(location, key).await;
                kept.forget_before(location, key, asked);
                answer
            }
        }
    }

    /// When batch `id` at `location` goes out unless it fills up first; `None` once it is gone.
    fn closes(&self, location: &Location, id: u64, slot: Instant) -> Option<Instant> {
        let state = self.state.lock().expect("batcher lock");
        let batch = state
            .pending
            .get(location)?
            .unsent
            .iter()
            .find(|b| b.id == id)?;
        Some(self.window.closes(batch.opened, batch.joined, slot))
    }

    /// Sends batch `id` at `slot`, once its window has closed, or at `slot` alone once it is full.
    fn send_at_slot(
        self: &Arc<Self>,
        location: Location,
        id: u64,
        slot: Instant,
        full: Arc<Notify>,
    ) {
        let batcher = Arc::clone(self);
        let now = Instant::now();
        let mut closes = self.window.closes(now, now, slot);
        tokio::spawn(async move {
            let filled = full.notified();
            tokio::pin!(filled);
            loop {
                tokio::select! {
                    _ = tokio::time::sleep_until(closes) => {
                        // A key that joined since moves a quiet window's end.
                        match batcher.closes(&location, id, slot) {
                            Some(later) if later > closes => closes = later,
                            _ => break,
                        }
                    }
                    _ = &mut filled => {
                        tokio::time::sleep_until(slot).await;
                        break;
                    }
                }
            }
            let batch = {
                let mut state = batcher.state.lock().expect("batcher lock");
                let Some(at) = state.pending.get_mut(&location) else {
                    return;
                };
                if at.open == Some(id) {
                    at.open = None;
                }
                let batch = at
                    .unsent
                    .iter()
                    .position(|b| b.id == id)
                    .map(|i| at.unsent.swap_remove(i));
                if at.unsent.is_empty() {
                    state.pending.remove(&location);
                }
                batch
            };
            if let Some(batch) = batch {
                batcher.flush(location, batch).await;
            }
        });
    }

    async fn flush(&self, location: Location, batch: Batch<V>) {
        let keys: Vec<String> = batch.waiters.keys().cloned().collect();
        let result = (self.call)(location, keys).await;
        for (key, replies) in batch.waiters {
            let answer = match &result {
                Ok(found) => Ok(found.get(&key).cloned()),
                Err(e) => Err(e.clone()),
            };
            for reply in replies {
                let _ = reply.send(answer.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_read_waits_until_a_predecessors_writes_have_landed() {
        let started = std::time::Instant::now();
        assert_eq!(
            settle_wait(None, started),
            Duration::ZERO,
            "tools and tests do not wait"
        );
        assert_eq!(
            settle_wait(Some(started), started),
            PREDECESSOR_WRITES_SETTLE
        );
        assert_eq!(
            settle_wait(Some(started), started + Duration::from_secs(2)),
            PREDECESSOR_WRITES_SETTLE - Duration::from_secs(2)
        );
        assert_eq!(
            settle_wait(Some(started), started + PREDECESSOR_WRITES_SETTLE),
            Duration::ZERO
        );
        assert_eq!(
            settle_wait(Some(started), started + Duration::from_secs(600)),
            Duration::ZERO
        );
    }
    use crate::aws::rate_limit::RateLimitConfig;
    use std::sync::atomic::{AtomicUsize, Ordering};

    type Calls = Arc<Mutex<Vec<(Duration, Vec<String>)>>>;

    fn limiter(rate: Option<f64>) -> Arc<RateLimiter> {
        Arc::new(RateLimiter::new(match rate {
            Some(rate) => RateLimitConfig {
                overrides: [(Api::DeleteAlarms, rate)].into(),
                ..Default::default()
            },
            None => RateLimitConfig {
                disabled: true,
                ..Default::default()
            },
        }))
    }

    /// A batcher of DeleteAlarms at `rate` calls per second (no limit for `None`) whose call
    /// records when it ran (since `start`) and with which keys.
    fn counting_batcher(
        max: usize,
        rate: Option<f64>,
        start: Instant,
    ) -> (Arc<Batcher<usize>>, Calls) {
        counting_batcher_with(Window::fixed(Duration::from_millis(50)), max, rate, start)
    }

    /// [`counting_batcher`] with another window.
    fn counting_batcher_with(
        window: Window,
        max: usize,
        rate: Option<f64>,
        start: Instant,
    ) -> (Arc<Batcher<usize>>, Calls) {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&calls);
        let call: BatchCall<usize> = Arc::new(move |_location, mut keys: Vec<String>| {
            keys.sort();
            seen.lock().unwrap().push((start.elapsed(), keys.clone()));
            Box::pin(async move {
                Ok(keys
                    .iter()
                    .filter(|k| !k.starts_with("missing"))
                    .map(|k| (k.clone(), k.len()))
                    .collect())
            })
        });
        let batcher = Batcher::new(Api::DeleteAlarms, limiter(rate), window, max, call);
        (batcher, calls)
    }

    /// When each call went out (ms since the start) and how many keys it held.
    fn shape(calls: &Calls) -> Vec<(u128, usize)> {
        calls
            .lock()
            .unwrap()
            .iter()
            .map(|(at, keys)| (at.as_millis(), keys.len()))
            .collect()
    }

    /// One request at each of `at_ms` (milliseconds from now), each for a key of its own.
    async fn arrivals(b: &Arc<Batcher<usize>>, at_ms: impl IntoIterator<Item = u64>) {
        let requests = at_ms.into_iter().map(|ms| {
            let b = Arc::clone(b);
            async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                b.request(&here(), &format!("a{ms:05}")).await.unwrap();
            }
        });
        futures::future::join_all(requests).await;
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_window_closes_at_a_quiet_gap_at_its_longest_and_never_before_the_slot() {
        let t0 = Instant::now();
        let quiet = Window {
            quiet: ms(100),
            longest: ms(750),
        };
        // Nothing joined after the first key: the quiet gap after it.
        assert_eq!(quiet.closes(t0, t0, t0), t0 + ms(100));
        // Keys kept joining: the quiet gap after the last one...
        assert_eq!(quiet.closes(t0, t0 + ms(400), t0), t0 + ms(500));
        // ...but never later than the longest window.
        assert_eq!(quiet.closes(t0, t0 + ms(700), t0), t0 + ms(750));
        assert_eq!(quiet.closes(t0, t0 + ms(650), t0), t0 + ms(750));
        // The rate-limit slot comes last: the batch waits for it whatever the window says.
        assert_eq!(quiet.closes(t0, t0, t0 + ms(2000)), t0 + ms(2000));
        // A fixed window ignores when keys joined.
        let fixed = Window::fixed(ms(50));
        assert_eq!(fixed.closes(t0, t0, t0), t0 + ms(50));
        assert_eq!(fixed.closes(t0, t0 + ms(49), t0), t0 + ms(50));
        assert_eq!(Window::from(ms(50)), fixed);
    }

    #[tokio::test(start_paused = true)]
    async fn a_quiet_window_sends_once_requests_stop_arriving() {
        let start = Instant::now();
        let window = Window {
            quiet: ms(100),
            longest: ms(745),
        };
        let (b, calls) = counting_batcher_with(window, 100, None, start);
        // 30 requests 10 ms apart, a 310 ms pause, 30 more.
        arrivals(&b, (0..30).chain(60..90).map(|i| i * 10)).await;
        // Each burst goes out 100 ms after its last request, not at the end of the window.
        assert_eq!(shape(&calls), vec![(390, 30), (990, 30)]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_quiet_window_still_closes_at_its_longest_while_requests_keep_arriving() {
        let start = Instant::now();
        let window = Window {
            quiet: ms(100),
            longest: ms(745),
        };
        let (b, calls) = counting_batcher_with(window, 100, None, start);
        // 200 requests 10 ms apart: never a quiet gap until the last.
        arrivals(&b, (0..200).map(|i| i * 10)).await;
        assert_eq!(
            shape(&calls),
            vec![(745, 75), (1495, 75), (2090, 50)],
            "two batches at the longest window, the last at the quiet gap after its last request"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_quiet_window_sends_a_full_batch_at_once() {
        let start = Instant::now();
        let window = Window {
            quiet: ms(100),
            longest: ms(745),
        };
        let (b, calls) = counting_batcher_with(window, 40, None, start);
        // 50 requests 1 ms apart: the first 40 fill a batch at 39 ms.
        arrivals(&b, 0..50).await;
        assert_eq!(shape(&calls), vec![(39, 40), (149, 10)]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_quiet_window_waits_for_its_slot_while_the_limiter_is_saturated() {
        let start = Instant::now();
        let window = Window {
            quiet: ms(100),
            longest: ms(745),
        };
        let (b, calls) = counting_batcher_with(window, 100, Some(1.0), start);
        // Someone else took the free slot: the batch's slot is a second away.
        b.limiter.reserve(&here(), Api::DeleteAlarms);
        arrivals(&b, (0..20).map(|i| i * 10)).await;
        assert_eq!(shape(&calls), vec![(1000, 20)]);
    }

    fn here() -> Location {
        Location::of("us-east-1")
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_requests_share_one_call() {
        let (b, calls) = counting_batcher(100, None, Instant::now());
        let answers = futures::future::join_all((0..40).map(|i| {
            let b = Arc::clone(&b);
            async move { b.request(&here(), &format!("alarm-{i}")).await }
        }))
        .await;
        assert_eq!(calls.lock().unwrap().len(), 1);
        assert_eq!(answers[7].clone().unwrap(), Some("alarm-7".len()));
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_batch_is_sent_at_once_and_the_rest_waits_for_the_next() {
        let (b, calls) = counting_batcher(100, None, Instant::now());
        let answers = futures::future::join_all((0..250).map(|i| {
            let b = Arc::clone(&b);
            async move { b.request(&here(), &format!("a{i}")).await }
        }))
        .await;
        assert!(answers.iter().all(|a| a.is_ok()));
        let calls = calls.lock().unwrap();
        let sizes: Vec<usize> = calls.iter().map(|(_, keys)| keys.len()).collect();
        assert_eq!(sizes, vec![100, 100, 50]);
        // The full ones did not wait out the window.
        assert_eq!(calls[0].0, Duration::ZERO);
        assert_eq!(calls[2].0, Duration::from_millis(50));
    }

    #[tokio::test(start_paused = true)]
    async fn locations_are_batched_separately_and_duplicates_share_a_key() {
        let (b, calls) = counting_batcher(100, None, Instant::now());
        let (at, elsewhere) = (here(), Location::of("eu-west-1"));
        let (x, y, z) = tokio::join!(
            b.request(&at, "same"),
            b.request(&at, "same"),
            b.request(&elsewhere, "same"),
        );
        assert_eq!(
            (x.unwrap(), y.unwrap(), z.unwrap()),
            (Some(4), Some(4), Some(4))
        );
        let calls = calls.lock().unwrap();
        assert_eq!(calls.len(), 2);
        assert!(
            calls
                .iter()
                .all(|(_, keys)| keys == &vec!["same".to_string()])
        );
    }

    #[tokio::test(start_paused = true)]
    async fn unanswered_keys_get_none_and_errors_reach_every_caller() {
        let (b, _) = counting_batcher(100, None, Instant::now());
        assert_eq!(b.request(&here(), "missing-1").await.unwrap(), None);
        let failures = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&failures);
        let failing: BatchCall<usize> = Arc::new(move |_, _| {
            counter.fetch_add(1, Ordering::SeqCst);
            Box::pin(async { Err(Error::new(Reason::Throttled, "Rate exceeded")) })
        });
        let b = Batcher::new(
            Api::DeleteAlarms,
            limiter(None),
            Duration::from_millis(10),
            100,
            failing,
        );
        let at = here();
        let (x, y) = tokio::join!(b.request(&at, "a"), b.request(&at, "b"));
        assert_eq!(x.unwrap_err().reason, Reason::Throttled);
        assert_eq!(y.unwrap_err().reason, Reason::Throttled);
        assert_eq!(failures.load(Ordering::SeqCst), 1);
    }

    /// Requests arriving one by one every 10 ms for `seconds`, as reconciles freed one at a time
    /// do; the sizes of the batches that served them.
    async fn trickle(b: &Arc<Batcher<usize>>, seconds: u64) {
        let requests = (0..seconds * 100).map(|i| {
            let b = Arc::clone(b);
            async move {
                tokio::time::sleep(Duration::from_millis(10 * i)).await;
                b.request(&here(), &format!("a{i:04}")).await.unwrap();
            }
        });
        futures::future::join_all(requests).await;
    }

    #[tokio::test(start_paused = true)]
    async fn while_the_limiter_is_saturated_names_keep_joining_the_pending_batch() {
        // One call per second: the first batch gets the free slot and goes out after its window;
        // the next one opens with the slot a second later and gathers everything until then.
        let start = Instant::now();
        let (b, calls) = counting_batcher(100, Some(1.0), start);
        trickle(&b, 3).await;
        let calls = calls.lock().unwrap();
        let shape: Vec<(u128, usize)> = calls
            .iter()
            .map(|(at, keys)| (at.as_millis(), keys.len()))
            .collect();
        assert_eq!(shape, vec![(50, 6), (1000, 95), (2000, 100), (3000, 99)]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_batch_that_fills_up_goes_out_at_its_slot_and_the_next_takes_the_next_slot() {
        let start = Instant::now();
        let (b, calls) = counting_batcher(10, Some(2.0), start);
        let answers = futures::future::join_all((0..25).map(|i| {
            let b = Arc::clone(&b);
            async move { b.request(&here(), &format!("a{i:02}")).await }
        }))
        .await;
        assert!(answers.iter().all(|a| a.is_ok()));
        let calls = calls.lock().unwrap();
        let shape: Vec<(u128, usize)> = calls
            .iter()
            .map(|(at, keys)| (at.as_millis(), keys.len()))
            .collect();
        assert_eq!(shape, vec![(0, 10), (500, 10), (1000, 5)]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_key_already_waiting_in_a_full_batch_joins_it() {
        let start = Instant::now();
        let (b, calls) = counting_batcher(2, Some(1.0), start);
        // Someone else took the free slot: the next batch goes out a second later.
        b.limiter.reserve(&here(), Api::DeleteAlarms);
        let at = here();
        let (x, y, z) = tokio::join!(b.request(&at, "a"), b.request(&at, "b"), async {
            // "a" is in a full batch that waits for its slot; asking again joins it.
            tokio::time::sleep(Duration::from_millis(1)).await;
            b.request(&at, "a").await
        },);
        assert_eq!(
            (x.unwrap(), y.unwrap(), z.unwrap()),
            (Some(1), Some(1), Some(1))
        );
        let calls = calls.lock().unwrap();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].0, Duration::from_secs(1));
    }

    /// Readings kept by key, each with when its read started.
    #[derive(Default)]
    struct Readings(Mutex<HashMap<String, (Instant, Option<usize>)>>);

    impl Kept<usize> for Readings {
        fn take(&self, _location: &Location, key: &str) -> Option<Option<usize>> {
            self.0.lock().unwrap().get(key).map(|(_, v)| *v)
        }

        fn forget_before(&self, _location: &Location, key: &str, asked: Instant) {
            let mut readings = self.0.lock().unwrap();
            if readings.get(key).is_some_and(|(at, _)| *at < asked) {
                readings.remove(key);
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_kept_reading_answers_a_read_but_never_a_fresh_one_and_a_fresh_answer_drops_it() {
        let start = Instant::now();
        let (b, calls) = counting_batcher(100, None, start);
        let kept = Readings::default();
        // A reading that "gone" does not exist; then something creates it.
        kept.0.lock().unwrap().insert("gone".into(), (start, None));
        tokio::time::advance(ms(1)).await;
        assert_eq!(
            b.read(&kept, &here(), "gone", Read::Kept).await.unwrap(),
            None
        );
        assert!(
            calls.lock().unwrap().is_empty(),
            "answered by the kept reading"
        );
        assert_eq!(
            b.read(&kept, &here(), "gone", Read::Fresh).await.unwrap(),
            Some(4),
            "a fresh read goes to AWS"
        );
        assert_eq!(calls.lock().unwrap().len(), 1);
        assert!(
            kept.0.lock().unwrap().is_empty(),
            "the older reading is dropped"
        );
        // A reading whose read started after the fresh request is as new as its answer: it stays.
        let at = here();
        let fresh = b.read(&kept, &at, "x", Read::Fresh);
        let keep_newer = async {
            tokio::time::sleep(ms(1)).await;
            let newer = (Instant::now(), Some(7));
            kept.0.lock().unwrap().insert("x".into(), newer);
        };
        let (answer, ()) = tokio::join!(fresh, keep_newer);
        assert_eq!(answer.unwrap(), Some(1));
        assert!(kept.0.lock().unwrap().contains_key("x"));
    }
}
