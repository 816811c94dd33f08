//! When the controllers stop: on SIGTERM or Ctrl-C, or when this replica loses the leader Lease
//! (two writers to AWS must never run at once).

use futures::FutureExt;
use futures::future::Shared;
use std::future::Future;
use std::pin::Pin;
use tokio::sync::watch;

/// A stop signal many tasks can wait on.
pub type Stop = Shared<Pin<Box<dyn Future<Output = ()> + Send + Sync>>>;

/// A sender that turns `true` on SIGTERM or Ctrl-C, and its receiver.
pub fn on_signal() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        let _ = tx.send(true);
    });
    rx
}

/// Resolves once `stop` turns true (or its sender is gone).
pub async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Resolves on `stop`, or when `leadership` (if any) turns false.
pub fn controllers_stop(
    stop: watch::Receiver<bool>,
    mut leadership: Option<watch::Receiver<bool>>,
) -> Stop {
    let fut = async move {
        let lost = async {
            match leadership.as_mut() {
                Some(state) => {
                    while state.changed().await.is_ok() {
                        if !*state.borrow() {
                            return;
                        }
                    }
                }
                None => futures::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = stopped(stop) => {}
            _ = lost => tracing::error!("lost leadership; stopping so that only one replica writes"),
        }
    };
    let boxed: Pin<Box<dyn Future<Output = ()> + Send + Sync>> = Box::pin(fut);
    boxed.shared()
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
