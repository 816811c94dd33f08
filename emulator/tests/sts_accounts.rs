//! STS through the Rust SDK (`aws-sdk-sts` over awsQuery, and the SDK's own AssumeRoleProvider):
//! who a caller is, roles assumed only where trust allows, and each account's separate state.

mod common;

use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};
use aws_sdk_sts::error::ProvideErrorMetadata;
use common::{ACCOUNT, REGION, admin, sdk_config};
use cwo_emulator::sts::iam::{Role, Trust};
use cwo_emulator::{EmulatorConfig, RunningEmulator};

/// The account the roles live in.
const TEAM: &str = "210987654321";
const TEAM_ROLE: &str = "arn:aws:iam::210987654321:role/cloudwatch-operator";

fn role(arn: &str, trust: &[(&str, Option<&str>)]) -> Role {
    Role {
        arn: arn.into(),
        trust: trust
            .iter()
            .map(|(principal, external_id)| Trust {
                principal: (*principal).into(),
                external_id: external_id.map(str::to_string),
            })
            .collect(),
        max_session_duration: 3_600,
    }
}

/// An STS client with the default account's long-term key, no retries.
async fn base(emulator: &RunningEmulator) -> (SdkConfig, aws_sdk_sts::Client) {
    let config = sdk_config(&emulator.endpoint(), REGION, "AKIDOPERATOR")
        .await
        .into_builder()
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .build();
    let sts = aws_sdk_sts::Client::new(&config);
    (config, sts)
}

/// `config` signing with the temporary credentials AssumeRole returned.
fn with_session(config: &SdkConfig, issued: &aws_sdk_sts::types::Credentials) -> SdkConfig {
    config
        .to_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
                issued.access_key_id(),
                issued.secret_access_key(),
                Some(issued.session_token().to_string()),
                None,
                "assumed",
            )),
        )
        .build()
}

async fn put_alarm(cw: &aws_sdk_cloudwatch::Client, name: &str) {
    cw.put_metric_alarm()
        .alarm_name(name)
        .namespace("N")
        .metric_name("M")
        .statistic(Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .expect("PutMetricAlarm");
}

async fn alarm_names(cw: &aws_sdk_cloudwatch::Client) -> Vec<String> {
    cw.describe_alarms()
        .send()
        .await
        .expect("DescribeAlarms")
        .metric_alarms()
        .iter()
        .filter_map(|a| a.alarm_name().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn get_caller_identity_names_the_keys_account() {
    let (emulator, _) = common::start().await;
    let (_, sts) = base(&emulator).await;
    let me = sts.get_caller_identity().send().await.unwrap();
    assert_eq!(me.account(), Some(ACCOUNT));
    assert_eq!(
        me.arn(),
        Some(format!("arn:aws:iam::{ACCOUNT}:root").as_str())
    );
    assert_eq!(me.user_id(), Some(ACCOUNT));

    let other = sdk_config(&emulator.endpoint(), REGION, TEAM).await;
    let other = aws_sdk_sts::Client::new(&other)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(
        other.account(),
        Some(TEAM),
        "a 12-digit key id is its account"
    );
    assert_eq!(
        emulator
            .calls_in(ACCOUNT)
            .total_of("sts", "GetCallerIdentity"),
        1
    );
    assert_eq!(
        emulator.calls_in(TEAM).total_of("sts", "GetCallerIdentity"),
        1
    );
}

#[tokio::test]
async fn an_assumed_role_works_in_the_roles_account_and_sees_only_its_state() {
    let (emulator, base_clients) = common::start().await;
    emulator
        .put_role(role(TEAM_ROLE, &[(ACCOUNT, None)]))
        .unwrap();
    let (config, sts) = base(&emulator).await;
    let before = SystemTime::now();
    let assumed = sts
        .assume_role()
        .role_arn(TEAM_ROLE)
        .role_session_name("cloudwatch-operator")
        .duration_seconds(900)
        .send()
        .await
        .unwrap();
    let user = assumed.assumed_role_user().unwrap();
    assert_eq!(
        user.arn(),
        "arn:aws:sts::210987654321:assumed-role/cloudwatch-operator/cloudwatch-operator"
    );
    assert!(
        user.assumed_role_id().starts_with("AROA")
            && user.assumed_role_id().ends_with(":cloudwatch-operator"),
        "{}",
        user.assumed_role_id()
    );
    let issued = assumed.credentials().unwrap();
    assert!(issued.access_key_id().starts_with("ASIA"));
    let expires = SystemTime::try_from(*issued.expiration()).unwrap();
    let lifetime = expires.duration_since(before).unwrap();
    assert!(
        (Duration::from_secs(898)..=Duration::from_secs(901)).contains(&lifetime),
        "{lifetime:?}"
    );

    let team_config = with_session(&config, issued);
    let team_sts = aws_sdk_sts::Client::new(&team_config);
    let me = team_sts.get_caller_identity().send().await.unwrap();
    assert_eq!(me.account(), Some(TEAM));
    assert_eq!(me.arn(), Some(user.arn()));

    let team_cw = aws_sdk_cloudwatch::Client::new(&team_config);
    put_alarm(&team_cw, "team-alarm").await;
    put_alarm(&base_clients.cloudwatch, "base-alarm").await;
    assert_eq!(alarm_names(&team_cw).await, ["team-alarm"]);
    assert_eq!(alarm_names(&base_clients.cloudwatch).await, ["base-alarm"]);
    let arn = team_cw
        .describe_alarms()
        .send()
        .await
        .unwrap()
        .metric_alarms()[0]
        .alarm_arn()
        .unwrap()
        .to_string();
    assert_eq!(
        arn,
        format!("arn:aws:cloudwatch:{REGION}:{TEAM}:alarm:team-alarm")
    );
    assert_eq!(
        emulator
            .calls_in(TEAM)
            .total_of("cloudwatch", "PutMetricAlarm"),
        1
    );
    assert_eq!(
        emulator.calls_in(ACCOUNT).total_of("sts", "AssumeRole"),
        1,
        "AssumeRole counts in the caller's account"
    );
}

#[tokio::test]
async fn a_role_that_does_not_trust_the_caller_answers_access_denied_until_trust_is_fixed() {
    let (emulator, _) = common::start().await;
    emulator
        .put_role(role(TEAM_ROLE, &[("999999999999", None)]))
        .unwrap();
    let (_, sts) = base(&emulator).await;
    let assume = || {
        sts.assume_role()
            .role_arn(TEAM_ROLE)
            .role_session_name("cloudwatch-operator")
            .send()
    };
    let error = assume().await.unwrap_err();
    let service = error.as_service_error().expect("a service error");
    assert_eq!(service.code(), Some("AccessDenied"));
    assert_eq!(
        service.message(),
        Some(
            format!(
                "User: arn:aws:iam::{ACCOUNT}:root is not authorized to perform: sts:AssumeRole \
                 on resource: {TEAM_ROLE}"
            )
            .as_str()
        )
    );
    let raw = error.raw_response().expect("a response");
    assert_eq!(raw.status().as_u16(), 403);

    // A role that does not exist is refused in the same words.
    let missing = sts
        .assume_role()
        .role_arn("arn:aws:iam::210987654321:role/missing")
        .role_session_name("cloudwatch-operator")
        .send()
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Some("AccessDenied"));

    // Trust fixed through the admin API, as a test bed does it.
    let body = format!(
        r#"{{"arn": "{TEAM_ROLE}", "trust": [{{"principal": "arn:aws:iam::{ACCOUNT}:root"}}]}}"#
    );
    let (status, answer) = admin(
        &emulator.endpoint(),
        "PUT",
        "/_emulator/iam/roles",
        Some(&body),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assume().await.expect("trusted now");
    let (status, listed) = admin(&emulator.endpoint(), "GET", "/_emulator/iam/roles", None).await;
    assert_eq!(status, 200);
    assert!(
        listed.contains(TEAM_ROLE) && listed.contains("maxSessionDuration"),
        "{listed}"
    );
}

#[tokio::test]
async fn the_external_id_is_required_when_the_trust_names_one() {
    let (emulator, _) = common::start().await;
    emulator
        .put_role(role(TEAM_ROLE, &[(ACCOUNT, Some("tenant-7"))]))
        .unwrap();
    let (_, sts) = base(&emulator).await;
    for external_id in [None, Some("tenant-8")] {
        let error = sts
            .assume_role()
            .role_arn(TEAM_ROLE)
            .role_session_name("s1")
            .set_external_id(external_id.map(str::to_string))
            .send()
            .await
            .unwrap_err();
        assert_eq!(error.code(), Some("AccessDenied"), "{external_id:?}");
    }
    sts.assume_role()
        .role_arn(TEAM_ROLE)
        .role_session_name("s1")
        .external_id("tenant-7")
        .send()
        .await
        .expect("the right external ID");
}

#[tokio::test]
async fn invalid_parameters_answer_validation_error_at_their_bounds() {
    let (emulator, _) = common::start().await;
    emulator
        .put_role(role(TEAM_ROLE, &[(ACCOUNT, None)]))
        .unwrap();
    let (_, sts) = base(&emulator).await;
    let assume = |session: &str, duration: Option<i32>| {
        sts.assume_role()
            .role_arn(TEAM_ROLE)
            .role_session_name(session)
            .set_duration_seconds(duration)
            .send()
    };
    assert!(assume("ab", Some(900)).await.is_ok());
    assert!(assume(&"a".repeat(64), Some(3_600)).await.is_ok());
    for (session, duration, words) in [
        ("a", None, "length greater than or equal to 2"),
        (&*"a".repeat(65), None, "length less than or equal to 64"),
        ("has space", None, "regular expression pattern"),
        ("ok", Some(899), "greater than or equal to 900"),
        ("ok", Some(3_601), "MaxSessionDuration"),
    ] {
        let error = assume(session, duration).await.unwrap_err();
        assert_eq!(
            error.code(),
            Some("ValidationError"),
            "{session} {duration:?}"
        );
        let message = error.message().unwrap_or_default();
        assert!(message.contains(words), "{message}");
    }
}

#[tokio::test]
async fn temporary_credentials_expire_and_unknown_ones_are_refused() {
    let config = EmulatorConfig {
        // Expiration is a whole second, so two leave at least one for the first call.
        sts_session_seconds: Some(2),
        ..Default::default()
    };
    let (emulator, _) = common::start_with(config).await;
    emulator
        .put_role(role(TEAM_ROLE, &[(ACCOUNT, None)]))
        .unwrap();
    let (config, sts) = base(&emulator).await;
    let assumed = sts
        .assume_role()
        .role_arn(TEAM_ROLE)
        .role_session_name("short")
        .send()
        .await
        .unwrap();
    let issued = assumed.credentials().unwrap();
    let team_cw = aws_sdk_cloudwatch::Client::new(&with_session(&config, issued));
    team_cw
        .describe_alarms()
        .send()
        .await
        .expect("fresh credentials work");
    tokio::time::sleep(Duration::from_millis(2_100)).await;

    let expired = team_cw.describe_alarms().send().await.unwrap_err();
    assert_eq!(
        aws_sdk_cloudwatch::error::ProvideErrorMetadata::code(&expired),
        Some("ExpiredToken")
    );
    let team_logs = aws_sdk_cloudwatchlogs::Client::new(&with_session(&config, issued));
    let expired = team_logs.describe_log_groups().send().await.unwrap_err();
    assert_eq!(
        aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata::code(&expired),
        Some("ExpiredTokenException")
    );

    // Temporary credentials STS never issued.
    let forged = config
        .to_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
                "ASIAFORGEDFORGED1234",
                "s",
                Some("t".into()),
                None,
                "forged",
            )),
        )
        .build();
    let error = aws_sdk_sts::Client::new(&forged)
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("InvalidClientTokenId"));
    let refused = emulator.calls().operation("cloudwatch", "DescribeAlarms");
    assert_eq!(refused.errors.get("ExpiredToken"), Some(&1));
    assert_eq!(
        emulator
            .calls_in(TEAM)
            .total_of("cloudwatch", "DescribeAlarms"),
        1,
        "a refused call counts in no account"
    );
}

#[tokio::test]
async fn the_sdks_assume_role_provider_signs_calls_in_the_roles_account() {
    let (emulator, _) = common::start().await;
    emulator
        .put_role(role(TEAM_ROLE, &[(ACCOUNT, Some("ext-1"))]))
        .unwrap();
    let (config, _) = base(&emulator).await;
    let provider = aws_config::sts::AssumeRoleProvider::builder(TEAM_ROLE)
        .session_name("provider")
        .external_id("ext-1")
        .configure(&config)
        .build()
        .await;
    let team = config
        .to_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(provider),
        )
        .build();
    let cw = aws_sdk_cloudwatch::Client::new(&team);
    put_alarm(&cw, "through-provider").await;
    assert_eq!(alarm_names(&cw).await, ["through-provider"]);
    assert_eq!(
        emulator
            .calls_in(TEAM)
            .total_of("cloudwatch", "PutMetricAlarm"),
        1
    );
}

#[tokio::test]
async fn the_admin_api_refuses_invalid_roles_and_sets_the_session_cap() {
    let (emulator, _) = common::start().await;
    let endpoint = emulator.endpoint();
    for body in [
        r#"{"arn": "arn:aws:iam::1234:role/x"}"#,
        r#"{"arn": "arn:aws:iam::123456789012:role/x", "maxSessionDuration": 3599}"#,
        r#"{"arn": "arn:aws:iam::123456789012:role/x", "maxSessionDuration": 43201}"#,
        r#"{"arn": "arn:aws:iam::123456789012:role/x", "trust": [{"principal": ""}]}"#,
        r#"{"arn": "arn:aws:iam::123456789012:role/x", "trusts": []}"#,
    ] {
        let (status, answer) = admin(&endpoint, "PUT", "/_emulator/iam/roles", Some(body)).await;
        assert_eq!(status, 400, "{body}: {answer}");
    }
    assert!(emulator.roles().is_empty());
    let ok = r#"{"arn": "arn:aws:iam::123456789012:role/x", "maxSessionDuration": 43200}"#;
    assert_eq!(
        admin(&endpoint, "PUT", "/_emulator/iam/roles", Some(ok))
            .await
            .0,
        200
    );
    assert_eq!(emulator.roles().len(), 1);

    let (status, answer) = admin(
        &endpoint,
        "PUT",
        "/_emulator/sts",
        Some(r#"{"sessionSeconds": 20}"#),
    )
    .await;
    assert_eq!((status, answer.as_str()), (200, r#"{"sessionSeconds":20}"#));
    assert_eq!(emulator.sts_settings().session_seconds, Some(20));
    let (status, _) = admin(
        &endpoint,
        "PUT",
        "/_emulator/sts",
        Some(r#"{"session": 20}"#),
    )
    .await;
    assert_eq!(status, 400);

    // A reset forgets the roles with the rest of the state.
    assert_eq!(
        admin(&endpoint, "POST", "/_emulator/reset", None).await.0,
        204
    );
    assert!(emulator.roles().is_empty());
}

#[tokio::test]
async fn roles_survive_a_restart_but_issued_credentials_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let config = EmulatorConfig {
        state_file: Some(dir.path().join("state.json")),
        ..Default::default()
    };
    let (emulator, _) = common::start_with(config.clone()).await;
    emulator
        .put_role(role(TEAM_ROLE, &[(ACCOUNT, Some("ext-1"))]))
        .unwrap();
    let (base_config, sts) = base(&emulator).await;
    let assumed = sts
        .assume_role()
        .role_arn(TEAM_ROLE)
        .role_session_name("before")
        .external_id("ext-1")
        .send()
        .await
        .unwrap();
    let issued = assumed.credentials().unwrap().clone();
    emulator.shutdown().await.unwrap();

    let (emulator, _) = common::start_with(config).await;
    assert_eq!(
        emulator.roles(),
        [role(TEAM_ROLE, &[(ACCOUNT, Some("ext-1"))])]
    );
    let endpoint = emulator.endpoint();
    let old_session = with_session(&base_config, &issued)
        .into_builder()
        .endpoint_url(&endpoint)
        .build();
    let error = aws_sdk_sts::Client::new(&old_session)
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("InvalidClientTokenId"));
    let (_, sts) = base(&emulator).await;
    sts.assume_role()
        .role_arn(TEAM_ROLE)
        .role_session_name("after")
        .external_id("ext-1")
        .send()
        .await
        .expect("the trust was kept");
}
