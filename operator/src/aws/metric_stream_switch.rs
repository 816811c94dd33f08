//! Starts and stops metric streams, batched.
//!
//! StartMetricStreams and StopMetricStreams take a list of names, and PutMetricStream never
//! changes a stream's running state, so every start or stop goes through here: concurrent
//! reconciles that start (or stop) streams in the same region share one call, through a
//! [`Batcher`] whose batches stay open while the API's rate limit is saturated. AWS documents no limit on the list; 100 names per call keeps a
//! request small and one refused name (the call is all or nothing) from failing a whole fleet.

use super::api::Api;
use super::batch::{BatchCall, Batcher};
use super::{Aws, Location};
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
    /// A switch that gathers names for at least `window` (and while the API's rate limit is
    /// saturated) into one call.
    pub fn new(aws: Arc<Aws>, window: Duration) -> Arc<Self> {
        let batcher = |api, running| {
            let limiter = Arc::clone(aws.limiter());
            Batcher::new(
                api,
                limiter,
                window,
                MAX_NAMES_PER_CALL,
                switch_call(&aws, running),
            )
        };
        Arc::new(MetricStreamSwitch {
            start: batcher(Api::StartMetricStreams, true),
            stop: batcher(Api::StopMetricStreams, false),
        })
    }

    /// Starts the stream `name` at `location` (a running stream stays running).
    pub async fn start(&self, location: &Location, name: &str) -> Result<(), Error> {
        self.start.request(location, name).await.map(drop)
    }

    /// Stops the stream `name` at `location` (a stopped stream stays stopped).
    pub async fn stop(&self, location: &Location, name: &str) -> Result<(), Error> {
        self.stop.request(location, name).await.map(drop)
    }
}

fn switch_call(aws: &Arc<Aws>, running: bool) -> BatchCall<()> {
    let aws = Arc::clone(aws);
    Arc::new(move |location: Location, names| {
        let aws = Arc::clone(&aws);
        Box::pin(async move {
            let client = &aws.clients(&location).cloudwatch;
            if running {
                let request = client
                    .start_metric_streams()
                    .set_names(Some(names.clone()))
                    .send();
                aws.call_in_slot(&location, Api::StartMetricStreams, request)
                    .await?;
            } else {
                let request = client
                    .stop_metric_streams()
                    .set_names(Some(names.clone()))
                    .send();
                aws.call_in_slot(&location, Api::StopMetricStreams, request)
                    .await?;
            }
            Ok(names
                .into_iter()
                .map(|n| (n, ()))
                .collect::<HashMap<_, _>>())
        })
    })
}
