//! Validation of a rule against AWS's limits, listing every problem at once.

use super::parse::shorten;
use super::*;

/// A rule AWS would reject, or that cannot be written in AWS's rule syntax; every problem found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid composite alarm rule: {}", join_problems(.problems))]
pub struct InvalidRule {
    /// Every problem, in the order found (tree problems first, then limits).
    pub problems: Vec<RuleProblem>,
}

fn join_problems(problems: &[RuleProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// One reason a rule is invalid. `at` is the node's path in the structured form (`allOf[1].not`),
/// empty for the top level.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuleProblem {
    #[error("the {operator} group at {} has no operands; give it at least one", path(.at))]
    EmptyGroup { operator: &'static str, at: String },
    #[error("the AT_LEAST (atLeast) at {} lists no alarms; list at least one", path(.at))]
    EmptyAtLeast { at: String },
    #[error(
        "the AT_LEAST (atLeast) count at {} is {count}; it must be from 1 to the number of \
         alarms listed ({alarms})",
        path(.at)
    )]
    AtLeastCountOutOfRange {
        at: String,
        count: i64,
        alarms: usize,
    },
    #[error(
        "the AT_LEAST (atLeast) percentage at {} is {percent}%; it must be from 1% to 100%",
        path(.at)
    )]
    AtLeastPercentOutOfRange { at: String, percent: i64 },
    #[error(
        "the AT_LEAST (atLeast) at {} lists {} more than once; list each alarm once, so that \
         the threshold counts what it says",
        path(.at),
        .alarm
    )]
    AtLeastRepeatsAlarm { at: String, alarm: ChildRef },
    #[error("the alarm reference at {} is empty; give an alarm name or ARN", path(.at))]
    EmptyAlarmName { at: String },
    #[error("the Alarm object reference at {} is empty; give the object's name", path(.at))]
    EmptyObjectName { at: String },
    #[error(
        "\"{}\" starts with \"arn:\" but is not a CloudWatch alarm ARN \
         (arn:PARTITION:cloudwatch:REGION:ACCOUNT:alarm:NAME)",
        shorten(.reference)
    )]
    NotAnAlarmArn { reference: String },
    #[error(
        "alarm name \"{}\" is {length} characters long; AWS alarm names are at most 255",
        shorten(.name)
    )]
    AlarmNameTooLong { name: String, length: usize },
    #[error(
        "alarm reference \"{}\" ends with a backslash, which AWS reads as escaping the \
         closing quote; such an alarm cannot be named in a rule",
        shorten(.reference)
    )]
    TrailingBackslash { reference: String },
    #[error(
        "the rule watches {count} distinct alarms; AWS allows at most 100 per composite alarm \
         (group them under intermediate composite alarms)"
    )]
    TooManyChildren { count: usize },
    #[error(
        "the rule has {count} elements (alarm functions, TRUE/FALSE and parenthesised groups); \
         AWS allows at most 500"
    )]
    TooManyElements { count: usize },
    #[error("the rule is {length} characters long once rendered; AWS allows at most 10240")]
    TooLong { length: usize },
    #[error(
        "the rule condition at {} {}; set exactly one of anyOf, allOf, not, alarm, atLeast or \
         constant",
        path(.at),
        fields_set(.fields)
    )]
    ConditionShape {
        at: String,
        fields: Vec<&'static str>,
    },
    #[error(
        "the alarm condition at {} {}; set exactly one of alarmRef or alarmName",
        path(.at),
        fields_set(.fields)
    )]
    AlarmConditionShape {
        at: String,
        fields: Vec<&'static str>,
    },
    #[error(
        "the atLeast condition at {} {}; set exactly one of count or percent",
        path(.at),
        fields_set(.fields)
    )]
    AtLeastThresholdShape {
        at: String,
        fields: Vec<&'static str>,
    },
}

fn fields_set(fields: &[&str]) -> String {
    if fields.is_empty() {
        "sets none of them".to_owned()
    } else {
        format!("sets {}", fields.join(" and "))
    }
}

fn path(at: &str) -> &str {
    if at.is_empty() { "the top level" } else { at }
}

impl<A: AlarmReference> Rule<A> {
    /// Every reason AWS would reject this rule (or could not be sent it), or `Ok`.
    ///
    /// The rendered length is checked only when every child is an AWS name or ARN; an
    /// unresolved rule is validated again once resolved.
    pub fn validate(&self) -> Result<(), InvalidRule> {
        let mut problems = Vec::new();
        let mut seen_references = BTreeSet::new();
        self.tree_problems(&mut String::new(), &mut seen_references, &mut problems);

        let distinct = self
            .alarms()
            .into_iter()
            .map(AlarmReference::dependency)
            .collect::<BTreeSet<_>>()
            .len();
        if distinct > MAX_CHILDREN {
            problems.push(RuleProblem::TooManyChildren { count: distinct });
        }
        let elements = self.element_count();
        if elements > MAX_ELEMENTS {
            problems.push(RuleProblem::TooManyElements { count: elements });
        }
        let all_aws = self
            .alarms()
            .iter()
            .all(|alarm| alarm.aws_reference().is_some());
        if all_aws {
            let rendered =
                self.map_alarms(&mut |alarm| alarm.aws_reference().unwrap_or_default().to_owned());
            let length = rendered.render().chars().count();
            if length > MAX_RULE_CHARS {
                problems.push(RuleProblem::TooLong { length });
            }
        }

        if problems.is_empty() {
            Ok(())
        } else {
            Err(InvalidRule { problems })
        }
    }

    fn tree_problems<'a>(
        &'a self,
        at: &mut String,
        seen: &mut BTreeSet<&'a str>,
        problems: &mut Vec<RuleProblem>,
    ) {
        let (items, operator, field) = match self {
            Rule::And(items) => (items, "AND (allOf)", "allOf"),
            Rule::Or(items) => (items, "OR (anyOf)", "anyOf"),
            Rule::Not(inner) => {
                let len = at.len();
                push_segment(at, "not");
                inner.tree_problems(at, seen, problems);
                at.truncate(len);
                return;
            }
            Rule::State { alarm, .. } => {
                alarm_problems(alarm, at, seen, problems);
                return;
            }
            Rule::AtLeast {
                threshold, alarms, ..
            } => {
                at_least_problems(*threshold, alarms, at, problems);
                for alarm in alarms {
                    alarm_problems(alarm, at, seen, problems);
                }
                return;
            }
            Rule::Const(_) => return,
        };
        if items.is_empty() {
            problems.push(RuleProblem::EmptyGroup {
                operator,
                at: at.clone(),
            });
        }
        for (index, item) in items.iter().enumerate() {
            let len = at.len();
            push_segment(at, &format!("{field}[{index}]"));
            item.tree_problems(at, seen, problems);
            at.truncate(len);
        }
    }
}

/// The threshold against the list, and each alarm listed once.
fn at_least_problems<A: AlarmReference>(
    threshold: Threshold,
    alarms: &[A],
    at: &str,
    problems: &mut Vec<RuleProblem>,
) {
    if alarms.is_empty() {
        problems.push(RuleProblem::EmptyAtLeast { at: at.to_owned() });
    }
    match threshold {
        Threshold::Count(count) if count == 0 || count as usize > alarms.len() => {
            // An empty list is reported once, above.
            if !alarms.is_empty() {
                problems.push(RuleProblem::AtLeastCountOutOfRange {
                    at: at.to_owned(),
                    count: i64::from(count),
                    alarms: alarms.len(),
                });
            }
        }
        Threshold::Percent(percent) if !(1..=MAX_AT_LEAST_PERCENT).contains(&percent) => {
            problems.push(RuleProblem::AtLeastPercentOutOfRange {
                at: at.to_owned(),
                percent: i64::from(percent),
            });
        }
        Threshold::Count(_) | Threshold::Percent(_) => {}
    }
    let mut listed = BTreeSet::new();
    let mut repeated = BTreeSet::new();
    for alarm in alarms {
        let dependency = alarm.dependency();
        if !listed.insert(dependency.clone()) && repeated.insert(dependency.clone()) {
            problems.push(RuleProblem::AtLeastRepeatsAlarm {
                at: at.to_owned(),
                alarm: dependency,
            });
        }
    }
}

pub(super) fn push_segment(at: &mut String, segment: &str) {
    if !at.is_empty() {
        at.push('.');
    }
    at.push_str(segment);
}

fn alarm_problems<'a, A: AlarmReference>(
    alarm: &'a A,
    at: &str,
    seen: &mut BTreeSet<&'a str>,
    problems: &mut Vec<RuleProblem>,
) {
    if let Some(object) = alarm.object() {
        if object.is_empty() {
            problems.push(RuleProblem::EmptyObjectName { at: at.to_owned() });
        }
        return;
    }
    let Some(reference) = alarm.aws_reference() else {
        return;
    };
    if reference.is_empty() {
        problems.push(RuleProblem::EmptyAlarmName { at: at.to_owned() });
        return;
    }
    // A reference used several times is reported once.
    if !seen.insert(reference) {
        return;
    }
    if reference.starts_with("arn:") && !is_alarm_arn(reference) {
        problems.push(RuleProblem::NotAnAlarmArn {
            reference: reference.to_owned(),
        });
    }
    let name = alarm_name(reference);
    let length = name.chars().count();
    if length > MAX_ALARM_NAME_CHARS {
        problems.push(RuleProblem::AlarmNameTooLong {
            name: name.to_owned(),
            length,
        });
    }
    if reference.ends_with('\\') {
        problems.push(RuleProblem::TrailingBackslash {
            reference: reference.to_owned(),
        });
    }
}
