//! CloudWatch state of one account and region, with the indexes requests need.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::composite_rule::Rule;
use super::model::{AlarmState, CompositeAlarm, MetricAlarm, MetricStream};
use crate::timestamp::Timestamp;

/// A metric or composite alarm. Names are unique across both kinds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum AlarmRecord {
    Metric(Box<MetricAlarm>),
    Composite(Box<CompositeAlarm>),
}

impl AlarmRecord {
    pub fn name(&self) -> &str {
        match self {
            AlarmRecord::Metric(a) => &a.alarm_name,
            AlarmRecord::Composite(a) => &a.alarm_name,
        }
    }

    pub fn arn(&self) -> &str {
        match self {
            AlarmRecord::Metric(a) => &a.alarm_arn,
            AlarmRecord::Composite(a) => &a.alarm_arn,
        }
    }

    pub fn is_composite(&self) -> bool {
        matches!(self, AlarmRecord::Composite(_))
    }

    pub fn state(&self) -> AlarmState {
        let (value, reason, data, updated, transitioned) = match self {
            AlarmRecord::Metric(a) => (
                &a.state_value,
                &a.state_reason,
                &a.state_reason_data,
                a.state_updated_timestamp,
                a.state_transitioned_timestamp,
            ),
            AlarmRecord::Composite(a) => (
                &a.state_value,
                &a.state_reason,
                &a.state_reason_data,
                a.state_updated_timestamp,
                a.state_transitioned_timestamp,
            ),
        };
        AlarmState {
            value: value.clone(),
            reason: reason.clone(),
            reason_data: data.clone(),
            updated,
            transitioned,
        }
    }

    pub fn state_value(&self) -> &str {
        match self {
            AlarmRecord::Metric(a) => &a.state_value,
            AlarmRecord::Composite(a) => &a.state_value,
        }
    }

    pub fn set_state(&mut self, state: AlarmState) {
        match self {
            AlarmRecord::Metric(a) => {
                a.state_value = state.value;
                a.state_reason = state.reason;
                a.state_reason_data = state.reason_data;
                a.state_updated_timestamp = state.updated;
                a.state_transitioned_timestamp = state.transitioned;
            }
            AlarmRecord::Composite(a) => {
                a.state_value = state.value;
                a.state_reason = state.reason;
                a.state_reason_data = state.reason_data;
                a.state_updated_timestamp = state.updated;
                a.state_transitioned_timestamp = state.transitioned;
            }
        }
    }

    /// Every action ARN of the alarm, for DescribeAlarms' ActionPrefix filter.
    pub fn actions(&self) -> impl Iterator<Item = &String> {
        let (ok, alarm, insufficient) = match self {
            AlarmRecord::Metric(a) => (
                &a.ok_actions,
                &a.alarm_actions,
                &a.insufficient_data_actions,
            ),
            AlarmRecord::Composite(a) => (
                &a.ok_actions,
                &a.alarm_actions,
                &a.insufficient_data_actions,
            ),
        };
        ok.iter().chain(alarm).chain(insufficient)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredAlarm {
    pub alarm: AlarmRecord,
    pub tags: BTreeMap<String, String>,
    /// The alarm names a composite's rule references (ARNs resolved to names).
    #[serde(default)]
    pub children: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredStream {
    pub stream: MetricStream,
    pub tags: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CloudWatchState {
    /// Alarms by name; ordered, as DescribeAlarms lists by name and pages on it.
    pub alarms: BTreeMap<String, StoredAlarm>,
    pub streams: BTreeMap<String, StoredStream>,
    /// child alarm name → composites whose rule names it. Derived from `alarms`.
    #[serde(skip)]
    pub parents: HashMap<String, BTreeSet<String>>,
}

impl CloudWatchState {
    /// Rebuilds the derived parent index (after loading a saved state).
    pub fn rebuild_indexes(&mut self) {
        self.parents.clear();
        let links: Vec<(String, Vec<String>)> = self
            .alarms
            .values()
            .filter(|a| a.alarm.is_composite())
            .map(|a| (a.alarm.name().to_string(), a.children.clone()))
            .collect();
        for (parent, children) in links {
            self.link(&parent, &children);
        }
    }

    pub fn link(&mut self, parent: &str, children: &[String]) {
        for child in children {
            self.parents
                .entry(child.clone())
                .or_default()
                .insert(parent.to_string());
        }
    }

    pub fn unlink(&mut self, parent: &str, children: &[String]) {
        for child in children {
            if let Some(set) = self.parents.get_mut(child) {
                set.remove(parent);
                if set.is_empty() {
                    self.parents.remove(child);
                }
            }
        }
    }

    /// Composites whose rule names `child`.
    pub fn parents_of(&self, child: &str) -> impl Iterator<Item = &String> {
        self.parents.get(child).into_iter().flatten()
    }

    /// Re-evaluates the composites above `changed` after its state moved, walking up the
    /// graph. CloudWatch stops evaluating along a cycle; the visited set does the same.
    pub fn propagate_state(&mut self, changed: &str, now: Timestamp) {
        let mut queue: Vec<String> = self.parents_of(changed).cloned().collect();
        let mut visited: BTreeSet<String> = BTreeSet::from([changed.to_string()]);
        while let Some(parent) = queue.pop() {
            if !visited.insert(parent.clone()) {
                continue;
            }
            if self.evaluate_composite(&parent, now) {
                queue.extend(self.parents_of(&parent).cloned());
            }
        }
    }

    /// Evaluates one composite's rule against its children's states; true if its state
    /// value changed.
    pub fn evaluate_composite(&mut self, name: &str, now: Timestamp) -> bool {
        let Some(AlarmRecord::Composite(composite)) = self.alarms.get(name).map(|a| &a.alarm)
        else {
            return false;
        };
        let Ok(rule) = Rule::parse(&composite.alarm_rule) else {
            return false;
        };
        let alarms = &self.alarms;
        let state_of = |reference: &str| {
            let name = reference
                .rsplit_once(":alarm:")
                .map_or(reference, |(_, n)| n);
            alarms.get(name).map(|a| a.alarm.state_value().to_string())
        };
        let value = if rule.evaluate(&state_of) {
            "ALARM"
        } else {
            "OK"
        };
        let stored = self.alarms.get_mut(name).expect("looked up above");
        let mut state = stored.alarm.state();
        if state.value == value {
            return false;
        }
        state.set(value, format!("Alarm rule evaluated to {value}"), None, now);
        stored.alarm.set_state(state);
        true
    }
}
