//! The filter pattern language, held to the examples of AWS's documentation: every pattern of
//! "Filter pattern syntax for metric filters, subscription filters, filter log events, and Live
//! Tail" (CloudWatch Logs User Guide) and of the TestMetricFilter API reference runs through
//! TestMetricFilter with the Rust SDK, against the documented log events, and must match
//! exactly the events the documentation says it matches, extracting the documented values.

mod common;

use std::collections::BTreeMap;

use aws_sdk_cloudwatchlogs::Client;
use common::{error_code, error_message};

/// The event numbers TestMetricFilter reports as matching (numbered from 1).
async fn matching(logs: &Client, pattern: &str, events: &[&str]) -> Vec<i64> {
    let out = logs
        .test_metric_filter()
        .filter_pattern(pattern)
        .set_log_event_messages(Some(events.iter().map(|e| e.to_string()).collect()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{pattern}: {e:?}"));
    for m in out.matches() {
        assert_eq!(
            m.event_message(),
            Some(events[m.event_number() as usize - 1]),
            "{pattern}: the match echoes its event"
        );
    }
    out.matches().iter().map(|m| m.event_number()).collect()
}

async fn check(logs: &Client, events: &[&str], cases: &[(&str, &[i64])]) {
    for (pattern, expected) in cases {
        assert_eq!(
            matching(logs, pattern, events).await,
            *expected,
            "pattern {pattern}"
        );
    }
}

const ERRORS: &[&str] = &[
    "[ERROR 400] BAD REQUEST",
    "[ERROR 401] UNAUTHORIZED REQUEST",
    "[ERROR 419] MISSING ARGUMENTS",
    "[ERROR 420] INVALID ARGUMENTS",
    "[ERROR 500] INTERNAL SERVER ERROR",
    "[SUCCESS 200] AUTHORIZED REQUEST",
];

#[tokio::test]
async fn regex_and_unstructured_examples() {
    let (_emulator, clients) = common::start().await;
    check(
        &clients.logs,
        ERRORS,
        &[
            ("%AUTHORIZED%", &[2, 6]),
            ("ERROR", &[1, 2, 3, 4, 5]),
            ("ERROR ARGUMENTS", &[3, 4]),
            ("?ERROR ?ARGUMENTS", &[1, 2, 3, 4, 5]),
            ("\"INTERNAL SERVER ERROR\"", &[5]),
            ("ERROR -ARGUMENTS", &[1, 2, 5]),
            ("\" \"", &[1, 2, 3, 4, 5, 6]),
            ("", &[1, 2, 3, 4, 5, 6]),
        ],
    )
    .await;
    // "If you combine '?' with other filter patterns, all question mark terms will be ignored."
    check(
        &clients.logs,
        &[
            "[INFO] REQUEST FAILED",
            "[WARN] UNAUTHORIZED REQUEST",
            "[ERROR] 400 BAD REQUEST",
            "[ERROR] 419 MISSING ARGUMENTS",
        ],
        &[("?ERROR ?ARGUMENTS REQUEST", &[1, 2, 3])],
    )
    .await;
    // The supported regex operators, each on the strings the documentation names.
    check(
        &clients.logs,
        &[
            "hat",
            "cat",
            "color",
            "colour",
            "aaaa",
            "grey",
            "[7]",
            "10010,051",
            "abbbc",
            "ab129",
        ],
        &[
            ("%^[hc]at%", &[1, 2]),
            ("%colou?r%", &[3, 4]),
            ("%a{3,5}%", &[5]),
            ("%gra|ey%", &[6]),
            (r"%\[.\]%", &[7]),
            ("%10.10.0.1%", &[8]),
            (r"%10\.10\.0\.1%", &[]),
            ("%ab*c%", &[9]),
            ("%ab[0-9]*%", &[9, 10]),
            ("%ab+c%", &[9]),
        ],
    )
    .await;
}

/// The JSON log event of the JSON section (entered on one line, as the page asks).
const JSON_EVENT: &str = r#"{"eventType": "UpdateTrail", "sourceIPAddress": "111.111.111.111", "arrayKey": ["value", "another value"], "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}], "SomeObject": null, "cluster.name": "c"}"#;

/// The JSON object of the compound-expression examples.
const USERS_EVENT: &str = r#"{"user": {"id": 1, "email": "John.Stiles@example.com"}, "users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}], "actions": ["GET", "PUT", "DELETE"], "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]]}"#;

#[tokio::test]
async fn json_examples() {
    let (_emulator, clients) = common::start().await;
    let logs = &clients.logs;
    check(
        logs,
        &[JSON_EVENT, "not json", r#"{"eventType": "CreateTrail"}"#],
        &[
            ("{ $.eventType = \"UpdateTrail\" }", &[1]),
            ("{ $.sourceIPAddress != 123.123.* }", &[1]),
            ("{ $.arrayKey[0] = \"value\" }", &[1]),
            ("{ $.eventType = %Trail% }", &[1, 3]),
            ("{ $.arrayKey[*] = %val.{2}% }", &[1]),
            (r"{ $.* = %111\.111\.111\.1[0-9]{1,2}% }", &[1]),
            ("{ $.['cluster.name'] = \"c\" }", &[1]),
            ("{ $.SomeObject IS NULL }", &[1]),
            ("{ $.SomeOtherObject NOT EXISTS }", &[1, 3]),
            ("{ $.objectList[1].id = 2 }", &[1]),
            (
                "{ $.eventType = \"*\" && $.sourceIPAddress != 123.123.* }",
                &[1],
            ),
        ],
    )
    .await;
    check(
        logs,
        &[USERS_EVENT],
        &[
            ("{ ($.user.id = 1) && ($.users[0].email = \"John.Doe@example.com\") }", &[1]),
            (
                "{ $.user.email = \"John.Stiles@example.com\" || $.coordinates[0][1] = \"nonmatch\" && $.actions[2] = \"nonmatch\" }",
                &[1],
            ),
            (
                "{ ($.user.email = \"John.Stiles@example.com\" || $.coordinates[0][1] = \"nonmatch\") && $.actions[2] = \"nonmatch\" }",
                &[],
            ),
            ("{ ($.user.id = 2 && $.users[0].email = \"nonmatch\") || $.actions[2] = \"GET\" }", &[]),
        ],
    )
    .await;
    // "Both {$.users = 1} and {$.users != 1} will fail to match a log event where users is
    // an array."
    check(
        logs,
        &[r#"{"users": [1, 2, 3]}"#],
        &[("{$.users = 1}", &[]), ("{$.users != 1}", &[])],
    )
    .await;
    // The numeric comparisons, each on a value that satisfies it and one that does not.
    let numbers = [
        r#"{"bandwidth": 80, "latency": 40, "refreshRate": 60, "responseTime": 5, "errorCode": 400, "number": [1000]}"#,
        r#"{"bandwidth": 70, "latency": 60, "refreshRate": 59, "responseTime": 6, "errorCode": 500, "number": [0.001]}"#,
    ];
    check(
        logs,
        &numbers,
        &[
            ("{ $.bandwidth > 75 }", &[1]),
            ("{ $.latency < 50 }", &[1]),
            ("{ $.refreshRate >= 60 }", &[1]),
            ("{ $.responseTime <= 5 }", &[1]),
            ("{ $.errorCode = 400}", &[1]),
            ("{ $.errorCode != 500 }", &[1]),
            ("{ $.number[0] = 1e+3 }", &[1]),
            ("{ $.number[0] != 1e-3 }", &[1]),
        ],
    )
    .await;
    // The metric filter page's example: `{ $.latency = * }` with metric value `$.latency`.
    check(
        logs,
        &[
            r#"{"latency": 50, "requestType": "GET"}"#,
            r#"{"requestType": "GET"}"#,
        ],
        &[("{ $.latency = * }", &[1])],
    )
    .await;
    // Matches of JSON patterns carry no extracted values.
    let out = logs
        .test_metric_filter()
        .filter_pattern("{ $.latency = * }")
        .log_event_messages(r#"{"latency": 50}"#)
        .send()
        .await
        .unwrap();
    assert!(
        out.matches()[0]
            .extracted_values()
            .is_none_or(|v| v.is_empty())
    );
}

const APP_EVENTS: &[&str] = &[
    "INFO 09/25/2014 12:00:00 GET /service/resource/67 1200",
    "INFO 09/25/2014 12:00:01 POST /service/resource/67/part/111 1310",
    "WARNING 09/25/2014 12:00:02 Invalid user request",
    "ERROR 09/25/2014 12:00:02 Failed to process request",
];

const APACHE_EVENT: &str =
    r#"127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#;

#[tokio::test]
async fn space_delimited_examples() {
    let (_emulator, clients) = common::start().await;
    let logs = &clients.logs;
    check(
        logs,
        APP_EVENTS,
        &[
            ("[w1=ERROR, w2]", &[4]),
            ("[w1=ERROR || w1=WARNING, w2]", &[3, 4]),
            ("[w1!=ERROR && w1!=WARNING, w2]", &[1, 2]),
            ("[logLevel, date, time, method, url=%/service/resource/[0-9]+$%, response_time]", &[1]),
            (
                "[logLevel, date, time, method, url=%/service/resource/[0-9]+/part/[0-9]+$%, response_time]",
                &[2],
            ),
        ],
    )
    .await;
    let other =
        r#"10.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.gif HTTP/1.0" 200 900"#;
    check(
        logs,
        &[APACHE_EVENT, other],
        &[
            (r"[ip=%127\.0\.0\.[1-9]%, user, username, timestamp, request =*.html*, status_code = 4*, bytes]", &[1]),
            ("[..., request =*.html*, status_code = 4*, bytes]", &[1]),
            ("[ip, user, username, timestamp, request =*.html*, status_code = 404 || status_code = 410, bytes]", &[1]),
            ("[ip, server, username, timestamp, request, status_code, bytes > 1000]", &[1]),
            ("[ip, user, username, timestamp, request, status_code = 200, bytes]", &[2]),
            ("[ip, user, ..., status_code, bytes]", &[1, 2]),
            ("[ip, user, ...]", &[1, 2]),
        ],
    )
    .await;
    // The values the dimension examples name: `$server` is "Prod".
    let out = logs
        .test_metric_filter()
        .filter_pattern("[ip, server, username, timestamp, request, status_code, bytes > 1000]")
        .log_event_messages(APACHE_EVENT)
        .send()
        .await
        .unwrap();
    let values = out.matches()[0].extracted_values().unwrap();
    let expected: BTreeMap<&str, &str> = [
        ("$bytes", "1534"),
        ("$status_code", "404"),
        ("$request", "GET /index.html HTTP/1.0"),
        ("$timestamp", "10/Oct/2000:13:25:15 -0700"),
        ("$username", "frank"),
        ("$server", "Prod"),
        ("$ip", "127.0.0.1"),
    ]
    .into();
    let got: BTreeMap<&str, &str> = values
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(got, expected);
}

const ACCESS_LOG: &[&str] = &[
    r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534"#,
    r#"127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324"#,
    r#"127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 200 4355"#,
];

async fn extracted(logs: &Client, pattern: &str, events: &[&str]) -> Vec<BTreeMap<String, String>> {
    let out = logs
        .test_metric_filter()
        .filter_pattern(pattern)
        .set_log_event_messages(Some(events.iter().map(|e| e.to_string()).collect()))
        .send()
        .await
        .unwrap();
    out.matches()
        .iter()
        .map(|m| {
            m.extracted_values()
                .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default()
        })
        .collect()
}

fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The examples of the TestMetricFilter API reference, with the values they extract.
#[tokio::test]
async fn test_metric_filter_api_reference_examples() {
    let (_emulator, clients) = common::start().await;
    let logs = &clients.logs;
    let all_named = extracted(
        logs,
        "[ip, identity, user_id, timestamp, request, status_code, size]",
        ACCESS_LOG,
    )
    .await;
    assert_eq!(all_named.len(), 3);
    assert_eq!(
        all_named[1],
        values(&[
            ("$ip", "127.0.0.1"),
            ("$identity", "-"),
            ("$user_id", "frank"),
            ("$timestamp", "10/Oct/2000:13:35:22 -0700"),
            ("$request", "GET /apache_pb.gif HTTP/1.0"),
            ("$status_code", "500"),
            ("$size", "5324"),
        ])
    );
    let positional = |size_key: &str, size: &str, status: &str| {
        values(&[
            ("$1", "127.0.0.1"),
            ("$2", "-"),
            ("$3", "frank"),
            ("$4", "10/Oct/2000:13:50:35 -0700"),
            ("$5", "GET /apache_pb.gif HTTP/1.0"),
            ("$6", status),
            (size_key, size),
        ])
    };
    let last_only = extracted(logs, "[..., size]", ACCESS_LOG).await;
    assert_eq!(last_only[2], positional("$size", "4355", "200"));
    let none_named = extracted(logs, "[]", ACCESS_LOG).await;
    assert_eq!(none_named[2], positional("$7", "4355", "200"));

    assert_eq!(
        matching(logs, "[..., status_code=200, size]", ACCESS_LOG).await,
        [1, 3]
    );
    let html = [
        r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#,
        r#"127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /about-us/index.html HTTP/1.0" 200 5324"#,
        r#"127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 404 4355"#,
        r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /products/index.html HTTP/1.0" 400 1534"#,
    ];
    assert_eq!(
        matching(logs, "[..., request=*.html*, status_code=4*,]", &html).await,
        [1, 4]
    );
    let fourth = extracted(logs, "[..., request=*.html*, status_code=4*,]", &html[3..]).await;
    assert_eq!(
        fourth[0],
        values(&[
            ("$1", "127.0.0.1"),
            ("$2", "-"),
            ("$3", "frank"),
            ("$4", "10/Oct/2000:13:25:15 -0700"),
            ("$request", "GET /products/index.html HTTP/1.0"),
            ("$status_code", "400"),
            ("$7", "1534"),
        ])
    );

    let app_log = [
        "02 May 2014 00:34:12,525 [INFO] Starting the application",
        "02 May 2014 00:35:14,245 [DEBUG] Database connection established",
        "02 May 2014 00:34:14,663 [INFO] Executing SQL Query",
        "02 May 2014 00:34:16,142 [ERROR] Unhanded exception: InvalidQueryException",
        "02 May 2014 00:34:16,224 [ERROR] Terminating the application",
    ];
    assert_eq!(matching(logs, "\"[ERROR]\"", &app_log).await, [4, 5]);
    assert_eq!(matching(logs, "\"[ERROR]\" Exception", &app_log).await, [4]);
    assert!(
        extracted(logs, "\"[ERROR]\"", &app_log)
            .await
            .iter()
            .all(BTreeMap::is_empty)
    );
}

/// Patterns the documentation calls unsupported or malformed, and AWS's answers.
#[tokio::test]
async fn invalid_patterns_are_refused_with_aws_messages() {
    let (_emulator, clients) = common::start().await;
    let logs = &clients.logs;
    for (pattern, message) in [
        (
            "{ $.eventType > \"UpdateTrail\" }",
            "Invalid metric filter pattern",
        ),
        (
            "{ $.eventType <= UpdateTrail }",
            "Invalid metric filter pattern",
        ),
        ("{ $.SomeObject EXISTS }", "Invalid metric filter pattern"),
        (
            "{ $.SomeObject IS NOT NULL }",
            "Invalid metric filter pattern",
        ),
        ("{ $.a[*].b[*] = 1 }", "Invalid metric filter pattern"),
        (
            "{ $.[\"cluster.name\"] = \"c\" }",
            "Invalid metric filter pattern",
        ),
        (
            "[ip, user, username, timestamp, request, status_code = 4* && bytes > 1000]",
            "Invalid metric filter pattern",
        ),
        ("%something!%", "Invalid metric filter pattern"),
        ("%(a|b)%", "Invalid metric filter pattern"),
        ("\"unbalanced", "Invalid metric filter pattern"),
        ("ERROR: failed", "Invalid character(s) in term 'ERROR:'"),
        (
            "{ $.a = %x% || $.b = %y% || $.c = %z% }",
            "A filter pattern can contain at most 2 regular expressions",
        ),
    ] {
        let err = logs
            .test_metric_filter()
            .filter_pattern(pattern)
            .log_event_messages("anything")
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_code(&err), "InvalidParameterException", "{pattern}");
        assert_eq!(error_message(&err), message, "{pattern}");
    }
}
