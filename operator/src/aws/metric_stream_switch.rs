//! Starts and stops metric streams, batched.
//!
//! StartMetricStreams and StopMetricStreams take a list of names, and PutMetricStream never
//! changes a stream's running state, so every start or stop goes through here: concurrent
//! reconciles that start (or stop) streams in the same region within a short window share one
//! call, through a [`Batcher`]. AWS documents no limit on the list; 100 names per call keeps a
//! request small and one refused name (the call is all or nothing) from failing a whole fleet.

use super::Aws;
use super::api::Api;
use super::batch::{BatchCall, Batcher};
use crate::error::Error;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Names per StartMetricStreams / StopMetricStreams call.
pub const MAX_NAMES_PER_CALL: usize = 100;

/// Starts and stops metric streams in batches. Share it through its `Arc`.
pub struct MetricStreamSwitch {
    start: Arc<Batcher<()>>,
    stop: Arc<Batcher<()>>,
}

impl MetricStreamSwitch {
    /// A switch that waits up to `window` to gather names into one call.
    pub fn new(aws: Arc<Aws>, window: Duration) -> Arc<Self> {
        Arc::new(MetricStreamSwitch {
            start: Batcher::new(window, MAX_NAMES_PER_CALL, switch_call(&aws, true)),
            stop: Batcher::new(window, MAX_NAMES_PER_CALL, switch_call(&aws, false)),
        })
    }

    /// Starts the stream `name` in `region` (a running stream stays running).
    pub async fn start(&self, region: &str, name: &str) -> Result<(), Error> {
        self.start.request(region, name).await.map(drop)
    }

    /// Stops the stream `name` in `region` (a stopped stream stays stopped).
    pub async fn stop(&self, region: &str, name: &str) -> Result<(), Error> {
        self.stop.request(region, name).await.map(drop)
    }
}

fn switch_call(aws: &Arc<Aws>, running: bool) -> BatchCall<()> {
    let aws = Arc::clone(aws);
    Arc::new(move |region, names| {
        let aws = Arc::clone(&aws);
        Box::pin(async move {
            let client = &aws.clients(&region).cloudwatch;
            if running {
                let request = client
                    .start_metric_streams()
                    .set_names(Some(names.clone()))
                    .send();
                aws.call(&region, Api::StartMetricStreams, request).await?;
            } else {
                let request = client
                    .stop_metric_streams()
                    .set_names(Some(names.clone()))
                    .send();
                aws.call(&region, Api::StopMetricStreams, request).await?;
            }
            Ok(names
                .into_iter()
                .map(|n| (n, ()))
                .collect::<HashMap<_, _>>())
        })
    })
}
