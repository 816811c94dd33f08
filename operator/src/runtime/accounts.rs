//! Which AWS account an object lives in, and whether its namespace may use it.
//!
//! The account is resolved like the region, once: `spec.accountRef`, else the namespace's
//! `cwo.dev/account` annotation, else none — the operator's own credentials. It is recorded in
//! `status.account` together with the region and never changes silently after: a later
//! annotation does not move an object, and a `spec.accountRef` that contradicts the record is a
//! spec error (the schema also refuses changing or removing it once set).
//!
//! Whether a namespace may use an account is the cluster admin's decision, written in the
//! account's `AWSAccount`. The runtime asks it through the [`AccountGate`] the app installs,
//! before anything is called in AWS — for a reconcile, a cleanup and a drift-resync read alike.
//! An object refused there ends in `AccountNotAllowed`, a terminal reason: a change to the
//! AWSAccount or to the namespace's labels wakes the objects concerned ([`AccountUsers`]).
//!
//! [`AccountUsers`] also answers which objects use an account, so an AWSAccount in use is not
//! released: its finalizer stays until the last object that lives in it is gone.

use super::ManagedKind;
use super::context::Context;
use super::reconcile::{object_key, resolve_location};
use super::watch::Synced;
use crate::aws::accounts::Role;
use crate::common_fields::CommonStatus;
use crate::error::Error;
use kube::ResourceExt;
use kube::runtime::reflector::{ObjectRef, Store};
use std::collections::BTreeMap;
use std::sync::{OnceLock, RwLock};
use tokio::sync::mpsc;

/// What the runtime asks of the accounts a cluster admin declares (`AWSAccount` objects).
pub trait AccountGate: Send + Sync {
    /// Whether objects in `namespace` (whose labels are `labels`) may live in the account
    /// `account` in `region`, and if so the role to assume there. `recorded`: the object already
    /// lives in that account (a new object may not start using an account that is going away).
    /// The refusal is an error with the reason to report (`AccountNotAllowed`, or
    /// `DependencyNotReady` while the account does not exist).
    fn admit(
        &self,
        account: &str,
        namespace: &str,
        labels: &BTreeMap<String, String>,
        region: &str,
        recorded: bool,
    ) -> Result<Role, Error>;
}

/// The account an object's status records: `Some(None)` for the operator's own account,
/// `Some(Some(name))` for an AWSAccount, `None` while nothing is recorded. The account is
/// recorded with the region, so a status with a region has its account recorded (an object
/// placed before accounts existed lives in the operator's own account).
pub fn recorded(status: Option<&CommonStatus>) -> Option<Option<&str>> {
    status
        .filter(|s| s.region.is_some())
        .map(|s| s.account.as_deref())
}

/// The account an object lives in (`None`: the operator's own), from its spec, its recorded
/// account and its namespace's default (see the module's doc).
pub fn resolve(
    spec_account: Option<&str>,
    recorded: Option<Option<&str>>,
    namespace_account: Option<&str>,
) -> Result<Option<String>, Error> {
    match (recorded, spec_account) {
        (Some(lives), Some(wanted)) if lives != Some(wanted) => {
            let lives = match lives {
                Some(account) => format!("AWSAccount {account}"),
                None => "the operator's own account".to_string(),
            };
            Err(Error::invalid_spec(format!(
                "spec.accountRef is {wanted} but this object's AWS resource lives in {lives}; \
                 the account cannot change. Remove spec.accountRef or set it back, or create a \
                 new object for {wanted}"
            )))
        }
        (Some(lives), _) => Ok(lives.map(str::to_string)),
        (None, Some(wanted)) => Ok(Some(wanted.to_string())),
        (None, None) => Ok(namespace_account
            .filter(|a| !a.is_empty())
            .map(str::to_string)),
    }
}

/// The account `obj` lives in or asks for, ignoring a contradiction between its spec and its
/// record (the record wins: that is where its AWS object is).
pub fn account_in_use<K: ManagedKind>(obj: &K, ctx: &Context) -> Option<String> {
    let status = obj.status().map(K::common_status);
    match recorded(status) {
        Some(lives) => lives.map(str::to_string),
        None => resolve(
            obj.common_spec().account_ref.as_deref(),
            None,
            obj.namespace()
                .and_then(|ns| ctx.namespace_account(&ns))
                .as_deref(),
        )
        .ok()
        .flatten(),
    }
}

/// The objects of one kind, as [`AccountUsers`] sees them.
trait KindUsers: Send + Sync {
    /// The kind's cache has its first full list.
    fn synced(&self) -> Synced;
    /// Keys (`Kind namespace/name`) of objects that live in `account`, or are about to (not
    /// recorded yet, and admitted).
    fn users(&self, ctx: &Context, account: &str) -> Vec<String>;
    /// Queues a reconcile of every object for which `pick(namespace, account in use)` holds.
    fn wake(&self, ctx: &Context, pick: &dyn Fn(&str, Option<&str>) -> bool);
}

struct Kind<K: ManagedKind> {
    store: Store<K>,
    synced: Synced,
    queue: mpsc::Sender<ObjectRef<K>>,
}

impl<K: ManagedKind> KindUsers for Kind<K> {
    fn synced(&self) -> Synced {
        self.synced.clone()
    }

    fn users(&self, ctx: &Context, account: &str) -> Vec<String> {
        self.store
            .state()
            .iter()
            .filter(|o| {
                let status = o.status().map(K::common_status);
                match recorded(status) {
                    Some(lives) => lives == Some(account),
                    // Not placed yet: a user only if it would be let in. An object its
                    // namespace may not place there cannot hold the account.
                    None => resolve_location(&***o, ctx)
                        .is_ok_and(|(location, _)| location.account() == Some(account)),
                }
            })
            .map(|o| format!("{} {}", K::KIND, object_key(&**o)))
            .collect()
    }

    fn wake(&self, ctx: &Context, pick: &dyn Fn(&str, Option<&str>) -> bool) {
        let picked: Vec<ObjectRef<K>> = self
            .store
            .state()
            .iter()
            .filter(|o| {
                let namespace = o.namespace().unwrap_or_default();
                pick(&namespace, account_in_use(&***o, ctx).as_deref())
            })
            .map(|o| ObjectRef::from_obj(&**o))
            .collect();
        if picked.is_empty() {
            return;
        }
        let queue = self.queue.clone();
        // The queue is bounded: wait for room rather than drop, off the caller's path.
        tokio::spawn(async move {
            for obj in picked {
                if queue.send(obj).await.is_err() {
                    return;
                }
            }
        });
    }
}

/// What to do when an object stops using an account.
type Released = Box<dyn Fn(&str) + Send + Sync>;

/// Which objects use which account, across every kind, and wake-ups when an account or a
/// namespace changes.
#[derive(Default)]
pub struct AccountUsers {
    kinds: RwLock<Vec<Box<dyn KindUsers>>>,
    released: OnceLock<Released>,
}

impl AccountUsers {
    /// Adds the objects of `store` (whose first full list raises `synced`), reconciled through
    /// `queue`. Every kind is registered before any controller starts, so no user is missed.
    pub fn register<K: ManagedKind>(
        &self,
        store: Store<K>,
        synced: Synced,
        queue: mpsc::Sender<ObjectRef<K>>,
    ) {
        self.kinds
            .write()
            .expect("account users lock")
            .push(Box::new(Kind {
                store,
                synced,
                queue,
            }));
    }

    /// Every object that lives in `account` or is about to, as `Kind namespace/name`, sorted,
    /// once every kind's cache holds its first full list (an empty cache proves nothing).
    pub async fn of(&self, ctx: &Context, account: &str) -> Vec<String> {
        let synced: Vec<Synced> = self
            .kinds
            .read()
            .expect("account users lock")
            .iter()
            .map(|k| k.synced())
            .collect();
        for s in synced {
            s.wait().await;
        }
        let kinds = self.kinds.read().expect("account users lock");
        let mut users: Vec<String> = kinds.iter().flat_map(|k| k.users(ctx, account)).collect();
        users.sort();
        users
    }

    /// Reconciles every object that lives in `account` or names it (the account changed: who may
    /// use it, its role, whether it works).
    pub fn wake_users(&self, ctx: &Context, account: &str) {
        for kind in self.kinds.read().expect("account users lock").iter() {
            kind.wake(ctx, &|_, used| used == Some(account));
        }
    }

    /// Reconciles every object of `namespace` that lives in or names an AWSAccount (the
    /// namespace's labels, which AWSAccounts select on, may have changed).
    pub fn wake_namespace(&self, ctx: &Context, namespace: &str) {
        for kind in self.kinds.read().expect("account users lock").iter() {
            kind.wake(ctx, &|ns, used| ns == namespace && used.is_some());
        }
    }

    /// Sets what to do when an object stops using an account (its cleanup finished): the
    /// accounts' controller queues that account, whose deletion may have waited for it.
    pub fn on_released(&self, released: impl Fn(&str) + Send + Sync + 'static) {
        let _ = self.released.set(Box::new(released));
    }

    /// An object that lived in `account` is gone.
    pub fn released(&self, account: &str) {
        if let Some(released) = self.released.get() {
            released(account);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reason::Reason;

    fn placed(account: Option<&str>) -> CommonStatus {
        CommonStatus {
            region: Some("us-east-1".into()),
            account: account.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn the_spec_then_the_namespace_then_the_operators_own_account() {
        assert_eq!(
            resolve(Some("a"), None, Some("b")).unwrap(),
            Some("a".into())
        );
        assert_eq!(resolve(None, None, Some("b")).unwrap(), Some("b".into()));
        assert_eq!(resolve(None, None, None).unwrap(), None);
        assert_eq!(
            resolve(None, None, Some("")).unwrap(),
            None,
            "an empty annotation"
        );
    }

    #[test]
    fn a_recorded_account_never_changes_silently() {
        // The namespace's default changed after the object was placed.
        let status = placed(Some("a"));
        assert_eq!(
            resolve(None, recorded(Some(&status)), Some("b")).unwrap(),
            Some("a".into())
        );
        // Placed in the operator's own account; a default set later does not move it.
        let own = placed(None);
        assert_eq!(
            resolve(None, recorded(Some(&own)), Some("b")).unwrap(),
            None
        );
    }

    #[test]
    fn an_account_ref_that_contradicts_the_record_is_a_spec_error() {
        let status = placed(Some("a"));
        let err = resolve(Some("b"), recorded(Some(&status)), None).unwrap_err();
        assert_eq!(err.reason, Reason::InvalidSpec);
        assert!(err.message.contains("AWSAccount a"), "{}", err.message);
        // Naming an account for an object placed in the operator's own account.
        let own = placed(None);
        let err = resolve(Some("b"), recorded(Some(&own)), None).unwrap_err();
        assert!(
            err.message.contains("operator's own account"),
            "{}",
            err.message
        );
        // Naming the account it lives in is fine.
        assert_eq!(
            resolve(Some("a"), recorded(Some(&status)), None).unwrap(),
            Some("a".into())
        );
    }

    #[test]
    fn nothing_is_recorded_before_the_region_is() {
        assert_eq!(recorded(None), None);
        let unplaced = CommonStatus {
            account: Some("a".into()),
            ..Default::default()
        };
        assert_eq!(recorded(Some(&unplaced)), None);
        assert_eq!(recorded(Some(&placed(None))), Some(None));
        assert_eq!(recorded(Some(&placed(Some("a")))), Some(Some("a")));
    }
}
