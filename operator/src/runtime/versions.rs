//! The newest version of each object this process knows: the `resourceVersion` its last status
//! write returned (or its last fresh read).
//!
//! A reconcile gets its object from the watch cache, which trails the API server. Right after a
//! reconcile writes status, the next reconcile of the same object (a deletion or an edit that
//! arrived meanwhile) can start from a copy without that write. For a kind whose proof of
//! ownership lives in status — an AWS object without tags, whose intent record is written before
//! the create call — that copy says the object owns nothing: cleanup would release the finalizer
//! and leave the AWS object behind, and a failure report would write the old status back over the
//! record. So the shell compares the copy's `resourceVersion` with the one noted here and, when
//! they differ, reads the object from the API server first.
//!
//! Only this process's own writes can be missing from a copy: the watch of a process that starts
//! lists everything written before it started, so an object this process never wrote needs no
//! note. A copy newer than the note (someone else wrote since) also differs, and costs one read.

use std::collections::HashMap;
use std::sync::Mutex;

/// `resourceVersion` by object UID.
#[derive(Debug, Default)]
pub struct KnownVersions(Mutex<HashMap<String, String>>);

impl KnownVersions {
    /// Whether a copy of object `uid` at `version` holds everything this process wrote to it.
    pub fn is_current(&self, uid: &str, version: Option<&str>) -> bool {
        match self.0.lock().expect("versions lock").get(uid) {
            None => true,
            Some(known) => Some(known.as_str()) == version,
        }
    }

    /// Notes that the object `uid` is at `version` (from a write's answer or a fresh read). A
    /// version that is missing is noted as one no copy has, so the next reconcile reads again.
    pub fn saw(&self, uid: &str, version: Option<&str>) {
        self.0
            .lock()
            .expect("versions lock")
            .insert(uid.to_string(), version.unwrap_or_default().to_string());
    }

    /// The object is about to go: nothing to remember.
    pub fn forget(&self, uid: &str) {
        self.0.lock().expect("versions lock").remove(uid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_this_process_never_wrote_is_current() {
        let v = KnownVersions::default();
        assert!(v.is_current("u", Some("5")));
        assert!(v.is_current("u", None));
    }

    #[test]
    fn only_the_version_last_written_is_current() {
        let v = KnownVersions::default();
        v.saw("u", Some("8"));
        assert!(
            !v.is_current("u", Some("7")),
            "a copy from before the write"
        );
        assert!(v.is_current("u", Some("8")));
        assert!(
            !v.is_current("u", Some("9")),
            "someone wrote since: read it"
        );
        assert!(v.is_current("other", Some("7")), "per object");
        v.forget("u");
        assert!(v.is_current("u", Some("7")));
    }

    #[test]
    fn a_write_answered_without_a_version_makes_every_copy_suspect() {
        let v = KnownVersions::default();
        v.saw("u", None);
        assert!(!v.is_current("u", Some("8")));
        assert!(!v.is_current("u", None));
    }
}
