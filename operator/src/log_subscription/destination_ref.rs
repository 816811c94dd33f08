//! Subscriptions to a LogDestination (`spec.destinationRef`): the reference resolved to the
//! destination's ARN, waiting while the destination is not Ready, and what a destination asks of
//! the subscriptions sending to it ([`DestinationSubscribers`]): it is not deleted while one
//! does, and it wakes them when it turns Ready.

use super::LogSubscriptions;
use super::spec::{LogDestinationRef, LogSubscription};
use crate::error::Result;
use crate::log_destination::{DestinationSubscribers, LogDestination};
use crate::runtime::references::{self, Reference};
use crate::runtime::watch::Synced;
use kube::ResourceExt;
use kube::runtime::reflector::ObjectRef;

/// The ARN of the LogDestination `destination` (`None`: the cluster has no such object) that
/// `reference`, from a subscription in `namespace` and `region`, names. A destination that is
/// missing or not Ready for its current generation is waited for; one in another region can
/// never work (CloudWatch Logs sends only to a destination in the log group's region) and is
/// refused.
pub fn resolve(
    reference: &LogDestinationRef,
    namespace: &str,
    region: &str,
    destination: Option<&LogDestination>,
) -> Result<String> {
    // Any account: sending across accounts is what destinations are for.
    let to_destination = Reference {
        namespace,
        name: &reference.name,
        once_ready: "its ARN is known once it exists as its spec says",
    };
    let found = to_destination.find(region, destination, |what, other| {
        format!(
            "{what} is in {other}, and CloudWatch Logs sends a log group's events only to a \
             destination in the log group's region ({region}): subscribe from {other} \
             (spec.region) or refer to a destination in {region}"
        )
    })?;
    let (_, status) = found.ready()?;
    status
        .arn
        .clone()
        .ok_or_else(|| to_destination.not_ready::<LogDestination>())
}

/// The destination ARN of `obj` (in `region`): spec.destinationArn, or the ARN of the
/// LogDestination spec.destinationRef names, once the destinations' cache holds its first list
/// (a destination missing from a cache still being filled is not missing).
pub async fn destination_arn(
    shared: &LogSubscriptions,
    obj: &LogSubscription,
    region: &str,
) -> Result<String> {
    let Some(reference) = &obj.spec.destination_ref else {
        return Ok(obj.spec.destination_arn.clone().unwrap_or_default());
    };
    let namespace = obj.namespace().unwrap_or_default();
    let destination = references::lookup(
        &shared.destinations,
        &shared.destinations_synced,
        &namespace,
        &reference.name,
    )
    .await;
    resolve(reference, &namespace, region, destination.as_deref())
}

/// The LogSubscription objects in `namespace` whose destinationRef names `destination`.
fn sending_to(
    shared: &LogSubscriptions,
    namespace: &str,
    destination: &str,
) -> Vec<ObjectRef<LogSubscription>> {
    let objects = shared.objects.state();
    references::referrers(&objects, &shared.released, namespace, |s| {
        sends_to(s, destination)
    })
}

/// Whether `subscription` sends to the LogDestination `destination` (of its namespace).
fn sends_to(subscription: &LogSubscription, destination: &str) -> bool {
    let reference = subscription.spec.destination_ref.as_ref();
    reference.is_some_and(|r| r.name == destination)
}

impl DestinationSubscribers for LogSubscriptions {
    fn synced(&self) -> &Synced {
        &self.objects_synced
    }

    fn subscribing(&self, namespace: &str, destination: &str) -> Vec<String> {
        references::names(&sending_to(self, namespace, destination))
    }

    fn wake(&self, namespace: &str, destination: &str) {
        for subscription in sending_to(self, namespace, destination) {
            self.wake(subscription);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log_destination::{LogDestinationSpec, LogDestinationStatus};
    use crate::reason::Reason;
    use crate::runtime::references::placed_status;
    use crate::runtime::released::Released;
    use std::sync::Arc;

    const ARN: &str = "arn:aws:logs:us-east-1:123456789012:destination:central";

    fn destination(ready: bool, generation: i64, observed: i64) -> LogDestination {
        in_region("us-east-1", ready, generation, observed)
    }

    fn in_region(region: &str, ready: bool, generation: i64, observed: i64) -> LogDestination {
        let mut d = LogDestination::new("central", LogDestinationSpec::default());
        d.metadata.generation = Some(generation);
        let mut common = placed_status(region, ready, observed);
        common.arn = Some(ARN.into());
        d.status = Some(LogDestinationStatus {
            common,
            ..Default::default()
        });
        d
    }

    fn reference() -> LogDestinationRef {
        LogDestinationRef {
            name: "central".into(),
        }
    }

    #[test]
    fn a_ready_destination_gives_its_arn() {
        let d = destination(true, 1, 1);
        assert_eq!(
            resolve(&reference(), "logs", "us-east-1", Some(&d)).unwrap(),
            ARN
        );
    }

    #[test]
    fn a_missing_unready_or_stale_destination_is_waited_for() {
        let e = resolve(&reference(), "logs", "us-east-1", None).unwrap_err();
        assert_eq!(e.reason, Reason::DependencyNotReady);
        assert!(e.message.contains("logs/central"), "{}", e.message);
        for d in [destination(false, 1, 1), destination(true, 2, 1)] {
            let e = resolve(&reference(), "logs", "us-east-1", Some(&d)).unwrap_err();
            assert_eq!(e.reason, Reason::DependencyNotReady, "{}", e.message);
        }
    }

    #[test]
    fn a_destination_in_another_region_is_refused() {
        let d = in_region("eu-west-1", true, 1, 1);
        let e = resolve(&reference(), "logs", "us-east-1", Some(&d)).unwrap_err();
        assert!(e.is_terminal());
        assert!(e.message.contains("eu-west-1"), "{}", e.message);
    }

    fn subscription(name: &str, uid: &str, namespace: &str, to: &str) -> Arc<LogSubscription> {
        let mut s: LogSubscription = serde_json::from_value(serde_json::json!({
            "apiVersion": "cwo.dev/v1alpha1",
            "kind": "LogSubscription",
            "metadata": {"name": name, "namespace": namespace, "uid": uid},
            "spec": {"logGroupName": "/app", "filterPattern": "", "destinationRef": {"name": to}},
        }))
        .expect("a LogSubscription");
        s.metadata.deletion_timestamp = None;
        Arc::new(s)
    }

    #[test]
    fn a_released_subscription_no_longer_holds_its_destination() {
        let objects = vec![
            subscription("b", "u-b", "team-a", "central"),
            subscription("a", "u-a", "team-a", "central"),
            subscription("other", "u-o", "team-a", "elsewhere"),
            subscription("c", "u-c", "team-b", "central"),
        ];
        let released = Released::default();
        let names = |released: &Released| -> Vec<String> {
            references::referrers(&objects, released, "team-a", |s| sends_to(s, "central"))
                .into_iter()
                .map(|r| r.name)
                .collect()
        };
        assert_eq!(names(&released), ["a", "b"]);
        // `a` finished its cleanup; the cache still holds it until the watch catches up.
        released.record("u-a");
        assert_eq!(names(&released), ["b"]);
        released.record("u-b");
        assert!(names(&released).is_empty());
    }
}
