//! The composite alarm graph as the cluster declares it: which CompositeAlarm objects name an
//! alarm (so the alarm waits before being deleted, and wakes them when it becomes ready), and the
//! graph of composites in an account and region (so a cycle is reported before AWS sees it — AWS
//! accepts cycles, stops evaluating them and then refuses to delete them).

use super::family::AlarmFamily;
use crate::alarm::Alarm;
use crate::aws::Location;
use crate::common_fields::{CommonSpec, CommonStatus};
use crate::composite_alarm::CompositeAlarm;
use crate::composite_alarm::desired::spec_rule;
use crate::composite_alarm::graph::CompositeGraph;
use crate::composite_alarm::rule::{self, ChildRef};
use crate::runtime::ManagedKind;
use crate::runtime::accounts;
use kube::ResourceExt;
use kube::runtime::reflector::ObjectRef;
use std::collections::BTreeSet;

/// Where an object lives as far as the cluster shows yet: its recorded account and region, else
/// what its spec asks for. A part is `None` while unknown (it follows a namespace annotation or
/// the operator's default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Known<'a> {
    account: Option<Option<&'a str>>,
    region: Option<&'a str>,
}

impl<'a> Known<'a> {
    /// What an object's status and spec show.
    pub fn of(status: Option<&'a CommonStatus>, spec: &'a CommonSpec) -> Self {
        Known {
            account: accounts::recorded(status).or(spec.account_ref.as_deref().map(Some)),
            region: status
                .and_then(|s| s.region.as_deref())
                .or(spec.region.as_deref()),
        }
    }

    /// A place known in full.
    pub fn at(location: &'a Location) -> Self {
        Known {
            account: Some(location.account()),
            region: Some(location.region()),
        }
    }

    /// Whether two objects may live in the same account and region (unknown parts are assumed
    /// to match).
    pub fn may_share(&self, other: &Known<'_>) -> bool {
        let account = match (self.account, other.account) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        let region = match (self.region, other.region) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        account && region
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

/// Whether `composite` names the alarm `aws_name`, by CloudWatch name or, for the `Alarm` object
/// `alarm_object` (namespace, name), through an `alarmRef` from the same namespace. Where the
/// two live is not compared.
pub fn names(
    composite: &CompositeAlarm,
    aws_name: &str,
    alarm_object: Option<(&str, &str)>,
) -> bool {
    let (objects, names) = spec_children(composite);
    names.contains(aws_name)
        || alarm_object.is_some_and(|(ns, name)| {
            composite.namespace().as_deref() == Some(ns) && objects.contains(name)
        })
}

/// CompositeAlarm objects that name the alarm `aws_name` (living `at`), either by CloudWatch
/// name or, for an `Alarm` object, through `alarmRef` from its own namespace.
pub fn composites_naming(
    family: &AlarmFamily,
    aws_name: &str,
    at: Known<'_>,
    alarm_object: Option<(&str, &str)>,
) -> Vec<ObjectRef<CompositeAlarm>> {
    let mut out: Vec<ObjectRef<CompositeAlarm>> = family
        .composites
        .state()
        .iter()
        .filter(|c| !family.released.holds(&c.uid().unwrap_or_default()))
        .filter(|c| {
            let status = c.status.as_ref().map(|s| &s.common);
            Known::of(status, &c.spec.common).may_share(&at) && names(c, aws_name, alarm_object)
        })
        .map(|c| ObjectRef::from_obj(&**c))
        .collect();
    out.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    out
}

/// How many levels of composites naming composites [`alarm_leaving`] follows before it counts an
/// alarm as staying (a cycle of composites, which AWS cannot delete either, ends there).
const LEAVING_DEPTH: usize = 8;

/// Whether the Alarm `alarm` is on its way out of AWS: its object is being deleted, and so is
/// every composite naming it, and every composite naming those. AWS refuses to delete an alarm
/// a composite still names, so one held by a composite that stays stays too.
pub fn alarm_leaving(family: &AlarmFamily, alarm: &Alarm) -> bool {
    alarm.metadata.deletion_timestamp.is_some()
        && composites_naming_alarm(family, alarm)
            .iter()
            .all(|p| composite_leaving(family, p, LEAVING_DEPTH))
}

/// Whether the CompositeAlarm `composite` is gone from the cache or on its way out of AWS (see
/// [`alarm_leaving`]), looking `depth` levels of parents up.
fn composite_leaving(
    family: &AlarmFamily,
    composite: &ObjectRef<CompositeAlarm>,
    depth: usize,
) -> bool {
    let Some(c) = family.composites.get(composite) else {
        return true;
    };
    if c.metadata.deletion_timestamp.is_none() || depth == 0 {
        return false;
    }
    let at = Known::of(c.status.as_ref().map(|s| &s.common), &c.spec.common);
    composites_naming(family, &c.aws_name(), at, None)
        .iter()
        .filter(|p| *p != composite)
        .all(|p| composite_leaving(family, p, depth - 1))
}

/// CompositeAlarm objects that name this Alarm.
pub fn composites_naming_alarm(
    family: &AlarmFamily,
    alarm: &Alarm,
) -> Vec<ObjectRef<CompositeAlarm>> {
    let name = alarm.aws_name();
    let at = Known::of(alarm.status.as_ref().map(|s| &s.common), &alarm.spec.common);
    let namespace = alarm.namespace().unwrap_or_default();
    composites_naming(family, &name, at, Some((&namespace, &alarm.name_any())))
}

/// Of the Alarm objects `names` in `namespace`, those known to live somewhere else than
/// `location` (another account or region): a composite there cannot name them.
pub fn alarm_objects_elsewhere(
    family: &AlarmFamily,
    namespace: &str,
    names: &BTreeSet<String>,
    location: &Location,
) -> Vec<String> {
    names
        .iter()
        .filter(|name| {
            family
                .alarms
                .get(&ObjectRef::new(name).within(namespace))
                .is_some_and(|a| {
                    !Known::of(a.status.as_ref().map(|s| &s.common), &a.spec.common)
                        .may_share(&Known::at(location))
                })
        })
        .cloned()
        .collect()
}

/// The CloudWatch name of the Alarm object `name` in `namespace`, if the cluster has it.
pub fn alarm_object_name(family: &AlarmFamily, namespace: &str, name: &str) -> Option<String> {
    family
        .alarms
        .get(&ObjectRef::new(name).within(namespace))
        .map(|a| a.aws_name())
}

/// Whether an Alarm or CompositeAlarm object the family knows declares the alarm `aws_name` at
/// `location` (`plan` fills the family with the objects of its manifests and of the cluster).
pub fn declares(family: &AlarmFamily, location: &Location, aws_name: &str) -> bool {
    let here = Known::at(location);
    family.alarms.state().iter().any(|a| {
        a.aws_name() == aws_name
            && Known::of(a.status.as_ref().map(|s| &s.common), &a.spec.common).may_share(&here)
    }) || family.composites.state().iter().any(|c| {
        c.aws_name() == aws_name
            && Known::of(c.status.as_ref().map(|s| &s.common), &c.spec.common).may_share(&here)
    })
}

/// The graph of composite alarms the cluster declares at `location`, with `this` composite's
/// children replaced by `children` (what it is about to write).
pub fn graph(
    family: &AlarmFamily,
    location: &Location,
    this: &str,
    children: &BTreeSet<String>,
) -> CompositeGraph {
    let mut graph = CompositeGraph::new();
    let here = Known::at(location);
    for c in family.composites.state() {
        let status = c.status.as_ref().map(|s| &s.common);
        if !Known::of(status, &c.spec.common).may_share(&here) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn composite(namespace: &str, rule: &str) -> CompositeAlarm {
        serde_yaml::from_str(&format!(
            "apiVersion: cwo.dev/v1alpha1\nkind: CompositeAlarm\n\
             metadata: {{name: parent, namespace: {namespace}}}\n\
             spec:\n  region: us-east-1\n  rule:\n{rule}"
        ))
        .unwrap()
    }

    const RULE: &str =
        "    anyOf:\n      - alarm: {alarmRef: latency}\n      - alarm: {alarmName: shared-5xx}\n";

    #[test]
    fn a_composite_names_its_alarm_refs_in_its_namespace_and_its_cloudwatch_names() {
        let parent = composite("shop", RULE);
        assert!(names(
            &parent,
            "shop-latency-aws",
            Some(("shop", "latency"))
        ));
        assert!(names(&parent, "shared-5xx", None));
        assert!(names(&parent, "shared-5xx", Some(("other", "anything"))));
    }

    #[test]
    fn a_composite_does_not_name_other_alarms_of_its_namespace() {
        let parent = composite("shop", RULE);
        // Waking these on the composite's deletion would reconcile the whole namespace.
        assert!(!names(&parent, "shop-errors", Some(("shop", "errors"))));
        assert!(!names(&parent, "latency", Some(("other", "latency"))));
        assert!(!names(&parent, "shop-latency-aws", None));
    }

    #[test]
    fn a_composite_names_the_children_its_status_resolved() {
        let mut parent = composite("shop", RULE);
        parent.status = Some(
            serde_json::from_value(serde_json::json!({
                "resolvedChildren": ["resolved-earlier"]
            }))
            .unwrap(),
        );
        assert!(names(&parent, "resolved-earlier", None));
    }

    fn alarm(name: &str) -> Alarm {
        serde_yaml::from_str(&format!(
            "apiVersion: cwo.dev/v1alpha1\nkind: Alarm\n\
             metadata: {{name: {name}, namespace: shop, uid: u-{name}}}\n\
             spec:\n  region: us-east-1\n  metricFilterRef: {{name: errors}}\n  \
             statistic: Sum\n  period: 60\n  evaluationPeriods: 1\n  \
             comparisonOperator: GreaterThanThreshold\n  threshold: 1\n"
        ))
        .unwrap()
    }

    fn named_composite(name: &str, rule: &str) -> CompositeAlarm {
        let mut c = composite("shop", rule);
        c.metadata.name = Some(name.into());
        c.metadata.uid = Some(format!("u-{name}"));
        c
    }

    fn deleting<K: kube::Resource>(mut obj: K) -> K {
        obj.meta_mut().deletion_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                k8s_openapi::jiff::Timestamp::now(),
            ));
        obj
    }

    async fn family(
        alarms: Vec<Alarm>,
        composites: Vec<CompositeAlarm>,
    ) -> std::sync::Arc<AlarmFamily> {
        use crate::app::read_only::store_of;
        use crate::runtime::watch::Synced;
        let config = kube::Config::new("http://127.0.0.1:9".parse().unwrap());
        let ctx = std::sync::Arc::new(crate::app::read_only::context(
            kube::Client::try_from(config).unwrap(),
            crate::aws::unreachable().await,
            Vec::new(),
            Vec::new(),
            "test".into(),
        ));
        AlarmFamily::new(
            ctx,
            (
                store_of(alarms),
                Synced::already(),
                tokio::sync::mpsc::channel(1).0,
            ),
            (
                store_of(composites),
                Synced::already(),
                tokio::sync::mpsc::channel(1).0,
            ),
            (
                store_of(Vec::new()),
                Synced::already(),
                tokio::sync::mpsc::channel(1).0,
            ),
        )
    }

    const ON_LATENCY: &str = "    anyOf:\n      - alarm: {alarmRef: latency}\n";

    #[tokio::test]
    async fn an_alarm_leaves_when_it_and_every_composite_holding_it_are_being_deleted() {
        use crate::metric_filter::MetricWatchers;
        let inner = || named_composite("inner", ON_LATENCY);
        let on_inner = format!(
            "    anyOf:\n      - alarm: {{alarmName: {}}}\n",
            inner().aws_name()
        );
        let outer = || named_composite("outer", &on_inner);
        let cases: Vec<(&str, Vec<Alarm>, Vec<CompositeAlarm>, bool)> = vec![
            ("not being deleted", vec![alarm("latency")], vec![], false),
            (
                "being deleted, no composite",
                vec![deleting(alarm("latency"))],
                vec![],
                true,
            ),
            (
                "its composite stays",
                vec![deleting(alarm("latency"))],
                vec![inner()],
                false,
            ),
            (
                "its composite is being deleted",
                vec![deleting(alarm("latency"))],
                vec![deleting(inner())],
                true,
            ),
            (
                "its composite is held by one that stays",
                vec![deleting(alarm("latency"))],
                vec![deleting(inner()), outer()],
                false,
            ),
            (
                "both composites are being deleted",
                vec![deleting(alarm("latency"))],
                vec![deleting(inner()), deleting(outer())],
                true,
            ),
        ];
        for (case, alarms, composites, leaving) in cases {
            let watcher = alarms[0].clone();
            let family = family(alarms, composites).await;
            assert_eq!(alarm_leaving(&family, &watcher), leaving, "{case}");
            let holding = family.holding("shop", "errors");
            assert_eq!(
                holding.is_empty(),
                leaving,
                "{case}: the filter waits only for an alarm that stays ({holding:?})"
            );
        }
    }
}
