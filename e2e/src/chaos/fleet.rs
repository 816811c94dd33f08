//! The chaos fleet: a model of the objects that should exist and what each one says, and the
//! random operations (create, edit, delete) each iteration applies to them. Pure: the same seed
//! gives the same operations.
//!
//! The operations stay within what AWS allows, so that every object can end Ready: a log group
//! never gets more subscriptions than its filter limit (a slot freed in an iteration is reused
//! only after the next check has seen it free in AWS), custom sampling rules stay well under the
//! 25 a region allows, and an alarm is deleted only when no composite still names it.

use std::collections::{BTreeMap, BTreeSet};

use rand::RngExt;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use serde_json::{Value, json};

use crate::operator::REGION;
use cwo_emulator::DEFAULT_ACCOUNT;

/// Subscription filters AWS (and the emulator, and the operator by default) allow per log group.
pub const FILTER_LIMIT: usize = 2;

/// Custom sampling rules kept in one region at most, counting rules deleted since the last check
/// (AWS allows 25).
const RULE_BUDGET: usize = 20;

/// Chance that an existing object is deleted, or else edited, in one iteration.
const DELETE_CHANCE: f64 = 0.08;
const EDIT_CHANCE: f64 = 0.2;
/// Chance that each missing object is created in one iteration.
const CREATE_CHANCE: f64 = 0.6;
/// Chance that an object created in an iteration is edited, or deleted, moments later.
const FOLLOW_EDIT_CHANCE: f64 = 0.25;
const FOLLOW_DELETE_CHANCE: f64 = 0.1;

/// The namespaced kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Alarm,
    CompositeAlarm,
    MetricStream,
    LogSubscription,
    SamplingRule,
    MetricFilter,
    LogDestination,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::Alarm,
        Kind::CompositeAlarm,
        Kind::MetricStream,
        Kind::LogSubscription,
        Kind::SamplingRule,
        Kind::MetricFilter,
        Kind::LogDestination,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Alarm => "Alarm",
            Kind::CompositeAlarm => "CompositeAlarm",
            Kind::MetricStream => "MetricStream",
            Kind::LogSubscription => "LogSubscription",
            Kind::SamplingRule => "SamplingRule",
            Kind::MetricFilter => "MetricFilter",
            Kind::LogDestination => "LogDestination",
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            Kind::Alarm => "alarms",
            Kind::CompositeAlarm => "compositealarms",
            Kind::MetricStream => "metricstreams",
            Kind::LogSubscription => "logsubscriptions",
            Kind::SamplingRule => "samplingrules",
            Kind::MetricFilter => "metricfilters",
            Kind::LogDestination => "logdestinations",
        }
    }

    /// Object names start with it; sampling rule names must fit in 32 characters.
    fn prefix(self) -> &'static str {
        match self {
            Kind::Alarm => "chaos-alarm",
            Kind::CompositeAlarm => "chaos-composite",
            Kind::MetricStream => "chaos-stream",
            Kind::LogSubscription => "chaos-sub",
            Kind::SamplingRule => "chaos-rule",
            Kind::MetricFilter => "chaos-mf",
            Kind::LogDestination => "chaos-dest",
        }
    }
}

/// What an object says, reduced to what the operations change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Spec {
    Alarm {
        threshold: u32,
    },
    /// Its rule is ALARM of any of these alarms.
    CompositeAlarm {
        children: BTreeSet<String>,
    },
    MetricStream {
        running: bool,
        /// The stream includes the namespace `Chaos/Stream<n>`.
        namespace: u32,
    },
    LogSubscription {
        /// Index of its log group.
        group: usize,
        /// Its filter pattern is `ERROR v<n>`.
        pattern: u32,
    },
    SamplingRule {
        /// Fixed rate in percent.
        percent: u32,
    },
    /// A metric filter (no tags: its ownership lives in status, like a subscription's).
    MetricFilter {
        /// Index of its log group.
        group: usize,
        /// Its filter pattern is `ERROR v<n>`.
        pattern: u32,
    },
    /// A log destination in front of the fleet's delivery stream.
    LogDestination {
        /// Its access policy lets this many sender accounts (`2000000000NN`) subscribe.
        senders: u32,
    },
}

impl Spec {
    pub fn kind(&self) -> Kind {
        match self {
            Spec::Alarm { .. } => Kind::Alarm,
            Spec::CompositeAlarm { .. } => Kind::CompositeAlarm,
            Spec::MetricStream { .. } => Kind::MetricStream,
            Spec::LogSubscription { .. } => Kind::LogSubscription,
            Spec::SamplingRule { .. } => Kind::SamplingRule,
            Spec::MetricFilter { .. } => Kind::MetricFilter,
            Spec::LogDestination { .. } => Kind::LogDestination,
        }
    }

    /// The spec fields, as the manifest and the merge patch of an edit carry them.
    pub fn fields(&self, name: &str) -> Value {
        match self {
            Spec::Alarm { threshold } => json!({
                "namespace": "Chaos/Service",
                "metricName": "Latency",
                "dimensions": [{"name": "Object", "value": name}],
                "statistic": "Average",
                "period": 60,
                "evaluationPeriods": 2,
                "comparisonOperator": "GreaterThanThreshold",
                "threshold": threshold,
                "tags": {"suite": "chaos"}
            }),
            Spec::CompositeAlarm { children } => json!({
                "rule": {"anyOf": children
                    .iter()
                    .map(|c| json!({"alarm": {"alarmRef": c}}))
                    .collect::<Vec<_>>()},
                "tags": {"suite": "chaos"}
            }),
            Spec::MetricStream { running, namespace } => json!({
                "firehoseArn": delivery_stream_arn(),
                "roleArn": format!("arn:aws:iam::{DEFAULT_ACCOUNT}:role/chaos-metric-stream"),
                "outputFormat": "json",
                "includeFilters": [{"namespace": stream_namespace(*namespace)}],
                "desiredState": if *running { "Running" } else { "Stopped" },
                "tags": {"suite": "chaos"}
            }),
            Spec::LogSubscription { group, pattern } => json!({
                "logGroupName": log_group(*group),
                "filterPattern": filter_pattern(*pattern),
                "destinationArn": delivery_stream_arn(),
                "roleArn": format!("arn:aws:iam::{DEFAULT_ACCOUNT}:role/chaos-logs-to-firehose")
            }),
            Spec::SamplingRule { percent } => json!({
                "priority": 1000,
                "fixedRate": fixed_rate(*percent),
                "reservoirSize": 1,
                "serviceName": name,
                "tags": {"suite": "chaos"}
            }),
            Spec::MetricFilter { group, pattern } => json!({
                "logGroupName": log_group(*group),
                "filterPattern": filter_pattern(*pattern),
                "metricTransformations": [{
                    "metricName": name,
                    "metricNamespace": "Chaos/Logs",
                    "metricValue": "1"
                }]
            }),
            Spec::LogDestination { senders } => json!({
                "targetArn": delivery_stream_arn(),
                "roleArn": format!("arn:aws:iam::{DEFAULT_ACCOUNT}:role/chaos-logs-to-firehose"),
                "senderAccountIds": sender_accounts(*senders),
                "tags": {"suite": "chaos"}
            }),
        }
    }

    /// The manifest of object `name` with this spec.
    pub fn manifest(&self, name: &str) -> Value {
        json!({
            "apiVersion": "cwo.dev/v1alpha1",
            "kind": self.kind().name(),
            "metadata": {"name": name},
            "spec": self.fields(name),
        })
    }

    /// Where the AWS object lives, beyond the region: the log group of a subscription filter.
    pub fn location(&self) -> String {
        match self {
            Spec::LogSubscription { group, .. } | Spec::MetricFilter { group, .. } => {
                log_group(*group)
            }
            _ => String::new(),
        }
    }

    /// What the AWS object must show, in the words [`super::aws_state`] reads it back in.
    pub fn aws_value(&self) -> String {
        match self {
            Spec::Alarm { threshold } => format!("threshold={threshold}"),
            Spec::CompositeAlarm { children } => {
                format!(
                    "children={}",
                    children.iter().cloned().collect::<Vec<_>>().join(",")
                )
            }
            Spec::MetricStream { running, namespace } => format!(
                "state={} include={}",
                if *running { "running" } else { "stopped" },
                stream_namespace(*namespace)
            ),
            Spec::LogSubscription { pattern, .. } => {
                format!("pattern={}", filter_pattern(*pattern))
            }
            Spec::SamplingRule { percent } => format!("fixedRate={}", fixed_rate(*percent)),
            Spec::MetricFilter { pattern, .. } => {
                format!("pattern={}", filter_pattern(*pattern))
            }
            Spec::LogDestination { senders } => {
                format!("senders={}", sender_accounts(*senders).join(","))
            }
        }
    }
}

/// The sender accounts a destination's policy names: `200000000001` onwards.
pub fn sender_accounts(n: u32) -> Vec<String> {
    (1..=n).map(|i| format!("2000000000{i:02}")).collect()
}

/// The Firehose delivery stream every stream and subscription delivers to.
pub const DELIVERY_STREAM: &str = "chaos-delivery";

fn delivery_stream_arn() -> String {
    format!("arn:aws:firehose:{REGION}:{DEFAULT_ACCOUNT}:deliverystream/{DELIVERY_STREAM}")
}

pub fn log_group(i: usize) -> String {
    format!("/chaos/group-{i:02}")
}

pub fn stream_namespace(n: u32) -> String {
    format!("Chaos/Stream{n}")
}

pub fn filter_pattern(n: u32) -> String {
    format!("ERROR v{n}")
}

pub fn fixed_rate(percent: u32) -> f64 {
    f64::from(percent) / 100.0
}

/// How many objects of each kind the fleet keeps (it refills what is deleted).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Sizes {
    pub alarms: usize,
    pub composite_alarms: usize,
    pub metric_streams: usize,
    /// Log groups; the fleet keeps them at the filter limit but for one free slot to move into.
    pub log_groups: usize,
    pub sampling_rules: usize,
    /// Metric filters, spread over the same log groups (AWS allows 100 per group).
    pub metric_filters: usize,
    pub log_destinations: usize,
}

impl Sizes {
    /// Log subscriptions kept: every log group at the limit, but for one free slot.
    pub fn log_subscriptions(&self) -> usize {
        (self.log_groups * FILTER_LIMIT).saturating_sub(1)
    }

    pub fn of(&self, kind: Kind) -> usize {
        match kind {
            Kind::Alarm => self.alarms,
            Kind::CompositeAlarm => self.composite_alarms,
            Kind::MetricStream => self.metric_streams,
            Kind::LogSubscription => self.log_subscriptions(),
            Kind::SamplingRule => self.sampling_rules,
            Kind::MetricFilter => self.metric_filters,
            Kind::LogDestination => self.log_destinations,
        }
    }

    pub fn total(&self) -> usize {
        Kind::ALL.iter().map(|k| self.of(*k)).sum()
    }
}

/// One change to one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    Create { name: String, spec: Spec },
    Edit { name: String, spec: Spec },
    Delete { kind: Kind, name: String },
}

impl Op {
    pub fn name(&self) -> &str {
        match self {
            Op::Create { name, .. } | Op::Edit { name, .. } | Op::Delete { name, .. } => name,
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            Op::Create { spec, .. } | Op::Edit { spec, .. } => spec.kind(),
            Op::Delete { kind, .. } => *kind,
        }
    }
}

/// One iteration's operations: `first` all at once, then `then` (edits and deletes of objects
/// `first` created) moments later.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub first: Vec<Op>,
    pub then: Vec<Op>,
}

impl Plan {
    pub fn len(&self) -> usize {
        self.first.len() + self.then.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The model: which objects exist and what each says.
#[derive(Clone, Debug)]
pub struct Fleet {
    sizes: Sizes,
    live: BTreeMap<String, Spec>,
    /// Deleted since the last check: they must be gone, with their AWS objects, at the next one.
    deleted: BTreeMap<String, Kind>,
    /// Per log group, the subscriptions that held a slot since the last check (a deleted or
    /// moved subscription's filter may still be there until its object is gone).
    slots: Vec<BTreeSet<String>>,
    /// Sampling rules alive or deleted since the last check.
    rules_held: BTreeSet<String>,
    next_id: usize,
    iteration: usize,
    /// What happened to every object, for failure reports.
    history: BTreeMap<String, Vec<String>>,
}

impl Fleet {
    pub fn new(sizes: Sizes) -> Fleet {
        Fleet {
            sizes,
            live: BTreeMap::new(),
            deleted: BTreeMap::new(),
            slots: vec![BTreeSet::new(); sizes.log_groups],
            rules_held: BTreeSet::new(),
            next_id: 0,
            iteration: 0,
            history: BTreeMap::new(),
        }
    }

    pub fn sizes(&self) -> Sizes {
        self.sizes
    }

    /// Every object that should exist, with its spec.
    pub fn live(&self) -> &BTreeMap<String, Spec> {
        &self.live
    }

    /// Objects deleted since the last check, which must be gone by the next one.
    pub fn deleted(&self) -> &BTreeMap<String, Kind> {
        &self.deleted
    }

    /// What happened to `name`, one line per operation.
    pub fn history(&self, name: &str) -> &[String] {
        self.history.get(name).map_or(&[], Vec::as_slice)
    }

    /// The log groups the fleet uses.
    pub fn log_groups(&self) -> Vec<String> {
        (0..self.sizes.log_groups).map(log_group).collect()
    }

    /// A check saw AWS match the model: deleted objects are gone, and slots they held are free.
    pub fn settled(&mut self) {
        self.deleted.clear();
        for (g, slot) in self.slots.iter_mut().enumerate() {
            slot.retain(|name| {
                matches!(self.live.get(name), Some(Spec::LogSubscription { group, .. }) if *group == g)
            });
        }
        self.rules_held.retain(|name| self.live.contains_key(name));
    }

    /// Chooses the next iteration's operations and applies them to the model.
    pub fn plan(&mut self, rng: &mut StdRng) -> Plan {
        self.iteration += 1;
        let mut plan = Plan::default();
        let existing: Vec<(String, Spec)> = self
            .live
            .iter()
            .map(|(n, s)| (n.clone(), s.clone()))
            .collect();
        // Composites first, so that an alarm they stop naming may be deleted in the same batch.
        let (composites, others): (Vec<_>, Vec<_>) = existing
            .into_iter()
            .partition(|(_, s)| s.kind() == Kind::CompositeAlarm);
        for (name, spec) in composites.into_iter().chain(others) {
            if !self.live.contains_key(&name) {
                continue;
            }
            if rng.random_bool(DELETE_CHANCE) && self.deletable(&name) {
                plan.first.push(self.delete(&name, spec.kind()));
            } else if rng.random_bool(EDIT_CHANCE)
                && let Some(op) = self.edit(rng, &name)
            {
                plan.first.push(op);
            }
        }
        let mut created = Vec::new();
        for kind in Kind::ALL {
            let missing = self.sizes.of(kind).saturating_sub(self.count(kind));
            for _ in 0..missing {
                if rng.random_bool(CREATE_CHANCE)
                    && let Some(op) = self.create(rng, kind)
                {
                    created.push(op.name().to_string());
                    plan.first.push(op);
                }
            }
        }
        for name in created {
            let kind = self.live[&name].kind();
            if rng.random_bool(FOLLOW_DELETE_CHANCE) && self.deletable(&name) {
                plan.then.push(self.delete(&name, kind));
            } else if rng.random_bool(FOLLOW_EDIT_CHANCE)
                && let Some(op) = self.edit(rng, &name)
            {
                plan.then.push(op);
            }
        }
        plan
    }

    /// Deletes every object (composites with the alarms they name: the operator orders them).
    pub fn teardown(&mut self) -> Vec<Op> {
        self.iteration += 1;
        let all: Vec<(String, Kind)> = self
            .live
            .iter()
            .map(|(n, s)| (n.clone(), s.kind()))
            .collect();
        all.into_iter()
            .map(|(name, kind)| self.delete(&name, kind))
            .collect()
    }

    fn count(&self, kind: Kind) -> usize {
        self.live.values().filter(|s| s.kind() == kind).count()
    }

    fn note(&mut self, name: &str, what: String) {
        let line = format!("iteration {}: {what}", self.iteration);
        self.history.entry(name.to_string()).or_default().push(line);
    }

    /// An alarm is deleted only when no composite that stays names it.
    fn deletable(&self, name: &str) -> bool {
        !self
            .live
            .values()
            .any(|s| matches!(s, Spec::CompositeAlarm { children } if children.contains(name)))
    }

    fn delete(&mut self, name: &str, kind: Kind) -> Op {
        self.live.remove(name);
        self.deleted.insert(name.to_string(), kind);
        self.note(name, "delete".into());
        Op::Delete {
            kind,
            name: name.to_string(),
        }
    }

    fn create(&mut self, rng: &mut StdRng, kind: Kind) -> Option<Op> {
        let name = format!("{}-{:04}", kind.prefix(), self.next_id);
        let spec = match kind {
            Kind::Alarm => Spec::Alarm {
                threshold: rng.random_range(1..1000),
            },
            Kind::CompositeAlarm => Spec::CompositeAlarm {
                children: self.children(rng)?,
            },
            Kind::MetricStream => Spec::MetricStream {
                running: rng.random_bool(0.7),
                namespace: rng.random_range(0..100),
            },
            Kind::LogSubscription => {
                let group = self.free_group(rng, None)?;
                self.slots[group].insert(name.clone());
                Spec::LogSubscription {
                    group,
                    pattern: rng.random_range(0..100),
                }
            }
            Kind::SamplingRule => {
                if self.rules_held.len() >= RULE_BUDGET {
                    return None;
                }
                self.rules_held.insert(name.clone());
                Spec::SamplingRule {
                    percent: rng.random_range(1..100),
                }
            }
            Kind::MetricFilter => Spec::MetricFilter {
                group: rng.random_range(0..self.sizes.log_groups.max(1)),
                pattern: rng.random_range(0..100),
            },
            Kind::LogDestination => Spec::LogDestination {
                senders: rng.random_range(1..=3),
            },
        };
        self.next_id += 1;
        self.live.insert(name.clone(), spec.clone());
        self.note(&name, format!("create {}", describe(&spec)));
        Some(Op::Create { name, spec })
    }

    fn edit(&mut self, rng: &mut StdRng, name: &str) -> Option<Op> {
        let old = self.live.get(name)?.clone();
        let spec = match &old {
            Spec::Alarm { threshold } => Spec::Alarm {
                threshold: other(rng, *threshold, 1..1000),
            },
            Spec::CompositeAlarm { children } => {
                let new = self.children(rng)?;
                if new == *children {
                    return None;
                }
                Spec::CompositeAlarm { children: new }
            }
            Spec::MetricStream { running, namespace } => {
                if rng.random_bool(0.5) {
                    Spec::MetricStream {
                        running: !running,
                        namespace: *namespace,
                    }
                } else {
                    Spec::MetricStream {
                        running: *running,
                        namespace: other(rng, *namespace, 0..100),
                    }
                }
            }
            Spec::LogSubscription { group, pattern } => {
                let moved = if rng.random_bool(0.5) {
                    self.free_group(rng, Some(*group))
                } else {
                    None
                };
                match moved {
                    Some(to) => {
                        self.slots[to].insert(name.to_string());
                        Spec::LogSubscription {
                            group: to,
                            pattern: *pattern,
                        }
                    }
                    None => Spec::LogSubscription {
                        group: *group,
                        pattern: other(rng, *pattern, 0..100),
                    },
                }
            }
            Spec::SamplingRule { percent } => Spec::SamplingRule {
                percent: other(rng, *percent, 1..100),
            },
            // Half the edits move the filter to another log group (delete, then create there).
            Spec::MetricFilter { group, pattern } => {
                if rng.random_bool(0.5) && self.sizes.log_groups > 1 {
                    Spec::MetricFilter {
                        group: other(rng, *group as u32, 0..self.sizes.log_groups as u32) as usize,
                        pattern: *pattern,
                    }
                } else {
                    Spec::MetricFilter {
                        group: *group,
                        pattern: other(rng, *pattern, 0..100),
                    }
                }
            }
            Spec::LogDestination { senders } => Spec::LogDestination {
                senders: other(rng, *senders, 1..4),
            },
        };
        self.live.insert(name.to_string(), spec.clone());
        self.note(name, format!("edit to {}", describe(&spec)));
        Some(Op::Edit {
            name: name.to_string(),
            spec,
        })
    }

    /// Two or three alarms that stay for a composite to name.
    fn children(&self, rng: &mut StdRng) -> Option<BTreeSet<String>> {
        let alarms: Vec<&String> = self
            .live
            .iter()
            .filter(|(_, s)| s.kind() == Kind::Alarm)
            .map(|(n, _)| n)
            .collect();
        if alarms.len() < 2 {
            return None;
        }
        let n = rng.random_range(2..=3.min(alarms.len()));
        Some(
            alarms
                .sample(rng, n)
                .map(|n| n.to_string())
                .collect::<BTreeSet<_>>(),
        )
    }

    /// A log group with a slot free since the last check (other than `except`), preferring the
    /// fullest, so groups stay at the limit.
    fn free_group(&self, rng: &mut StdRng, except: Option<usize>) -> Option<usize> {
        let free: Vec<usize> = (0..self.slots.len())
            .filter(|g| Some(*g) != except && self.slots[*g].len() < FILTER_LIMIT)
            .collect();
        let fullest = free.iter().map(|g| self.slots[*g].len()).max()?;
        let candidates: Vec<usize> = free
            .into_iter()
            .filter(|g| self.slots[*g].len() == fullest)
            .collect();
        candidates.choose(rng).copied()
    }
}

/// A value from `range` other than `current` (when the range has one).
fn other(rng: &mut StdRng, current: u32, range: std::ops::Range<u32>) -> u32 {
    loop {
        let v = rng.random_range(range.clone());
        if v != current || range.len() < 2 {
            return v;
        }
    }
}

fn describe(spec: &Spec) -> String {
    let location = spec.location();
    if location.is_empty() {
        spec.aws_value()
    } else {
        format!("{location} {}", spec.aws_value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn sizes() -> Sizes {
        Sizes {
            alarms: 10,
            composite_alarms: 3,
            metric_streams: 3,
            log_groups: 4,
            sampling_rules: 3,
            metric_filters: 4,
            log_destinations: 2,
        }
    }

    #[test]
    fn the_same_seed_plans_the_same_operations() {
        let plans = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            let mut fleet = Fleet::new(sizes());
            (0..20).map(|_| fleet.plan(&mut rng)).collect::<Vec<_>>()
        };
        assert_eq!(plans(7), plans(7));
        assert_ne!(plans(7), plans(8));
    }

    /// Runs many iterations, settling every few, and checks what AWS would be asked to hold.
    #[test]
    fn the_operations_stay_within_what_aws_allows() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut fleet = Fleet::new(sizes());
        let mut ops = BTreeMap::<&str, usize>::new();
        // Filters on each group since the last settle, live or being deleted.
        let mut on_group: Vec<BTreeSet<String>> = vec![BTreeSet::new(); sizes().log_groups];
        let mut subscriptions = 0;
        for i in 0..300 {
            let before = fleet.live().clone();
            let plan = fleet.plan(&mut rng);
            for op in plan.first.iter().chain(&plan.then) {
                let key = match op {
                    Op::Create { .. } => "create",
                    Op::Edit { name, spec } => {
                        assert_ne!(before.get(name), Some(spec), "an edit changes the spec");
                        "edit"
                    }
                    Op::Delete { .. } => "delete",
                };
                *ops.entry(key).or_default() += 1;
                if let Op::Create { name, spec } | Op::Edit { name, spec } = op
                    && let Spec::LogSubscription { group, .. } = spec
                {
                    on_group[*group].insert(name.clone());
                }
            }
            subscriptions += fleet
                .live()
                .values()
                .filter(|s| s.kind() == Kind::LogSubscription)
                .count();
            for (g, names) in on_group.iter().enumerate() {
                assert!(
                    names.len() <= FILTER_LIMIT,
                    "group {g} would hold {names:?} at once"
                );
            }
            for spec in fleet.live().values() {
                if let Spec::CompositeAlarm { children } = spec {
                    assert!(children.len() >= 2);
                    for c in children {
                        assert!(fleet.live().contains_key(c), "{c} is named but deleted");
                    }
                }
            }
            let rules = fleet
                .live()
                .keys()
                .filter(|n| n.starts_with("chaos-rule"))
                .count()
                + fleet
                    .deleted()
                    .values()
                    .filter(|k| **k == Kind::SamplingRule)
                    .count();
            assert!(rules <= RULE_BUDGET);
            if i % 5 == 4 {
                fleet.settled();
                for (g, names) in on_group.iter_mut().enumerate() {
                    names.retain(|n| {
                        matches!(fleet.live().get(n), Some(Spec::LogSubscription { group, .. }) if *group == g)
                    });
                }
            }
        }
        // Every kind of operation happens, many times.
        for key in ["create", "edit", "delete"] {
            assert!(ops.get(key).copied().unwrap_or(0) > 50, "{ops:?}");
        }
        // The log groups are kept near the limit: on average, most slots hold a filter.
        let mean = subscriptions as f64 / 300.0;
        assert!(mean >= 0.75 * sizes().log_subscriptions() as f64, "{mean}");
    }

    #[test]
    fn log_subscriptions_move_between_log_groups() {
        let mut rng = StdRng::seed_from_u64(3);
        let mut fleet = Fleet::new(sizes());
        let mut moves = 0;
        for _ in 0..100 {
            let before = fleet.live().clone();
            let plan = fleet.plan(&mut rng);
            for op in &plan.first {
                if let Op::Edit {
                    name,
                    spec: Spec::LogSubscription { group, .. },
                } = op
                    && matches!(before.get(name), Some(Spec::LogSubscription { group: old, .. }) if old != group)
                {
                    moves += 1;
                }
            }
            fleet.settled();
        }
        assert!(moves > 5, "{moves} moves");
    }

    #[test]
    fn teardown_deletes_everything() {
        let mut rng = StdRng::seed_from_u64(5);
        let mut fleet = Fleet::new(sizes());
        for _ in 0..10 {
            fleet.plan(&mut rng);
        }
        let n = fleet.live().len();
        assert!(n > 10);
        let ops = fleet.teardown();
        assert_eq!(ops.len(), n);
        assert!(ops.iter().all(|o| matches!(o, Op::Delete { .. })));
        assert!(fleet.live().is_empty());
    }

    #[test]
    fn manifests_name_what_the_checks_read_back() {
        let spec = Spec::LogSubscription {
            group: 3,
            pattern: 7,
        };
        let m = spec.manifest("chaos-sub-0001");
        assert_eq!(m["kind"], "LogSubscription");
        assert_eq!(m["spec"]["logGroupName"], "/chaos/group-03");
        assert_eq!(m["spec"]["filterPattern"], "ERROR v7");
        assert_eq!(spec.location(), "/chaos/group-03");
        assert_eq!(spec.aws_value(), "pattern=ERROR v7");
        let rule = Spec::SamplingRule { percent: 5 };
        assert_eq!(rule.manifest("chaos-rule-0002")["spec"]["fixedRate"], 0.05);
        assert_eq!(rule.aws_value(), "fixedRate=0.05");
        assert!(
            "chaos-rule-9999".len() <= 32,
            "X-Ray rule names are 32 characters at most"
        );
        let filter = Spec::MetricFilter {
            group: 1,
            pattern: 4,
        };
        let m = filter.manifest("chaos-mf-0003");
        assert_eq!(m["kind"], "MetricFilter");
        assert_eq!(m["spec"]["logGroupName"], "/chaos/group-01");
        assert_eq!(m["spec"]["filterPattern"], "ERROR v4");
        assert_eq!(filter.location(), "/chaos/group-01");
        assert_eq!(filter.aws_value(), "pattern=ERROR v4");
        let destination = Spec::LogDestination { senders: 2 };
        let m = destination.manifest("chaos-dest-0004");
        assert_eq!(
            m["spec"]["senderAccountIds"],
            json!(["200000000001", "200000000002"])
        );
        assert_eq!(destination.aws_value(), "senders=200000000001,200000000002");
    }

    #[test]
    fn metric_filters_move_between_log_groups_and_destinations_change_senders() {
        let mut rng = StdRng::seed_from_u64(11);
        let mut fleet = Fleet::new(sizes());
        let (mut moves, mut sender_edits) = (0, 0);
        for _ in 0..100 {
            let before = fleet.live().clone();
            let plan = fleet.plan(&mut rng);
            for op in plan.first.iter().chain(&plan.then) {
                match op {
                    Op::Edit {
                        name,
                        spec: Spec::MetricFilter { group, .. },
                    } if matches!(before.get(name), Some(Spec::MetricFilter { group: old, .. }) if old != group) => {
                        moves += 1
                    }
                    Op::Edit {
                        spec: Spec::LogDestination { .. },
                        ..
                    } => sender_edits += 1,
                    _ => {}
                }
            }
            fleet.settled();
        }
        assert!(moves > 3, "{moves} moves");
        assert!(sender_edits > 3, "{sender_edits} sender edits");
    }
}
