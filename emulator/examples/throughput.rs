//! Measures the emulator's request rate through the real Rust SDK (RPC v2 CBOR):
//! PutMetricAlarm (creating N alarms) and DescribeAlarms with 100 names per call.
//!
//! ```text
//! cargo run --release -p cwo-emulator --example throughput -- --alarms 10000 --describes 2000
//! ```
//! Client and emulator share the machine (and this process), so the figures are end-to-end
//! requests per second, SDK signing and encoding included.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, Statistic};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use clap::Parser;
use cwo_emulator::{Emulator, EmulatorConfig};

#[derive(Parser)]
struct Args {
    /// Alarms to create with PutMetricAlarm.
    #[arg(long, default_value_t = 10_000)]
    alarms: usize,
    /// DescribeAlarms calls, each naming 100 alarms.
    #[arg(long, default_value_t = 2_000)]
    describes: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
}

fn alarm_name(i: usize) -> String {
    format!("bench-alarm-{i:05}")
}

/// Runs `total` requests, `concurrency` at a time; returns the elapsed time.
async fn run<F, Fut>(total: usize, concurrency: usize, request: F) -> Duration
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let request = Arc::new(request);
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let next = next.clone();
            let request = request.clone();
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    request(i).await;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("worker finished");
    }
    started.elapsed()
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let emulator = Emulator::start(EmulatorConfig::default())
        .await
        .expect("emulator starts");
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let config = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client)
        .credentials_provider(Credentials::new("AKIDBENCH", "secret", None, None, "bench"))
        .region(Region::new("us-east-1"))
        .endpoint_url(emulator.endpoint())
        .load()
        .await;
    let client = Client::new(&config);

    let put_client = client.clone();
    let put_elapsed = run(args.alarms, args.concurrency, move |i| {
        let client = put_client.clone();
        async move {
            client
                .put_metric_alarm()
                .alarm_name(alarm_name(i))
                .namespace("AWS/EC2")
                .metric_name("CPUUtilization")
                .dimensions(
                    Dimension::builder()
                        .name("InstanceId")
                        .value(format!("i-{i:05}"))
                        .build(),
                )
                .statistic(Statistic::Average)
                .period(60)
                .evaluation_periods(3)
                .threshold(80.0)
                .comparison_operator(ComparisonOperator::GreaterThanThreshold)
                .alarm_actions("arn:aws:sns:us-east-1:123456789012:ops")
                .send()
                .await
                .expect("PutMetricAlarm");
        }
    })
    .await;

    let alarms = args.alarms;
    let describe_client = client.clone();
    let describe_elapsed = run(args.describes, args.concurrency, move |i| {
        let client = describe_client.clone();
        async move {
            let first = (i * 100) % alarms.saturating_sub(100).max(1);
            let names: Vec<String> = (first..first + 100).map(alarm_name).collect();
            let out = client
                .describe_alarms()
                .set_alarm_names(Some(names))
                .max_records(100)
                .send()
                .await
                .expect("DescribeAlarms");
            assert_eq!(out.metric_alarms().len(), 100.min(alarms));
        }
    })
    .await;

    let calls = emulator.calls();
    let put_rate = args.alarms as f64 / put_elapsed.as_secs_f64();
    let describe_rate = args.describes as f64 / describe_elapsed.as_secs_f64();
    println!("concurrency: {}", args.concurrency);
    println!(
        "PutMetricAlarm: {} calls in {:.2} s = {:.0} requests/s",
        calls.operation("cloudwatch", "PutMetricAlarm").ok,
        put_elapsed.as_secs_f64(),
        put_rate
    );
    println!(
        "DescribeAlarms (100 names): {} calls in {:.2} s = {:.0} requests/s ({:.0} alarms/s)",
        calls.operation("cloudwatch", "DescribeAlarms").ok,
        describe_elapsed.as_secs_f64(),
        describe_rate,
        describe_rate * 100.0
    );
    emulator.shutdown().await.expect("clean shutdown");
}
