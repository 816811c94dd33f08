//! A local, in-memory stand-in for the AWS control-plane APIs cloudwatch-operator uses:
//! CloudWatch alarms and metric streams, CloudWatch Logs subscription and metric filters and
//! destinations, Firehose delivery streams and X-Ray sampling rules. It speaks the real wire
//! protocols, so tests above unit level run the real AWS SDKs against it:
//!
//! - CloudWatch over Smithy RPC v2 CBOR (the Rust SDK) and awsJson 1.0 (botocore, the CLI);
//! - CloudWatch Logs and Firehose over awsJson 1.1;
//! - X-Ray over restJson 1.
//!
//! One port serves all of them (see [`wire`]). State is kept per (account, region), read
//! from the request's SigV4 credential scope (see [`signing_scope`]); any credentials are
//! accepted.
//!
//! ```no_run
//! # async fn example() -> Result<(), cwo_emulator::EmulatorError> {
//! use cwo_emulator::{Emulator, EmulatorConfig};
//! let emulator = Emulator::start(EmulatorConfig::default()).await?;
//! let endpoint = emulator.endpoint(); // give this to the SDK clients as endpoint_url
//! // ... run the code under test ...
//! let calls = emulator.calls();
//! println!("PutMetricAlarm calls: {}", calls.total_of("cloudwatch", "PutMetricAlarm"));
//! emulator.shutdown().await
//! # }
//! ```
//!
//! Beside the AWS APIs the port serves an admin API under `/_emulator/`:
//!
//! | method and path | what it does |
//! |---|---|
//! | `GET /_emulator/health` | `ok` once the emulator serves |
//! | `GET /_emulator/calls` | call counts per service and operation ([`calls`] documents the JSON) |
//! | `POST /_emulator/calls/reset` | zero the call counts |
//! | `POST /_emulator/reset` | forget every resource of every account and region |
//! | `GET`/`PUT /_emulator/faults` | fault injection settings ([`FaultSettings`]) |
//! | `GET`/`PUT /_emulator/quotas` | per-operation quotas ([`QuotaSettings`]); `GET` adds `effective`, the limits in force |
//! | `POST /_emulator/save` | write the state file now (409 without one) |

mod admin;
mod arn;
mod aws_endpoint;
mod call;
pub mod calls;
mod cloudwatch;
mod config;
mod connection;
mod emulator;
mod error;
pub mod faults;
mod firehose;
pub mod journal;
mod logs;
mod paging;
pub mod quotas;
pub mod signing_scope;
mod state_file;
mod store;
pub mod sts;
mod tags;
mod timestamp;
mod validation;
pub mod wire;
mod xray;

pub use calls::{CallCounts, OperationCalls};
pub use config::{DEFAULT_SUBSCRIPTION_FILTER_LIMIT, EmulatorConfig};
pub use emulator::{Emulator, EmulatorError, RunningEmulator};
pub use faults::FaultSettings;
pub use journal::JournalEntry;
pub use quotas::QuotaSettings;
pub use signing_scope::{DEFAULT_ACCOUNT, DEFAULT_REGION};
pub use state_file::StateFileError;

/// Starts an emulator; shorthand for [`Emulator::start`].
pub async fn start(config: EmulatorConfig) -> Result<RunningEmulator, EmulatorError> {
    Emulator::start(config).await
}
