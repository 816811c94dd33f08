//! References from an object to an object of another kind in its namespace (an alarm's
//! `metricFilterRef`, a subscription's `destinationRef`), both ways. Resolving one: the
//! referenced object is looked up once its kind's cache holds its first list, waited for
//! (`DependencyNotReady`) while it is missing or not Ready for its current generation, and
//! refused (terminal) when it lives where the AWS service cannot reach from the referrer (another
//! region; for some references, another account).
//! Finding who refers to an object: what the referenced kind asks before it is deleted, and whom
//! it wakes when it turns Ready.

use super::ManagedKind;
use super::released::Released;
use super::watch::Synced;
use crate::common_fields::CommonStatus;
use crate::conditions::status_of;
use crate::error::{Error, Result};
use crate::vocabulary::condition;
use kube::ResourceExt;
use kube::runtime::reflector::{ObjectRef, Store};
use std::sync::Arc;

/// A reference to the object `name` in the referrer's `namespace`.
#[derive(Clone, Copy, Debug)]
pub struct Reference<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    /// What the referrer gets from the object once it is Ready, for the message while it waits
    /// (for example "its ARN is known once it exists as its spec says").
    pub once_ready: &'a str,
}

impl<'a> Reference<'a> {
    /// The referenced object, of kind `K`, in words: for example `LogDestination logs/central`.
    pub fn what<K: ManagedKind>(&self) -> String {
        format!("{} {}/{}", K::KIND, self.namespace, self.name)
    }

    /// The wait for an object of kind `K` that is not Ready (yet) for what the referrer needs.
    pub fn not_ready<K: ManagedKind>(&self) -> Error {
        Error::dependency(format!(
            "waiting for {} to be Ready: {}",
            self.what::<K>(),
            self.once_ready
        ))
    }

    /// The first step of resolving the reference from a referrer in `region`: `target` is the
    /// object (`None`: the cluster has no such object). A missing object is waited for; one in
    /// another region can never work (AWS services reach only their own region) and is refused
    /// with the message `other_region` writes, given the object in words and its region.
    pub fn find<'k, K: ManagedKind>(
        self,
        region: &str,
        target: Option<&'k K>,
        other_region: impl FnOnce(&str, &str) -> String,
    ) -> Result<Found<'a, 'k, K>> {
        let Some(object) = target else {
            return Err(Error::dependency(format!(
                "waiting for {}: it does not exist",
                self.what::<K>()
            )));
        };
        let status = object.status().map(K::common_status);
        if let Some(theirs) = status.and_then(|s| s.region.as_deref())
            && theirs != region
        {
            return Err(Error::invalid_spec(other_region(&self.what::<K>(), theirs)));
        }
        Ok(Found {
            reference: self,
            object,
            status,
        })
    }
}

/// A referenced object that exists, in a region the referrer reaches.
pub struct Found<'a, 'k, K> {
    reference: Reference<'a>,
    object: &'k K,
    status: Option<&'k CommonStatus>,
}

impl<'k, K: ManagedKind> Found<'_, 'k, K> {
    /// Refuses an object in another account than the referrer's `account` (`None`: the
    /// operator's own), for a reference that cannot cross accounts, with the message
    /// `other_account` writes, given the object in words and its account. An object not yet
    /// placed is not refused.
    pub fn in_account(
        self,
        account: Option<&str>,
        other_account: impl FnOnce(&str, Option<&str>) -> String,
    ) -> Result<Self> {
        // Once the region is recorded the account is too (none: the operator's own).
        let theirs = self
            .status
            .filter(|s| s.region.is_some())
            .map(|s| s.account.as_deref());
        match theirs {
            Some(theirs) if theirs != account => Err(Error::invalid_spec(other_account(
                &self.reference.what::<K>(),
                theirs,
            ))),
            _ => Ok(self),
        }
    }

    /// The object and its status once it is Ready for its current generation; until then the
    /// referrer waits.
    pub fn ready(self) -> Result<(&'k K, &'k CommonStatus)> {
        match self.status {
            Some(s)
                if s.observed_generation == self.object.meta().generation
                    && status_of(&s.conditions, condition::READY)
                        .is_some_and(|c| c.status == "True") =>
            {
                Ok((self.object, s))
            }
            _ => Err(self.reference.not_ready::<K>()),
        }
    }
}

/// The object `name` in `namespace` from its kind's cache, once the cache holds its first list
/// (an object missing from a cache still being filled is not missing).
pub async fn lookup<K: ManagedKind>(
    cache: &Store<K>,
    synced: &Synced,
    namespace: &str,
    name: &str,
) -> Option<Arc<K>> {
    synced.wait().await;
    cache.get(&ObjectRef::new(name).within(namespace))
}

/// Of `objects`, those in `namespace` that `refer` (their spec names the referenced object), by
/// name. An object `released` (its cleanup finished, its finalizer going) refers to nothing any
/// more, whatever a cache still shows of it.
pub fn referrers<K: ManagedKind>(
    objects: &[Arc<K>],
    released: &Released,
    namespace: &str,
    refer: impl Fn(&K) -> bool,
) -> Vec<ObjectRef<K>> {
    let mut out: Vec<ObjectRef<K>> = objects
        .iter()
        .filter(|o| o.namespace().as_deref() == Some(namespace))
        .filter(|o| !released.holds(&o.uid().unwrap_or_default()))
        .filter(|o| refer(o))
        .map(|o| ObjectRef::from_obj(&**o))
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// `namespace/name` of each of `referrers`: how a referenced object names those still using it.
pub fn names<K: ManagedKind>(referrers: &[ObjectRef<K>]) -> Vec<String> {
    referrers
        .iter()
        .map(|r| format!("{}/{}", r.namespace.as_deref().unwrap_or_default(), r.name))
        .collect()
}

/// The status of a referenced object placed in `region` and Ready (or not) for the generation
/// `observed`, for tests of references.
#[cfg(test)]
pub fn placed_status(region: &str, ready: bool, observed: i64) -> CommonStatus {
    use crate::conditions::{Verdict, conditions};
    use crate::reason::Reason;
    let verdict = if ready {
        Verdict::available("matches the spec")
    } else {
        Verdict::failed(Reason::AwsUnavailable, "try again")
    };
    let at = k8s_openapi::jiff::Timestamp::from_second(1).unwrap();
    CommonStatus {
        observed_generation: Some(observed),
        region: Some(region.into()),
        conditions: conditions(&[], &verdict, Some(observed), at),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::super::shell_tests::{Widget, WidgetSpec, WidgetStatus};
    use super::*;
    use crate::reason::Reason;

    fn widget(name: &str, uid: &str, namespace: &str) -> Arc<Widget> {
        let mut w = Widget::new(name, WidgetSpec::default());
        w.metadata.namespace = Some(namespace.into());
        w.metadata.uid = Some(uid.into());
        Arc::new(w)
    }

    /// A widget at generation `generation`, its status placed in `region`.
    fn placed(region: &str, ready: bool, generation: i64, observed: i64) -> Widget {
        let mut w = Widget::new("gear", WidgetSpec::default());
        w.metadata.generation = Some(generation);
        w.status = Some(WidgetStatus {
            common: placed_status(region, ready, observed),
        });
        w
    }

    const TO_GEAR: Reference<'static> = Reference {
        namespace: "shop",
        name: "gear",
        once_ready: "its teeth are cut once it exists",
    };

    fn refused(_what: &str, _where: Option<&str>) -> String {
        "refused".into()
    }

    #[test]
    fn a_missing_unready_or_stale_object_is_waited_for_and_named() {
        let e = TO_GEAR
            .find::<Widget>("us-east-1", None, |_, _| "refused".into())
            .err()
            .unwrap();
        assert_eq!(e.reason, Reason::DependencyNotReady);
        assert!(e.message.contains("Widget shop/gear"), "{}", e.message);
        // Not Ready; Ready for an older spec; not placed at all yet.
        let mut unplaced = placed("us-east-1", true, 1, 1);
        unplaced.status = None;
        for w in [
            placed("us-east-1", false, 1, 1),
            placed("us-east-1", true, 2, 1),
            unplaced,
        ] {
            let found = TO_GEAR.find("us-east-1", Some(&w), |_, _| "refused".into());
            let e = found
                .unwrap()
                .in_account(None, refused)
                .unwrap()
                .ready()
                .err()
                .unwrap();
            assert_eq!(e.reason, Reason::DependencyNotReady, "{}", e.message);
            assert!(e.message.contains("its teeth are cut"), "{}", e.message);
        }
    }

    #[test]
    fn a_ready_object_in_reach_is_resolved() {
        let w = placed("us-east-1", true, 3, 3);
        let found = TO_GEAR.find("us-east-1", Some(&w), |_, _| "refused".into());
        let (object, status) = found.unwrap().ready().unwrap();
        assert_eq!(object.metadata.name.as_deref(), Some("gear"));
        assert_eq!(status.region.as_deref(), Some("us-east-1"));
    }

    #[test]
    fn an_object_in_another_region_is_refused_even_before_it_is_ready() {
        let w = placed("eu-west-1", false, 1, 1);
        let e = TO_GEAR
            .find("us-east-1", Some(&w), |what, region| {
                format!("{what} in {region}")
            })
            .err()
            .unwrap();
        assert!(e.is_terminal());
        assert_eq!(e.message, "Widget shop/gear in eu-west-1");
    }

    #[test]
    fn an_object_in_another_account_is_refused_where_the_reference_stays_in_its_account() {
        let mut w = placed("us-east-1", false, 1, 1);
        w.status.as_mut().unwrap().common.account = Some("team-a".into());
        let find = || {
            TO_GEAR
                .find("us-east-1", Some(&w), |_, _| "refused".into())
                .unwrap()
        };
        let e = find()
            .in_account(None, |what, account| format!("{what} in {account:?}"))
            .err()
            .unwrap();
        assert!(e.is_terminal());
        assert_eq!(e.message, r#"Widget shop/gear in Some("team-a")"#);
        // From the same account it is only waited for; without the account step, too.
        let e = find()
            .in_account(Some("team-a"), refused)
            .unwrap()
            .ready()
            .err()
            .unwrap();
        assert_eq!(e.reason, Reason::DependencyNotReady);
        assert_eq!(
            find().ready().err().unwrap().reason,
            Reason::DependencyNotReady
        );
    }

    #[test]
    fn referrers_are_those_of_the_namespace_that_refer_by_name_and_are_not_released() {
        let objects = vec![
            widget("b", "u-b", "shop"),
            widget("a", "u-a", "shop"),
            widget("skip", "u-s", "shop"),
            widget("c", "u-c", "other"),
        ];
        let released = Released::default();
        let referring = |released: &Released| {
            let refs = referrers(&objects, released, "shop", |w| {
                w.metadata.name.as_deref() != Some("skip")
            });
            names(&refs)
        };
        assert_eq!(referring(&released), ["shop/a", "shop/b"]);
        // `a` finished its cleanup; the cache still holds it until the watch catches up.
        released.record("u-a");
        assert_eq!(referring(&released), ["shop/b"]);
    }
}
