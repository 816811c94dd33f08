//! Cleanups run beside the controller, not in its reconcile slots.
//!
//! A cleanup mostly waits: for a batched AWS call to gather its names and for the rate limit to
//! grant that call a slot (DeleteAlarms takes 100 names, at 3 calls per second). Waiting inside
//! a reconcile would hold one of the controller's few slots (`--concurrency`) all that time, so a
//! batch could never hold more names than there are slots, and deleting a thousand alarms would
//! take thirty calls where ten do. So the reconcile of a deleting object starts its cleanup as a
//! task of its own and returns at once, writing nothing; when the task ends, the object is queued
//! again, and that reconcile reports the outcome: it removes the finalizer, or writes the failure
//! and backs off like any other. At most [`RUNNING`] cleanups of one kind run at a time; the
//! others wait for a turn without holding more than their place in line.

use crate::error::{Error, Result};
use kube::runtime::reflector::ObjectRef;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::AbortHandle;
use tokio::time::Instant;

/// Cleanups of one kind that run at once (the rest wait for a turn).
pub const RUNNING: usize = 512;

/// An outcome nobody came for is dropped after this long (its object went away without its
/// finalizer being removed by the operator).
const UNCLAIMED: Duration = Duration::from_secs(600);

enum Entry {
    Running(AbortHandle),
    Done(Instant, Result<()>),
}

/// The cleanups of one kind, by object UID.
pub struct Cleanups<K: kube::Resource<DynamicType = ()>> {
    entries: Arc<Mutex<HashMap<String, Entry>>>,
    turns: Arc<Semaphore>,
    wake: mpsc::Sender<ObjectRef<K>>,
}

impl<K: kube::Resource<DynamicType = ()> + 'static> Cleanups<K> {
    /// Cleanups whose end queues their object on `wake`.
    pub fn new(wake: mpsc::Sender<ObjectRef<K>>) -> Self {
        Cleanups {
            entries: Arc::default(),
            turns: Arc::new(Semaphore::new(RUNNING)),
            wake,
        }
    }

    /// The outcome of the cleanup of the object `uid`, once it has ended (handed out once), or
    /// `None` while it runs or waits for a turn. With no cleanup under way, starts the one
    /// `cleanup` makes and returns `None`; `object` is queued when it ends.
    pub fn outcome<F, C>(&self, uid: &str, object: ObjectRef<K>, cleanup: C) -> Option<Result<()>>
    where
        C: FnOnce() -> F + Send + 'static,
        F: Future<Output = Result<()>> + Send + 'static,
    {
        let mut entries = self.entries.lock().expect("cleanups lock");
        match entries.remove(uid) {
            Some(Entry::Done(_, outcome)) => return Some(outcome),
            Some(running @ Entry::Running(_)) => {
                entries.insert(uid.to_string(), running);
                return None;
            }
            None => {}
        }
        let now = Instant::now();
        entries
            .retain(|_, e| !matches!(e, Entry::Done(at, _) if now.duration_since(*at) > UNCLAIMED));
        let (all, turns, wake) = (
            Arc::clone(&self.entries),
            Arc::clone(&self.turns),
            self.wake.clone(),
        );
        let key = uid.to_string();
        // Spawned while the lock is held: the task cannot record its end before it is listed.
        let task = tokio::spawn(async move {
            let outcome = match turns.acquire_owned().await {
                // The cleanup's future is made (on the heap) only now, so a long line of waiting
                // cleanups costs little memory.
                Ok(_turn) => Box::pin(cleanup()).await,
                Err(_) => Err(Error::new(
                    crate::reason::Reason::AwsUnavailable,
                    "the operator is stopping",
                )),
            };
            all.lock()
                .expect("cleanups lock")
                .insert(key, Entry::Done(Instant::now(), outcome));
            let _ = wake.send(object).await;
        });
        entries.insert(uid.to_string(), Entry::Running(task.abort_handle()));
        None
    }

    /// Stops every cleanup still running (the controller is stopping: leadership lost, or
    /// shutdown).
    pub fn abort_all(&self) {
        self.turns.close();
        let entries = self.entries.lock().expect("cleanups lock");
        for entry in entries.values() {
            if let Entry::Running(task) = entry {
                task.abort();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reason::Reason;
    use k8s_openapi::api::core::v1::ConfigMap;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn object() -> ObjectRef<ConfigMap> {
        ObjectRef::new("cm").within("ns")
    }

    #[tokio::test]
    async fn a_cleanup_runs_once_and_its_outcome_is_handed_out_once_after_the_wake_up() {
        let (wake, mut woken) = mpsc::channel(4);
        let cleanups = Cleanups::<ConfigMap>::new(wake);
        let runs = Arc::new(AtomicUsize::new(0));
        let release = Arc::new(tokio::sync::Notify::new());
        let start = || {
            let (runs, release) = (Arc::clone(&runs), Arc::clone(&release));
            move || async move {
                runs.fetch_add(1, Ordering::SeqCst);
                release.notified().await;
                Err(Error::new(Reason::DependencyNotReady, "still named"))
            }
        };
        assert!(cleanups.outcome("u1", object(), start()).is_none());
        tokio::task::yield_now().await;
        assert!(
            cleanups.outcome("u1", object(), start()).is_none(),
            "still running: not started again"
        );
        release.notify_one();
        let again = tokio::time::timeout(Duration::from_secs(5), woken.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again, object());
        let outcome = cleanups.outcome("u1", object(), start()).expect("ended");
        assert_eq!(outcome.unwrap_err().reason, Reason::DependencyNotReady);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // Handed out once: the next reconcile starts a new cleanup.
        assert!(cleanups.outcome("u1", object(), start()).is_none());
        release.notify_one();
        woken.recv().await.unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn cleanups_stop_with_the_controller() {
        let (wake, mut woken) = mpsc::channel(4);
        let cleanups = Cleanups::<ConfigMap>::new(wake);
        cleanups.outcome("u1", object(), std::future::pending::<Result<()>>);
        tokio::task::yield_now().await;
        cleanups.abort_all();
        let waited = tokio::time::timeout(Duration::from_millis(200), woken.recv()).await;
        assert!(
            matches!(waited, Ok(None) | Err(_)),
            "an aborted cleanup wakes nothing"
        );
    }
}
