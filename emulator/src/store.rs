//! All emulated state: one [`RegionState`] per (account, region), each behind its own lock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use serde::{Deserialize, Serialize};

use crate::cloudwatch::CloudWatchState;
use crate::firehose::FirehoseState;
use crate::logs::LogsState;
use crate::signing_scope::Scope;
use crate::timestamp::Timestamp;
use crate::xray::XrayState;

/// Everything one account holds in one region.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RegionState {
    pub cloudwatch: CloudWatchState,
    pub logs: LogsState,
    pub firehose: FirehoseState,
    pub xray: XrayState,
}

impl RegionState {
    /// A region as a new AWS account finds it: empty, except for X-Ray's `Default` rule.
    pub fn new(scope: &Scope, now: Timestamp) -> Self {
        Self {
            cloudwatch: CloudWatchState::default(),
            logs: LogsState::default(),
            firehose: FirehoseState::default(),
            xray: XrayState::new(scope, now),
        }
    }
}

/// One saved region, as written to the state file.
#[derive(Debug, Serialize, Deserialize)]
pub struct SavedRegion {
    pub account: String,
    pub region: String,
    pub state: RegionState,
}

/// The state file's content.
#[derive(Debug, Serialize, Deserialize)]
pub struct SavedState {
    pub format: u32,
    pub regions: Vec<SavedRegion>,
    /// IAM roles and their trust (the credentials STS issued are not kept: a restarted emulator
    /// answers them as invalid, and clients assume their roles again).
    #[serde(default)]
    pub roles: Vec<crate::sts::iam::Role>,
}

pub const STATE_FORMAT: u32 = 1;

#[derive(Default)]
pub struct Store {
    regions: RwLock<HashMap<Scope, Arc<Mutex<RegionState>>>>,
    /// Bumped by every change, so the state file is written only when something changed.
    changes: AtomicU64,
}

impl Store {
    /// The state of one account and region, created on first use.
    pub fn region(&self, scope: &Scope) -> Arc<Mutex<RegionState>> {
        if let Some(region) = self
            .regions
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(scope)
        {
            return region.clone();
        }
        let mut regions = self.regions.write().unwrap_or_else(|e| e.into_inner());
        regions
            .entry(scope.clone())
            .or_insert_with(|| Arc::new(Mutex::new(RegionState::new(scope, Timestamp::now()))))
            .clone()
    }

    pub fn mark_changed(&self) {
        self.changes.fetch_add(1, Ordering::Relaxed);
    }

    pub fn changes(&self) -> u64 {
        self.changes.load(Ordering::Relaxed)
    }

    /// Forgets every account and region.
    pub fn reset(&self) {
        self.regions
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.mark_changed();
    }

    /// A consistent copy of every region (each region copied under its lock).
    pub fn export(&self) -> SavedState {
        let regions: Vec<(Scope, Arc<Mutex<RegionState>>)> = self
            .regions
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(scope, region)| (scope.clone(), region.clone()))
            .collect();
        let mut saved: Vec<SavedRegion> = regions
            .into_iter()
            .map(|(scope, region)| SavedRegion {
                account: scope.account,
                region: scope.region,
                state: region.lock().unwrap_or_else(|e| e.into_inner()).clone(),
            })
            .collect();
        saved.sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
        SavedState {
            format: STATE_FORMAT,
            regions: saved,
            roles: Vec::new(),
        }
    }

    /// Replaces every region with the saved ones.
    pub fn import(&self, saved: SavedState) {
        let mut regions = self.regions.write().unwrap_or_else(|e| e.into_inner());
        regions.clear();
        for SavedRegion {
            account,
            region,
            mut state,
        } in saved.regions
        {
            state.cloudwatch.rebuild_indexes();
            regions.insert(Scope::new(account, region), Arc::new(Mutex::new(state)));
        }
    }
}
