//! The composite alarm graph as the cluster declares it: which CompositeAlarm objects name an
//! alarm (so the alarm waits before being deleted, and wakes them when it becomes ready), and the
//! graph of composites in a region (so a cycle is reported before AWS sees it — AWS accepts
//! cycles, stops evaluating them and then refuses to delete them).

use super::family::AlarmFamily;
use crate::alarm::Alarm;
use crate::composite_alarm::CompositeAlarm;
use crate::composite_alarm::desired::spec_rule;
use crate::composite_alarm::graph::CompositeGraph;
use crate::composite_alarm::rule::{self, ChildRef};
use crate::runtime::ManagedKind;
use kube::ResourceExt;
use kube::runtime::reflector::ObjectRef;
use std::collections::BTreeSet;

/// The region an object lives in, if it is known yet.
pub(super) fn recorded_region<'a>(
    status_region: Option<&'a str>,
    spec_region: Option<&'a str>,
) -> Option<&'a str> {
    status_region.or(spec_region)
}

/// Whether two objects may be in the same region (unknown regions are assumed to match).
pub(super) fn same_region(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

/// The alarms a composite's spec names, as (Alarm object names in its namespace, AWS names).
fn spec_children(composite: &CompositeAlarm) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut objects = BTreeSet::new();
    let mut names: BTreeSet<String> = composite
        .status
        .as_ref()
        .map(|s| s.resolved_children.iter().cloned().collect())
        .unwrap_or_default();
    if let Ok(rule) = spec_rule(&composite.spec) {
        for child in rule::children(&rule) {
            match child {
                ChildRef::Object(o) => {
                    objects.insert(o);
                }
                ChildRef::Name(n) => {
                    names.insert(n);
                }
            }
        }
    }
    (objects, names)
}

/// CompositeAlarm objects that name the alarm `aws_name` (in `region`), either by CloudWatch name
/// or, for an `Alarm` object, through `alarmRef` from its own namespace.
pub fn composites_naming(
    family: &AlarmFamily,
    aws_name: &str,
    region: Option<&str>,
    alarm_object: Option<(&str, &str)>,
) -> Vec<ObjectRef<CompositeAlarm>> {
    let mut out: Vec<ObjectRef<CompositeAlarm>> = family
        .composites
        .state()
        .iter()
        .filter(|c| {
            let c_region = recorded_region(
                c.status.as_ref().and_then(|s| s.common.region.as_deref()),
                c.spec.common.region.as_deref(),
            );
            if !same_region(c_region, region) {
                return false;
            }
            let (objects, names) = spec_children(c);
            names.contains(aws_name)
                || alarm_object.is_some_and(|(ns, name)| {
                    c.namespace().as_deref() == Some(ns) && objects.contains(name)
                })
        })
        .map(|c| ObjectRef::from_obj(&**c))
        .collect();
    out.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    out
}

/// CompositeAlarm objects that name this Alarm.
pub fn composites_naming_alarm(
    family: &AlarmFamily,
    alarm: &Alarm,
) -> Vec<ObjectRef<CompositeAlarm>> {
    let name = alarm.aws_name();
    let region = recorded_region(
        alarm
            .status
            .as_ref()
            .and_then(|s| s.common.region.as_deref()),
        alarm.spec.common.region.as_deref(),
    );
    let namespace = alarm.namespace().unwrap_or_default();
    composites_naming(family, &name, region, Some((&namespace, &alarm.name_any())))
}

/// The CloudWatch name of the Alarm object `name` in `namespace`, if the cluster has it.
pub fn alarm_object_name(family: &AlarmFamily, namespace: &str, name: &str) -> Option<String> {
    family
        .alarms
        .get(&ObjectRef::new(name).within(namespace))
        .map(|a| a.aws_name())
}

/// The graph of composite alarms the cluster declares in `region`, with `this` composite's
/// children replaced by `children` (what it is about to write).
pub fn graph(
    family: &AlarmFamily,
    region: &str,
    this: &str,
    children: &BTreeSet<String>,
) -> CompositeGraph {
    let mut graph = CompositeGraph::new();
    for c in family.composites.state() {
        let c_region = recorded_region(
            c.status.as_ref().and_then(|s| s.common.region.as_deref()),
            c.spec.common.region.as_deref(),
        );
        if !same_region(c_region, Some(region)) {
            continue;
        }
        let namespace = c.namespace().unwrap_or_default();
        let (objects, mut names) = spec_children(&c);
        names.extend(
            objects
                .iter()
                .filter_map(|o| alarm_object_name(family, &namespace, o)),
        );
        graph.insert(c.aws_name(), names);
    }
    graph.insert(this.to_string(), children.iter().cloned());
    graph
}
