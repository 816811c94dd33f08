//! Metric streams: PutMetricStream, GetMetricStream, ListMetricStreams, DeleteMetricStream,
//! StartMetricStreams, StopMetricStreams.
//!
//! AWS semantics modelled: a new stream starts `running`; an update replaces the
//! configuration but never the running state (only Start/Stop change it) nor the tags (only
//! on create); IncludeFilters and ExcludeFilters exclude each other; at most 1,000 metric
//! names and namespaces across filters, of printable ASCII; 100 statistics configurations of
//! 1–100 metrics and 1–20 statistics each; OpenTelemetry formats stream only
//! percentile statistics; the Firehose stream and the role must be in the caller's account.
//! Missing members answer `MissingParameter`, malformed ones `InvalidParameterValue`.

use std::ops::Bound;

use serde::{Deserialize, Serialize};

use super::model::{MetricStream, MetricStreamEntry, MetricStreamFilter, PutMetricStreamInput};
use super::state::StoredStream;
use super::statistics;
use super::{
    invalid_next_token, invalid_parameter_combination, invalid_parameter_value, missing_parameter,
    resource_not_found,
};
use crate::arn::{self, Arn};
use crate::call::{Call, Empty};
use crate::error::{AwsError, AwsResult};
use crate::paging;
use crate::tags::{self, MAX_TAGS_PER_RESOURCE};
use crate::validation::{Violations, element_path};

const OUTPUT_FORMATS: &[&str] = &["json", "opentelemetry0.7", "opentelemetry1.0"];
/// AWS: "A metric stream's filters can include up to 1000 total names. This limit applies to
/// the sum of namespace names and metric names in the filters."
const MAX_FILTER_NAMES: usize = 1000;
const MAX_STATISTICS_CONFIGURATIONS: usize = 100;
/// Metric name and namespace pairs per statistics configuration.
const MAX_INCLUDE_METRICS: usize = 100;
/// Additional statistics per statistics configuration.
const MAX_ADDITIONAL_STATISTICS: usize = 20;
const DEFAULT_LIST_PAGE: usize = 100;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NameInput {
    pub name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NamesInput {
    pub names: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListMetricStreamsInput {
    pub next_token: Option<String>,
    pub max_results: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ArnOutput {
    pub arn: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListMetricStreamsOutput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    pub entries: Vec<MetricStreamEntry>,
}

fn required<T>(value: Option<T>, member: &str) -> AwsResult<T> {
    value.ok_or_else(|| missing_parameter(format!("The parameter {member} is required.")))
}

fn check_name(name: &str) -> AwsResult<()> {
    let mut v = Violations::new();
    v.length("name", Some(name), 1, Some(255))
        .pattern("name", Some(name), "[a-zA-Z0-9_-]+", |n| {
            n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        });
    v.finish(invalid_parameter_value)
}

fn check_filters(v: &mut Violations, path: &str, filters: Option<&Vec<MetricStreamFilter>>) {
    for (i, filter) in filters.into_iter().flatten().enumerate() {
        let at = element_path(path, i);
        let namespace = filter.namespace.as_deref();
        v.length(&format!("{at}.namespace"), namespace, 1, Some(255))
            .pattern(&format!("{at}.namespace"), namespace, "[^:].*", |n| {
                !n.starts_with(':')
            });
        for (j, name) in filter.metric_names.iter().flatten().enumerate() {
            v.length(
                &element_path(&format!("{at}.metricNames"), j),
                Some(name),
                1,
                Some(255),
            );
        }
    }
}

/// AWS (`MetricStreamFilter`): namespaces and metric names "can contain only ASCII printable
/// characters (ASCII range 32 through 126)" and "must contain at least one non-whitespace
/// character".
fn printable_name(name: &str) -> bool {
    name.chars().all(|c| (' '..='~').contains(&c)) && !name.trim().is_empty()
}

/// The characters of every namespace and metric name, and the 1,000 names the filters may hold
/// in all.
fn check_filter_names(input: &PutMetricStreamInput) -> AwsResult<()> {
    let lists = [
        ("IncludeFilters", &input.include_filters),
        ("ExcludeFilters", &input.exclude_filters),
    ];
    let mut names = 0;
    for (list, filters) in lists {
        for (i, filter) in filters.iter().flatten().enumerate() {
            let at = format!("{list}.member.{}", i + 1);
            let given = filter
                .namespace
                .iter()
                .map(|n| (format!("{at}.Namespace"), n));
            let metrics = filter
                .metric_names
                .iter()
                .flatten()
                .enumerate()
                .map(|(j, n)| (format!("{at}.MetricNames.member.{}", j + 1), n));
            for (path, name) in given.chain(metrics) {
                names += 1;
                if !printable_name(name) {
                    return Err(invalid_parameter_value(format!(
                        "The value {name} for parameter {path} is invalid: it must contain only \
                         ASCII printable characters and at least one that is not whitespace."
                    )));
                }
            }
        }
    }
    if names > MAX_FILTER_NAMES {
        return Err(invalid_parameter_value(format!(
            "The filters can include at most {MAX_FILTER_NAMES} names, namespaces and metric \
             names together; got {names}"
        )));
    }
    Ok(())
}

/// An ARN of `service` in the caller's account.
fn check_account_arn(call: &Call<'_>, member: &str, value: &str, service: &str) -> AwsResult<()> {
    match Arn::parse(value) {
        Some(arn) if arn.service == service && arn.account == call.scope.account => Ok(()),
        Some(arn) if arn.service == service => Err(invalid_parameter_value(format!(
            "{member} must be in the same account as the metric stream ({})",
            call.scope.account
        ))),
        _ => Err(invalid_parameter_value(format!(
            "Invalid {member}: {value}"
        ))),
    }
}

pub fn put_metric_stream(call: &mut Call<'_>, input: PutMetricStreamInput) -> AwsResult<ArnOutput> {
    let name = required(input.name.clone(), "Name")?;
    let firehose_arn = required(input.firehose_arn.clone(), "FirehoseArn")?;
    let role_arn = required(input.role_arn.clone(), "RoleArn")?;
    let output_format = required(input.output_format.clone(), "OutputFormat")?;
    check_name(&name)?;

    let mut v = Violations::new();
    v.length("firehoseArn", Some(&firehose_arn), 1, Some(1024))
        .length("roleArn", Some(&role_arn), 1, Some(1024))
        .one_of("outputFormat", Some(&output_format), OUTPUT_FORMATS);
    check_filters(&mut v, "includeFilters", input.include_filters.as_ref());
    check_filters(&mut v, "excludeFilters", input.exclude_filters.as_ref());
    for (i, configuration) in input.statistics_configurations.iter().flatten().enumerate() {
        let at = element_path("statisticsConfigurations", i);
        for (j, metric) in configuration.include_metrics.iter().flatten().enumerate() {
            let metric_at = element_path(&format!("{at}.includeMetrics"), j);
            let namespace = metric.namespace.as_deref();
            v.length(&format!("{metric_at}.namespace"), namespace, 1, Some(255))
                .pattern(
                    &format!("{metric_at}.namespace"),
                    namespace,
                    "[^:].*",
                    |n| !n.starts_with(':'),
                )
                .length(
                    &format!("{metric_at}.metricName"),
                    metric.metric_name.as_deref(),
                    1,
                    Some(255),
                );
        }
    }
    tags::check_tags(&mut v, "tags", input.tags.as_deref());
    v.finish(invalid_parameter_value)?;

    if input
        .include_filters
        .as_ref()
        .is_some_and(|f| !f.is_empty())
        && input
            .exclude_filters
            .as_ref()
            .is_some_and(|f| !f.is_empty())
    {
        return Err(invalid_parameter_combination(
            "You cannot specify both IncludeFilters and ExcludeFilters",
        ));
    }
    check_filter_names(&input)?;
    check_statistics(&input, &output_format)?;
    check_account_arn(call, "FirehoseArn", &firehose_arn, "firehose")?;
    check_account_arn(call, "RoleArn", &role_arn, "iam")?;
    let tag_list = input.tags.unwrap_or_default();
    if tag_list.len() > MAX_TAGS_PER_RESOURCE {
        return Err(invalid_parameter_value(format!(
            "The number of tags exceeds the limit of {MAX_TAGS_PER_RESOURCE}"
        )));
    }
    if let Some(key) = tags::reserved_key(&tag_list) {
        return Err(invalid_parameter_value(format!(
            "Invalid tag key {key}: the aws: prefix is reserved for AWS"
        )));
    }

    let streams = &mut call.state.cloudwatch.streams;
    let arn = arn::metric_stream(call.scope, &name);
    // An update keeps the running state, the creation date and the tags.
    let (state, created, tags) = match streams.get(&name) {
        Some(existing) => (
            existing.stream.state.clone(),
            existing.stream.creation_date,
            existing.tags.clone(),
        ),
        None => (
            "running".to_string(),
            call.now,
            tags::to_map(Some(&tag_list)),
        ),
    };
    let stream = MetricStream {
        arn: arn.clone(),
        name: name.clone(),
        include_filters: input.include_filters.unwrap_or_default(),
        exclude_filters: input.exclude_filters.unwrap_or_default(),
        firehose_arn,
        role_arn,
        state,
        creation_date: created,
        last_update_date: call.now,
        output_format,
        statistics_configurations: input.statistics_configurations.unwrap_or_default(),
        include_linked_accounts_metrics: input.include_linked_accounts_metrics.unwrap_or(false),
    };
    streams.insert(name, StoredStream { stream, tags });
    Ok(ArnOutput { arn })
}

/// Statistics configurations: at most 100, each with metrics and statistics; OpenTelemetry
/// output carries only percentiles.
fn check_statistics(input: &PutMetricStreamInput, output_format: &str) -> AwsResult<()> {
    let configurations = input
        .statistics_configurations
        .as_deref()
        .unwrap_or_default();
    if configurations.len() > MAX_STATISTICS_CONFIGURATIONS {
        return Err(invalid_parameter_value(format!(
            "At most {MAX_STATISTICS_CONFIGURATIONS} statistics configurations are allowed"
        )));
    }
    let percentiles_only = output_format.starts_with("opentelemetry");
    for configuration in configurations {
        let metrics = required(configuration.include_metrics.as_ref(), "IncludeMetrics")?;
        let statistics = required(
            configuration.additional_statistics.as_ref(),
            "AdditionalStatistics",
        )?;
        if metrics.is_empty() || metrics.len() > MAX_INCLUDE_METRICS {
            return Err(invalid_parameter_value(format!(
                "IncludeMetrics must hold 1 to {MAX_INCLUDE_METRICS} metrics, got {}",
                metrics.len()
            )));
        }
        if statistics.is_empty() || statistics.len() > MAX_ADDITIONAL_STATISTICS {
            return Err(invalid_parameter_value(format!(
                "AdditionalStatistics must hold 1 to {MAX_ADDITIONAL_STATISTICS} statistics, got {}",
                statistics.len()
            )));
        }
        for metric in metrics {
            required(metric.namespace.as_ref(), "Namespace")?;
            required(metric.metric_name.as_ref(), "MetricName")?;
        }
        for statistic in statistics {
            let valid = if percentiles_only {
                statistics::is_percentile(statistic)
            } else {
                statistics::is_extended(statistic)
            };
            if !valid {
                let why = if percentiles_only {
                    format!("only percentile statistics can be streamed with {output_format}")
                } else {
                    "it is not a CloudWatch statistic".to_string()
                };
                return Err(invalid_parameter_value(format!(
                    "Invalid additional statistic {statistic}: {why}"
                )));
            }
        }
    }
    Ok(())
}

fn not_found(name: &str) -> AwsError {
    resource_not_found(
        "MetricStream",
        name,
        format!("Metric stream {name} not found"),
    )
}

pub fn get_metric_stream(call: &mut Call<'_>, input: NameInput) -> AwsResult<MetricStream> {
    let name = required(input.name, "Name")?;
    check_name(&name)?;
    call.state
        .cloudwatch
        .streams
        .get(&name)
        .map(|s| s.stream.clone())
        .ok_or_else(|| not_found(&name))
}

pub fn list_metric_streams(
    call: &mut Call<'_>,
    input: ListMetricStreamsInput,
) -> AwsResult<ListMetricStreamsOutput> {
    let mut v = Violations::new();
    v.range("maxResults", input.max_results, Some(1), Some(500));
    v.finish(invalid_parameter_value)?;
    let page_size = input.max_results.map_or(DEFAULT_LIST_PAGE, |n| n as usize);
    let start = match &input.next_token {
        Some(token) => Bound::Excluded(
            paging::decode(token).ok_or_else(|| invalid_next_token("Invalid NextToken"))?,
        ),
        None => Bound::Unbounded,
    };
    let mut entries: Vec<MetricStreamEntry> = call
        .state
        .cloudwatch
        .streams
        .range((start, Bound::Unbounded))
        .take(page_size + 1)
        .map(|(_, s)| MetricStreamEntry {
            arn: s.stream.arn.clone(),
            creation_date: s.stream.creation_date,
            last_update_date: s.stream.last_update_date,
            name: s.stream.name.clone(),
            firehose_arn: s.stream.firehose_arn.clone(),
            state: s.stream.state.clone(),
            output_format: s.stream.output_format.clone(),
        })
        .collect();
    let next_token = (entries.len() > page_size).then(|| {
        entries.truncate(page_size);
        paging::encode(&entries.last().expect("a full page").name)
    });
    Ok(ListMetricStreamsOutput {
        next_token,
        entries,
    })
}

/// Deleting a stream that does not exist succeeds, as in AWS.
pub fn delete_metric_stream(call: &mut Call<'_>, input: NameInput) -> AwsResult<Empty> {
    let name = required(input.name, "Name")?;
    check_name(&name)?;
    call.state.cloudwatch.streams.remove(&name);
    Ok(Empty {})
}

/// StartMetricStreams / StopMetricStreams. Names that do not exist are skipped.
pub fn set_running(call: &mut Call<'_>, input: NamesInput, running: bool) -> AwsResult<Empty> {
    let names = required(input.names, "Names")?;
    for name in &names {
        check_name(name)?;
    }
    let state = if running { "running" } else { "stopped" };
    for name in &names {
        if let Some(stored) = call.state.cloudwatch.streams.get_mut(name)
            && stored.stream.state != state
        {
            stored.stream.state = state.to_string();
            stored.stream.last_update_date = call.now;
        }
    }
    Ok(Empty {})
}
