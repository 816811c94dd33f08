//! The rule of a composite alarm, and everything pure about it: one AST for both ways a user can
//! write it (the AWS expression string and the structured `allOf` / `anyOf` / `not` form), the
//! parser for the expression string, the canonical rendering sent to PutCompositeAlarm, the
//! validation against AWS's limits, and the resolution of references to `Alarm` objects into AWS
//! alarm names.
//!
//! # The expression language
//!
//! As documented for PutCompositeAlarm's `AlarmRule` (API reference) and in the user guide
//! ("Creating a composite alarm", "Composite alarms"), with the `AT_LEAST` function added in
//! November 2025:
//!
//! ```text
//! rule      = or EOF
//! or        = and { "OR" and }
//! and       = unary { "AND" unary }
//! unary     = { "NOT" } primary
//! primary   = "(" or ")" | "TRUE" | "FALSE" | state "(" alarm ")" | at_least
//! at_least  = "AT_LEAST" "(" threshold "," [ "NOT" ] state "," "(" alarm { "," alarm } ")" ")"
//! threshold = digits | digits "%"                a count, or a percentage of the listed alarms
//! state     = "ALARM" | "OK" | "INSUFFICIENT_DATA"
//! alarm     = quoted | unquoted                  an alarm name or an alarm ARN
//! quoted    = '"' { '\"' | any character but '"' } '"'
//! unquoted  = 1*( any character but whitespace, '(', ')' and '"'; inside AT_LEAST also ',' )
//! ```
//!
//! `AT_LEAST(2, ALARM, (a, b, c))` is true while at least two of `a`, `b` and `c` are in ALARM;
//! `AT_LEAST(60%, NOT OK, (a, b, c))` while at least 60% of them are not in OK. The count is 1
//! to the number of alarms listed and the percentage 1 to 100, as the AWS CDK checks them
//! (`AtLeastThreshold.count` / `.percentage`).
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
//! - Inside `AT_LEAST(...)` a comma separates arguments, so an unquoted name there also ends at
//!   a comma (`(alarm_arn_1, alarm_arn_2)` is how AWS and the CDK write the list); outside it a
//!   comma is an ordinary character of a name, as it always was.
//! - An `AT_LEAST` list counts as one element for its parentheses plus one per alarm, and its
//!   alarms count toward the 100 children like any other.
//! - The same alarm twice in one `AT_LEAST` list is refused: whether AWS would count it once or
//!   twice is not documented, and either way the threshold would not mean what it says.
//!
//! # Canonical rendering
//!
//! Keywords in upper case, every alarm reference of `ALARM(...)`, `OK(...)` and
//! `INSUFFICIENT_DATA(...)` in double quotes, single spaces, nested groups of the same operator
//! flattened, and parentheses exactly around AND/OR groups that are an operand of another
//! operator. `AT_LEAST` is written `AT_LEAST(2, NOT OK, (a, "b c"))`: a listed alarm is quoted
//! only when it cannot be written bare (whitespace, parentheses, '"' or ','), since the list
//! form AWS documents and the CDK renders is bare, comma-separated names. References keep the form the user wrote (name or ARN): rewriting
//! an ARN into a name would silently drop the account and region the user pinned, and only the
//! dependency graph needs the bare name ([`children`], [`alarm_name`]).
//!
//! The rendering is what PutCompositeAlarm receives and what drift detection compares
//! DescribeAlarms' `AlarmRule` with. Compare through [`canonical`]: then a rule handed back with
//! other spacing or quoting is not drift, while any change of meaning is.
//! `parse(render(r)) == r.normalize()` and rendering is idempotent; both are property-tested.

mod parse;
mod render;
mod structured;
#[cfg(test)]
pub(crate) mod tests;
mod validate;

pub use parse::{Expected, Found, ParseError, ParseErrorKind, Position, parse};
pub use render::canonical;
pub use structured::to_structured;
pub use validate::{InvalidRule, RuleProblem};

use std::collections::BTreeSet;
use std::fmt;

use crate::cloudwatch_alarm::spec::AlarmState;

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
    /// `AT_LEAST(threshold, [NOT] state, (alarms))`: true while at least `threshold` of `alarms`
    /// are in `state` (not in `state` when `negated`).
    AtLeast {
        threshold: Threshold,
        negated: bool,
        state: AlarmState,
        alarms: Vec<A>,
    },
}

/// How many of an `AT_LEAST` list must match: a count (`2`) or a percentage of the list (`60%`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Threshold {
    /// At least this many alarms: 1 to the number listed.
    Count(u32),
    /// At least this percentage of the alarms listed: 1 to 100.
    Percent(u32),
}

/// The largest `AT_LEAST` percentage.
pub const MAX_AT_LEAST_PERCENT: u32 = 100;

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Threshold::Count(count) => write!(f, "{count}"),
            Threshold::Percent(percent) => write!(f, "{percent}%"),
        }
    }
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
            leaf @ (Rule::State { .. } | Rule::Const(_) | Rule::AtLeast { .. }) => leaf,
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
            Rule::AtLeast {
                threshold,
                negated,
                state,
                alarms,
            } => Rule::AtLeast {
                threshold: *threshold,
                negated: *negated,
                state: *state,
                alarms: alarms.iter().map(&mut *f).collect(),
            },
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
            Rule::AtLeast { alarms, .. } => out.extend(alarms),
            Rule::Const(_) => {}
        }
    }

    /// Elements as AWS counts them toward [`MAX_ELEMENTS`], in the canonical rendering: each
    /// alarm function and TRUE/FALSE is one, each parenthesised group is one, and an
    /// `AT_LEAST` is one for its list's parentheses plus one per alarm listed.
    pub fn element_count(&self) -> usize
    where
        A: Clone,
    {
        fn count<A>(rule: &Rule<A>, operand: bool) -> usize {
            match rule {
                Rule::State { .. } | Rule::Const(_) => 1,
                Rule::AtLeast { alarms, .. } => 1 + alarms.len(),
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
