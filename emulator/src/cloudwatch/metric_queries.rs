//! The `Metrics` list of PutMetricAlarm: alarms on metric math, anomaly detection bands and
//! Metrics Insights queries.
//!
//! AWS's rules (API reference `MetricDataQuery` and `PutMetricAlarm`; user guide "Metric math
//! syntax and functions", "Create alarms on Metrics Insights queries"):
//! - at most 20 entries, of which at most 10 retrieve a metric (`MetricStat`) and at most 10
//!   compute an `Expression`; each entry exactly one of the two;
//! - ids start with a lower-case letter and hold letters, digits and `_`; each is unique;
//! - a `MetricStat` names a CloudWatch statistic; its period, and an expression's, is 1, 5,
//!   10, 20, 30 or a multiple of 60;
//! - every expression is valid metric math or a Metrics Insights query ([`super::metric_math`])
//!   and reads only the ids of other entries, without a cycle;
//! - an alarm carries at most one Metrics Insights query and no `SEARCH` (a search returns
//!   many series; an alarm watches one);
//! - exactly one entry returns data, except for anomaly detection alarms, where the metric
//!   and its band may both do; `ThresholdMetricId` names the entry whose expression is the
//!   `ANOMALY_DETECTION_BAND` call, and an expression holds at most one band.
//!
//! Refusals are `ValidationError`s; list problems read "Invalid metrics list: ...", AWS's own
//! opening for them.

use std::collections::{BTreeMap, BTreeSet};

use super::metric_math::{self, Expression};
use super::model::MetricDataQuery;
use super::statistics;
use super::validation_error;
use crate::error::{AwsError, AwsResult};

pub const MAX_ENTRIES: usize = 20;
/// Most entries with a `MetricStat`, and most with an `Expression`.
pub const MAX_OF_EACH_KIND: usize = 10;

const BAND_FUNCTION: &str = "ANOMALY_DETECTION_BAND";

fn invalid(detail: impl std::fmt::Display) -> AwsError {
    validation_error(format!("Invalid metrics list: {detail}"))
}

/// 1, 5, 10, 20 and 30 seconds for high-resolution metrics, otherwise whole minutes.
pub fn valid_period(period: i64) -> bool {
    [1, 5, 10, 20, 30].contains(&period) || (period > 0 && period % 60 == 0)
}

/// Checks the list and returns the alarm's evaluation period (the longest period in it).
pub fn check(metrics: &[MetricDataQuery], threshold_metric_id: Option<&str>) -> AwsResult<i64> {
    if metrics.is_empty() {
        return Err(invalid("the list must contain at least one element"));
    }
    let stats = metrics.iter().filter(|q| q.metric_stat.is_some()).count();
    let expressions = metrics.iter().filter(|q| q.expression.is_some()).count();
    if metrics.len() > MAX_ENTRIES || stats > MAX_OF_EACH_KIND || expressions > MAX_OF_EACH_KIND {
        return Err(invalid(format!(
            "an alarm can have at most {MAX_ENTRIES} metrics, {MAX_OF_EACH_KIND} with MetricStat \
             and {MAX_OF_EACH_KIND} with Expression; got {stats} with MetricStat and \
             {expressions} with Expression"
        )));
    }
    let mut period = 0;
    let mut parsed: BTreeMap<&str, Expression> = BTreeMap::new();
    let mut ids = BTreeSet::new();
    for query in metrics {
        let id = query.id.as_deref().unwrap_or_default();
        if !metric_math::is_id(id) {
            return Err(invalid(format!(
                "the id '{id}' must start with a lower-case letter and contain only letters, \
                 numbers and underscores"
            )));
        }
        if !ids.insert(id) {
            return Err(invalid(format!("the id '{id}' is used more than once")));
        }
        let entry_period = match (&query.metric_stat, &query.expression) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(invalid(format!(
                    "exactly one of MetricStat and Expression must be specified for '{id}'"
                )));
            }
            (Some(stat), None) => {
                let name = stat.stat.as_deref().unwrap_or_default();
                if !statistics::is_statistic(name) {
                    return Err(invalid(format!(
                        "'{name}' of '{id}' is not a valid statistic"
                    )));
                }
                stat.period
            }
            (None, Some(text)) => {
                let expression = metric_math::analyse(text)
                    .map_err(|e| invalid(format!("error in the expression of '{id}' [{e}]")))?;
                parsed.insert(id, expression);
                query.period
            }
        };
        if let Some(p) = entry_period {
            if !valid_period(p) {
                return Err(invalid(format!(
                    "the period of '{id}' must be 1, 5, 10, 20, 30 or a multiple of 60"
                )));
            }
            period = period.max(p);
        }
    }
    check_expressions(&parsed, &ids)?;
    check_returned_data(metrics, &parsed, threshold_metric_id)?;
    Ok(period)
}

/// Query kinds an alarm allows, references, and cycles.
fn check_expressions(parsed: &BTreeMap<&str, Expression>, ids: &BTreeSet<&str>) -> AwsResult<()> {
    let queries = parsed
        .values()
        .filter(|e| matches!(e, Expression::Insights))
        .count();
    if queries > 1 {
        return Err(invalid(format!(
            "an alarm can have at most one Metrics Insights query; got {queries}"
        )));
    }
    for (id, expression) in parsed {
        if expression.calls("SEARCH") > 0 {
            return Err(invalid(format!(
                "the expression of '{id}' uses SEARCH; an alarm cannot watch a search expression"
            )));
        }
        if expression.calls(BAND_FUNCTION) > 1 {
            return Err(invalid(format!(
                "the expression of '{id}' has more than one {BAND_FUNCTION}"
            )));
        }
        for (reference, at) in expression.references() {
            if reference == id {
                return Err(invalid(format!(
                    "the expression of '{id}' refers to itself at char {at}"
                )));
            }
            if !ids.contains(reference.as_str()) {
                return Err(invalid(format!(
                    "the expression of '{id}' refers to '{reference}' at char {at}, which is not \
                     an id in the list"
                )));
            }
        }
    }
    if let Some(cycle) = find_cycle(parsed) {
        return Err(invalid(format!(
            "the expressions refer to each other in a cycle: {}",
            cycle.join(" -> ")
        )));
    }
    Ok(())
}

/// A cycle of expression references, if there is one, as the ids along it.
fn find_cycle<'a>(parsed: &BTreeMap<&'a str, Expression>) -> Option<Vec<&'a str>> {
    fn visit<'a>(
        id: &'a str,
        parsed: &BTreeMap<&'a str, Expression>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<&'a str>> {
        if let Some(start) = path.iter().position(|p| *p == id) {
            let mut cycle = path[start..].to_vec();
            cycle.push(id);
            return Some(cycle);
        }
        if done.contains(id) {
            return None;
        }
        // Only expressions read other entries; a MetricStat entry ends every path.
        let expression = parsed.get(id)?;
        path.push(id);
        for (reference, _) in expression.references() {
            if let Some((&next, _)) = parsed.get_key_value(reference.as_str())
                && let Some(cycle) = visit(next, parsed, path, done)
            {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(id);
        None
    }
    let mut done = BTreeSet::new();
    parsed
        .keys()
        .find_map(|id| visit(id, parsed, &mut Vec::new(), &mut done))
}

/// Exactly one entry returns data (ReturnData defaults to true); an anomaly detection alarm's
/// band may return data beside its metric.
fn check_returned_data(
    metrics: &[MetricDataQuery],
    parsed: &BTreeMap<&str, Expression>,
    threshold_metric_id: Option<&str>,
) -> AwsResult<()> {
    let returning: Vec<&str> = metrics
        .iter()
        .filter(|q| q.return_data != Some(false))
        .filter_map(|q| q.id.as_deref())
        .collect();
    let expected = match threshold_metric_id {
        Some(band) => {
            let is_band = parsed.get(band).is_some_and(
                |e| matches!(e, Expression::Math { outer: Some(f), .. } if f == BAND_FUNCTION),
            );
            if !is_band {
                return Err(validation_error(format!(
                    "ThresholdMetricId {band} must be the id of an ANOMALY_DETECTION_BAND \
                     expression in Metrics"
                )));
            }
            if returning.len() == 2 && returning.contains(&band) {
                2
            } else {
                1
            }
        }
        None => 1,
    };
    if returning.len() != expected {
        return Err(validation_error(
            "Exactly one element of the metrics list should return data.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudwatch::model::{Metric, MetricStat};

    fn stat(id: &str, returns: bool) -> MetricDataQuery {
        MetricDataQuery {
            id: Some(id.into()),
            return_data: Some(returns),
            metric_stat: Some(MetricStat {
                metric: Some(Metric {
                    namespace: Some("AWS/EC2".into()),
                    metric_name: Some("CPUUtilization".into()),
                    dimensions: None,
                }),
                period: Some(60),
                stat: Some("Average".into()),
                unit: None,
            }),
            ..Default::default()
        }
    }

    fn expr(id: &str, text: &str, returns: bool) -> MetricDataQuery {
        MetricDataQuery {
            id: Some(id.into()),
            expression: Some(text.into()),
            return_data: Some(returns),
            ..Default::default()
        }
    }

    fn message(result: AwsResult<i64>) -> String {
        result.expect_err("refused").message
    }

    #[test]
    fn twenty_entries_with_ten_of_each_kind_are_accepted() {
        let mut list: Vec<_> = (0..10).map(|i| stat(&format!("m{i}"), false)).collect();
        list.extend((0..9).map(|i| expr(&format!("e{i}"), &format!("m{i} * 2"), false)));
        list.push(expr("total", "SUM(METRICS())", true));
        assert_eq!(check(&list, None).unwrap(), 60);
        list.push(expr("extra", "1", false));
        assert!(message(check(&list, None)).contains("at most 20 metrics"));
        let eleven: Vec<_> = (0..11).map(|i| stat(&format!("m{i}"), i == 0)).collect();
        assert!(message(check(&eleven, None)).contains("got 11 with MetricStat"));
    }

    #[test]
    fn expressions_must_parse_and_read_existing_ids_without_cycles() {
        let bad = [stat("m1", false), expr("e1", "FOO(bar", true)];
        assert_eq!(
            message(check(&bad, None)),
            "Invalid metrics list: error in the expression of 'e1' [Unexpected end of \
             expression, must be: ',' or ')' at char 7]"
        );
        let unknown = [stat("m1", false), expr("e1", "m2 * 2", true)];
        assert!(message(check(&unknown, None)).contains("refers to 'm2' at char 0"));
        let itself = [stat("m1", false), expr("e1", "e1 + m1", true)];
        assert!(message(check(&itself, None)).contains("refers to itself"));
        let cycle = [
            stat("m1", false),
            expr("e1", "e2 + m1", true),
            expr("e2", "e1 * 2", false),
        ];
        assert!(message(check(&cycle, None)).contains("cycle: e1 -> e2 -> e1"));
        let chain = [
            stat("m1", false),
            expr("e1", "m1 * 2", false),
            expr("e2", "e1 + m1", true),
        ];
        assert!(check(&chain, None).is_ok());
    }

    #[test]
    fn one_insights_query_and_no_search() {
        let query = "SELECT AVG(CPUUtilization) FROM \"AWS/EC2\"";
        assert!(check(&[expr("q1", query, true)], None).is_ok());
        assert!(
            check(
                &[expr("q1", query, false), expr("e1", "q1 / 100", true)],
                None
            )
            .is_ok()
        );
        let two = [
            expr("q1", query, false),
            expr("q2", query, false),
            expr("e1", "q1 + q2", true),
        ];
        assert!(message(check(&two, None)).contains("at most one Metrics Insights query"));
        let search = [expr(
            "e1",
            "SUM(SEARCH('{AWS/EC2,InstanceId} MetricName=\"CPUUtilization\"', 'Average', 300))",
            true,
        )];
        assert!(message(check(&search, None)).contains("uses SEARCH"));
    }

    #[test]
    fn statistics_and_periods_are_checked() {
        let mut bad_stat = stat("m1", true);
        bad_stat.metric_stat.as_mut().unwrap().stat = Some("Median".into());
        assert_eq!(
            message(check(&[bad_stat], None)),
            "Invalid metrics list: 'Median' of 'm1' is not a valid statistic"
        );
        let mut percentile = stat("m1", true);
        percentile.metric_stat.as_mut().unwrap().stat = Some("p99.9".into());
        assert!(check(&[percentile], None).is_ok());
        let mut odd = expr("e1", "TIME_SERIES(1)", true);
        odd.period = Some(45);
        assert!(message(check(&[odd], None)).contains("period of 'e1'"));
    }

    #[test]
    fn the_band_is_an_anomaly_detection_band_call() {
        let band = [
            stat("m1", true),
            expr("ad1", "ANOMALY_DETECTION_BAND(m1, 2)", true),
        ];
        assert!(check(&band, Some("ad1")).is_ok());
        let wrapped = [
            stat("m1", true),
            expr("ad1", "2 * ANOMALY_DETECTION_BAND(m1)", false),
        ];
        assert!(
            message(check(&wrapped, Some("ad1"))).contains("ANOMALY_DETECTION_BAND expression")
        );
        let twice = [
            stat("m1", true),
            expr(
                "ad1",
                "FIRST([ANOMALY_DETECTION_BAND(m1), ANOMALY_DETECTION_BAND(m1, 3)])",
                false,
            ),
        ];
        assert!(message(check(&twice, Some("ad1"))).contains("more than one"));
    }
}
