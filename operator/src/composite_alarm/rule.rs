//! The rule of a composite alarm, and everything pure about it: one AST for both ways a user can
//! write it (the AWS expression string and the structured `allOf` / `anyOf` / `not` form), the
//! parser for the expression string, the canonical rendering sent to PutCompositeAlarm, the
//! validation against AWS's limits, and the resolution of references to `Alarm` objects into AWS
//! alarm names.
//!
//! # The expression language
//!
//! As documented for PutCompositeAlarm's `AlarmRule` (API reference) and in the user guide
//! ("Creating a composite alarm", "Composite alarms"):
//!
//! ```text
//! rule     = or EOF
//! or       = and { "OR" and }
//! and      = unary { "AND" unary }
//! unary    = { "NOT" } primary
//! primary  = "(" or ")" | "TRUE" | "FALSE" | state "(" alarm ")"
//! state    = "ALARM" | "OK" | "INSUFFICIENT_DATA"
//! alarm    = quoted | unquoted                 an alarm name or an alarm ARN
//! quoted   = '"' { '\"' | any character but '"' } '"'
//! unquoted = 1*( any character but whitespace, '(', ')' and '"' )
//! ```
//!
//! Where AWS leaves a question open, the choice made here:
//! - Names "can be surrounded with double-quotes, but do not have to be". An unquoted name ends
//!   at whitespace or a parenthesis (AWS answers `ALARM(My Alarm)` with "Unsupported token
//!   'Alarm' ..., must be: ')'"); inside quotes a `"` is written `\"`. No other escape is
//!   documented, so any other backslash is an ordinary character.
//! - Keywords and functions are documented in upper case only. A lower-case `and` or `alarm(` is
//!   rejected with a message naming the upper-case form instead of being guessed at.
//! - AWS does not document whether AND binds tighter than OR. The parser uses the conventional
//!   NOT > AND > OR, which every AWS example agrees with, and the canonical rendering never depends
//!   on it: an AND group inside an OR group (or the reverse) is always parenthesised, so AWS
//!   evaluates exactly the tree held here whatever its own precedence is.
//! - `AT_LEAST(...)`, added to the language in November 2025, is not part of this AST and is
//!   rejected with its own error.
//!
//! # Canonical rendering
//!
//! Keywords in upper case, every alarm reference in double quotes, single spaces, nested groups
//! of the same operator flattened, and parentheses exactly around AND/OR groups that are an
//! operand of another operator. References keep the form the user wrote (name or ARN): rewriting
//! an ARN into a name would silently drop the account and region the user pinned, and only the
//! dependency graph needs the bare name ([`children`], [`alarm_name`]).
//!
//! The rendering is what PutCompositeAlarm receives and what drift detection compares
//! DescribeAlarms' `AlarmRule` with. Compare through [`canonical`]: then a rule handed back with
//! other spacing or quoting is not drift, while any change of meaning is.
//! `parse(render(r)) == r.normalize()` and rendering is idempotent; both are property-tested.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use super::spec::{
    AlarmCondition, AlarmRuleLeaf, AlarmRuleNode, AlarmRuleNode2, AlarmRuleNode3, AlarmRuleNode4,
    RuleConstant,
};
use crate::alarm::AlarmState;

/// AWS: "The AlarmRule can specify as many as 100 'children' alarms." Counted here as distinct
/// alarms (a name and an ARN of the same alarm are one child), since the limit is on alarms
/// watched; repeated occurrences are bounded by [`MAX_ELEMENTS`].
pub const MAX_CHILDREN: usize = 100;
/// AWS: "The AlarmRule expression can have as many as 500 elements. Elements are child alarms,
/// TRUE or FALSE statements, and parentheses. A pair of parentheses counts as one element."
pub const MAX_ELEMENTS: usize = 500;
/// PutCompositeAlarm `AlarmRule`: minimum length 1, maximum length 10,240.
pub const MAX_RULE_CHARS: usize = 10_240;
/// PutMetricAlarm / PutCompositeAlarm `AlarmName`: 1–255 characters.
pub const MAX_ALARM_NAME_CHARS: usize = 255;

/// Every state a rule function tests for, in the order AWS documents the functions.
pub const STATES: [AlarmState; 3] = [
    AlarmState::Alarm,
    AlarmState::Ok,
    AlarmState::InsufficientData,
];

/// The rule function that tests for `state`: `ALARM`, `OK` or `INSUFFICIENT_DATA`.
pub const fn function_name(state: AlarmState) -> &'static str {
    match state {
        AlarmState::Alarm => "ALARM",
        AlarmState::Ok => "OK",
        AlarmState::InsufficientData => "INSUFFICIENT_DATA",
    }
}

fn state_of_function(word: &str) -> Option<AlarmState> {
    STATES
        .into_iter()
        .find(|state| function_name(*state) == word)
}

/// A child alarm as the user wrote it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChildRef {
    /// An AWS alarm name or alarm ARN, used as written.
    Name(String),
    /// The name of an `Alarm` object in the composite's namespace; it stands for that object's
    /// AWS alarm name once the object has one (see [`Rule::resolve`]).
    Object(String),
}

impl fmt::Display for ChildRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChildRef::Name(name) => write!(f, "alarm {name:?}"),
            ChildRef::Object(object) => write!(f, "Alarm object {object:?}"),
        }
    }
}

/// A composite alarm rule. `A` is how a child alarm is referenced: [`ChildRef`] as the user
/// wrote it, or `String` (an AWS alarm name or ARN) once resolved. Only a [`ResolvedRule`] can be
/// rendered for AWS, so an unresolved `Alarm` reference cannot reach PutCompositeAlarm.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Rule<A = ChildRef> {
    /// True when every operand is true (`AND`).
    And(Vec<Rule<A>>),
    /// True when any operand is true (`OR`).
    Or(Vec<Rule<A>>),
    /// `NOT`.
    Not(Box<Rule<A>>),
    /// `ALARM(x)`, `OK(x)` or `INSUFFICIENT_DATA(x)`: true while alarm `x` is in `state`.
    State { state: AlarmState, alarm: A },
    /// `TRUE` or `FALSE`.
    Const(bool),
}

/// A rule whose children are all AWS alarm names or ARNs, as sent to PutCompositeAlarm.
pub type ResolvedRule = Rule<String>;

impl<A> Rule<A> {
    /// The rule in the shape [`parse`] returns for its rendering: nested groups of the same
    /// operator flattened into one, a group of one operand replaced by that operand, and an empty
    /// group replaced by its identity (`TRUE` for AND, `FALSE` for OR; validation still reports
    /// the empty group, this only keeps rendering total).
    pub fn normalize(self) -> Self {
        match self {
            Rule::And(items) => Self::join(items.into_iter().map(Rule::normalize), true),
            Rule::Or(items) => Self::join(items.into_iter().map(Rule::normalize), false),
            Rule::Not(inner) => Rule::Not(Box::new(inner.normalize())),
            leaf @ (Rule::State { .. } | Rule::Const(_)) => leaf,
        }
    }

    /// Joins already-normalized operands into one AND (`and == true`) or OR group.
    fn join(items: impl IntoIterator<Item = Self>, and: bool) -> Self {
        let mut flat = Vec::new();
        for item in items {
            match item {
                Rule::And(inner) if and => flat.extend(inner),
                Rule::Or(inner) if !and => flat.extend(inner),
                other => flat.push(other),
            }
        }
        if flat.len() > 1 {
            if and { Rule::And(flat) } else { Rule::Or(flat) }
        } else {
            flat.pop().unwrap_or(Rule::Const(and))
        }
    }

    /// The same rule with every child reference mapped through `f`.
    pub fn map_alarms<B>(&self, f: &mut impl FnMut(&A) -> B) -> Rule<B> {
        match self {
            Rule::And(items) => Rule::And(items.iter().map(|item| item.map_alarms(f)).collect()),
            Rule::Or(items) => Rule::Or(items.iter().map(|item| item.map_alarms(f)).collect()),
            Rule::Not(inner) => Rule::Not(Box::new(inner.map_alarms(f))),
            Rule::State { state, alarm } => Rule::State {
                state: *state,
                alarm: f(alarm),
            },
            Rule::Const(value) => Rule::Const(*value),
        }
    }

    /// Every child reference, in the order it appears, repeats included.
    pub fn alarms(&self) -> Vec<&A> {
        let mut out = Vec::new();
        self.collect_alarms(&mut out);
        out
    }

    fn collect_alarms<'a>(&'a self, out: &mut Vec<&'a A>) {
        match self {
            Rule::And(items) | Rule::Or(items) => {
                items.iter().for_each(|item| item.collect_alarms(out))
            }
            Rule::Not(inner) => inner.collect_alarms(out),
            Rule::State { alarm, .. } => out.push(alarm),
            Rule::Const(_) => {}
        }
    }

    /// Elements as AWS counts them toward [`MAX_ELEMENTS`], in the canonical rendering: each
    /// alarm function and TRUE/FALSE is one, and each parenthesised group is one.
    pub fn element_count(&self) -> usize
    where
        A: Clone,
    {
        fn count<A>(rule: &Rule<A>, operand: bool) -> usize {
            match rule {
                Rule::State { .. } | Rule::Const(_) => 1,
                Rule::Not(inner) => count(inner, true),
                Rule::And(items) | Rule::Or(items) => {
                    usize::from(operand) + items.iter().map(|item| count(item, true)).sum::<usize>()
                }
            }
        }
        count(&self.clone().normalize(), false)
    }
}

impl Rule<ChildRef> {
    /// Replaces every [`ChildRef::Object`] by the AWS alarm name `lookup` gives for it
    /// (object name → AWS alarm name), or lists every object `lookup` knows nothing of.
    pub fn resolve(
        &self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<ResolvedRule, UnresolvedAlarms> {
        let mut missing = BTreeSet::new();
        let resolved = self.map_alarms(&mut |child| match child {
            ChildRef::Name(name) => name.clone(),
            ChildRef::Object(object) => lookup(object).unwrap_or_else(|| {
                missing.insert(object.clone());
                String::new()
            }),
        });
        if missing.is_empty() {
            Ok(resolved)
        } else {
            Err(UnresolvedAlarms { objects: missing })
        }
    }
}

impl From<ResolvedRule> for Rule<ChildRef> {
    fn from(rule: ResolvedRule) -> Self {
        rule.map_alarms(&mut |name| ChildRef::Name(name.clone()))
    }
}

/// `Alarm` objects a rule references that do not exist yet or have no AWS alarm yet. The
/// composite waits for them (children must exist before PutCompositeAlarm accepts the rule).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "the rule references Alarm objects that do not exist or have no AWS alarm yet: {}",
    list(.objects)
)]
pub struct UnresolvedAlarms {
    /// Names of the `Alarm` objects, sorted.
    pub objects: BTreeSet<String>,
}

fn list(items: &BTreeSet<String>) -> String {
    items
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The children a rule depends on, each once. References written as ARNs count as the alarm
/// name they designate, since that is what must exist and what DescribeAlarms reports.
pub fn children(rule: &Rule<ChildRef>) -> BTreeSet<ChildRef> {
    rule.alarms()
        .into_iter()
        .map(ChildRef::dependency)
        .collect()
}

/// The AWS alarm names a resolved rule depends on, each once, ARNs reduced to names.
pub fn child_names(rule: &ResolvedRule) -> BTreeSet<String> {
    rule.alarms()
        .into_iter()
        .map(|reference| alarm_name(reference).to_owned())
        .collect()
}

/// The alarm name a reference designates: the name field of a CloudWatch alarm ARN
/// (`arn:PARTITION:cloudwatch:REGION:ACCOUNT:alarm:NAME`; the name may itself contain `:`), or
/// the reference itself.
pub fn alarm_name(reference: &str) -> &str {
    arn_alarm_name(reference).unwrap_or(reference)
}

/// Whether `reference` is a CloudWatch alarm ARN.
pub fn is_alarm_arn(reference: &str) -> bool {
    arn_alarm_name(reference).is_some()
}

fn arn_alarm_name(reference: &str) -> Option<&str> {
    let fields: Vec<&str> = reference.splitn(7, ':').collect();
    match fields.as_slice() {
        [
            "arn",
            partition,
            "cloudwatch",
            region,
            account,
            "alarm",
            name,
        ] if [partition, region, account, name]
            .iter()
            .all(|field| !field.is_empty()) =>
        {
            Some(name)
        }
        _ => None,
    }
}

impl ChildRef {
    /// What this reference depends on: the alarm name for a name or ARN, the object otherwise.
    fn dependency(&self) -> ChildRef {
        match self {
            ChildRef::Name(name) => ChildRef::Name(alarm_name(name).to_owned()),
            ChildRef::Object(object) => ChildRef::Object(object.clone()),
        }
    }
}

/// How validation sees a child reference, for both unresolved and resolved rules.
pub trait AlarmReference: Clone {
    /// The AWS alarm name or ARN, when the reference is one.
    fn aws_reference(&self) -> Option<&str>;
    /// The `Alarm` object name, when the reference is one.
    fn object(&self) -> Option<&str>;
    /// The child this reference depends on (ARNs reduced to names).
    fn dependency(&self) -> ChildRef;
}

impl AlarmReference for ChildRef {
    fn aws_reference(&self) -> Option<&str> {
        match self {
            ChildRef::Name(name) => Some(name),
            ChildRef::Object(_) => None,
        }
    }

    fn object(&self) -> Option<&str> {
        match self {
            ChildRef::Name(_) => None,
            ChildRef::Object(object) => Some(object),
        }
    }

    fn dependency(&self) -> ChildRef {
        ChildRef::dependency(self)
    }
}

impl AlarmReference for String {
    fn aws_reference(&self) -> Option<&str> {
        Some(self)
    }

    fn object(&self) -> Option<&str> {
        None
    }

    fn dependency(&self) -> ChildRef {
        ChildRef::Name(alarm_name(self).to_owned())
    }
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

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
        "the rule condition at {} {}; set exactly one of anyOf, allOf, not, alarm or constant",
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

fn push_segment(at: &mut String, segment: &str) {
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

// ---------------------------------------------------------------------------------------------
// The structured form
// ---------------------------------------------------------------------------------------------

/// One level of the structured rule. A CRD schema cannot be recursive, so `spec.rs` spells the
/// levels out as distinct types; this reads them all alike.
trait StructuredCondition {
    type Next: StructuredCondition;
    fn any_of(&self) -> &[Self::Next];
    fn all_of(&self) -> &[Self::Next];
    fn not(&self) -> Option<&Self::Next>;
    fn alarm(&self) -> Option<&AlarmCondition>;
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
            fn constant(&self) -> Option<RuleConstant> {
                self.constant
            }
        }
    )*};
}

structured_condition!(
    AlarmRuleNode => AlarmRuleNode2,
    AlarmRuleNode2 => AlarmRuleNode3,
    AlarmRuleNode3 => AlarmRuleNode4,
    AlarmRuleNode4 => AlarmRuleLeaf,
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

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

impl ResolvedRule {
    /// The canonical expression for PutCompositeAlarm (see the module documentation).
    pub fn render(&self) -> String {
        let mut out = String::new();
        write_rule(&self.clone().normalize(), &mut out);
        out
    }
}

impl fmt::Display for Rule<String> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

fn write_rule(rule: &ResolvedRule, out: &mut String) {
    match rule {
        Rule::Const(true) => out.push_str("TRUE"),
        Rule::Const(false) => out.push_str("FALSE"),
        Rule::State { state, alarm } => {
            out.push_str(function_name(*state));
            out.push('(');
            write_quoted(alarm, out);
            out.push(')');
        }
        Rule::Not(inner) => {
            out.push_str("NOT ");
            write_operand(inner, out);
        }
        Rule::And(items) => write_group(items, " AND ", out),
        Rule::Or(items) => write_group(items, " OR ", out),
    }
}

fn write_group(items: &[ResolvedRule], operator: &str, out: &mut String) {
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.push_str(operator);
        }
        write_operand(item, out);
    }
}

/// An operand of AND, OR or NOT: groups are parenthesised, everything else binds on its own.
fn write_operand(rule: &ResolvedRule, out: &mut String) {
    if matches!(rule, Rule::And(_) | Rule::Or(_)) {
        out.push('(');
        write_rule(rule, out);
        out.push(')');
    } else {
        write_rule(rule, out);
    }
}

/// AWS: names containing `"` "must enclose the `"` characters with backslash escape
/// characters"; nothing else is escaped.
fn write_quoted(reference: &str, out: &mut String) {
    out.push('"');
    for c in reference.chars() {
        if c == '"' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

/// The canonical form of an expression, for comparing the rule AWS reports (DescribeAlarms
/// `AlarmRule`) with the desired one without being fooled by spacing or quoting.
pub fn canonical(expression: &str) -> Result<String, ParseError> {
    parse(expression).map(|rule| rule.render())
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

/// Where in the expression something is: 1-based line and column, counted in characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column within the line, in characters.
    pub column: usize,
}

impl Position {
    const START: Position = Position { line: 1, column: 1 };

    fn advance(&mut self, c: char) {
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 1 {
            write!(f, "column {}", self.column)
        } else {
            write!(f, "line {}, column {}", self.line, self.column)
        }
    }
}

/// Why an expression does not parse, and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", describe(.kind, .at))]
pub struct ParseError {
    pub kind: ParseErrorKind,
    pub at: Position,
}

/// What went wrong while parsing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// Nothing but whitespace.
    Empty,
    /// A token that cannot appear here.
    Expected { expected: Expected, found: Found },
    /// `FOO(...)` for a function AWS does not have.
    UnknownFunction(String),
    /// A keyword or function written in anything but upper case.
    KeywordCase {
        written: String,
        keyword: &'static str,
    },
    /// `AT_LEAST(...)`, which this AST does not model.
    UnsupportedAtLeast,
    /// A `"` with no closing `"`.
    UnterminatedName,
    /// `""` as an alarm name.
    EmptyName,
    /// Parentheses nested deeper than a valid rule can be ([`MAX_ELEMENTS`]).
    TooDeep,
}

/// What the parser would have accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expected {
    /// The start of an operand.
    Operand,
    /// `(` after a function name.
    OpenParenAfter(AlarmState),
    /// An alarm name or ARN inside a function.
    AlarmName,
    /// `)` closing a function call.
    CloseCall,
    /// AND, OR, or the `)` closing the group opened at `open`.
    OperatorOrClose { open: Position },
    /// AND, OR, or the end of the rule.
    OperatorOrEnd,
}

/// The token the parser found instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    End,
    OpenParen,
    CloseParen,
    Word(String),
    Quoted(String),
}

const KEYWORDS: [&str; 8] = [
    "AND",
    "OR",
    "NOT",
    "TRUE",
    "FALSE",
    "ALARM",
    "OK",
    "INSUFFICIENT_DATA",
];

/// The upper-case keyword `word` is a differently-cased spelling of, if any.
fn miscased_keyword(word: &str) -> Option<&'static str> {
    KEYWORDS
        .into_iter()
        .find(|keyword| *keyword != word && keyword.eq_ignore_ascii_case(word))
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expected::Operand => {
                f.write_str("ALARM(...), OK(...), INSUFFICIENT_DATA(...), TRUE, FALSE, NOT or '('")
            }
            Expected::OpenParenAfter(state) => write!(f, "'(' after {}", function_name(*state)),
            Expected::AlarmName => f.write_str("an alarm name or ARN"),
            Expected::CloseCall => f.write_str("')'"),
            Expected::OperatorOrClose { .. } => f.write_str("AND, OR or ')'"),
            Expected::OperatorOrEnd => f.write_str("AND, OR or the end of the rule"),
        }
    }
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Found::End => f.write_str("the end of the rule"),
            Found::OpenParen => f.write_str("'('"),
            Found::CloseParen => f.write_str("')'"),
            Found::Word(word) => write!(f, "'{}'", shorten(word)),
            Found::Quoted(name) => {
                let mut quoted = String::new();
                write_quoted(&shorten(name), &mut quoted);
                f.write_str(&quoted)
            }
        }
    }
}

fn shorten(text: &str) -> String {
    const MAX: usize = 40;
    if text.chars().count() > MAX {
        text.chars().take(MAX).chain("...".chars()).collect()
    } else {
        text.to_owned()
    }
}

const NAMES_GO_INSIDE_FUNCTIONS: &str =
    "; alarm names go inside ALARM(...), OK(...) or INSUFFICIENT_DATA(...)";

fn describe(kind: &ParseErrorKind, at: &Position) -> String {
    match kind {
        ParseErrorKind::Empty => "the rule is empty; write at least one of ALARM(...), OK(...), \
                                  INSUFFICIENT_DATA(...), TRUE or FALSE"
            .to_owned(),
        ParseErrorKind::Expected { expected, found } => {
            let mut message = format!("expected {expected} at {at}, found {found}");
            let keyword = match found {
                Found::Word(word) => miscased_keyword(word),
                _ => None,
            };
            if let Some(keyword) = keyword {
                message.push_str(&format!("; keywords are written in upper case: {keyword}"));
            } else {
                match (expected, found) {
                    (Expected::Operand, Found::Word(word))
                        if !KEYWORDS.contains(&word.as_str()) =>
                    {
                        message.push_str(NAMES_GO_INSIDE_FUNCTIONS)
                    }
                    (Expected::Operand, Found::Quoted(_)) => {
                        message.push_str(NAMES_GO_INSIDE_FUNCTIONS)
                    }
                    (Expected::CloseCall, Found::Word(_) | Found::Quoted(_)) => message.push_str(
                        "; an alarm name with spaces, parentheses or '\"' must be written in \
                         double quotes",
                    ),
                    (Expected::OperatorOrClose { open }, Found::End) => {
                        message.push_str(&format!("; the '(' at {open} is never closed"))
                    }
                    _ => {}
                }
            }
            message
        }
        ParseErrorKind::UnknownFunction(name) => format!(
            "unknown function {} at {at}; the rule functions are ALARM, OK and INSUFFICIENT_DATA",
            shorten(name)
        ),
        ParseErrorKind::KeywordCase { written, keyword } => {
            format!("'{written}' at {at} must be written in upper case: {keyword}")
        }
        ParseErrorKind::UnsupportedAtLeast => format!(
            "AT_LEAST at {at} is not supported by cloudwatch-operator; write the rule with AND \
             and OR instead"
        ),
        ParseErrorKind::UnterminatedName => {
            format!("the quoted alarm name starting at {at} has no closing '\"'")
        }
        ParseErrorKind::EmptyName => format!("empty alarm name at {at}"),
        ParseErrorKind::TooDeep => format!(
            "parentheses at {at} are nested more than {MAX_ELEMENTS} deep; AWS allows at most \
             {MAX_ELEMENTS} elements in a rule"
        ),
    }
}

/// Parses an AWS composite alarm rule expression (grammar in the module documentation). The
/// result is normalized: `a AND (b AND c)` is one AND of three operands.
pub fn parse(expression: &str) -> Result<ResolvedRule, ParseError> {
    Parser::new(expression).parse()
}

impl FromStr for Rule<String> {
    type Err = ParseError;

    fn from_str(expression: &str) -> Result<Self, Self::Err> {
        parse(expression)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum TokenKind {
    Open,
    Close,
    Word(String),
    Quoted(String),
    End,
}

#[derive(Clone, Debug)]
struct Token {
    kind: TokenKind,
    at: Position,
}

impl Token {
    fn found(&self) -> Found {
        match &self.kind {
            TokenKind::Open => Found::OpenParen,
            TokenKind::Close => Found::CloseParen,
            TokenKind::Word(word) => Found::Word(word.clone()),
            TokenKind::Quoted(name) => Found::Quoted(name.clone()),
            TokenKind::End => Found::End,
        }
    }

    fn unexpected(&self, expected: Expected) -> ParseError {
        ParseError {
            kind: ParseErrorKind::Expected {
                expected,
                found: self.found(),
            },
            at: self.at,
        }
    }
}

/// Splits the expression into tokens. A lexical error ends the token list and is reported only
/// when the parser reaches it, so an earlier syntax error is reported first.
fn tokenize(input: &str) -> (Vec<Token>, Option<ParseError>) {
    let mut tokens = Vec::new();
    let mut chars = input.chars().peekable();
    let mut at = Position::START;
    while let Some(&c) = chars.peek() {
        let start = at;
        if c.is_whitespace() {
            chars.next();
            at.advance(c);
            continue;
        }
        let kind = match c {
            '(' | ')' => {
                chars.next();
                at.advance(c);
                if c == '(' {
                    TokenKind::Open
                } else {
                    TokenKind::Close
                }
            }
            '"' => {
                chars.next();
                at.advance(c);
                let mut name = String::new();
                loop {
                    let Some(c) = chars.next() else {
                        let error = ParseError {
                            kind: ParseErrorKind::UnterminatedName,
                            at: start,
                        };
                        return (tokens, Some(error));
                    };
                    at.advance(c);
                    match c {
                        '"' => break,
                        '\\' if chars.peek() == Some(&'"') => {
                            chars.next();
                            at.advance('"');
                            name.push('"');
                        }
                        _ => name.push(c),
                    }
                }
                TokenKind::Quoted(name)
            }
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '(' | ')' | '"') {
                        break;
                    }
                    chars.next();
                    at.advance(c);
                    word.push(c);
                }
                TokenKind::Word(word)
            }
        };
        tokens.push(Token { kind, at: start });
    }
    tokens.push(Token {
        kind: TokenKind::End,
        at,
    });
    (tokens, None)
}

struct Parser {
    tokens: Vec<Token>,
    lex_error: Option<ParseError>,
    index: usize,
}

/// A parenthesised group being read (or the whole rule): the OR operands read so far, the AND
/// operands of the term being read, and the NOTs in front of the operand being read.
struct Group {
    open: Option<Position>,
    or_operands: Vec<ResolvedRule>,
    and_operands: Vec<ResolvedRule>,
    nots: usize,
}

impl Group {
    fn new(open: Option<Position>) -> Self {
        Group {
            open,
            or_operands: Vec::new(),
            and_operands: Vec::new(),
            nots: 0,
        }
    }

    fn finish(mut self) -> ResolvedRule {
        self.or_operands.push(Rule::join(self.and_operands, true));
        Rule::join(self.or_operands, false)
    }
}

impl Parser {
    fn new(input: &str) -> Self {
        let (tokens, lex_error) = tokenize(input);
        Parser {
            tokens,
            lex_error,
            index: 0,
        }
    }

    fn peek(&self) -> Result<&Token, ParseError> {
        match self.tokens.get(self.index) {
            Some(token) => Ok(token),
            // Without a lexical error the list ends with `End`, which is never consumed past.
            None => Err(self
                .lex_error
                .clone()
                .expect("tokens end with End or an error")),
        }
    }

    fn next(&mut self) -> Result<Token, ParseError> {
        let token = self.peek()?.clone();
        self.index += 1;
        Ok(token)
    }

    fn eat_word(&mut self, keyword: &str) -> Result<bool, ParseError> {
        let matched = matches!(&self.peek()?.kind, TokenKind::Word(word) if word == keyword);
        if matched {
            self.index += 1;
        }
        Ok(matched)
    }

    /// The grammar's `or` / `and` / `unary` / `primary` levels, read with an explicit stack of
    /// open groups instead of recursion, so that nesting costs heap rather than thread stack.
    fn parse(mut self) -> Result<ResolvedRule, ParseError> {
        if self.peek()?.kind == TokenKind::End {
            return Err(ParseError {
                kind: ParseErrorKind::Empty,
                at: Position::START,
            });
        }
        let mut groups = vec![Group::new(None)];
        loop {
            // An operand: NOTs, then either '(' opening a group or an atom.
            let group = groups.last_mut().expect("the whole rule is a group");
            while self.eat_word("NOT")? {
                group.nots += 1;
            }
            let token = self.next()?;
            if token.kind == TokenKind::Open {
                // `groups` holds the whole rule plus every open group.
                if groups.len() > MAX_ELEMENTS {
                    return Err(ParseError {
                        kind: ParseErrorKind::TooDeep,
                        at: token.at,
                    });
                }
                groups.push(Group::new(Some(token.at)));
                continue;
            }
            let mut operand = self.atom(token)?;
            // After an operand, AND or OR continues the innermost group; anything else ends it,
            // and the finished group is in turn an operand of the group around it.
            loop {
                let group = groups.last_mut().expect("the whole rule is a group");
                for _ in 0..std::mem::take(&mut group.nots) {
                    operand = Rule::Not(Box::new(operand));
                }
                group.and_operands.push(operand);
                if self.eat_word("AND")? {
                    break;
                }
                if self.eat_word("OR")? {
                    let term = std::mem::take(&mut group.and_operands);
                    group.or_operands.push(Rule::join(term, true));
                    break;
                }
                let group = groups.pop().expect("the whole rule is a group");
                let open = group.open;
                operand = group.finish();
                let token = self.next()?;
                match (open, &token.kind) {
                    (None, TokenKind::End) => return Ok(operand),
                    (None, _) => return Err(token.unexpected(Expected::OperatorOrEnd)),
                    (Some(_), TokenKind::Close) => {}
                    (Some(open), _) => {
                        return Err(token.unexpected(Expected::OperatorOrClose { open }));
                    }
                }
            }
        }
    }

    /// `TRUE`, `FALSE` or a function call, starting at `token`.
    fn atom(&mut self, token: Token) -> Result<ResolvedRule, ParseError> {
        let TokenKind::Word(word) = &token.kind else {
            return Err(token.unexpected(Expected::Operand));
        };
        match word.as_str() {
            "TRUE" => return Ok(Rule::Const(true)),
            "FALSE" => return Ok(Rule::Const(false)),
            _ => {}
        }
        if let Some(state) = state_of_function(word) {
            return self.parse_call(state);
        }
        let error = |kind| ParseError { kind, at: token.at };
        let called = self.peek()?.kind == TokenKind::Open;
        if word.eq_ignore_ascii_case("AT_LEAST") && called {
            return Err(error(ParseErrorKind::UnsupportedAtLeast));
        }
        match miscased_keyword(word) {
            // A miscased AND/OR here is a missing operand; the generic message says so.
            Some(keyword) if !matches!(keyword, "AND" | "OR") => {
                Err(error(ParseErrorKind::KeywordCase {
                    written: word.clone(),
                    keyword,
                }))
            }
            _ if called => Err(error(ParseErrorKind::UnknownFunction(word.clone()))),
            _ => Err(token.unexpected(Expected::Operand)),
        }
    }

    fn parse_call(&mut self, state: AlarmState) -> Result<ResolvedRule, ParseError> {
        let token = self.next()?;
        if token.kind != TokenKind::Open {
            return Err(token.unexpected(Expected::OpenParenAfter(state)));
        }
        let token = self.next()?;
        let alarm = match token.kind {
            TokenKind::Word(name) => name,
            TokenKind::Quoted(name) if name.is_empty() => {
                return Err(ParseError {
                    kind: ParseErrorKind::EmptyName,
                    at: token.at,
                });
            }
            TokenKind::Quoted(name) => name,
            TokenKind::Open | TokenKind::Close | TokenKind::End => {
                return Err(token.unexpected(Expected::AlarmName));
            }
        };
        let token = self.next()?;
        if token.kind != TokenKind::Close {
            return Err(token.unexpected(Expected::CloseCall));
        }
        Ok(Rule::State { state, alarm })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn alarm(name: &str) -> ResolvedRule {
        Rule::State {
            state: AlarmState::Alarm,
            alarm: name.to_owned(),
        }
    }

    fn ok(name: &str) -> ResolvedRule {
        Rule::State {
            state: AlarmState::Ok,
            alarm: name.to_owned(),
        }
    }

    fn not(rule: ResolvedRule) -> ResolvedRule {
        Rule::Not(Box::new(rule))
    }

    fn parsed(expression: &str) -> ResolvedRule {
        parse(expression).unwrap_or_else(|error| panic!("{expression:?}: {error}"))
    }

    fn error(expression: &str) -> String {
        match parse(expression) {
            Ok(rule) => panic!("{expression:?} parsed as {rule:?}"),
            Err(error) => error.to_string(),
        }
    }

    const ARN_A: &str = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:a";

    // --- grammar -----------------------------------------------------------------------------

    #[test]
    fn each_state_function_tests_its_state() {
        for state in STATES {
            let rule = parsed(&format!("{}(cpu)", function_name(state)));
            let expected = Rule::State {
                state,
                alarm: "cpu".to_owned(),
            };
            assert_eq!(rule, expected);
        }
    }

    #[test]
    fn true_and_false_are_constants() {
        assert_eq!(parsed("TRUE"), Rule::Const(true));
        assert_eq!(parsed("FALSE"), Rule::Const(false));
    }

    #[test]
    fn quoted_and_unquoted_names_are_the_same_reference() {
        assert_eq!(parsed(r#"ALARM("cpu-high")"#), parsed("ALARM(cpu-high)"));
    }

    #[test]
    fn unquoted_name_runs_to_whitespace_or_parenthesis() {
        assert_eq!(parsed("ALARM(a.b-c_d:e,f/g)"), alarm("a.b-c_d:e,f/g"));
        assert_eq!(parsed("ALARM( spaced )"), alarm("spaced"));
        assert_eq!(parsed(&format!("ALARM({ARN_A})")), alarm(ARN_A));
    }

    #[test]
    fn keywords_inside_a_function_are_alarm_names() {
        assert_eq!(parsed("ALARM(AND)"), alarm("AND"));
        assert_eq!(parsed(r#"OK("NOT")"#), ok("NOT"));
    }

    #[test]
    fn quoted_name_keeps_spaces_parentheses_and_escaped_quotes() {
        assert_eq!(
            parsed(r#"ALARM("web (prod) \"eu\" 5xx")"#),
            alarm(r#"web (prod) "eu" 5xx"#)
        );
    }

    #[test]
    fn backslash_not_before_a_quote_is_an_ordinary_character() {
        assert_eq!(parsed(r#"ALARM("a\b\\c")"#), alarm(r"a\b\\c"));
        assert_eq!(parsed(r"ALARM(a\b)"), alarm(r"a\b"));
    }

    #[test]
    fn whitespace_and_line_breaks_between_tokens_are_ignored() {
        assert_eq!(
            parsed(" \tALARM ( a )\n AND\r\n  OK(\"b\")\n"),
            Rule::And(vec![alarm("a"), ok("b")])
        );
    }

    #[test]
    fn parentheses_only_group() {
        assert_eq!(parsed("((ALARM(a)))"), alarm("a"));
    }

    #[test]
    fn not_applies_to_the_operand_right_after_it() {
        assert_eq!(
            parsed("NOT ALARM(a) AND ALARM(b)"),
            Rule::And(vec![not(alarm("a")), alarm("b")])
        );
        assert_eq!(
            parsed("NOT(ALARM(a) OR ALARM(b))"),
            not(Rule::Or(vec![alarm("a"), alarm("b")]))
        );
    }

    #[test]
    fn and_binds_tighter_than_or() {
        assert_eq!(
            parsed("ALARM(a) OR ALARM(b) AND ALARM(c)"),
            Rule::Or(vec![alarm("a"), Rule::And(vec![alarm("b"), alarm("c")])])
        );
        assert_eq!(
            parsed("ALARM(a) AND ALARM(b) OR ALARM(c)"),
            Rule::Or(vec![Rule::And(vec![alarm("a"), alarm("b")]), alarm("c")])
        );
    }

    #[test]
    fn parentheses_override_precedence() {
        assert_eq!(
            parsed("(ALARM(a) OR ALARM(b)) AND ALARM(c)"),
            Rule::And(vec![Rule::Or(vec![alarm("a"), alarm("b")]), alarm("c")])
        );
    }

    #[test]
    fn nested_chains_of_one_operator_are_flattened() {
        let flat = Rule::And(vec![alarm("a"), alarm("b"), alarm("c")]);
        assert_eq!(parsed("ALARM(a) AND (ALARM(b) AND ALARM(c))"), flat);
        assert_eq!(parsed("(ALARM(a) AND ALARM(b)) AND ALARM(c)"), flat);
        assert_eq!(
            parsed("(ALARM(a) OR (ALARM(b))) OR ALARM(c)"),
            Rule::Or(vec![alarm("a"), alarm("b"), alarm("c")])
        );
    }

    #[test]
    fn double_negation_is_kept() {
        assert_eq!(parsed("NOT NOT ALARM(a)"), not(not(alarm("a"))));
        assert_eq!(parsed("NOT(NOT(ALARM(a)))"), not(not(alarm("a"))));
    }

    #[test]
    fn aws_documented_examples_parse_and_render_canonically() {
        // PutCompositeAlarm API reference and "Creating a composite alarm".
        let examples = [
            (
                "ALARM(CPUUtilizationTooHigh) AND ALARM(DiskReadOpsTooHigh)",
                r#"ALARM("CPUUtilizationTooHigh") AND ALARM("DiskReadOpsTooHigh")"#,
            ),
            (
                "ALARM(CPUUtilizationTooHigh) AND NOT ALARM(DeploymentInProgress)",
                r#"ALARM("CPUUtilizationTooHigh") AND NOT ALARM("DeploymentInProgress")"#,
            ),
            (
                "(ALARM(CPUUtilizationTooHigh) OR ALARM(DiskReadOpsTooHigh)) AND \
                 OK(NetworkOutTooHigh)",
                r#"(ALARM("CPUUtilizationTooHigh") OR ALARM("DiskReadOpsTooHigh")) AND OK("NetworkOutTooHigh")"#,
            ),
            (
                "(ALARM(\"CPUUtilizationTooHigh\") OR \nALARM(\"DiskReadOpsTooHigh\")) AND \n\
                 OK(\"NetworkOutTooHigh\")",
                r#"(ALARM("CPUUtilizationTooHigh") OR ALARM("DiskReadOpsTooHigh")) AND OK("NetworkOutTooHigh")"#,
            ),
        ];
        for (expression, canonical) in examples {
            assert_eq!(parsed(expression).render(), canonical, "{expression}");
        }
    }

    #[test]
    fn rules_written_by_aws_cdk_parse() {
        // The CDK renders fully parenthesised groups, `(NOT (...))` and quoted ARNs.
        let arn = |name: &str| format!("arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}");
        let expression = format!(
            r#"(((ALARM("{}") OR OK("{}") OR ALARM("{}")) AND (NOT (INSUFFICIENT_DATA("{}")))) OR FALSE)"#,
            arn("a"),
            arn("b"),
            arn("c"),
            arn("d")
        );
        let expected = Rule::Or(vec![
            Rule::And(vec![
                Rule::Or(vec![alarm(&arn("a")), ok(&arn("b")), alarm(&arn("c"))]),
                not(Rule::State {
                    state: AlarmState::InsufficientData,
                    alarm: arn("d"),
                }),
            ]),
            Rule::Const(false),
        ]);
        assert_eq!(parsed(&expression), expected);
    }

    // --- parse errors ------------------------------------------------------------------------

    #[test]
    fn empty_rule_is_rejected() {
        for expression in ["", "  \n\t"] {
            assert_eq!(
                error(expression),
                "the rule is empty; write at least one of ALARM(...), OK(...), \
                 INSUFFICIENT_DATA(...), TRUE or FALSE"
            );
        }
    }

    #[test]
    fn unquoted_name_with_a_space_points_at_the_second_word() {
        assert_eq!(
            error("ALARM(abcdefghi k)"),
            "expected ')' at column 17, found 'k'; an alarm name with spaces, parentheses or '\"' \
             must be written in double quotes"
        );
    }

    #[test]
    fn unclosed_group_names_the_open_parenthesis() {
        assert_eq!(
            error("(ALARM(a) OR OK(b)"),
            "expected AND, OR or ')' at column 19, found the end of the rule; the '(' at column 1 \
             is never closed"
        );
        assert_eq!(
            error("(ALARM(a) XOR OK(b))"),
            "expected AND, OR or ')' at column 11, found 'XOR'"
        );
    }

    #[test]
    fn unknown_function_is_named() {
        assert_eq!(
            error("FOO(a)"),
            "unknown function FOO at column 1; the rule functions are ALARM, OK and \
             INSUFFICIENT_DATA"
        );
    }

    #[test]
    fn lower_case_function_or_literal_names_the_upper_case_keyword() {
        assert_eq!(
            error("alarm(a)"),
            "'alarm' at column 1 must be written in upper case: ALARM"
        );
        assert_eq!(
            error("ALARM(a) AND Insufficient_Data(b)"),
            "'Insufficient_Data' at column 14 must be written in upper case: INSUFFICIENT_DATA"
        );
        assert_eq!(
            error("true"),
            "'true' at column 1 must be written in upper case: TRUE"
        );
        assert_eq!(
            error("not ALARM(a)"),
            "'not' at column 1 must be written in upper case: NOT"
        );
    }

    #[test]
    fn lower_case_operator_names_the_upper_case_keyword() {
        assert_eq!(
            error("ALARM(a) and OK(b)"),
            "expected AND, OR or the end of the rule at column 10, found 'and'; keywords are \
             written in upper case: AND"
        );
    }

    #[test]
    fn at_least_is_rejected_as_unsupported() {
        assert_eq!(
            error("AT_LEAST(2, ALARM, (a, b, c))"),
            "AT_LEAST at column 1 is not supported by cloudwatch-operator; write the rule with \
             AND and OR instead"
        );
    }

    #[test]
    fn unterminated_quoted_name_points_at_its_opening_quote() {
        assert_eq!(
            error(r#"ALARM(a) OR ALARM("abc"#),
            "the quoted alarm name starting at column 19 has no closing '\"'"
        );
        // An escaped quote does not close the name.
        assert_eq!(
            error(r#"ALARM("abc\")"#),
            "the quoted alarm name starting at column 7 has no closing '\"'"
        );
    }

    #[test]
    fn syntax_error_before_an_unterminated_name_is_reported_first() {
        assert_eq!(
            error(r#"ALARM(a) XOR "abc"#),
            "expected AND, OR or the end of the rule at column 10, found 'XOR'"
        );
    }

    #[test]
    fn empty_or_missing_alarm_name_is_rejected() {
        assert_eq!(error(r#"ALARM("")"#), "empty alarm name at column 7");
        assert_eq!(
            error("ALARM()"),
            "expected an alarm name or ARN at column 7, found ')'"
        );
    }

    #[test]
    fn function_without_parenthesis_is_rejected() {
        assert_eq!(
            error("ALARM a"),
            "expected '(' after ALARM at column 7, found 'a'"
        );
    }

    #[test]
    fn bare_alarm_name_is_rejected_with_a_hint() {
        assert_eq!(
            error("CPUHigh AND OK(b)"),
            "expected ALARM(...), OK(...), INSUFFICIENT_DATA(...), TRUE, FALSE, NOT or '(' at \
             column 1, found 'CPUHigh'; alarm names go inside ALARM(...), OK(...) or \
             INSUFFICIENT_DATA(...)"
        );
        assert_eq!(
            error(r#"ALARM(a) OR "b""#),
            "expected ALARM(...), OK(...), INSUFFICIENT_DATA(...), TRUE, FALSE, NOT or '(' at \
             column 13, found \"b\"; alarm names go inside ALARM(...), OK(...) or \
             INSUFFICIENT_DATA(...)"
        );
    }

    #[test]
    fn missing_operands_are_rejected() {
        let operand =
            "expected ALARM(...), OK(...), INSUFFICIENT_DATA(...), TRUE, FALSE, NOT or '('";
        assert_eq!(
            error("ALARM(a) AND"),
            format!("{operand} at column 13, found the end of the rule")
        );
        assert_eq!(
            error("ALARM(a) AND OR OK(b)"),
            format!("{operand} at column 14, found 'OR'")
        );
        assert_eq!(
            error("ALARM(a) AND or OK(b)"),
            format!("{operand} at column 14, found 'or'; keywords are written in upper case: OR")
        );
        assert_eq!(error("()"), format!("{operand} at column 2, found ')'"));
        assert_eq!(
            error("NOT"),
            format!("{operand} at column 4, found the end of the rule")
        );
    }

    #[test]
    fn trailing_input_is_rejected() {
        assert_eq!(
            error("ALARM(a))"),
            "expected AND, OR or the end of the rule at column 9, found ')'"
        );
        assert_eq!(
            error("ALARM(a) OK(b)"),
            "expected AND, OR or the end of the rule at column 10, found 'OK'"
        );
    }

    #[test]
    fn positions_on_later_lines_give_line_and_column() {
        assert_eq!(
            error("ALARM(a) AND\n  FOO(b)"),
            "unknown function FOO at line 2, column 3; the rule functions are ALARM, OK and \
             INSUFFICIENT_DATA"
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        assert_eq!(
            error(r#"ALARM("é") FOO"#),
            "expected AND, OR or the end of the rule at column 12, found 'FOO'"
        );
    }

    #[test]
    fn nesting_deeper_than_the_element_limit_is_rejected_without_overflowing() {
        let deep = |depth: usize| format!("{}TRUE{}", "(".repeat(depth), ")".repeat(depth));
        assert_eq!(parsed(&deep(MAX_ELEMENTS)), Rule::Const(true));
        assert_eq!(
            error(&deep(MAX_ELEMENTS + 1)),
            "parentheses at column 501 are nested more than 500 deep; AWS allows at most 500 \
             elements in a rule"
        );
        assert!(parse(&deep(100_000)).is_err());
    }

    #[test]
    fn long_run_of_not_parses_without_recursion() {
        let expression = format!("{}ALARM(a)", "NOT ".repeat(2_000));
        let rule = parsed(&expression);
        assert_eq!(
            rule.render(),
            format!("{}ALARM(\"a\")", "NOT ".repeat(2_000))
        );
    }

    // --- rendering ---------------------------------------------------------------------------

    #[test]
    fn rendering_quotes_names_upper_cases_keywords_and_uses_single_spaces() {
        let rule = Rule::And(vec![
            alarm("a"),
            not(ok("b")),
            Rule::State {
                state: AlarmState::InsufficientData,
                alarm: "c".to_owned(),
            },
            Rule::Const(true),
        ]);
        assert_eq!(
            rule.render(),
            r#"ALARM("a") AND NOT OK("b") AND INSUFFICIENT_DATA("c") AND TRUE"#
        );
    }

    #[test]
    fn rendering_parenthesises_every_group_inside_another_operator() {
        // AWS does not document AND over OR, so the rendering never relies on it.
        let rule = Rule::Or(vec![alarm("a"), Rule::And(vec![alarm("b"), alarm("c")])]);
        assert_eq!(
            rule.render(),
            r#"ALARM("a") OR (ALARM("b") AND ALARM("c"))"#
        );
        let rule = not(Rule::And(vec![alarm("a"), alarm("b")]));
        assert_eq!(rule.render(), r#"NOT (ALARM("a") AND ALARM("b"))"#);
    }

    #[test]
    fn rendering_escapes_double_quotes_and_nothing_else() {
        let rule = alarm(r#"say "hi" \ now"#);
        assert_eq!(rule.render(), r#"ALARM("say \"hi\" \ now")"#);
        assert_eq!(parsed(&rule.render()), rule);
    }

    #[test]
    fn rendering_keeps_an_arn_as_written() {
        assert_eq!(alarm(ARN_A).render(), format!("ALARM(\"{ARN_A}\")"));
    }

    #[test]
    fn rendering_flattens_and_unwraps_groups() {
        let rule = Rule::And(vec![
            Rule::And(vec![alarm("a"), Rule::Or(vec![alarm("b")])]),
            Rule::And(vec![alarm("c")]),
        ]);
        assert_eq!(rule.render(), r#"ALARM("a") AND ALARM("b") AND ALARM("c")"#);
    }

    #[test]
    fn empty_groups_render_as_their_identity() {
        assert_eq!(Rule::<String>::And(vec![]).render(), "TRUE");
        assert_eq!(Rule::<String>::Or(vec![]).render(), "FALSE");
    }

    #[test]
    fn canonical_form_ignores_spacing_and_quoting() {
        assert_eq!(
            canonical("ALARM(a)  AND\n(OK(\"b\"))").unwrap(),
            canonical(r#"ALARM("a") AND OK(b)"#).unwrap()
        );
    }

    #[test]
    fn rule_reads_and_prints_through_from_str_and_display() {
        let rule: ResolvedRule = "ALARM(a) OR OK(b)".parse().unwrap();
        assert_eq!(rule.to_string(), r#"ALARM("a") OR OK("b")"#);
    }

    // --- validation --------------------------------------------------------------------------

    fn problems<A: AlarmReference>(rule: &Rule<A>) -> Vec<RuleProblem> {
        rule.validate()
            .err()
            .map(|invalid| invalid.problems)
            .unwrap_or_default()
    }

    #[test]
    fn valid_rule_passes_validation() {
        let rule = parsed("(ALARM(a) OR ALARM(b)) AND NOT OK(c) AND TRUE");
        assert_eq!(rule.validate(), Ok(()));
    }

    #[test]
    fn empty_groups_are_reported_with_their_path() {
        let rule: Rule = Rule::And(vec![
            Rule::Or(vec![]),
            Rule::Not(Box::new(Rule::And(vec![]))),
        ]);
        let invalid = rule.validate().unwrap_err();
        assert_eq!(
            invalid.problems,
            vec![
                RuleProblem::EmptyGroup {
                    operator: "OR (anyOf)",
                    at: "allOf[0]".to_owned()
                },
                RuleProblem::EmptyGroup {
                    operator: "AND (allOf)",
                    at: "allOf[1].not".to_owned()
                },
            ]
        );
        assert_eq!(
            invalid.to_string(),
            "invalid composite alarm rule: the OR (anyOf) group at allOf[0] has no operands; give \
             it at least one; the AND (allOf) group at allOf[1].not has no operands; give it at \
             least one"
        );
        let top: Rule = Rule::Or(vec![]);
        assert_eq!(
            top.validate().unwrap_err().to_string(),
            "invalid composite alarm rule: the OR (anyOf) group at the top level has no \
             operands; give it at least one"
        );
    }

    fn or_of_names(names: impl IntoIterator<Item = String>) -> ResolvedRule {
        Rule::Or(names.into_iter().map(|name| alarm(&name)).collect())
    }

    #[test]
    fn at_most_one_hundred_distinct_children() {
        let names = |count: usize| (0..count).map(|i| format!("alarm-{i}"));
        assert_eq!(or_of_names(names(MAX_CHILDREN)).validate(), Ok(()));
        assert_eq!(
            problems(&or_of_names(names(MAX_CHILDREN + 1))),
            vec![RuleProblem::TooManyChildren { count: 101 }]
        );
    }

    #[test]
    fn repeated_child_and_its_arn_count_as_one_child() {
        let mut names: Vec<String> = (0..MAX_CHILDREN).map(|i| format!("alarm-{i}")).collect();
        names.push("alarm-0".to_owned());
        names.push("arn:aws:cloudwatch:us-east-1:123456789012:alarm:alarm-1".to_owned());
        assert_eq!(or_of_names(names).validate(), Ok(()));
    }

    #[test]
    fn at_most_five_hundred_elements_counting_groups() {
        let repeated = |count: usize| or_of_names((0..count).map(|i| format!("a{}", i % 10)));
        assert_eq!(repeated(MAX_ELEMENTS).validate(), Ok(()));
        assert_eq!(
            problems(&repeated(MAX_ELEMENTS + 1)),
            vec![RuleProblem::TooManyElements { count: 501 }]
        );
        // Four functions and two parenthesised groups.
        let grouped = parsed("(ALARM(a) AND ALARM(b)) OR (ALARM(c) AND NOT (OK(d)))");
        assert_eq!(grouped.element_count(), 6);
    }

    /// An OR of `lengths.len()` distinct names whose rendering has exactly `total` characters.
    fn rule_rendering_to(total: usize) -> ResolvedRule {
        // `ALARM("name")` is 9 + len characters and " OR " is 4: 39 terms leave 9,737 for names.
        let terms = 39;
        let mut remaining = total - (terms * 9 + (terms - 1) * 4);
        let names = (0..terms).map(|i| {
            let length = if i + 1 == terms { remaining } else { 250 };
            remaining -= length;
            format!("{i:03}{}", "x".repeat(length - 3))
        });
        or_of_names(names.collect::<Vec<_>>())
    }

    #[test]
    fn rendered_length_is_at_most_10240_characters() {
        let longest = rule_rendering_to(MAX_RULE_CHARS);
        assert_eq!(longest.render().chars().count(), MAX_RULE_CHARS);
        assert_eq!(longest.validate(), Ok(()));
        let too_long = rule_rendering_to(MAX_RULE_CHARS + 1);
        assert_eq!(
            problems(&too_long),
            vec![RuleProblem::TooLong { length: 10_241 }]
        );
    }

    #[test]
    fn unusable_references_are_each_reported_once() {
        let long = "n".repeat(256);
        let rule = Rule::Or(vec![
            alarm("arn:aws:sns:us-east-1:123456789012:topic"),
            alarm(&long),
            alarm(&format!(
                "arn:aws:cloudwatch:us-east-1:123456789012:alarm:{long}"
            )),
            alarm(r"ends\"),
            alarm(r"ends\"),
            alarm(""),
        ]);
        assert_eq!(
            problems(&rule),
            vec![
                RuleProblem::NotAnAlarmArn {
                    reference: "arn:aws:sns:us-east-1:123456789012:topic".to_owned()
                },
                RuleProblem::AlarmNameTooLong {
                    name: long.clone(),
                    length: 256
                },
                RuleProblem::AlarmNameTooLong {
                    name: long.clone(),
                    length: 256
                },
                RuleProblem::TrailingBackslash {
                    reference: r"ends\".to_owned()
                },
                RuleProblem::EmptyAlarmName {
                    at: "anyOf[5]".to_owned()
                },
            ]
        );
        assert_eq!(
            RuleProblem::TrailingBackslash {
                reference: r"ends\".to_owned()
            }
            .to_string(),
            r#"alarm reference "ends\" ends with a backslash, which AWS reads as escaping the closing quote; such an alarm cannot be named in a rule"#
        );
    }

    #[test]
    fn unresolved_rule_is_validated_except_for_its_length() {
        let rule: Rule = Rule::And(vec![
            Rule::State {
                state: AlarmState::Alarm,
                alarm: ChildRef::Object(String::new()),
            },
            Rule::State {
                state: AlarmState::Ok,
                alarm: ChildRef::Object("x".repeat(20_000)),
            },
        ]);
        assert_eq!(
            problems(&rule),
            vec![RuleProblem::EmptyObjectName {
                at: "allOf[0]".to_owned()
            }]
        );
    }

    // --- references --------------------------------------------------------------------------

    fn object(name: &str) -> Rule {
        Rule::State {
            state: AlarmState::Alarm,
            alarm: ChildRef::Object(name.to_owned()),
        }
    }

    #[test]
    fn resolving_replaces_alarm_objects_with_their_aws_names() {
        let rule: Rule = Rule::And(vec![object("cpu"), Rule::from(ok("disk"))]);
        let resolved = rule
            .resolve(|name| (name == "cpu").then(|| "prod-cpu-high".to_owned()))
            .unwrap();
        assert_eq!(
            resolved,
            Rule::And(vec![alarm("prod-cpu-high"), ok("disk")])
        );
    }

    #[test]
    fn resolving_lists_every_missing_object_once_sorted() {
        let rule: Rule = Rule::Or(vec![object("zeta"), object("alpha"), object("zeta")]);
        let unresolved = rule.resolve(|_| None).unwrap_err();
        assert_eq!(
            unresolved.objects,
            BTreeSet::from(["alpha".to_owned(), "zeta".to_owned()])
        );
        assert_eq!(
            unresolved.to_string(),
            "the rule references Alarm objects that do not exist or have no AWS alarm yet: \
             alpha, zeta"
        );
    }

    #[test]
    fn children_reduce_arns_to_names_and_appear_once() {
        let rule: Rule = Rule::And(vec![
            Rule::from(parsed(&format!("ALARM(a) OR OK({ARN_A}) OR ALARM(b)"))),
            object("cpu"),
            object("cpu"),
        ]);
        assert_eq!(
            children(&rule),
            BTreeSet::from([
                ChildRef::Name("a".to_owned()),
                ChildRef::Name("b".to_owned()),
                ChildRef::Object("cpu".to_owned()),
            ])
        );
        let resolved = parsed(&format!("ALARM(a) OR OK({ARN_A}) OR ALARM(b)"));
        assert_eq!(
            child_names(&resolved),
            BTreeSet::from(["a".to_owned(), "b".to_owned()])
        );
    }

    #[test]
    fn alarm_arns_yield_their_name_in_every_partition() {
        assert_eq!(alarm_name(ARN_A), "a");
        assert_eq!(
            alarm_name("arn:aws-cn:cloudwatch:cn-north-1:123456789012:alarm:x:y"),
            "x:y"
        );
        assert_eq!(
            alarm_name("arn:aws-us-gov:cloudwatch:us-gov-west-1:123456789012:alarm:g"),
            "g"
        );
        assert_eq!(alarm_name("plain-name"), "plain-name");
        assert_eq!(
            alarm_name("arn:aws:sns:us-east-1:1:alarm:x"),
            "arn:aws:sns:us-east-1:1:alarm:x"
        );
        assert!(!is_alarm_arn(
            "arn:aws:cloudwatch:us-east-1:123456789012:alarm:"
        ));
    }

    // --- the structured form -----------------------------------------------------------------

    fn alarm_ref(object: &str, state: AlarmState) -> AlarmCondition {
        AlarmCondition {
            alarm_ref: Some(object.to_owned()),
            alarm_name: None,
            state,
        }
    }

    fn alarm_named(name: &str) -> AlarmCondition {
        AlarmCondition {
            alarm_ref: None,
            alarm_name: Some(name.to_owned()),
            state: AlarmState::Alarm,
        }
    }

    #[test]
    fn structured_rule_converts_node_for_node() {
        // anyOf: [ {alarm: {alarmRef: cpu}}, {allOf: [ {not: {alarm: {alarmName: deploy}}},
        //          {alarm: {alarmRef: disk, state: OK}} ]}, {constant: "FALSE"} ]
        let node = AlarmRuleNode {
            any_of: vec![
                AlarmRuleNode2 {
                    alarm: Some(alarm_ref("cpu", AlarmState::Alarm)),
                    ..Default::default()
                },
                AlarmRuleNode2 {
                    all_of: vec![
                        AlarmRuleNode3 {
                            not: Some(Box::new(AlarmRuleNode4 {
                                alarm: Some(alarm_named("deploy")),
                                ..Default::default()
                            })),
                            ..Default::default()
                        },
                        AlarmRuleNode3 {
                            alarm: Some(alarm_ref("disk", AlarmState::Ok)),
                            ..Default::default()
                        },
                    ],
                    ..Default::default()
                },
                AlarmRuleNode2 {
                    constant: Some(RuleConstant::False),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let expected: Rule = Rule::Or(vec![
            object("cpu"),
            Rule::And(vec![
                Rule::Not(Box::new(Rule::State {
                    state: AlarmState::Alarm,
                    alarm: ChildRef::Name("deploy".to_owned()),
                })),
                Rule::State {
                    state: AlarmState::Ok,
                    alarm: ChildRef::Object("disk".to_owned()),
                },
            ]),
            Rule::Const(false),
        ]);
        assert_eq!(Rule::try_from(&node), Ok(expected));

        let resolved = Rule::try_from(&node)
            .unwrap()
            .resolve(|object| Some(format!("prod-{object}")))
            .unwrap();
        assert_eq!(
            resolved.render(),
            r#"ALARM("prod-cpu") OR (NOT ALARM("deploy") AND OK("prod-disk")) OR FALSE"#
        );
    }

    #[test]
    fn structured_rule_reaches_the_fifth_level() {
        let leaf = AlarmRuleLeaf {
            alarm: Some(alarm_named("deepest")),
            constant: None,
        };
        let node = AlarmRuleNode {
            not: Some(Box::new(AlarmRuleNode2 {
                not: Some(Box::new(AlarmRuleNode3 {
                    not: Some(Box::new(AlarmRuleNode4 {
                        all_of: vec![leaf],
                        ..Default::default()
                    })),
                    ..Default::default()
                })),
                ..Default::default()
            })),
            ..Default::default()
        };
        let rule = Rule::try_from(&node).unwrap();
        assert_eq!(
            rule.resolve(|_| None).unwrap().render(),
            r#"NOT NOT NOT ALARM("deepest")"#
        );
    }

    #[test]
    fn structured_condition_with_no_field_or_several_is_reported_with_its_path() {
        let node = AlarmRuleNode {
            all_of: vec![
                AlarmRuleNode2::default(),
                AlarmRuleNode2 {
                    constant: Some(RuleConstant::True),
                    alarm: Some(alarm_named("a")),
                    ..Default::default()
                },
                AlarmRuleNode2 {
                    alarm: Some(AlarmCondition {
                        alarm_ref: Some("cpu".to_owned()),
                        alarm_name: Some("cpu".to_owned()),
                        state: AlarmState::Alarm,
                    }),
                    ..Default::default()
                },
                AlarmRuleNode2 {
                    alarm: Some(AlarmCondition::default()),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let invalid = Rule::try_from(&node).unwrap_err();
        let messages: Vec<String> = invalid.problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            vec![
                "the rule condition at allOf[0] sets none of them; set exactly one of anyOf, \
                 allOf, not, alarm or constant",
                "the rule condition at allOf[1] sets alarm and constant; set exactly one of \
                 anyOf, allOf, not, alarm or constant",
                "the alarm condition at allOf[2].alarm sets alarmRef and alarmName; set exactly \
                 one of alarmRef or alarmName",
                "the alarm condition at allOf[3].alarm sets none of them; set exactly one of \
                 alarmRef or alarmName",
            ]
        );
        let empty = AlarmRuleNode::default();
        assert_eq!(
            Rule::try_from(&empty).unwrap_err().to_string(),
            "invalid composite alarm rule: the rule condition at the top level sets none of \
             them; set exactly one of anyOf, allOf, not, alarm or constant"
        );
    }

    // --- properties --------------------------------------------------------------------------

    fn name_strategy() -> impl Strategy<Value = String> {
        prop_oneof![
            "[A-Za-z0-9_.-]{1,12}",
            // Spaces, parentheses, quotes, backslashes (never last) and non-ASCII.
            "[ A-Za-z0-9()\"\\\\:,é]{0,11}[A-Za-z0-9()\" :,é]",
            prop::sample::select(vec!["AND", "OR", "NOT", "TRUE", "ALARM", "AT_LEAST"])
                .prop_map(str::to_owned),
            "[A-Za-z0-9_-]{1,10}"
                .prop_map(|name| format!("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:{name}")),
        ]
    }

    fn rule_strategy() -> impl Strategy<Value = ResolvedRule> {
        let leaf = prop_oneof![
            any::<bool>().prop_map(Rule::Const),
            (prop::sample::select(STATES.to_vec()), name_strategy())
                .prop_map(|(state, alarm)| Rule::State { state, alarm }),
        ];
        leaf.prop_recursive(6, 64, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Rule::And),
                prop::collection::vec(inner.clone(), 0..4).prop_map(Rule::Or),
                inner.prop_map(|rule| Rule::Not(Box::new(rule))),
            ]
        })
    }

    /// Writes a rule the way a person might: uneven whitespace, unquoted names where allowed,
    /// redundant parentheses. `choices` drives every decision.
    struct NoisyWriter<'a> {
        choices: &'a [u8],
        next: usize,
        out: String,
    }

    impl NoisyWriter<'_> {
        fn pick(&mut self, options: usize) -> usize {
            let choice = self.choices[self.next % self.choices.len()];
            self.next += 1;
            usize::from(choice) % options
        }

        fn gap(&mut self) {
            let gap = [" ", "  ", "\n", "\t", " \r\n "][self.pick(5)];
            self.out.push_str(gap);
        }

        fn optional_gap(&mut self) {
            let gap = ["", "", " ", "\n"][self.pick(4)];
            self.out.push_str(gap);
        }

        fn rule(&mut self, rule: &ResolvedRule) {
            if self.pick(5) == 0 {
                self.out.push('(');
                self.optional_gap();
                self.bare(rule);
                self.optional_gap();
                self.out.push(')');
            } else {
                self.bare(rule);
            }
        }

        fn operand(&mut self, rule: &ResolvedRule) {
            if matches!(rule, Rule::And(_) | Rule::Or(_)) {
                self.out.push('(');
                self.optional_gap();
                self.rule(rule);
                self.optional_gap();
                self.out.push(')');
            } else {
                self.rule(rule);
            }
        }

        fn bare(&mut self, rule: &ResolvedRule) {
            match rule {
                Rule::Const(value) => self.out.push_str(if *value { "TRUE" } else { "FALSE" }),
                Rule::State { state, alarm } => {
                    self.out.push_str(function_name(*state));
                    self.optional_gap();
                    self.out.push('(');
                    self.optional_gap();
                    let plain = !alarm
                        .chars()
                        .any(|c| c.is_whitespace() || matches!(c, '(' | ')' | '"'));
                    if plain && self.pick(2) == 0 {
                        self.out.push_str(alarm);
                    } else {
                        write_quoted(alarm, &mut self.out);
                    }
                    self.optional_gap();
                    self.out.push(')');
                }
                Rule::Not(inner) => {
                    self.out.push_str("NOT");
                    self.gap();
                    self.operand(inner);
                }
                Rule::And(items) | Rule::Or(items) => {
                    let operator = if matches!(rule, Rule::And(_)) {
                        "AND"
                    } else {
                        "OR"
                    };
                    for (index, item) in items.iter().enumerate() {
                        if index > 0 {
                            self.gap();
                            self.out.push_str(operator);
                            self.gap();
                        }
                        self.operand(item);
                    }
                }
            }
        }
    }

    proptest! {
        #[test]
        fn parsing_the_rendering_gives_the_normalized_rule(rule in rule_strategy()) {
            let rendered = rule.render();
            prop_assert_eq!(parse(&rendered), Ok(rule.normalize()), "{}", rendered);
        }

        #[test]
        fn rendering_is_idempotent(rule in rule_strategy()) {
            let rendered = rule.render();
            prop_assert_eq!(canonical(&rendered), Ok(rendered));
        }

        #[test]
        fn normalizing_twice_changes_nothing(rule in rule_strategy()) {
            let once = rule.normalize();
            prop_assert_eq!(once.clone().normalize(), once);
        }

        #[test]
        fn any_spelling_of_a_rule_parses_to_the_same_tree(
            rule in rule_strategy(),
            choices in prop::collection::vec(any::<u8>(), 1..64),
        ) {
            let rule = rule.normalize();
            let mut writer = NoisyWriter { choices: &choices, next: 0, out: String::new() };
            writer.rule(&rule);
            prop_assert_eq!(parse(&writer.out), Ok(rule), "{}", writer.out);
        }

        #[test]
        fn parsing_any_text_never_panics_and_what_parses_is_canonical_once_rendered(
            text in "(ALARM|OK|INSUFFICIENT_DATA|NOT|AND|OR|TRUE|FALSE|[()\" a-z\\\\\n])*",
        ) {
            if let Ok(rule) = parse(&text) {
                let rendered = rule.render();
                prop_assert_eq!(canonical(&rendered), Ok(rendered));
            }
        }

        #[test]
        fn parsing_arbitrary_unicode_never_panics(text in "\\PC*") {
            let _ = parse(&text);
        }
    }
}
