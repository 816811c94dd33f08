//! The Events every kind publishes the same way, as pure functions of what happened.

use super::Notice;
use crate::tags::TagDiff;
use crate::vocabulary::EventReason;

/// What the Events of one reconcile are about.
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    /// The AWS object in words (`alarm "cpu"`).
    pub what: &'a str,
    /// Its region.
    pub region: &'a str,
    /// An earlier reconcile confirmed this object manages the AWS object.
    pub confirmed: bool,
    /// The spec changed since the status was last written.
    pub spec_changed: bool,
}

impl Subject<'_> {
    /// A difference found now was made outside the operator: the object was in sync and its
    /// spec did not change since.
    pub fn drift(&self) -> bool {
        self.confirmed && !self.spec_changed
    }

    /// A create by `action`: `Recreated` (a Warning) when this object already managed the AWS
    /// object, which means it was deleted outside the operator; `Created` otherwise.
    pub fn created(&self, action: &'static str) -> Notice {
        if self.confirmed {
            Notice::new(
                EventReason::Recreated,
                action,
                format!(
                    "{} was deleted outside the operator and has been created again",
                    self.what
                ),
            )
        } else {
            Notice::new(
                EventReason::Created,
                action,
                format!("created {} in {}", self.what, self.region),
            )
        }
    }

    /// A configuration write by `action` that changed `fields`.
    pub fn changed(&self, action: &'static str, fields: &[String]) -> Notice {
        changed(self.drift(), action, fields)
    }

    /// Tag changes, when they put back changes made outside the operator (a tag change the spec
    /// asked for is part of its `Updated` story).
    pub fn tags_changed(&self, action: &'static str, diff: &TagDiff) -> Option<Notice> {
        let fields = diff.drift_fields();
        (self.drift() && !fields.is_empty()).then(|| changed(true, action, &fields))
    }
}

/// A write that changed `fields`: drift put back (a Warning), or an update the spec asked for.
fn changed(drift: bool, action: &'static str, fields: &[String]) -> Notice {
    if drift {
        Notice::new(
            EventReason::DriftCorrected,
            action,
            format!(
                "put back {} changed outside the operator",
                fields.join(", ")
            ),
        )
    } else {
        Notice::new(
            EventReason::Updated,
            action,
            format!("updated {}", fields.join(", ")),
        )
    }
}

/// An existing AWS object taken over (the note comes from the ownership gate).
pub fn adopted(note: String) -> Notice {
    Notice::new(EventReason::Adopted, "TagResource", note)
}

/// The Ready message under ObserveOnly.
pub fn observed_message(what: &str, differences: &[String]) -> String {
    if differences.is_empty() {
        format!("observed {what}; it matches the spec")
    } else {
        format!(
            "observed {what}; it differs from the spec in: {}",
            differences.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(confirmed: bool, spec_changed: bool) -> Subject<'static> {
        Subject {
            what: "alarm \"cpu\"",
            region: "eu-west-1",
            confirmed,
            spec_changed,
        }
    }

    #[test]
    fn a_write_without_a_spec_change_is_reported_as_drift() {
        let fields = vec!["fixedRate".to_string()];
        let drift = subject(true, false).changed("UpdateSamplingRule", &fields);
        assert!(drift.is_warning());
        assert_eq!(drift.reason, EventReason::DriftCorrected);
        let update = subject(true, true).changed("UpdateSamplingRule", &fields);
        assert!(!update.is_warning());
        assert_eq!(update.note, "updated fixedRate");
        let first = subject(false, false).changed("UpdateSamplingRule", &fields);
        assert_eq!(first.reason, EventReason::Updated);
    }

    #[test]
    fn a_create_of_an_object_already_managed_is_a_recreation_warning() {
        let first = subject(false, true).created("PutMetricAlarm");
        assert_eq!(first.reason, EventReason::Created);
        assert_eq!(first.note, "created alarm \"cpu\" in eu-west-1");
        let again = subject(true, false).created("PutMetricAlarm");
        assert_eq!(again.reason, EventReason::Recreated);
        assert!(again.is_warning());
    }

    #[test]
    fn only_tag_changes_made_outside_the_operator_are_told() {
        let diff = TagDiff {
            set: [("team".to_string(), "a".to_string())].into(),
            remove: vec!["old".into()],
            owner_form_upgrade: false,
        };
        let told = subject(true, false)
            .tags_changed("TagResource", &diff)
            .unwrap();
        assert_eq!(
            told.note,
            "put back tag team, tag old changed outside the operator"
        );
        assert_eq!(subject(true, true).tags_changed("TagResource", &diff), None);
        assert_eq!(
            subject(true, false).tags_changed("TagResource", &TagDiff::default()),
            None
        );
    }

    #[test]
    fn observed_messages_list_the_differences() {
        assert_eq!(
            observed_message("x", &[]),
            "observed x; it matches the spec"
        );
        assert_eq!(
            observed_message("x", &["a".into(), "b".into()]),
            "observed x; it differs from the spec in: a, b"
        );
    }
}
