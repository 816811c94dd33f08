//! Small lifecycle decisions every kind shares: whether an earlier reconcile already established
//! ownership of the AWS object, the Event for a configuration write, and the Ready message under
//! ObserveOnly.

use super::Notice;
use crate::common_fields::CommonStatus;
use crate::conditions::status_of;
use crate::reason::Reason;
use crate::vocabulary::condition;

/// Whether an earlier reconcile already established that this object manages the AWS object
/// `aws_name`: it reported it Ready as managed (not merely observed).
pub fn ownership_confirmed(status: Option<&CommonStatus>, aws_name: &str) -> bool {
    status.is_some_and(|s| {
        s.aws_name.as_deref() == Some(aws_name)
            && status_of(&s.conditions, condition::READY)
                .is_some_and(|c| c.status == "True" && c.reason == Reason::Available.as_str())
    })
}

/// The Event for a write that changed `fields`: drift put back when the spec did not change and
/// the object was already in sync, otherwise an update.
pub fn change_notice(drift: bool, action: &'static str, fields: &[String]) -> Notice {
    if drift {
        Notice::warning(
            "DriftCorrected",
            action,
            format!(
                "put back {} changed outside the operator",
                fields.join(", ")
            ),
        )
    } else {
        Notice::normal("Updated", action, format!("updated {}", fields.join(", ")))
    }
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
    use crate::conditions::{Verdict, conditions};
    use k8s_openapi::jiff::Timestamp;

    fn status(name: &str, verdict: Verdict) -> CommonStatus {
        CommonStatus {
            aws_name: Some(name.into()),
            conditions: conditions(&[], &verdict, Some(1), Timestamp::from_second(1).unwrap()),
            ..Default::default()
        }
    }

    #[test]
    fn only_a_managed_ready_status_for_the_same_name_confirms_ownership() {
        let ready = status("a", Verdict::ready(Reason::Available, ""));
        assert!(ownership_confirmed(Some(&ready), "a"));
        assert!(!ownership_confirmed(Some(&ready), "b"));
        let observed = status("a", Verdict::ready(Reason::Observed, ""));
        assert!(!ownership_confirmed(Some(&observed), "a"));
        assert!(!ownership_confirmed(None, "a"));
    }

    #[test]
    fn a_write_without_a_spec_change_is_reported_as_drift() {
        let fields = vec!["fixedRate".to_string()];
        let drift = change_notice(true, "UpdateSamplingRule", &fields);
        assert!(drift.warning);
        assert_eq!(drift.reason, "DriftCorrected");
        let update = change_notice(false, "UpdateSamplingRule", &fields);
        assert!(!update.warning);
        assert_eq!(update.note, "updated fixedRate");
    }
}
