//! Condition bookkeeping shared by every kind: `Ready` and `Synced` in the standard
//! `metav1.Condition` shape, in a fixed order, with `lastTransitionTime` moving only when a
//! condition's status moves. Same inputs, same bytes: a reconcile with nothing new writes nothing.
//!
//! GitOps tools (Flux, Helm's `--wait`, `kubectl wait`-style checks built on kstatus) do not read
//! `Ready`: kstatus reads the "abnormal-true" conditions `Reconciling` and `Stalled`, and treats an
//! object carrying neither as done. So every verdict that is not Ready also says which one holds:
//! `Reconciling=True` while the operator is still working on it (retried reasons), `Stalled=True`
//! when it waits for the spec to change (terminal reasons). Each is absent when it does not hold.

use crate::reason::{ConditionReason, Reason};
use crate::vocabulary::condition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;

/// What a reconcile concluded about one object, before it is written as conditions. Built only
/// through its constructors, so `ready`, `synced` and the reason always agree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// `Ready`: the AWS object exists and matches (or was observed).
    pub ready: bool,
    /// `Synced`: the last reconcile ran to completion against AWS.
    pub synced: bool,
    /// The reason the conditions carry.
    pub reason: ConditionReason,
    /// A message for people; for errors, AWS's own message.
    pub message: String,
}

impl Verdict {
    /// The AWS object exists and matches the spec.
    pub fn available(message: impl Into<String>) -> Self {
        Verdict {
            ready: true,
            synced: true,
            reason: ConditionReason::Available,
            message: message.into(),
        }
    }

    /// ObserveOnly: the AWS object was read.
    pub fn observed(message: impl Into<String>) -> Self {
        Verdict {
            ready: true,
            synced: true,
            reason: ConditionReason::Observed,
            message: message.into(),
        }
    }

    /// The reconcile completed but the object is not ready yet (an observed object missing).
    pub fn waiting(reason: Reason, message: impl Into<String>) -> Self {
        Verdict {
            ready: false,
            synced: true,
            reason: reason.into(),
            message: message.into(),
        }
    }

    /// The reconcile failed.
    pub fn failed(reason: Reason, message: impl Into<String>) -> Self {
        Verdict {
            ready: false,
            synced: false,
            reason: reason.into(),
            message: message.into(),
        }
    }

    /// What kstatus should conclude from this verdict.
    pub fn progress(&self) -> Progress {
        if self.ready {
            Progress::Done
        } else if self.reason.is_terminal() {
            Progress::Stalled
        } else {
            Progress::Reconciling
        }
    }
}

/// Kubernetes limits a condition message to 32 KiB; AWS messages are far shorter, but a message is
/// never allowed to make the status write fail.
const MAX_MESSAGE_BYTES: usize = 32 * 1024;

/// Where an object stands for kstatus-based tools: the `Reconciling` / `Stalled` pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Ready: neither condition.
    Done,
    /// Not Ready, retried: `Reconciling=True` (kstatus: InProgress).
    Reconciling,
    /// Not Ready until the spec changes: `Stalled=True` (kstatus: Failed).
    Stalled,
}

/// The conditions to write: `Ready`, `Synced`, then `Reconciling` or `Stalled` when one holds,
/// keeping each existing condition's `lastTransitionTime` when its status did not change.
/// Conditions of other types that someone else set are kept, after ours, in their existing order.
pub fn conditions(
    existing: &[Condition],
    verdict: &Verdict,
    generation: Option<i64>,
    now: Timestamp,
) -> Vec<Condition> {
    let mut out = vec![
        one(
            existing,
            condition::READY,
            verdict.ready,
            verdict,
            generation,
            now,
        ),
        one(
            existing,
            condition::SYNCED,
            verdict.synced,
            verdict,
            generation,
            now,
        ),
    ];
    let abnormal = match verdict.progress() {
        Progress::Done => None,
        Progress::Reconciling => Some(condition::RECONCILING),
        Progress::Stalled => Some(condition::STALLED),
    };
    if let Some(type_) = abnormal {
        // kstatus hands on only this message (`helm install --wait` and Flux print it), so it
        // names the reason as well.
        let named = Verdict {
            message: format!("{}: {}", verdict.reason, verdict.message),
            ..verdict.clone()
        };
        out.push(one(existing, type_, true, &named, generation, now));
    }
    out.extend(
        existing
            .iter()
            .filter(|c| !condition::OURS.contains(&c.type_.as_str()))
            .cloned(),
    );
    out
}

fn one(
    existing: &[Condition],
    type_: &str,
    status: bool,
    verdict: &Verdict,
    generation: Option<i64>,
    now: Timestamp,
) -> Condition {
    let status = if status { "True" } else { "False" };
    let last_transition_time = existing
        .iter()
        .find(|c| c.type_ == type_ && c.status == status)
        .map(|c| c.last_transition_time.clone())
        .unwrap_or_else(|| Time(truncate_to_seconds(now)));
    Condition {
        type_: type_.to_string(),
        status: status.to_string(),
        reason: verdict.reason.as_str().to_string(),
        message: truncate(&verdict.message),
        observed_generation: generation,
        last_transition_time,
    }
}

/// The API server stores `metav1.Time` with second precision; comparing a sub-second local time
/// with what comes back would look like a change on every reconcile.
fn truncate_to_seconds(t: Timestamp) -> Timestamp {
    Timestamp::from_second(t.as_second()).unwrap_or(t)
}

fn truncate(message: &str) -> String {
    if message.len() <= MAX_MESSAGE_BYTES {
        return message.to_string();
    }
    let mut end = MAX_MESSAGE_BYTES;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    message[..end].to_string()
}

/// The status of condition `type_`, if present.
pub fn status_of<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(second).unwrap()
    }

    #[test]
    fn unchanged_status_keeps_last_transition_time() {
        let v = Verdict::available("ok");
        let first = conditions(&[], &v, Some(1), at(100));
        let second = conditions(&first, &v, Some(1), at(200));
        assert_eq!(first, second);
        assert_eq!(second[0].last_transition_time, Time(at(100)));
    }

    #[test]
    fn status_change_moves_last_transition_time_only_for_that_condition() {
        let first = conditions(
            &[],
            &Verdict::waiting(Reason::DependencyNotReady, "x"),
            Some(1),
            at(100),
        );
        let second = conditions(&first, &Verdict::available("y"), Some(2), at(200));
        let ready = status_of(&second, condition::READY).unwrap();
        let synced = status_of(&second, condition::SYNCED).unwrap();
        assert_eq!(ready.last_transition_time, Time(at(200)));
        assert_eq!(
            synced.last_transition_time,
            Time(at(100)),
            "Synced stayed True"
        );
        assert_eq!(ready.observed_generation, Some(2));
    }

    #[test]
    fn reason_and_message_change_without_moving_transition_time() {
        let first = conditions(
            &[],
            &Verdict::failed(Reason::Throttled, "a"),
            Some(1),
            at(100),
        );
        let second = conditions(
            &first,
            &Verdict::failed(Reason::AwsUnavailable, "b"),
            Some(1),
            at(200),
        );
        assert_eq!(second[0].reason, "AwsUnavailable");
        assert_eq!(second[0].message, "b");
        assert_eq!(second[0].last_transition_time, Time(at(100)));
    }

    #[test]
    fn foreign_conditions_are_kept_after_ours() {
        let foreign = Condition {
            type_: "Example".into(),
            status: "True".into(),
            reason: "Other".into(),
            message: String::new(),
            observed_generation: None,
            last_transition_time: Time(at(1)),
        };
        let out = conditions(
            std::slice::from_ref(&foreign),
            &Verdict::available(""),
            None,
            at(5),
        );
        assert_eq!(
            out.iter().map(|c| c.type_.as_str()).collect::<Vec<_>>(),
            ["Ready", "Synced", "Example"]
        );
        assert_eq!(out[2], foreign);
    }

    fn types(conditions: &[Condition]) -> Vec<(&str, &str)> {
        conditions
            .iter()
            .map(|c| (c.type_.as_str(), c.status.as_str()))
            .collect()
    }

    #[test]
    fn ready_carries_neither_reconciling_nor_stalled() {
        let out = conditions(&[], &Verdict::available(""), Some(1), at(1));
        assert_eq!(types(&out), [("Ready", "True"), ("Synced", "True")]);
    }

    #[test]
    fn every_retried_reason_is_reconciling_and_every_terminal_reason_is_stalled() {
        for reason in Reason::ALL {
            for verdict in [Verdict::waiting(reason, "m"), Verdict::failed(reason, "m")] {
                let out = conditions(&[], &verdict, Some(3), at(1));
                let extra = &out[2];
                let want = if reason.is_terminal() {
                    condition::STALLED
                } else {
                    condition::RECONCILING
                };
                assert_eq!(out.len(), 3, "{reason}");
                assert_eq!(extra.type_, want, "{reason}");
                assert_eq!(extra.status, "True");
                assert_eq!(extra.reason, reason.as_str());
                assert_eq!(extra.message, format!("{reason}: m"));
                assert_eq!(extra.observed_generation, Some(3));
            }
        }
    }

    #[test]
    fn reconciling_and_stalled_are_removed_when_they_no_longer_hold() {
        let retrying = conditions(
            &[],
            &Verdict::failed(Reason::Throttled, "slow down"),
            Some(1),
            at(1),
        );
        let stalled = conditions(
            &retrying,
            &Verdict::failed(Reason::InvalidSpec, "bad"),
            Some(2),
            at(2),
        );
        assert_eq!(
            types(&stalled),
            [("Ready", "False"), ("Synced", "False"), ("Stalled", "True")]
        );
        let ready = conditions(&stalled, &Verdict::available(""), Some(3), at(3));
        assert_eq!(types(&ready), [("Ready", "True"), ("Synced", "True")]);
    }

    #[test]
    fn reconciling_keeps_its_transition_time_while_the_reason_changes() {
        let first = conditions(
            &[],
            &Verdict::failed(Reason::Throttled, "a"),
            Some(1),
            at(10),
        );
        let second = conditions(
            &first,
            &Verdict::waiting(Reason::DependencyNotReady, "b"),
            Some(1),
            at(20),
        );
        let reconciling = status_of(&second, condition::RECONCILING).unwrap();
        assert_eq!(reconciling.last_transition_time, Time(at(10)));
        assert_eq!(reconciling.reason, "DependencyNotReady");
    }

    #[test]
    fn transition_time_has_whole_seconds() {
        let now = Timestamp::from_nanosecond(1_500_000_000_123).unwrap();
        let out = conditions(&[], &Verdict::available(""), None, now);
        assert_eq!(out[0].last_transition_time, Time(at(1500)));
    }

    /// The status schema carries metav1.Condition's validation: every condition the operator
    /// writes, for every reason and with the longest message, must pass it, or the status write
    /// would be refused.
    #[test]
    fn every_condition_the_operator_writes_passes_the_status_schema() {
        use crate::common_fields::{CONDITION_REASON_PATTERN, CONDITION_TYPE_PATTERN};
        let reason_pattern = regex::Regex::new(CONDITION_REASON_PATTERN).unwrap();
        let type_pattern = regex::Regex::new(CONDITION_TYPE_PATTERN).unwrap();
        let long = "é".repeat(MAX_MESSAGE_BYTES);
        let verdicts = Reason::ALL
            .into_iter()
            .flat_map(|r| [Verdict::waiting(r, ""), Verdict::failed(r, long.clone())])
            .chain([Verdict::available(""), Verdict::observed(long.clone())]);
        for verdict in verdicts {
            for c in conditions(&[], &verdict, Some(0), at(1)) {
                assert!(reason_pattern.is_match(&c.reason), "{}", c.reason);
                assert!((1..=1024).contains(&c.reason.len()), "{}", c.reason);
                assert!(type_pattern.is_match(&c.type_), "{}", c.type_);
                assert!(c.type_.len() <= 316);
                assert!(["True", "False", "Unknown"].contains(&c.status.as_str()));
                assert!(c.message.chars().count() <= 32768);
                assert!(c.observed_generation.is_none_or(|g| g >= 0));
            }
        }
    }

    #[test]
    fn long_messages_are_truncated_on_a_char_boundary() {
        let long = "é".repeat(MAX_MESSAGE_BYTES);
        let out = conditions(
            &[],
            &Verdict::failed(Reason::InvalidSpec, long),
            None,
            at(1),
        );
        assert!(out[0].message.len() <= MAX_MESSAGE_BYTES);
    }
}
