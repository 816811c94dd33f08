//! The wait before the first AWS object is created for a new object.
//!
//! The API server can delete an object whose finalizer was added while the deletion was under
//! way (kubernetes/kubernetes#77988): the deletion read the object before the finalizer was
//! there, found nothing holding it, and removes it from storage a moment later, finalizer and
//! all. No cleanup ever runs for it. An AWS object created for it in that moment is deleted again
//! when the reconcile's status write finds the object gone (`reconcile::undo_create`) — but only
//! if the process lives to make that write: one stopped between the create and the status write
//! would leave the AWS object behind, with nothing in the cluster that names it.
//!
//! So the first create this process makes for an object waits until the object has held the
//! finalizer, as this process saw it, for [`SETTLE`], and then reads the object from the API
//! server: a deletion that raced with the finalizer has landed by then (it ends within
//! milliseconds of its start), and an object it removed is found gone, so nothing is created.
//! The wait counts from the first time a reconcile saw the finalizer, and is spent outside the
//! controller's reconcile slots: a reconcile that finds a new object still waiting ends at once,
//! before any read, and asks to come back when the wait is over (`runtime::reconcile`), so a
//! burst of new objects is not created `--concurrency` objects per wait. An object reconciled
//! before (one whose AWS object is created again, after a restart or an out-of-band deletion)
//! starts its wait at `Reconcile::before_create`, which then ends the reconcile quietly with a
//! requeue for the end of the wait.
//! Once an object has passed, its retries do not wait again; an apply that succeeds forgets it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long an object holds the finalizer before its first create: far longer than a deletion
/// takes inside the API server.
pub const SETTLE: Duration = Duration::from_secs(2);

#[derive(Clone, Copy, Debug, PartialEq)]
enum State {
    /// Seen holding the finalizer at this instant, not yet read back.
    Seen(Instant),
    /// Read back from the API server, live, after the wait.
    Settled,
}

/// The new objects of this process, by UID.
#[derive(Debug)]
pub struct Settling {
    settle: Duration,
    objects: Mutex<HashMap<String, State>>,
}

impl Default for Settling {
    fn default() -> Self {
        Settling::new(SETTLE)
    }
}

impl Settling {
    /// Objects wait `settle` before their first create.
    pub fn new(settle: Duration) -> Self {
        Settling {
            settle,
            objects: Mutex::default(),
        }
    }

    /// The object `uid` is seen holding the finalizer with nothing written to its status yet (a
    /// new object): its wait counts from `now`, unless it already counts from earlier.
    pub fn seen(&self, uid: &str, now: Instant) {
        self.objects
            .lock()
            .expect("settling lock")
            .entry(uid.to_string())
            .or_insert(State::Seen(now));
    }

    /// How much longer the object `uid` waits before it is read back and may be created for;
    /// `None` when it was read back already. An object not seen before waits from `now`.
    pub fn wait(&self, uid: &str, now: Instant) -> Option<Duration> {
        let mut objects = self.objects.lock().expect("settling lock");
        match *objects.entry(uid.to_string()).or_insert(State::Seen(now)) {
            State::Settled => None,
            State::Seen(since) => Some((since + self.settle).saturating_duration_since(now)),
        }
    }

    /// The object `uid` was read back live after its wait: its creates go ahead.
    pub fn settled(&self, uid: &str) {
        self.objects
            .lock()
            .expect("settling lock")
            .insert(uid.to_string(), State::Settled);
    }

    /// The object's apply succeeded, or the object is gone: nothing to remember.
    pub fn forget(&self, uid: &str) {
        self.objects.lock().expect("settling lock").remove(uid);
    }

    /// Whether no object is remembered (for tests of forgetting).
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.objects.lock().expect("settling lock").is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn the_wait_counts_from_the_first_sight_of_the_finalizer() {
        let s = Settling::new(2 * SECOND);
        let t0 = Instant::now();
        s.seen("u", t0);
        s.seen("u", t0 + SECOND);
        assert_eq!(s.wait("u", t0 + SECOND / 2), Some(3 * SECOND / 2));
        assert_eq!(s.wait("u", t0 + 2 * SECOND), Some(Duration::ZERO));
        assert_eq!(s.wait("u", t0 + 5 * SECOND), Some(Duration::ZERO));
    }

    #[test]
    fn an_object_never_seen_waits_the_whole_time() {
        let s = Settling::new(2 * SECOND);
        let t0 = Instant::now();
        assert_eq!(s.wait("u", t0), Some(2 * SECOND));
        assert_eq!(s.wait("u", t0 + SECOND), Some(SECOND), "from the first ask");
    }

    #[test]
    fn a_settled_object_does_not_wait_until_it_is_forgotten() {
        let s = Settling::new(2 * SECOND);
        let t0 = Instant::now();
        s.seen("u", t0);
        s.settled("u");
        assert_eq!(s.wait("u", t0), None);
        s.seen("u", t0 + SECOND);
        assert_eq!(s.wait("u", t0 + SECOND), None, "seen again, still settled");
        assert_eq!(s.wait("other", t0), Some(2 * SECOND), "per object");
        s.forget("u");
        s.forget("other");
        assert!(s.is_empty());
        assert_eq!(s.wait("u", t0 + SECOND), Some(2 * SECOND));
    }
}
