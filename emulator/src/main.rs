//! `cwo-emulator`: the AWS control-plane emulator as a standalone server.
//!
//! ```text
//! cwo-emulator --port 4566 --state /tmp/cwo-emulator.json
//! ```
//! Prints `listening on http://HOST:PORT` once it serves, then runs until SIGINT or
//! SIGTERM, saving the state file (if any) on the way out.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use cwo_emulator::{DEFAULT_SUBSCRIPTION_FILTER_LIMIT, Emulator, EmulatorConfig, FaultSettings};

#[derive(Debug, Parser)]
#[command(
    name = "cwo-emulator",
    version,
    about = "Local AWS CloudWatch, Logs, Firehose, X-Ray and STS control-plane emulator"
)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1", env = "CWO_EMULATOR_HOST")]
    host: IpAddr,
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 4566, env = "CWO_EMULATOR_PORT")]
    port: u16,
    /// Save state to this file and reload it at start.
    #[arg(long, env = "CWO_EMULATOR_STATE")]
    state: Option<PathBuf>,
    /// Enforce AWS's default per-operation quotas.
    #[arg(long)]
    quotas: bool,
    /// Override one operation's quota, as OPERATION=TPS or service:OPERATION=TPS (repeatable).
    #[arg(long = "quota", value_parser = parse_quota)]
    quota_overrides: Vec<(String, f64)>,
    /// Subscription filters allowed per log group.
    #[arg(long, default_value_t = DEFAULT_SUBSCRIPTION_FILTER_LIMIT)]
    subscription_filter_limit: usize,
    /// Share of requests answered with the service's throttling error (0..1).
    #[arg(long, default_value_t = 0.0)]
    throttle_rate: f64,
    /// Share of requests answered with HTTP 500 (0..1).
    #[arg(long, default_value_t = 0.0)]
    internal_error_rate: f64,
    /// Share of requests answered with HTTP 503 (0..1).
    #[arg(long, default_value_t = 0.0)]
    unavailable_rate: f64,
    /// Added latency in milliseconds, applied to `--latency-rate` of requests.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Share of requests delayed by `--latency-ms` (0..1).
    #[arg(long, default_value_t = 1.0)]
    latency_rate: f64,
    /// Share of requests never answered, held until the client gives up (0..1).
    #[arg(long, default_value_t = 0.0)]
    timeout_rate: f64,
    /// Share of requests whose connection is reset without an answer (0..1).
    #[arg(long, default_value_t = 0.0)]
    reset_rate: f64,
    /// Answer delay in milliseconds after the operation ran, applied to `--slow-rate` of requests.
    #[arg(long, default_value_t = 0)]
    slow_ms: u64,
    /// Share of requests answered `--slow-ms` late (0..1).
    #[arg(long, default_value_t = 1.0)]
    slow_rate: f64,
    /// Credentials AssumeRole issues last at most this many seconds (short sessions, to see
    /// clients renew them). Default: as long as the caller asks.
    #[arg(long)]
    sts_session_seconds: Option<u64>,
    /// Keep the last this many calls that change state in the journal
    /// (`GET /_emulator/journal?contains=NAME`); 0 keeps none.
    #[arg(long, default_value_t = 0)]
    journal_capacity: usize,
}

fn parse_quota(value: &str) -> Result<(String, f64), String> {
    let (operation, tps) = value
        .rsplit_once('=')
        .ok_or_else(|| format!("expected OPERATION=TPS, got {value}"))?;
    let tps = tps
        .parse::<f64>()
        .map_err(|e| format!("invalid TPS in {value}: {e}"))?;
    Ok((operation.to_string(), tps))
}

async fn shutdown_signal() {
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

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let config = EmulatorConfig {
        host: args.host,
        port: args.port,
        quotas_enabled: args.quotas,
        quota_overrides: args.quota_overrides.into_iter().collect::<BTreeMap<_, _>>(),
        subscription_filter_limit: args.subscription_filter_limit,
        faults: FaultSettings {
            throttle_rate: args.throttle_rate,
            internal_error_rate: args.internal_error_rate,
            unavailable_rate: args.unavailable_rate,
            latency_rate: if args.latency_ms > 0 {
                args.latency_rate
            } else {
                0.0
            },
            latency_ms: args.latency_ms,
            timeout_rate: args.timeout_rate,
            reset_rate: args.reset_rate,
            slow_rate: if args.slow_ms > 0 {
                args.slow_rate
            } else {
                0.0
            },
            slow_ms: args.slow_ms,
            operations: Vec::new(),
        },
        state_file: args.state,
        sts_session_seconds: args.sts_session_seconds,
        journal_capacity: args.journal_capacity,
    };
    let emulator = match Emulator::start(config).await {
        Ok(emulator) => emulator,
        Err(error) => {
            eprintln!("cwo-emulator: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on {}", emulator.endpoint());
    shutdown_signal().await;
    match emulator.shutdown().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("cwo-emulator: {error}");
            ExitCode::FAILURE
        }
    }
}
