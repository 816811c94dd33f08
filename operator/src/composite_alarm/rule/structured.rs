//! The structured form of a rule (`spec.rule`) converted node for node into the AST.

use super::validate::push_segment;
use super::*;
use crate::composite_alarm::spec::{
    AlarmCondition, AlarmRuleLeaf, AlarmRuleNode, AlarmRuleNode2, AlarmRuleNode3, AtLeastCondition,
    RuleConstant,
};

/// One level of the structured rule. A CRD schema cannot be recursive, so `spec.rs` spells the
/// levels out as distinct types; this reads them all alike.
trait StructuredCondition {
    type Next: StructuredCondition;
    fn any_of(&self) -> &[Self::Next];
    fn all_of(&self) -> &[Self::Next];
    fn not(&self) -> Option<&Self::Next>;
    fn alarm(&self) -> Option<&AlarmCondition>;
    fn at_least(&self) -> Option<&AtLeastCondition>;
    fn constant(&self) -> Option<RuleConstant>;
}

macro_rules! structured_condition {
    ($($node:ty => $next:ty),* $(,)?) => {$(
        impl StructuredCondition for $node {
            type Next = $next;
            fn any_of(&self) -> &[$next] {
                &self.any_of
            }
            fn all_of(&self) -> &[$next] {
                &self.all_of
            }
            fn not(&self) -> Option<&$next> {
                self.not.as_deref()
            }
            fn alarm(&self) -> Option<&AlarmCondition> {
                self.alarm.as_ref()
            }
            fn at_least(&self) -> Option<&AtLeastCondition> {
                self.at_least.as_ref()
            }
            fn constant(&self) -> Option<RuleConstant> {
                self.constant
            }
        }
    )*};
}

structured_condition!(
    AlarmRuleNode => AlarmRuleNode2,
    AlarmRuleNode2 => AlarmRuleNode3,
    AlarmRuleNode3 => AlarmRuleLeaf,
);

impl StructuredCondition for AlarmRuleLeaf {
    type Next = AlarmRuleLeaf;
    fn any_of(&self) -> &[AlarmRuleLeaf] {
        &[]
    }
    fn all_of(&self) -> &[AlarmRuleLeaf] {
        &[]
    }
    fn not(&self) -> Option<&AlarmRuleLeaf> {
        None
    }
    fn alarm(&self) -> Option<&AlarmCondition> {
        self.alarm.as_ref()
    }
    fn at_least(&self) -> Option<&AtLeastCondition> {
        self.at_least.as_ref()
    }
    fn constant(&self) -> Option<RuleConstant> {
        self.constant
    }
}

/// The structured rule (`spec.rule`) as an AST, node for node: nothing is flattened, so the paths
/// in [`Rule::validate`]'s problems name the user's own conditions.
///
/// The CRD's CEL rules already demand exactly one field per condition, but manifests read
/// without an API server (`plan -f`) are not checked by it, so the shape is checked again here.
/// An empty `anyOf: []` reads the same as an absent one and is reported as a condition with no
/// field set.
impl TryFrom<&AlarmRuleNode> for Rule {
    type Error = InvalidRule;

    fn try_from(node: &AlarmRuleNode) -> Result<Self, Self::Error> {
        let mut problems = Vec::new();
        let rule = from_structured(node, &mut String::new(), &mut problems);
        if problems.is_empty() {
            Ok(rule)
        } else {
            Err(InvalidRule { problems })
        }
    }
}

fn from_structured<N: StructuredCondition>(
    node: &N,
    at: &mut String,
    problems: &mut Vec<RuleProblem>,
) -> Rule {
    let fields: Vec<&'static str> = [
        ("anyOf", !node.any_of().is_empty()),
        ("allOf", !node.all_of().is_empty()),
        ("not", node.not().is_some()),
        ("alarm", node.alarm().is_some()),
        ("atLeast", node.at_least().is_some()),
        ("constant", node.constant().is_some()),
    ]
    .into_iter()
    .filter_map(|(field, set)| set.then_some(field))
    .collect();
    if fields.len() != 1 {
        problems.push(RuleProblem::ConditionShape {
            at: at.clone(),
            fields,
        });
        // A stand-in so that the rest of the tree is still checked.
        return Rule::Const(false);
    }
    let mut nested = |segment: &str, child: &N::Next, problems: &mut Vec<RuleProblem>| {
        let len = at.len();
        push_segment(at, segment);
        let rule = from_structured(child, at, problems);
        at.truncate(len);
        rule
    };
    if let Some(constant) = node.constant() {
        Rule::Const(constant == RuleConstant::True)
    } else if let Some(inner) = node.not() {
        Rule::Not(Box::new(nested("not", inner, problems)))
    } else if let Some(condition) = node.alarm() {
        let len = at.len();
        push_segment(at, "alarm");
        let rule = from_alarm_condition(condition, at, problems);
        at.truncate(len);
        rule
    } else if let Some(condition) = node.at_least() {
        from_at_least_condition(condition, at, problems)
    } else {
        let (items, field, and) = if node.all_of().is_empty() {
            (node.any_of(), "anyOf", false)
        } else {
            (node.all_of(), "allOf", true)
        };
        let items = items
            .iter()
            .enumerate()
            .map(|(index, item)| nested(&format!("{field}[{index}]"), item, problems))
            .collect();
        if and {
            Rule::And(items)
        } else {
            Rule::Or(items)
        }
    }
}

fn from_alarm_condition(
    condition: &AlarmCondition,
    at: &str,
    problems: &mut Vec<RuleProblem>,
) -> Rule {
    let alarm = match (&condition.alarm_ref, &condition.alarm_name) {
        (Some(object), None) => ChildRef::Object(object.clone()),
        (None, Some(name)) => ChildRef::Name(name.clone()),
        (alarm_ref, alarm_name) => {
            let fields = [
                ("alarmRef", alarm_ref.is_some()),
                ("alarmName", alarm_name.is_some()),
            ]
            .into_iter()
            .filter_map(|(field, set)| set.then_some(field))
            .collect();
            problems.push(RuleProblem::AlarmConditionShape {
                at: at.to_owned(),
                fields,
            });
            ChildRef::Name(String::new())
        }
    };
    Rule::State {
        state: condition.state,
        alarm,
    }
}

/// An `atLeast` condition: its Alarm objects listed first, then its names, in the order written.
/// A threshold the schema would refuse (admission is skipped for `plan -f`) is reported with the
/// value as written; `at` is the path of the condition holding it, as in [`Rule::validate`].
fn from_at_least_condition(
    condition: &AtLeastCondition,
    at: &str,
    problems: &mut Vec<RuleProblem>,
) -> Rule {
    let listed = condition.alarm_refs.len() + condition.alarm_names.len();
    let threshold = match (condition.count, condition.percent) {
        (Some(count), None) => match u32::try_from(count) {
            Ok(count) => Threshold::Count(count),
            Err(_) => {
                problems.push(RuleProblem::AtLeastCountOutOfRange {
                    at: at.to_owned(),
                    count: i64::from(count),
                    alarms: listed,
                });
                Threshold::Count(1)
            }
        },
        (None, Some(percent)) => match u32::try_from(percent) {
            Ok(percent) => Threshold::Percent(percent),
            Err(_) => {
                problems.push(RuleProblem::AtLeastPercentOutOfRange {
                    at: at.to_owned(),
                    percent: i64::from(percent),
                });
                Threshold::Percent(MAX_AT_LEAST_PERCENT)
            }
        },
        (count, percent) => {
            let fields = [("count", count.is_some()), ("percent", percent.is_some())]
                .into_iter()
                .filter_map(|(field, set)| set.then_some(field))
                .collect();
            let mut at = at.to_owned();
            push_segment(&mut at, "atLeast");
            problems.push(RuleProblem::AtLeastThresholdShape { at, fields });
            Threshold::Percent(MAX_AT_LEAST_PERCENT)
        }
    };
    let alarms = condition
        .alarm_refs
        .iter()
        .map(|object| ChildRef::Object(object.clone()))
        .chain(
            condition
                .alarm_names
                .iter()
                .map(|name| ChildRef::Name(name.clone())),
        )
        .collect();
    Rule::AtLeast {
        threshold,
        negated: condition.not,
        state: condition.state,
        alarms,
    }
}

/// How many conditions a list holds at each level of the structured form, as the CRD's schema
/// allows (`spec.rs`): 100 at the top, 20 at the second level, 10 at the third.
const MAX_ITEMS: [usize; 3] = [100, 20, 10];

/// A group condition: what only levels one to three can hold.
enum Group<N> {
    AnyOf(Vec<N>),
    AllOf(Vec<N>),
    Not(N),
}

/// A condition that can be at any level.
enum Leaf {
    Alarm(AlarmCondition),
    AtLeast(AtLeastCondition),
    Constant(RuleConstant),
}

/// One level of the structured rule, built rather than read (see [`StructuredCondition`]).
trait BuildCondition: Sized {
    type Next: BuildCondition;
    /// Most conditions in one of this level's lists; 0 at the fourth level, which has none.
    const MAX_ITEMS: usize;
    /// `None` at the fourth level.
    fn group(group: Group<Self::Next>) -> Option<Self>;
    fn leaf(leaf: Leaf) -> Self;
}

macro_rules! build_condition {
    ($($node:ty => $next:ty, $max:expr),* $(,)?) => {$(
        impl BuildCondition for $node {
            type Next = $next;
            const MAX_ITEMS: usize = $max;
            fn group(group: Group<$next>) -> Option<Self> {
                Some(match group {
                    Group::AnyOf(any_of) => Self { any_of, ..Default::default() },
                    Group::AllOf(all_of) => Self { all_of, ..Default::default() },
                    Group::Not(inner) => Self { not: Some(Box::new(inner)), ..Default::default() },
                })
            }
            fn leaf(leaf: Leaf) -> Self {
                match leaf {
                    Leaf::Alarm(c) => Self { alarm: Some(c), ..Default::default() },
                    Leaf::AtLeast(c) => Self { at_least: Some(c), ..Default::default() },
                    Leaf::Constant(c) => Self { constant: Some(c), ..Default::default() },
                }
            }
        }
    )*};
}

build_condition!(
    AlarmRuleNode => AlarmRuleNode2, MAX_ITEMS[0],
    AlarmRuleNode2 => AlarmRuleNode3, MAX_ITEMS[1],
    AlarmRuleNode3 => AlarmRuleLeaf, MAX_ITEMS[2],
);

impl BuildCondition for AlarmRuleLeaf {
    type Next = AlarmRuleLeaf;
    const MAX_ITEMS: usize = 0;
    fn group(_: Group<AlarmRuleLeaf>) -> Option<Self> {
        None
    }
    fn leaf(leaf: Leaf) -> Self {
        match leaf {
            Leaf::Alarm(c) => Self {
                alarm: Some(c),
                ..Default::default()
            },
            Leaf::AtLeast(c) => Self {
                at_least: Some(c),
                ..Default::default()
            },
            Leaf::Constant(c) => Self {
                constant: Some(c),
                ..Default::default()
            },
        }
    }
}

/// The rule in the structured form (`spec.rule`) that reads back as exactly this rule, or `None`
/// when the structured form cannot hold it: groups nested deeper than its four levels, a list
/// longer than its level allows, an empty group, or an `AT_LEAST` listing an alarm by name
/// before one by object (the form lists `alarmRefs` first, and the order is part of the rule AWS
/// stores). Such a rule is written as `alarmRule` instead.
pub fn to_structured(rule: &Rule) -> Option<AlarmRuleNode> {
    build(rule)
}

fn build<N: BuildCondition>(rule: &Rule) -> Option<N> {
    match rule {
        Rule::Const(value) => Some(N::leaf(Leaf::Constant(if *value {
            RuleConstant::True
        } else {
            RuleConstant::False
        }))),
        Rule::State { state, alarm } => {
            let (alarm_ref, alarm_name) = match alarm {
                ChildRef::Object(object) => (Some(object.clone()), None),
                ChildRef::Name(name) => (None, Some(name.clone())),
            };
            Some(N::leaf(Leaf::Alarm(AlarmCondition {
                alarm_ref,
                alarm_name,
                state: *state,
            })))
        }
        Rule::AtLeast {
            threshold,
            negated,
            state,
            alarms,
        } => {
            let refs = alarms
                .iter()
                .take_while(|a| matches!(a, ChildRef::Object(_)))
                .count();
            let mut alarm_refs = Vec::new();
            let mut alarm_names = Vec::new();
            for (index, alarm) in alarms.iter().enumerate() {
                match alarm {
                    ChildRef::Object(object) if index < refs => alarm_refs.push(object.clone()),
                    ChildRef::Name(name) => alarm_names.push(name.clone()),
                    ChildRef::Object(_) => return None,
                }
            }
            let (count, percent) = match threshold {
                Threshold::Count(count) => (Some(i32::try_from(*count).ok()?), None),
                Threshold::Percent(percent) => (None, Some(i32::try_from(*percent).ok()?)),
            };
            Some(N::leaf(Leaf::AtLeast(AtLeastCondition {
                count,
                percent,
                state: *state,
                not: *negated,
                alarm_refs,
                alarm_names,
            })))
        }
        Rule::Not(inner) => N::group(Group::Not(build(inner)?)),
        Rule::And(items) | Rule::Or(items) => {
            if items.is_empty() || items.len() > N::MAX_ITEMS {
                return None;
            }
            let items = items.iter().map(build).collect::<Option<Vec<N::Next>>>()?;
            N::group(if matches!(rule, Rule::And(_)) {
                Group::AllOf(items)
            } else {
                Group::AnyOf(items)
            })
        }
    }
}
