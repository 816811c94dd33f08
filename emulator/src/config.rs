//! Start-up configuration.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use crate::faults::FaultSettings;
use crate::quotas::QuotaSettings;

/// AWS documents two subscription filters per log group (recent reports say more); the limit
/// is configurable for that reason.
pub const DEFAULT_SUBSCRIPTION_FILTER_LIMIT: usize = 2;

/// How to start an emulator. `EmulatorConfig::default()` listens on a random loopback port
/// with quotas and faults off and no state file.
#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    /// Address to bind; loopback by default.
    pub host: IpAddr,
    /// Port to bind; 0 picks a free one (read it back with `RunningEmulator::endpoint`).
    pub port: u16,
    /// Enforce AWS's default per-operation quotas (see [`crate::quotas::DEFAULT_QUOTAS`]).
    pub quotas_enabled: bool,
    /// Per-operation TPS limits that replace the defaults, keyed `service:Operation` or
    /// `Operation`; they apply even when `quotas_enabled` is false. 0 removes a limit.
    pub quota_overrides: BTreeMap<String, f64>,
    /// Subscription filters allowed per log group.
    pub subscription_filter_limit: usize,
    /// Faults injected from the start.
    pub faults: FaultSettings,
    /// Load state from this file at start (if it exists) and save it there while running and
    /// at shutdown.
    pub state_file: Option<PathBuf>,
    /// Credentials AssumeRole issues last at most this many seconds (a short session, to see a
    /// client renew them); `None`: as long as the caller asks.
    pub sts_session_seconds: Option<u64>,
    /// Keep the last this many calls that change state in the journal ([`crate::journal`]);
    /// 0 (the default) keeps none.
    pub journal_capacity: usize,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            quotas_enabled: false,
            quota_overrides: BTreeMap::new(),
            subscription_filter_limit: DEFAULT_SUBSCRIPTION_FILTER_LIMIT,
            faults: FaultSettings::default(),
            state_file: None,
            sts_session_seconds: None,
            journal_capacity: 0,
        }
    }
}

impl EmulatorConfig {
    pub(crate) fn quota_settings(&self) -> QuotaSettings {
        QuotaSettings {
            enabled: self.quotas_enabled,
            overrides: self.quota_overrides.clone(),
        }
    }
}
