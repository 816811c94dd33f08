//! Gathers single-item requests from concurrent reconciles into one AWS call per batch.
//!
//! Several AWS APIs take a list (DescribeAlarms: 100 names, DeleteAlarms: 100 names,
//! Start/StopMetricStreams: a list of names) while each reconcile needs one item. A [`Batcher`]
//! holds the first request of a batch for a short window (per region), lets later requests join,
//! then runs one call for all of them — earlier if the batch fills up — and hands each caller its
//! own result.

use crate::error::Error;
use crate::reason::Reason;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

/// The call that serves one batch: given a region and at most `max_batch` distinct keys, a
/// result per key (or one error for all).
pub type BatchCall<V> = Arc<
    dyn Fn(
            String,
            Vec<String>,
        ) -> Pin<Box<dyn Future<Output = Result<HashMap<String, V>, Error>> + Send>>
        + Send
        + Sync,
>;

type Reply<V> = oneshot::Sender<Result<Option<V>, Error>>;

struct Batch<V> {
    id: u64,
    waiters: HashMap<String, Vec<Reply<V>>>,
}

struct State<V> {
    next_id: u64,
    gathering: HashMap<String, Batch<V>>,
}

/// Batches requests per region. `V` is the per-key answer; a key the call did not answer gets
/// `None`.
pub struct Batcher<V> {
    window: Duration,
    max_batch: usize,
    call: BatchCall<V>,
    state: Mutex<State<V>>,
}

impl<V: Clone + Send + 'static> Batcher<V> {
    /// A batcher that waits up to `window` and sends at most `max_batch` keys per call.
    pub fn new(window: Duration, max_batch: usize, call: BatchCall<V>) -> Arc<Self> {
        Arc::new(Batcher {
            window,
            max_batch,
            call,
            state: Mutex::new(State {
                next_id: 0,
                gathering: HashMap::new(),
            }),
        })
    }

    /// Requests `key` in `region` and waits for its batch's answer.
    pub async fn request(self: &Arc<Self>, region: &str, key: &str) -> Result<Option<V>, Error> {
        let (tx, rx) = oneshot::channel();
        let flush_now = {
            let mut state = self.state.lock().expect("batcher lock");
            let id = state.next_id;
            let batch = state
                .gathering
                .entry(region.to_string())
                .or_insert_with(|| Batch {
                    id,
                    waiters: HashMap::new(),
                });
            let starts_batch = batch.waiters.is_empty();
            batch.waiters.entry(key.to_string()).or_default().push(tx);
            let full = batch.waiters.len() >= self.max_batch;
            if starts_batch {
                state.next_id += 1;
                if !full {
                    self.flush_after_window(region.to_string(), id);
                }
            }
            if full {
                state.gathering.remove(region)
            } else {
                None
            }
        };
        if let Some(batch) = flush_now {
            let batcher = Arc::clone(self);
            let region = region.to_string();
            tokio::spawn(async move { batcher.flush(region, batch).await });
        }
        rx.await.unwrap_or_else(|_| {
            Err(Error::new(
                Reason::AwsUnavailable,
                "batched AWS call was cancelled",
            ))
        })
    }

    fn flush_after_window(self: &Arc<Self>, region: String, id: u64) {
        let batcher = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep(batcher.window).await;
            let batch = {
                let mut state = batcher.state.lock().expect("batcher lock");
                // Only the batch this timer was started for: one that filled up early was sent
                // already, and a newer batch has its own timer.
                match state.gathering.get(&region) {
                    Some(b) if b.id == id => state.gathering.remove(&region),
                    _ => None,
                }
            };
            if let Some(batch) = batch {
                batcher.flush(region, batch).await;
            }
        });
    }

    async fn flush(&self, region: String, batch: Batch<V>) {
        let keys: Vec<String> = batch.waiters.keys().cloned().collect();
        let result = (self.call)(region, keys).await;
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
    use std::sync::atomic::{AtomicUsize, Ordering};

    type Calls = Arc<Mutex<Vec<Vec<String>>>>;

    fn counting_batcher(max: usize) -> (Arc<Batcher<usize>>, Calls) {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&calls);
        let call: BatchCall<usize> = Arc::new(move |_region, keys: Vec<String>| {
            seen.lock().unwrap().push(keys.clone());
            Box::pin(async move {
                Ok(keys
                    .iter()
                    .filter(|k| !k.starts_with("missing"))
                    .map(|k| (k.clone(), k.len()))
                    .collect())
            })
        });
        (Batcher::new(Duration::from_millis(50), max, call), calls)
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_requests_share_one_call() {
        let (b, calls) = counting_batcher(100);
        let answers = futures::future::join_all((0..40).map(|i| {
            let b = Arc::clone(&b);
            async move { b.request("us-east-1", &format!("alarm-{i}")).await }
        }))
        .await;
        assert_eq!(calls.lock().unwrap().len(), 1);
        assert_eq!(answers[7].clone().unwrap(), Some("alarm-7".len()));
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_batch_is_sent_at_once_and_the_rest_waits_for_the_next() {
        let (b, calls) = counting_batcher(100);
        let answers = futures::future::join_all((0..250).map(|i| {
            let b = Arc::clone(&b);
            async move { b.request("us-east-1", &format!("a{i}")).await }
        }))
        .await;
        assert!(answers.iter().all(|a| a.is_ok()));
        let sizes: Vec<usize> = calls.lock().unwrap().iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![100, 100, 50]);
    }

    #[tokio::test(start_paused = true)]
    async fn regions_are_batched_separately_and_duplicates_share_a_key() {
        let (b, calls) = counting_batcher(100);
        let (x, y, z) = tokio::join!(
            b.request("us-east-1", "same"),
            b.request("us-east-1", "same"),
            b.request("eu-west-1", "same"),
        );
        assert_eq!(
            (x.unwrap(), y.unwrap(), z.unwrap()),
            (Some(4), Some(4), Some(4))
        );
        let calls = calls.lock().unwrap();
        assert_eq!(calls.len(), 2);
        assert!(calls.iter().all(|keys| keys == &vec!["same".to_string()]));
    }

    #[tokio::test(start_paused = true)]
    async fn unanswered_keys_get_none_and_errors_reach_every_caller() {
        let (b, _) = counting_batcher(100);
        assert_eq!(b.request("r", "missing-1").await.unwrap(), None);
        let failures = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&failures);
        let failing: BatchCall<usize> = Arc::new(move |_, _| {
            counter.fetch_add(1, Ordering::SeqCst);
            Box::pin(async { Err(Error::new(Reason::Throttled, "Rate exceeded")) })
        });
        let b = Batcher::new(Duration::from_millis(10), 100, failing);
        let (x, y) = tokio::join!(b.request("r", "a"), b.request("r", "b"));
        assert_eq!(x.unwrap_err().reason, Reason::Throttled);
        assert_eq!(y.unwrap_err().reason, Reason::Throttled);
        assert_eq!(failures.load(Ordering::SeqCst), 1);
    }
}
