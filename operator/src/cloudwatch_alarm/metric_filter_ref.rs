//! Alarms on the metric of a MetricFilter (`Alarm.spec.metricFilterRef`): the reference resolved
//! to the metric the filter publishes, waiting while the filter is not Ready, and what a filter
//! asks of the alarms watching it ([`MetricWatchers`]): it is not deleted while one does, and it
//! wakes them when it turns Ready.

use super::dependents;
use super::family::AlarmFamily;
use crate::alarm::{Alarm, MetricFilterRef};
use crate::aws::Location;
use crate::error::{Error, Result};
use crate::metric_filter::{MetricFilter, MetricWatchers};
use crate::runtime::references::{self, Reference};
use crate::runtime::watch::Synced;
use kube::ResourceExt;
use kube::runtime::reflector::ObjectRef;

/// The metric a MetricFilter publishes, as an alarm names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterMetric {
    pub namespace: String,
    pub metric_name: String,
}

/// Resolves `reference` (from an alarm in `namespace` at `location`) against the MetricFilter
/// `filter` (`None`: the cluster has no such object). A filter that is missing, not Ready for its
/// current generation, or publishes no metric of the name asked for is waited for; a filter in
/// another region or account can never work and is refused.
pub fn resolve(
    reference: &MetricFilterRef,
    namespace: &str,
    location: &Location,
    filter: Option<&MetricFilter>,
) -> Result<FilterMetric> {
    let to_filter = Reference {
        namespace,
        name: &reference.name,
        once_ready: "its metric is published once the filter exists as its spec says",
    };
    let region = location.region();
    let account = |a: Option<&str>| {
        a.map_or("the operator's own account".to_string(), |a| {
            format!("AWSAccount {a}")
        })
    };
    let (filter, _) = to_filter
        .find(region, filter, |what, filter_region| {
            format!(
                "{what} is in {filter_region}, and an alarm in {region} cannot watch its metric: \
                 CloudWatch alarms watch metrics of their own region. Put the alarm in \
                 {filter_region} (spec.region) or refer to a filter in {region}"
            )
        })?
        .in_account(location.account(), |what, filter_account| {
            format!(
                "{what} is in {}, and an alarm in {} cannot watch its metric: CloudWatch alarms \
                 watch metrics of their own account. Put the alarm in the filter's account \
                 (spec.accountRef) or refer to a filter in the alarm's",
                account(filter_account),
                account(location.account())
            )
        })?
        .ready()?;
    let what = to_filter.what::<MetricFilter>();
    let transformations = &filter.spec.metric_transformations;
    let chosen = match &reference.metric_name {
        Some(name) => transformations.iter().find(|t| &t.metric_name == name),
        None => transformations.first(),
    };
    let Some(t) = chosen else {
        let published: Vec<&str> = transformations
            .iter()
            .map(|t| t.metric_name.as_str())
            .collect();
        return Err(Error::dependency(format!(
            "{what} publishes no metric named {:?} (it publishes {}); waiting for it to, or \
             correct metricFilterRef.metricName",
            reference.metric_name.as_deref().unwrap_or_default(),
            published.join(", ")
        )));
    };
    Ok(FilterMetric {
        namespace: t.metric_namespace.clone(),
        metric_name: t.metric_name.clone(),
    })
}

/// Resolves the metricFilterRef of `alarm` (at `location`) from the cluster's MetricFilter
/// objects, once their cache holds its first list (a filter missing from a cache still being
/// filled is not missing). `None` for an alarm without one.
pub async fn resolve_for(
    family: &AlarmFamily,
    alarm: &Alarm,
    location: &Location,
) -> Result<Option<FilterMetric>> {
    let Some(reference) = &alarm.spec.metric_filter_ref else {
        return Ok(None);
    };
    let namespace = alarm.namespace().unwrap_or_default();
    let filter = references::lookup(
        &family.metric_filters,
        &family.metric_filters_synced,
        &namespace,
        &reference.name,
    )
    .await;
    resolve(reference, &namespace, location, filter.as_deref()).map(Some)
}

/// The Alarm objects in `namespace` whose metricFilterRef names the MetricFilter `filter`.
fn alarms_watching(family: &AlarmFamily, namespace: &str, filter: &str) -> Vec<ObjectRef<Alarm>> {
    let objects = family.alarms.state();
    references::referrers(&objects, &family.released, namespace, |a| {
        watches(a, filter)
    })
}

/// Whether `alarm` watches the metric of the MetricFilter `filter` (of its namespace).
fn watches(alarm: &Alarm, filter: &str) -> bool {
    let reference = alarm.spec.metric_filter_ref.as_ref();
    reference.is_some_and(|r| r.name == filter)
}

impl MetricWatchers for AlarmFamily {
    fn synced(&self) -> &Synced {
        &self.alarms_synced
    }

    fn holding(&self, namespace: &str, filter: &str) -> Vec<String> {
        let staying: Vec<ObjectRef<Alarm>> = alarms_watching(self, namespace, filter)
            .into_iter()
            .filter(|a| {
                self.alarms
                    .get(a)
                    .is_some_and(|alarm| !dependents::alarm_leaving(self, &alarm))
            })
            .collect();
        references::names(&staying)
    }

    fn wake(&self, namespace: &str, filter: &str) {
        for alarm in alarms_watching(self, namespace, filter) {
            self.wake_alarm(alarm);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric_filter::{MetricFilterSpec, MetricFilterStatus, MetricTransformation};
    use crate::reason::Reason;
    use crate::runtime::references::placed_status;
    use crate::runtime::released::Released;
    use std::sync::Arc;

    fn filter(region: &str, ready: bool, generation: i64, observed: i64) -> MetricFilter {
        let mut f = MetricFilter::new(
            "checkout-errors",
            MetricFilterSpec {
                log_group_name: "/aws/lambda/checkout".into(),
                metric_transformations: vec![MetricTransformation {
                    metric_name: "CheckoutErrors".into(),
                    metric_namespace: "Checkout".into(),
                    metric_value: "1".into(),
                    ..Default::default()
                }],
                ..Default::default()
            },
        );
        f.metadata.generation = Some(generation);
        f.status = Some(MetricFilterStatus {
            common: placed_status(region, ready, observed),
            ..Default::default()
        });
        f
    }

    fn here() -> Location {
        Location::of("us-east-1")
    }

    fn reference(metric_name: Option<&str>) -> MetricFilterRef {
        MetricFilterRef {
            name: "checkout-errors".into(),
            metric_name: metric_name.map(str::to_string),
        }
    }

    #[test]
    fn a_ready_filter_gives_its_metric() {
        let f = filter("us-east-1", true, 2, 2);
        for r in [reference(None), reference(Some("CheckoutErrors"))] {
            assert_eq!(
                resolve(&r, "shop", &here(), Some(&f)).unwrap(),
                FilterMetric {
                    namespace: "Checkout".into(),
                    metric_name: "CheckoutErrors".into()
                }
            );
        }
    }

    #[test]
    fn a_missing_or_unready_filter_is_waited_for() {
        let e = resolve(&reference(None), "shop", &here(), None).unwrap_err();
        assert_eq!(e.reason, Reason::DependencyNotReady);
        assert!(e.message.contains("shop/checkout-errors"), "{}", e.message);
        for f in [
            filter("us-east-1", false, 1, 1),
            // Ready for an older spec: the metric may not be the one the spec names now.
            filter("us-east-1", true, 3, 2),
        ] {
            let e = resolve(&reference(None), "shop", &here(), Some(&f)).unwrap_err();
            assert_eq!(e.reason, Reason::DependencyNotReady, "{}", e.message);
        }
    }

    #[test]
    fn a_metric_the_filter_does_not_publish_is_waited_for_and_named() {
        let f = filter("us-east-1", true, 1, 1);
        let e = resolve(&reference(Some("Other")), "shop", &here(), Some(&f)).unwrap_err();
        assert_eq!(e.reason, Reason::DependencyNotReady);
        assert!(e.message.contains("CheckoutErrors"), "{}", e.message);
    }

    #[test]
    fn a_filter_in_another_region_is_refused() {
        let f = filter("eu-west-1", true, 1, 1);
        let e = resolve(&reference(None), "shop", &here(), Some(&f)).unwrap_err();
        assert!(e.is_terminal());
        assert!(e.message.contains("eu-west-1"), "{}", e.message);
    }

    #[test]
    fn a_filter_in_another_account_is_refused() {
        let mut f = filter("us-east-1", true, 1, 1);
        f.status.as_mut().unwrap().common.account = Some("team-a".into());
        let e = resolve(&reference(None), "shop", &here(), Some(&f)).unwrap_err();
        assert!(e.is_terminal(), "{}", e.message);
        assert!(e.message.contains("AWSAccount team-a"), "{}", e.message);
        // The same filter, from an alarm in that account, gives its metric.
        let there = Location::new(Some("team-a"), "us-east-1");
        assert!(resolve(&reference(None), "shop", &there, Some(&f)).is_ok());
    }

    fn watching_alarm(name: &str, uid: &str, filter: &str) -> Arc<Alarm> {
        Arc::new(
            serde_json::from_value(serde_json::json!({
                "apiVersion": "cwo.dev/v1alpha1",
                "kind": "Alarm",
                "metadata": {"name": name, "namespace": "team-a", "uid": uid},
                "spec": {
                    "metricFilterRef": {"name": filter},
                    "statistic": "Sum", "period": 60, "evaluationPeriods": 1,
                    "threshold": 1, "comparisonOperator": "GreaterThanThreshold",
                },
            }))
            .expect("an Alarm"),
        )
    }

    #[test]
    fn a_released_alarm_no_longer_holds_its_metric_filter() {
        let objects = vec![
            watching_alarm("b", "u-b", "checkout-errors"),
            watching_alarm("a", "u-a", "checkout-errors"),
            watching_alarm("other", "u-o", "payment-errors"),
        ];
        let released = Released::default();
        let names = |released: &Released| -> Vec<String> {
            references::referrers(&objects, released, "team-a", |a| {
                watches(a, "checkout-errors")
            })
            .into_iter()
            .map(|r| r.name)
            .collect()
        };
        assert_eq!(names(&released), ["a", "b"]);
        let elsewhere = references::referrers(&objects, &released, "team-b", |_| true);
        assert!(elsewhere.is_empty());
        released.record("u-b");
        assert_eq!(names(&released), ["a"]);
    }
}
