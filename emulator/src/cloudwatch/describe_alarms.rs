//! DescribeAlarms: list alarms by names, prefix, type, state or action, or walk the
//! composite graph (ChildrenOfAlarmName / ParentsOfAlarmName), paged by name.
//!
//! AWS semantics modelled: at most 100 AlarmNames, not together with AlarmNamePrefix;
//! without AlarmTypes only metric alarms come back; MaxRecords 1–100 (default 50) with
//! NextToken; the graph walks return the reduced views the API reference describes and
//! accept no other filter. Lookups by name cost O(names), listings O(page).

use std::collections::BTreeSet;
use std::ops::Bound;

use serde::{Deserialize, Serialize};

use super::alarm_checks::STATE_VALUES;
use super::model::{AlarmSummary, CompositeAlarm, MetricAlarm};
use super::state::{AlarmRecord, CloudWatchState, StoredAlarm};
use super::{invalid_next_token, invalid_parameter_combination, validation_error};
use crate::call::Call;
use crate::error::AwsResult;
use crate::paging;
use crate::validation::{Violations, element_path};

const DEFAULT_MAX_RECORDS: usize = 50;
const ALARM_TYPES: &[&str] = &["CompositeAlarm", "MetricAlarm"];

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeAlarmsInput {
    pub alarm_names: Option<Vec<String>>,
    pub alarm_name_prefix: Option<String>,
    pub alarm_types: Option<Vec<String>>,
    pub children_of_alarm_name: Option<String>,
    pub parents_of_alarm_name: Option<String>,
    pub state_value: Option<String>,
    pub action_prefix: Option<String>,
    pub max_records: Option<i64>,
    pub next_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum AlarmView {
    Metric(Box<MetricAlarm>),
    Composite(Box<CompositeAlarm>),
    Summary(AlarmSummary),
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeAlarmsOutput {
    pub composite_alarms: Vec<AlarmView>,
    pub metric_alarms: Vec<AlarmView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// Which view a graph walk returns.
#[derive(Clone, Copy, PartialEq)]
enum Walk {
    Children,
    Parents,
}

struct Filters<'a> {
    metric: bool,
    composite: bool,
    state: Option<&'a str>,
    action_prefix: Option<&'a str>,
}

impl Filters<'_> {
    fn matches(&self, alarm: &AlarmRecord) -> bool {
        let type_ok = if alarm.is_composite() {
            self.composite
        } else {
            self.metric
        };
        type_ok
            && self.state.is_none_or(|s| alarm.state_value() == s)
            && self
                .action_prefix
                .is_none_or(|p| alarm.actions().any(|a| a.starts_with(p)))
    }
}

pub fn describe_alarms(
    call: &mut Call<'_>,
    input: DescribeAlarmsInput,
) -> AwsResult<DescribeAlarmsOutput> {
    check_model(&input)?;
    let walk = check_combinations(&input)?;
    let page_size = input
        .max_records
        .map_or(DEFAULT_MAX_RECORDS, |n| n as usize);
    let after = match &input.next_token {
        Some(token) => Some(
            paging::decode(token)
                .ok_or_else(|| invalid_next_token("The service returned an invalid NextToken"))?,
        ),
        None => None,
    };
    let types: Vec<&str> = input
        .alarm_types
        .iter()
        .flatten()
        .map(String::as_str)
        .collect();
    let filters = Filters {
        // Without AlarmTypes only metric alarms are returned; graph walks return both.
        metric: types.is_empty() || types.contains(&"MetricAlarm"),
        composite: if types.is_empty() {
            walk.is_some()
        } else {
            types.contains(&"CompositeAlarm")
        },
        state: input.state_value.as_deref(),
        action_prefix: input.action_prefix.as_deref(),
    };
    let cloudwatch = &call.state.cloudwatch;
    let walked: BTreeSet<String> = walk
        .map(|w| related(cloudwatch, &input, w))
        .unwrap_or_default();
    let requested: BTreeSet<&String> = input.alarm_names.iter().flatten().collect();
    let prefix = input.alarm_name_prefix.as_deref().unwrap_or("");
    let candidates: Box<dyn Iterator<Item = &StoredAlarm>> = match (walk, &input.alarm_names) {
        (Some(_), _) => Box::new(
            walked
                .range::<String, _>(bound_after(&after))
                .filter_map(|name| cloudwatch.alarms.get(name)),
        ),
        (None, Some(_)) => Box::new(
            requested
                .iter()
                .filter(|name| after.as_ref().is_none_or(|a| **name > a))
                .filter_map(|name| cloudwatch.alarms.get(*name)),
        ),
        (None, None) => {
            let start = match &after {
                Some(last) if last.as_str() >= prefix => Bound::Excluded(last.clone()),
                _ => Bound::Included(prefix.to_string()),
            };
            Box::new(
                cloudwatch
                    .alarms
                    .range((start, Bound::Unbounded))
                    .take_while(|(name, _)| name.starts_with(prefix))
                    .map(|(_, alarm)| alarm),
            )
        }
    };
    let mut page: Vec<&StoredAlarm> = Vec::with_capacity(page_size.min(100));
    let mut more = false;
    for alarm in candidates.filter(|a| filters.matches(&a.alarm)) {
        if page.len() == page_size {
            more = true;
            break;
        }
        page.push(alarm);
    }
    let next_token = more.then(|| paging::encode(page.last().expect("a full page").alarm.name()));
    let mut output = DescribeAlarmsOutput {
        composite_alarms: Vec::new(),
        metric_alarms: Vec::new(),
        next_token,
    };
    for stored in page {
        let list = if stored.alarm.is_composite() {
            &mut output.composite_alarms
        } else {
            &mut output.metric_alarms
        };
        list.push(match (walk, &stored.alarm) {
            (Some(walk), alarm) => AlarmView::Summary(summary(alarm, walk)),
            (None, AlarmRecord::Metric(a)) => AlarmView::Metric(a.clone()),
            (None, AlarmRecord::Composite(a)) => AlarmView::Composite(a.clone()),
        });
    }
    Ok(output)
}

fn bound_after(after: &Option<String>) -> (Bound<&String>, Bound<&String>) {
    match after {
        Some(last) => (Bound::Excluded(last), Bound::Unbounded),
        None => (Bound::Unbounded, Bound::Unbounded),
    }
}

/// The alarms a graph walk visits, ordered by name.
fn related(
    cloudwatch: &CloudWatchState,
    input: &DescribeAlarmsInput,
    walk: Walk,
) -> BTreeSet<String> {
    match walk {
        Walk::Children => {
            let name = input.children_of_alarm_name.as_deref().unwrap_or_default();
            cloudwatch
                .alarms
                .get(name)
                .map(|a| a.children.iter().cloned().collect())
                .unwrap_or_default()
        }
        Walk::Parents => {
            let name = input.parents_of_alarm_name.as_deref().unwrap_or_default();
            cloudwatch.parents_of(name).cloned().collect()
        }
    }
}

fn summary(alarm: &AlarmRecord, walk: Walk) -> AlarmSummary {
    let with_state = walk == Walk::Children;
    let state = alarm.state();
    AlarmSummary {
        alarm_name: alarm.name().to_string(),
        alarm_arn: alarm.arn().to_string(),
        state_value: with_state.then(|| state.value.clone()),
        state_updated_timestamp: with_state.then_some(state.updated),
    }
}

fn check_model(input: &DescribeAlarmsInput) -> AwsResult<()> {
    let mut v = Violations::new();
    v.count("alarmNames", input.alarm_names.as_deref(), 0, Some(100));
    for (i, name) in input.alarm_names.iter().flatten().enumerate() {
        v.length(&element_path("alarmNames", i), Some(name), 1, Some(255));
    }
    for (i, t) in input.alarm_types.iter().flatten().enumerate() {
        v.one_of(&element_path("alarmTypes", i), Some(t), ALARM_TYPES);
    }
    v.length(
        "alarmNamePrefix",
        input.alarm_name_prefix.as_deref(),
        1,
        Some(255),
    )
    .length(
        "childrenOfAlarmName",
        input.children_of_alarm_name.as_deref(),
        1,
        Some(255),
    )
    .length(
        "parentsOfAlarmName",
        input.parents_of_alarm_name.as_deref(),
        1,
        Some(255),
    )
    .one_of("stateValue", input.state_value.as_deref(), STATE_VALUES)
    .length(
        "actionPrefix",
        input.action_prefix.as_deref(),
        1,
        Some(1024),
    )
    .range("maxRecords", input.max_records, Some(1), Some(100));
    v.finish(validation_error)
}

/// AlarmNames excludes AlarmNamePrefix; a graph walk excludes every filter (AlarmTypes is
/// tolerated, as clients commonly send it).
fn check_combinations(input: &DescribeAlarmsInput) -> AwsResult<Option<Walk>> {
    if input.alarm_names.is_some() && input.alarm_name_prefix.is_some() {
        return Err(invalid_parameter_combination(
            "AlarmNames and AlarmNamePrefix cannot be specified together",
        ));
    }
    let walk = match (&input.children_of_alarm_name, &input.parents_of_alarm_name) {
        (Some(_), Some(_)) => {
            return Err(validation_error(
                "ChildrenOfAlarmName and ParentsOfAlarmName cannot be specified together",
            ));
        }
        (Some(_), None) => Some(Walk::Children),
        (None, Some(_)) => Some(Walk::Parents),
        (None, None) => None,
    };
    if let Some(walk) = walk {
        let others = input.alarm_names.is_some()
            || input.alarm_name_prefix.is_some()
            || input.state_value.is_some()
            || input.action_prefix.is_some();
        if others {
            let param = match walk {
                Walk::Children => "ChildrenOfAlarmName",
                Walk::Parents => "ParentsOfAlarmName",
            };
            return Err(validation_error(format!(
                "If {param} is specified, only MaxRecords and NextToken can also be specified"
            )));
        }
    }
    Ok(walk)
}
