//! Which objects this process has seen confirm that they own their AWS object.
//!
//! A status that reports the AWS object Ready as managed proves ownership to every later
//! reconcile (`scope::ownership_confirmed`). A deletion can overwrite that status with a failure
//! — an alarm waits while a composite alarm still names it — and the cleanup that finally runs
//! would then read the tags again to prove what was already known. So the proof is also kept
//! here, for as long as the process runs: one hash per object of its kind, UID and AWS name (a
//! new object under the same name, or a new AWS name, is not confirmed by an old entry).

use kube::{Resource, ResourceExt};
use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;

/// Objects confirmed as owners of their AWS object.
#[derive(Debug, Default)]
pub struct Confirmed(Mutex<HashSet<u64>>);

fn entry<K: Resource<DynamicType = ()>>(obj: &K, aws_name: &str) -> u64 {
    let mut h = DefaultHasher::new();
    (K::kind(&()), obj.uid().unwrap_or_default(), aws_name).hash(&mut h);
    h.finish()
}

impl Confirmed {
    /// `obj` was just reported Ready as the manager of the AWS object `aws_name`.
    pub fn record<K: Resource<DynamicType = ()>>(&self, obj: &K, aws_name: &str) {
        self.0
            .lock()
            .expect("confirmed lock")
            .insert(entry(obj, aws_name));
    }

    /// Whether `obj` was reported Ready as the manager of `aws_name` by this process.
    pub fn holds<K: Resource<DynamicType = ()>>(&self, obj: &K, aws_name: &str) -> bool {
        self.0
            .lock()
            .expect("confirmed lock")
            .contains(&entry(obj, aws_name))
    }

    /// `obj` is gone.
    pub fn forget<K: super::ManagedKind>(&self, obj: &K) {
        self.0
            .lock()
            .expect("confirmed lock")
            .remove(&entry(obj, &obj.aws_name()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ConfigMap;

    fn object(uid: &str) -> ConfigMap {
        let mut o = ConfigMap::default();
        o.metadata.uid = Some(uid.into());
        o
    }

    #[test]
    fn a_confirmation_holds_for_the_same_object_and_name_only() {
        let c = Confirmed::default();
        c.record(&object("u1"), "cpu");
        assert!(c.holds(&object("u1"), "cpu"));
        assert!(!c.holds(&object("u1"), "mem"), "another AWS name");
        assert!(
            !c.holds(&object("u2"), "cpu"),
            "a new object under the same name"
        );
    }
}
