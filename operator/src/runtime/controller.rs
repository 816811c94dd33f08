//! Runs the controller of one kind: kube's `Controller` over the kind's watch stream, with
//! bounded concurrency, the drift resync, wake-ups from other controllers, and a graceful stop.

use super::ManagedKind;
use super::cleanups::Cleanups;
use super::context::Context;
use super::reconcile::{KindContext, error_policy, reconcile};
use super::resync;
use futures::{Stream, StreamExt};
use kube::runtime::controller::{Config as ControllerConfig, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Pending reconcile requests per controller (from the drift resync and from other kinds); more
/// wait (the resync) or are dropped (wake-ups, which the objects' backoff covers).
pub const QUEUE: usize = 1024;

/// A controller's queue of reconcile requests: the sender goes to whoever may ask for a
/// reconcile (the resync, other kinds' hooks), the receiver to [`run`].
pub fn queue<K: ManagedKind>() -> (mpsc::Sender<ObjectRef<K>>, mpsc::Receiver<ObjectRef<K>>) {
    mpsc::channel(QUEUE)
}

/// Runs the controller for kind `K` over `stream` until `shutdown`, with its drift resync.
pub async fn run<K: ManagedKind>(
    store: Store<K>,
    stream: impl Stream<Item = Result<K, kube::runtime::watcher::Error>> + Send + 'static,
    queue: (mpsc::Sender<ObjectRef<K>>, mpsc::Receiver<ObjectRef<K>>),
    concurrency: u16,
    ctx: Arc<Context>,
    shared: Arc<K::Shared>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let (wake, requests) = queue;
    let cleanups = Arc::new(Cleanups::new(wake.clone()));
    // Ends by itself once the controller (and with it the queue's receiver) is gone.
    tokio::spawn(resync::run(
        store.clone(),
        Arc::clone(&ctx),
        Arc::clone(&shared),
        wake,
    ));
    Controller::for_stream(stream, store)
        .with_config(ControllerConfig::default().concurrency(concurrency))
        .reconcile_on(requests_stream(requests))
        .graceful_shutdown_on(shutdown)
        .run(
            reconcile::<K>,
            error_policy::<K>,
            Arc::new(KindContext {
                ctx,
                shared,
                cleanups: Arc::clone(&cleanups),
            }),
        )
        .for_each(|result| {
            if let Err(e) = result {
                tracing::debug!(kind = K::KIND, error = %e, "controller event");
            }
            futures::future::ready(())
        })
        .await;
    // Stopped (shutdown, or leadership lost): no cleanup may go on writing to AWS.
    cleanups.abort_all();
}

/// The requests of a channel as a stream.
fn requests_stream<K: ManagedKind>(
    rx: mpsc::Receiver<ObjectRef<K>>,
) -> impl Stream<Item = ObjectRef<K>> + Send + 'static {
    futures::stream::unfold(
        rx,
        |mut rx| async move { rx.recv().await.map(|obj| (obj, rx)) },
    )
}
