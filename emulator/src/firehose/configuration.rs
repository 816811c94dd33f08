//! The model constraints of the configurations CreateDeliveryStream takes, held as JSON: the
//! S3, extended S3 and HTTP endpoint destinations, the Direct PUT and Kinesis sources, the
//! server-side encryption input and the tags. Each shape lists its members as the Firehose
//! model does (required, length, range, enum, pattern); members the emulator does not model
//! (processing, format conversion, dynamic partitioning) are taken as they come.

use serde_json::Value;

use crate::validation::{Violations, element_path, matches_model, member_path};

/// How a string member's pattern is checked.
pub enum Pattern {
    /// A pattern Rust's engine can run as the model writes it.
    Model(&'static str),
    /// A pattern with a lookaround, shown as the model writes it and checked by hand.
    Lookaround(&'static str, fn(&str) -> bool),
}

/// A member's shape.
pub enum Shape {
    Str {
        min: usize,
        max: usize,
        pattern: Option<Pattern>,
    },
    Int {
        min: i64,
        max: i64,
    },
    Enum(&'static [&'static str]),
    Struct(&'static [Member]),
    List {
        min: usize,
        max: usize,
        item: &'static Shape,
    },
    /// Booleans and the structures not modelled here.
    Unchecked,
}

pub struct Member {
    pub name: &'static str,
    pub required: bool,
    pub shape: Shape,
}

const fn member(name: &'static str, shape: Shape) -> Member {
    Member {
        name,
        required: false,
        shape,
    }
}

const fn required(name: &'static str, shape: Shape) -> Member {
    Member {
        name,
        required: true,
        shape,
    }
}

const fn string(min: usize, max: usize, pattern: &'static str) -> Shape {
    Shape::Str {
        min,
        max,
        pattern: Some(Pattern::Model(pattern)),
    }
}

const ROLE_ARN: Shape = string(1, 512, r"arn:.*:iam::\d{12}:role/[a-zA-Z_0-9+=,.@\-_/]+");
const KMS_KEY_ARN: Shape = string(
    1,
    512,
    r"arn:.*:kms:[a-zA-Z0-9\-]+:\d{12}:(key|alias)/[a-zA-Z_0-9+=,.@\-_/]+",
);

/// `^(?!\s*$).+`: not empty and not all whitespace.
fn not_blank(value: &str) -> bool {
    !value.trim().is_empty()
}

const BUFFERING_HINTS: Shape = Shape::Struct(&[
    member("SizeInMBs", Shape::Int { min: 1, max: 128 }),
    member("IntervalInSeconds", Shape::Int { min: 0, max: 900 }),
]);
const ENCRYPTION: Shape = Shape::Struct(&[
    member("NoEncryptionConfig", Shape::Enum(&["NoEncryption"])),
    member(
        "KMSEncryptionConfig",
        Shape::Struct(&[required("AWSKMSKeyARN", KMS_KEY_ARN)]),
    ),
]);
const LOGGING: Shape = Shape::Struct(&[
    member("Enabled", Shape::Unchecked),
    member("LogGroupName", string(0, 512, r"[\.\-_/#A-Za-z0-9]*")),
    member("LogStreamName", string(0, 512, r"[^:*]*")),
]);
const COMPRESSION: Shape = Shape::Enum(&["UNCOMPRESSED", "GZIP", "ZIP", "Snappy", "HADOOP_SNAPPY"]);

/// The members S3 and extended S3 destinations share.
macro_rules! s3_members {
    ($($extra:expr),* $(,)?) => {
        &[
            required("RoleARN", ROLE_ARN),
            required("BucketARN", string(1, 2048, r"arn:.*:s3:::[\w\.\-]{1,255}")),
            member("Prefix", string(0, 1024, ".*")),
            member("ErrorOutputPrefix", string(0, 1024, ".*")),
            member("BufferingHints", BUFFERING_HINTS),
            member("CompressionFormat", COMPRESSION),
            member("EncryptionConfiguration", ENCRYPTION),
            member("CloudWatchLoggingOptions", LOGGING),
            $($extra),*
        ]
    };
}

pub const S3_DESTINATION: Shape = Shape::Struct(s3_members!());

pub const EXTENDED_S3_DESTINATION: Shape = Shape::Struct(s3_members!(
    member("ProcessingConfiguration", Shape::Unchecked),
    member("S3BackupMode", Shape::Enum(&["Disabled", "Enabled"])),
    member("S3BackupConfiguration", S3_DESTINATION),
    member("DataFormatConversionConfiguration", Shape::Unchecked),
    member("DynamicPartitioningConfiguration", Shape::Unchecked),
    member("FileExtension", string(0, 128, r"^$|\.[0-9a-z!\-_.*'()]+")),
    member("CustomTimeZone", string(0, 50, r"^$|[a-zA-Z/_]+")),
));

pub const HTTP_ENDPOINT_DESTINATION: Shape = Shape::Struct(&[
    required(
        "EndpointConfiguration",
        Shape::Struct(&[
            required("Url", string(1, 1000, "https://.*")),
            member(
                "Name",
                Shape::Str {
                    min: 1,
                    max: 256,
                    pattern: Some(Pattern::Lookaround(r"^(?!\s*$).+", not_blank)),
                },
            ),
            member("AccessKey", string(0, 4096, ".*")),
        ]),
    ),
    member(
        "BufferingHints",
        Shape::Struct(&[
            member("SizeInMBs", Shape::Int { min: 1, max: 64 }),
            member("IntervalInSeconds", Shape::Int { min: 0, max: 900 }),
        ]),
    ),
    member("CloudWatchLoggingOptions", LOGGING),
    member(
        "RequestConfiguration",
        Shape::Struct(&[
            member("ContentEncoding", Shape::Enum(&["NONE", "GZIP"])),
            member(
                "CommonAttributes",
                Shape::List {
                    min: 0,
                    max: 50,
                    item: &Shape::Struct(&[
                        required(
                            "AttributeName",
                            Shape::Str {
                                min: 1,
                                max: 256,
                                pattern: Some(Pattern::Lookaround(r"^(?!\s*$).+", not_blank)),
                            },
                        ),
                        required("AttributeValue", string(0, 1024, ".*")),
                    ]),
                },
            ),
        ]),
    ),
    member("ProcessingConfiguration", Shape::Unchecked),
    member("RoleARN", ROLE_ARN),
    member(
        "RetryOptions",
        Shape::Struct(&[member(
            "DurationInSeconds",
            Shape::Int { min: 0, max: 7200 },
        )]),
    ),
    member("S3BackupMode", Shape::Enum(&["FailedDataOnly", "AllData"])),
    required("S3Configuration", S3_DESTINATION),
    member(
        "SecretsManagerConfiguration",
        Shape::Struct(&[
            member(
                "SecretARN",
                string(
                    1,
                    2048,
                    r"arn:.*:secretsmanager:[a-zA-Z0-9\-]+:\d{12}:secret:[a-zA-Z0-9\-/_+=.@!]+",
                ),
            ),
            member("RoleARN", ROLE_ARN),
            required("Enabled", Shape::Unchecked),
        ]),
    ),
]);

pub const KINESIS_SOURCE: Shape = Shape::Struct(&[
    required(
        "KinesisStreamARN",
        string(
            1,
            512,
            r"arn:.*:kinesis:[a-zA-Z0-9\-]+:\d{12}:stream/[a-zA-Z0-9_.-]+",
        ),
    ),
    required("RoleARN", ROLE_ARN),
]);

pub const DIRECT_PUT_SOURCE: Shape = Shape::Struct(&[required(
    "ThroughputHintInMBs",
    Shape::Int { min: 1, max: 100 },
)]);

pub const ENCRYPTION_INPUT: Shape = Shape::Struct(&[
    member("KeyARN", KMS_KEY_ARN),
    required(
        "KeyType",
        Shape::Enum(&["AWS_OWNED_CMK", "CUSTOMER_MANAGED_CMK"]),
    ),
]);

/// `^(?!aws:)[\p{L}\p{Z}\p{N}_.:\/=+\-@%]*$`: the character set, and no `aws:` prefix.
fn tag_key(value: &str) -> bool {
    !value.starts_with("aws:") && matches_model(TAG_VALUE_PATTERN, value)
}

const TAG_VALUE_PATTERN: &str = r"^[\p{L}\p{Z}\p{N}_.:\/=+\-@%]*$";

/// Firehose tags: 1–50, a key and an optional value.
pub const TAGS: Shape = Shape::List {
    min: 1,
    max: 50,
    item: &Shape::Struct(&[
        required(
            "Key",
            Shape::Str {
                min: 1,
                max: 128,
                pattern: Some(Pattern::Lookaround(
                    r"^(?!aws:)[\p{L}\p{Z}\p{N}_.:\/=+\-@%]*$",
                    tag_key,
                )),
            },
        ),
        member("Value", string(0, 256, TAG_VALUE_PATTERN)),
    ]),
};

/// Checks `value` against `shape`, reporting violations at `path`. A value of another JSON type
/// than the shape's is left to the SDKs, which cannot send one.
pub fn check(v: &mut Violations, path: &str, value: &Value, shape: &Shape) {
    match (shape, value) {
        (Shape::Str { min, max, pattern }, Value::String(s)) => {
            v.length(path, Some(s), *min, Some(*max));
            match pattern {
                Some(Pattern::Model(p)) => {
                    v.model_pattern(path, Some(s), p);
                }
                Some(Pattern::Lookaround(shown, matches)) => {
                    v.pattern(path, Some(s), shown, matches);
                }
                None => {}
            }
        }
        (Shape::Int { min, max }, Value::Number(n)) => {
            v.range(path, n.as_i64(), Some(*min), Some(*max));
        }
        (Shape::Enum(values), Value::String(s)) => {
            v.one_of(path, Some(s), values);
        }
        (Shape::Struct(members), Value::Object(map)) => {
            for m in members.iter() {
                let at = format!("{path}.{}", member_path(m.name));
                match map.get(m.name).filter(|v| !v.is_null()) {
                    Some(inner) => check(v, &at, inner, &m.shape),
                    None if m.required => {
                        v.required::<Value>(&at, None);
                    }
                    None => {}
                }
            }
        }
        (Shape::List { min, max, item }, Value::Array(items)) => {
            v.count(path, Some(items), *min, Some(*max));
            for (i, element) in items.iter().enumerate() {
                check(v, &element_path(path, i), element, item);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn violations(value: Value, shape: &Shape) -> Option<String> {
        let mut v = Violations::new();
        check(&mut v, "config", &value, shape);
        v.message()
    }

    #[test]
    fn a_documented_extended_s3_destination_passes() {
        let config = json!({
            "RoleARN": "arn:aws:iam::123456789012:role/firehose_delivery_role",
            "BucketARN": "arn:aws:s3:::my-bucket.logs",
            "Prefix": "metrics/!{timestamp:yyyy}/",
            "BufferingHints": {"SizeInMBs": 128, "IntervalInSeconds": 0},
            "CompressionFormat": "GZIP",
            "CloudWatchLoggingOptions": {"Enabled": true, "LogGroupName": "/aws/kinesisfirehose/x",
                                         "LogStreamName": "S3Delivery"},
            "FileExtension": ".json.gz",
            "CustomTimeZone": "America/New_York",
            "ProcessingConfiguration": {"Enabled": false}
        });
        assert_eq!(violations(config, &EXTENDED_S3_DESTINATION), None);
    }

    #[test]
    fn every_violation_is_reported_at_its_path() {
        let config = json!({
            "RoleARN": "role/firehose",
            "BucketARN": "arn:aws:s3:::bucket with spaces",
            "BufferingHints": {"SizeInMBs": 129},
            "CompressionFormat": "BROTLI",
            "EncryptionConfiguration": {"KMSEncryptionConfig": {}},
            "FileExtension": "json"
        });
        let message = violations(config, &EXTENDED_S3_DESTINATION).unwrap();
        assert!(
            message.starts_with("6 validation errors detected"),
            "{message}"
        );
        for expected in [
            "at 'config.roleARN' failed to satisfy constraint: Member must satisfy regular expression pattern",
            "at 'config.bucketARN'",
            "Value '129' at 'config.bufferingHints.sizeInMBs' failed to satisfy constraint: Member must have value less than or equal to 128",
            "Value 'BROTLI' at 'config.compressionFormat'",
            "Value null at 'config.encryptionConfiguration.kMSEncryptionConfig.aWSKMSKeyARN'",
            "Value 'json' at 'config.fileExtension'",
        ] {
            assert!(message.contains(expected), "{expected} in {message}");
        }
    }

    #[test]
    fn lookaround_patterns_are_checked_by_hand() {
        let endpoint = |name: &str| {
            json!({
                "EndpointConfiguration": {"Url": "https://example.com/ingest", "Name": name},
                "S3Configuration": {"RoleARN": "arn:aws:iam::123456789012:role/r",
                                    "BucketARN": "arn:aws:s3:::b"}
            })
        };
        assert_eq!(
            violations(endpoint("Datadog"), &HTTP_ENDPOINT_DESTINATION),
            None
        );
        let message = violations(endpoint("   "), &HTTP_ENDPOINT_DESTINATION).unwrap();
        assert!(message.contains("pattern: ^(?!\\s*$).+"), "{message}");
        let tags = |key: &str| json!([{"Key": key}]);
        assert_eq!(
            violations(tags("team %1"), &TAGS),
            None,
            "Value is optional"
        );
        assert!(violations(tags("aws:reserved"), &TAGS).is_some());
        assert!(violations(tags("a#b"), &TAGS).is_some());
        assert!(violations(json!([]), &TAGS).is_some(), "at least one tag");
    }
}
