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
