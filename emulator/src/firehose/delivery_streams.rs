//! CreateDeliveryStream, DescribeDeliveryStream, DeleteDeliveryStream, ListDeliveryStreams.
//!
//! AWS semantics modelled: names are unique per account and region
//! (`ResourceInUseException`); exactly one destination configuration; a Kinesis source
//! needs `KinesisStreamSourceConfiguration` and only then; 5,000 streams per region
//! (`LimitExceededException`); a missing stream answers `ResourceNotFoundException`.
//! Knowingly simplified: a new stream is ACTIVE at once (AWS spends a few seconds in
//! CREATING) and a deleted one is gone at once (AWS shows DELETING first). Destination
//! descriptions echo the configuration with AWS's defaults filled in for S3.

use std::collections::BTreeMap;
use std::ops::Bound;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::configuration;
use super::state::DeliveryStream;
use super::{invalid_argument, validation};
use crate::arn;
use crate::call::{Call, Empty};
use crate::error::{AwsError, AwsResult};
use crate::tags::{self, Tag};
use crate::timestamp::Timestamp;
use crate::validation::{Violations, all_chars, member_path};

const STREAM_TYPES: &[&str] = &[
    "DirectPut",
    "KinesisStreamAsSource",
    "MSKAsSource",
    "DatabaseAsSource",
];
const MAX_STREAMS_PER_REGION: usize = 5000;
const DEFAULT_LIST_LIMIT: usize = 10;
const SOURCE_MEMBERS: &[(&str, &str)] = &[
    ("DirectPutSourceConfiguration", "DirectPutSourceDescription"),
    (
        "KinesisStreamSourceConfiguration",
        "KinesisStreamSourceDescription",
    ),
    ("MSKSourceConfiguration", "MSKSourceDescription"),
    ("DatabaseSourceConfiguration", "DatabaseSourceDescription"),
];

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateDeliveryStreamInput {
    pub delivery_stream_name: Option<String>,
    pub delivery_stream_type: Option<String>,
    #[serde(rename = "DeliveryStreamEncryptionConfigurationInput")]
    pub encryption: Option<Value>,
    pub tags: Option<Vec<Tag>>,
    /// Every other member: the source and destination configurations.
    #[serde(flatten)]
    pub configurations: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamNameInput {
    pub delivery_stream_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeDeliveryStreamInput {
    pub delivery_stream_name: Option<String>,
    pub limit: Option<i64>,
    pub exclusive_start_destination_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListDeliveryStreamsInput {
    pub limit: Option<i64>,
    pub delivery_stream_type: Option<String>,
    pub exclusive_start_delivery_stream_name: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct CreateDeliveryStreamOutput {
    #[serde(rename = "DeliveryStreamARN")]
    pub delivery_stream_arn: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeDeliveryStreamOutput {
    pub delivery_stream_description: Value,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListDeliveryStreamsOutput {
    pub delivery_stream_names: Vec<String>,
    pub has_more_delivery_streams: bool,
}

fn check_name(v: &mut Violations, path: &str, name: Option<&str>) {
    v.length(path, name, 1, Some(64))
        .pattern(path, name, "[a-zA-Z0-9_.-]+", |n| {
            all_chars(n, |c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        });
}

fn not_found(call: &Call<'_>, name: &str) -> AwsError {
    AwsError::bad_request(
        "ResourceNotFoundException",
        format!(
            "Firehose stream {name} under account {} not found.",
            call.scope.account
        ),
    )
}

pub fn create_delivery_stream(
    call: &mut Call<'_>,
    input: CreateDeliveryStreamInput,
) -> AwsResult<CreateDeliveryStreamOutput> {
    let mut v = Violations::new();
    v.required("deliveryStreamName", input.delivery_stream_name.as_ref());
    check_name(
        &mut v,
        "deliveryStreamName",
        input.delivery_stream_name.as_deref(),
    );
    v.one_of(
        "deliveryStreamType",
        input.delivery_stream_type.as_deref(),
        STREAM_TYPES,
    );
    if let Some(tags) = &input.tags {
        let tags = serde_json::to_value(tags).expect("tags serialize");
        configuration::check(&mut v, "tags", &tags, &configuration::TAGS);
    }
    if let Some(encryption) = &input.encryption {
        configuration::check(
            &mut v,
            "deliveryStreamEncryptionConfigurationInput",
            encryption,
            &configuration::ENCRYPTION_INPUT,
        );
    }
    for (member, config) in &input.configurations {
        let shape = match member.as_str() {
            "S3DestinationConfiguration" => &configuration::S3_DESTINATION,
            "ExtendedS3DestinationConfiguration" => &configuration::EXTENDED_S3_DESTINATION,
            "HttpEndpointDestinationConfiguration" => &configuration::HTTP_ENDPOINT_DESTINATION,
            "KinesisStreamSourceConfiguration" => &configuration::KINESIS_SOURCE,
            "DirectPutSourceConfiguration" => &configuration::DIRECT_PUT_SOURCE,
            _ => continue,
        };
        configuration::check(&mut v, &member_path(member), config, shape);
    }
    v.finish(validation)?;

    let name = input.delivery_stream_name.expect("checked above");
    let stream_type = input
        .delivery_stream_type
        .unwrap_or_else(|| "DirectPut".into());
    let destinations: Vec<(&String, &Value)> = input
        .configurations
        .iter()
        .filter(|(k, _)| k.ends_with("DestinationConfiguration"))
        .collect();
    let [(destination_member, destination)] = destinations[..] else {
        return Err(invalid_argument(format!(
            "Exactly one destination configuration must be specified, got {}",
            destinations.len()
        )));
    };
    let source = SOURCE_MEMBERS.iter().find_map(|(member, _)| {
        input
            .configurations
            .get(*member)
            .map(|v| (member.to_string(), v.clone()))
    });
    check_source(&input.configurations, &stream_type)?;
    check_encryption(input.encryption.as_ref())?;
    if let Some(key) = tags::reserved_key(input.tags.as_deref().unwrap_or_default()) {
        return Err(invalid_argument(format!(
            "Invalid tag key {key}: the aws: prefix is reserved"
        )));
    }
    let streams = &mut call.state.firehose.streams;
    if streams.contains_key(&name) {
        return Err(AwsError::bad_request(
            "ResourceInUseException",
            format!(
                "Firehose stream {name} under account {} already exists.",
                call.scope.account
            ),
        ));
    }
    if streams.len() >= MAX_STREAMS_PER_REGION {
        return Err(AwsError::bad_request(
            "LimitExceededException",
            format!("You have reached the limit of {MAX_STREAMS_PER_REGION} Firehose streams"),
        ));
    }
    let arn = arn::delivery_stream(call.scope, &name);
    streams.insert(
        name.clone(),
        DeliveryStream {
            name,
            arn: arn.clone(),
            stream_type,
            status: "ACTIVE".into(),
            created: call.now,
            version_id: "1".into(),
            source,
            destination: (destination_member.clone(), destination.clone()),
            encryption: input.encryption,
            tags: tags::to_map(input.tags.as_deref()),
        },
    );
    Ok(CreateDeliveryStreamOutput {
        delivery_stream_arn: arn,
    })
}

/// Each source type takes its own source configuration, and only that one: Kinesis, MSK and
/// database sources need theirs; a Direct PUT stream may carry DirectPutSourceConfiguration.
fn check_source(configurations: &BTreeMap<String, Value>, stream_type: &str) -> AwsResult<()> {
    for (member, source_type, needed) in [
        (
            "KinesisStreamSourceConfiguration",
            "KinesisStreamAsSource",
            true,
        ),
        ("MSKSourceConfiguration", "MSKAsSource", true),
        ("DatabaseSourceConfiguration", "DatabaseAsSource", true),
        ("DirectPutSourceConfiguration", "DirectPut", false),
    ] {
        let given = configurations.contains_key(member);
        let this_type = stream_type == source_type;
        if given && !this_type {
            return Err(invalid_argument(format!(
                "{member} can only be specified when the DeliveryStreamType is {source_type}"
            )));
        }
        if needed && this_type && !given {
            return Err(invalid_argument(format!(
                "{member} must be specified when the DeliveryStreamType is {source_type}"
            )));
        }
    }
    Ok(())
}

/// A customer managed key needs its ARN; an AWS owned key takes none. AWS: "If you set KeyType to
/// CUSTOMER_MANAGED_CMK, you must specify the Amazon Resource Name (ARN) of the CMK."
fn check_encryption(encryption: Option<&Value>) -> AwsResult<()> {
    let Some(encryption) = encryption else {
        return Ok(());
    };
    let key_type = encryption.get("KeyType").and_then(Value::as_str);
    let key_arn = encryption.get("KeyARN").filter(|v| !v.is_null());
    match (key_type, key_arn) {
        (Some("CUSTOMER_MANAGED_CMK"), None) => Err(invalid_argument(
            "KeyARN must be specified when KeyType is CUSTOMER_MANAGED_CMK",
        )),
        (Some("AWS_OWNED_CMK"), Some(_)) => Err(invalid_argument(
            "KeyARN cannot be specified when KeyType is AWS_OWNED_CMK",
        )),
        _ => Ok(()),
    }
}

/// `XDestinationConfiguration` → the matching `XDestinationDescription`, with AWS's
/// defaults for S3 buffering, compression and encryption filled in.
fn destination_description(member: &str, config: &Value) -> (String, Value) {
    let kind = member.trim_end_matches("DestinationConfiguration");
    let mut description: Map<String, Value> = config.as_object().cloned().unwrap_or_default();
    for (from, to) in [
        ("S3Configuration", "S3DestinationDescription"),
        ("S3BackupConfiguration", "S3BackupDescription"),
    ] {
        if let Some(value) = description.remove(from) {
            description.insert(to.into(), s3_description(value));
        }
    }
    if let Some(Value::Object(endpoint)) = description.get_mut("EndpointConfiguration") {
        // Descriptions never echo secrets.
        endpoint.remove("AccessKey");
    }
    let description = if kind == "S3" || kind == "ExtendedS3" {
        let mut filled = s3_description(Value::Object(description));
        if kind == "ExtendedS3"
            && let Value::Object(map) = &mut filled
        {
            map.entry("S3BackupMode").or_insert(json!("Disabled"));
        }
        filled
    } else {
        Value::Object(description)
    };
    (format!("{kind}DestinationDescription"), description)
}

fn s3_description(config: Value) -> Value {
    let mut map = config.as_object().cloned().unwrap_or_default();
    map.entry("BufferingHints")
        .or_insert(json!({"SizeInMBs": 5, "IntervalInSeconds": 300}));
    map.entry("CompressionFormat")
        .or_insert(json!("UNCOMPRESSED"));
    map.entry("EncryptionConfiguration")
        .or_insert(json!({"NoEncryptionConfig": "NoEncryption"}));
    map.entry("CloudWatchLoggingOptions")
        .or_insert(json!({"Enabled": false}));
    Value::Object(map)
}

fn source_description(member: &str, config: &Value, created: Timestamp) -> Value {
    let description = SOURCE_MEMBERS
        .iter()
        .find(|(m, _)| *m == member)
        .map_or("SourceDescription", |(_, d)| d);
    let mut value = config.clone();
    if member == "KinesisStreamSourceConfiguration"
        && let Value::Object(map) = &mut value
    {
        map.insert("DeliveryStartTimestamp".into(), json!(created.0));
    }
    json!({ description: value })
}

pub fn describe_delivery_stream(
    call: &mut Call<'_>,
    input: DescribeDeliveryStreamInput,
) -> AwsResult<DescribeDeliveryStreamOutput> {
    let mut v = Violations::new();
    v.required("deliveryStreamName", input.delivery_stream_name.as_ref());
    check_name(
        &mut v,
        "deliveryStreamName",
        input.delivery_stream_name.as_deref(),
    );
    let start = input.exclusive_start_destination_id.as_deref();
    v.range("limit", input.limit, Some(1), Some(10000))
        .length("exclusiveStartDestinationId", start, 1, Some(100))
        .model_pattern("exclusiveStartDestinationId", start, "[a-zA-Z0-9-]+");
    v.finish(validation)?;
    let name = input.delivery_stream_name.expect("checked above");
    let stream = call
        .state
        .firehose
        .streams
        .get(&name)
        .ok_or_else(|| not_found(call, &name))?;
    let (destination_member, destination) =
        destination_description(&stream.destination.0, &stream.destination.1);
    let encryption = match &stream.encryption {
        Some(Value::Object(config)) => {
            let mut config = config.clone();
            config.insert("Status".into(), json!("ENABLED"));
            Value::Object(config)
        }
        _ => json!({"Status": "DISABLED"}),
    };
    let mut description = json!({
        "DeliveryStreamName": stream.name,
        "DeliveryStreamARN": stream.arn,
        "DeliveryStreamStatus": stream.status,
        "DeliveryStreamEncryptionConfiguration": encryption,
        "DeliveryStreamType": stream.stream_type,
        "VersionId": stream.version_id,
        "CreateTimestamp": stream.created.0,
        "Destinations": [{
            "DestinationId": "destinationId-000000000001",
            destination_member: destination,
        }],
        "HasMoreDestinations": false,
    });
    if let Some((member, config)) = &stream.source {
        description["Source"] = source_description(member, config, stream.created);
    }
    Ok(DescribeDeliveryStreamOutput {
        delivery_stream_description: description,
    })
}

pub fn delete_delivery_stream(call: &mut Call<'_>, input: StreamNameInput) -> AwsResult<Empty> {
    let mut v = Violations::new();
    v.required("deliveryStreamName", input.delivery_stream_name.as_ref());
    check_name(
        &mut v,
        "deliveryStreamName",
        input.delivery_stream_name.as_deref(),
    );
    v.finish(validation)?;
    let name = input.delivery_stream_name.expect("checked above");
    match call.state.firehose.streams.remove(&name) {
        Some(_) => Ok(Empty {}),
        None => Err(not_found(call, &name)),
    }
}

pub fn list_delivery_streams(
    call: &mut Call<'_>,
    input: ListDeliveryStreamsInput,
) -> AwsResult<ListDeliveryStreamsOutput> {
    let mut v = Violations::new();
    v.range("limit", input.limit, Some(1), Some(10000)).one_of(
        "deliveryStreamType",
        input.delivery_stream_type.as_deref(),
        STREAM_TYPES,
    );
    check_name(
        &mut v,
        "exclusiveStartDeliveryStreamName",
        input.exclusive_start_delivery_stream_name.as_deref(),
    );
    v.finish(validation)?;
    let limit = input.limit.map_or(DEFAULT_LIST_LIMIT, |n| n as usize);
    let start = match input.exclusive_start_delivery_stream_name {
        Some(name) => Bound::Excluded(name),
        None => Bound::Unbounded,
    };
    let mut names: Vec<String> = call
        .state
        .firehose
        .streams
        .range((start, Bound::Unbounded))
        .filter(|(_, s)| {
            input
                .delivery_stream_type
                .as_ref()
                .is_none_or(|t| &s.stream_type == t)
        })
        .take(limit + 1)
        .map(|(name, _)| name.clone())
        .collect();
    let has_more = names.len() > limit;
    names.truncate(limit);
    Ok(ListDeliveryStreamsOutput {
        delivery_stream_names: names,
        has_more_delivery_streams: has_more,
    })
}
