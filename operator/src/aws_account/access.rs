//! Who may use an AWSAccount, and the role the operator assumes for it (pure). The runtime asks
//! before anything is called in AWS for an object (`runtime::accounts`); the answer is this
//! module's, read from the AWSAccount a cluster admin wrote.

use super::spec::{AWSAccountSpec, DEFAULT_SESSION_NAME, DEFAULT_SESSION_SECONDS};
use crate::aws::accounts::Role;
use crate::error::Error;
use crate::reason::Reason;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::core::{Selector, SelectorExt};
use std::collections::BTreeMap;
use std::time::Duration;

/// The role the operator assumes for the account.
pub fn role(spec: &AWSAccountSpec) -> Role {
    Role {
        arn: spec.role_arn.clone(),
        external_id: spec.external_id.clone(),
        session_name: spec
            .session_name
            .clone()
            .unwrap_or_else(|| DEFAULT_SESSION_NAME.to_string()),
        duration: Duration::from_secs(u64::from(
            spec.session_duration_seconds
                .unwrap_or(DEFAULT_SESSION_SECONDS),
        )),
    }
}

/// The namespace selector as a matcher, with Kubernetes' rules for its requirements (`In` and
/// `NotIn` need values, `Exists` and `DoesNotExist` take none); `None` when the spec has none.
pub fn selector(spec: &AWSAccountSpec) -> Result<Option<Selector>, Error> {
    let Some(selector) = &spec.namespace_selector else {
        return Ok(None);
    };
    for requirement in selector.match_expressions.iter().flatten() {
        let values = requirement.values.as_ref().map_or(0, Vec::len);
        let fits = match requirement.operator.as_str() {
            "In" | "NotIn" => values > 0,
            "Exists" | "DoesNotExist" => values == 0,
            _ => false,
        };
        if !fits {
            return Err(Error::invalid_spec(format!(
                "spec.namespaceSelector: the requirement on {:?} with operator {:?} and {values} \
                 value(s) is not valid: In and NotIn need values, Exists and DoesNotExist take \
                 none",
                requirement.key, requirement.operator
            )));
        }
    }
    Selector::try_from(LabelSelector::clone(selector))
        .map(Some)
        .map_err(|e| Error::invalid_spec(format!("spec.namespaceSelector: {e}")))
}

/// What the spec declares that AWS cannot check: a valid namespace selector.
pub fn validate(spec: &AWSAccountSpec) -> Result<(), Error> {
    selector(spec).map(drop)
}

/// Whether objects of `namespace` (labelled `labels`) may use the account `account` in `region`.
pub fn admit(
    account: &str,
    spec: &AWSAccountSpec,
    namespace: &str,
    labels: &BTreeMap<String, String>,
    region: &str,
) -> Result<(), Error> {
    let refused = |message: String| Error::new(Reason::AccountNotAllowed, message);
    let selector = selector(spec).map_err(|e| {
        refused(format!(
            "AWSAccount {account} cannot be used: its {}",
            e.message
        ))
    })?;
    let listed = spec.namespaces.iter().any(|n| n == namespace);
    let selected = selector.is_some_and(|s| s.matches(labels));
    if !listed && !selected {
        return Err(refused(format!(
            "namespace {namespace} may not use AWSAccount {account}: the account's \
             spec.namespaces and spec.namespaceSelector do not include it (a cluster admin \
             grants namespaces in the AWSAccount); nothing was called in AWS"
        )));
    }
    if !spec.regions.is_empty() && !spec.regions.iter().any(|r| r == region) {
        return Err(refused(format!(
            "AWSAccount {account} may be used in {} only, and this object is in {region}; \
             nothing was called in AWS",
            spec.regions.join(", ")
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn spec() -> AWSAccountSpec {
        AWSAccountSpec {
            role_arn: "arn:aws:iam::210987654321:role/cwo".into(),
            ..Default::default()
        }
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn requirement(key: &str, operator: &str, values: Option<&[&str]>) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.into(),
            operator: operator.into(),
            values: values.map(|v| v.iter().map(|s| s.to_string()).collect()),
        }
    }

    fn refusal(result: Result<(), Error>) -> String {
        let e = result.expect_err("refused");
        assert_eq!(e.reason, Reason::AccountNotAllowed);
        assert!(e.is_terminal());
        e.message
    }

    #[test]
    fn an_account_without_namespaces_or_selector_lets_no_namespace_in() {
        let message = refusal(admit("prod", &spec(), "team-a", &labels(&[]), "us-east-1"));
        assert!(
            message.contains("namespace team-a may not use AWSAccount prod"),
            "{message}"
        );
    }

    #[test]
    fn a_listed_namespace_is_let_in_and_another_is_not() {
        let s = AWSAccountSpec {
            namespaces: vec!["team-a".into()],
            ..spec()
        };
        assert!(admit("prod", &s, "team-a", &labels(&[]), "us-east-1").is_ok());
        refusal(admit("prod", &s, "team-b", &labels(&[]), "us-east-1"));
        // A prefix of an allowed name is another namespace.
        refusal(admit("prod", &s, "team", &labels(&[]), "us-east-1"));
    }

    #[test]
    fn the_selector_lets_in_the_namespaces_whose_labels_match() {
        let s = AWSAccountSpec {
            namespace_selector: Some(LabelSelector {
                match_labels: Some(labels(&[("team", "payments")])),
                match_expressions: Some(vec![requirement("env", "In", Some(&["prod", "staging"]))]),
            }),
            ..spec()
        };
        let payments_prod = labels(&[("team", "payments"), ("env", "prod")]);
        assert!(admit("prod", &s, "any", &payments_prod, "us-east-1").is_ok());
        refusal(admit(
            "prod",
            &s,
            "any",
            &labels(&[("team", "payments")]),
            "us-east-1",
        ));
        refusal(admit(
            "prod",
            &s,
            "any",
            &labels(&[("team", "search"), ("env", "prod")]),
            "us-east-1",
        ));
    }

    #[test]
    fn an_empty_selector_lets_every_namespace_in() {
        let s = AWSAccountSpec {
            namespace_selector: Some(LabelSelector::default()),
            ..spec()
        };
        assert!(admit("shared", &s, "anything", &labels(&[]), "us-east-1").is_ok());
    }

    #[test]
    fn the_list_and_the_selector_each_let_in_their_own() {
        let s = AWSAccountSpec {
            namespaces: vec!["ops".into()],
            namespace_selector: Some(LabelSelector {
                match_labels: Some(labels(&[("aws", "prod")])),
                ..Default::default()
            }),
            ..spec()
        };
        assert!(admit("prod", &s, "ops", &labels(&[]), "us-east-1").is_ok());
        assert!(
            admit(
                "prod",
                &s,
                "team-x",
                &labels(&[("aws", "prod")]),
                "us-east-1"
            )
            .is_ok()
        );
        refusal(admit(
            "prod",
            &s,
            "team-y",
            &labels(&[("aws", "dev")]),
            "us-east-1",
        ));
    }

    #[test]
    fn regions_outside_the_allowed_ones_are_refused() {
        let s = AWSAccountSpec {
            namespaces: vec!["team-a".into()],
            regions: vec!["eu-west-1".into(), "us-east-1".into()],
            ..spec()
        };
        assert!(admit("prod", &s, "team-a", &labels(&[]), "eu-west-1").is_ok());
        let message = refusal(admit("prod", &s, "team-a", &labels(&[]), "us-west-2"));
        assert!(message.contains("eu-west-1, us-east-1 only"), "{message}");
        assert!(message.contains("us-west-2"), "{message}");
    }

    #[test]
    fn a_malformed_selector_is_a_spec_error_and_lets_nobody_in() {
        for (operator, values) in [
            ("In", None),
            ("NotIn", Some(&[][..])),
            ("Exists", Some(&["x"][..])),
            ("Matches", Some(&["x"][..])),
        ] {
            let s = AWSAccountSpec {
                namespaces: vec!["team-a".into()],
                namespace_selector: Some(LabelSelector {
                    match_expressions: Some(vec![requirement("env", operator, values)]),
                    ..Default::default()
                }),
                ..spec()
            };
            let e = validate(&s).expect_err(operator);
            assert_eq!(e.reason, Reason::InvalidSpec);
            // Even a listed namespace: an account whose grant cannot be read is not used.
            let message = refusal(admit("prod", &s, "team-a", &labels(&[]), "us-east-1"));
            assert!(message.contains("cannot be used"), "{message}");
        }
    }

    #[test]
    fn the_role_takes_the_defaults_aws_would() {
        let r = role(&spec());
        assert_eq!(r.session_name, "cloudwatch-operator");
        assert_eq!(r.duration, Duration::from_secs(3600));
        assert_eq!(r.external_id, None);
        let r = role(&AWSAccountSpec {
            external_id: Some("ext-42".into()),
            session_name: Some("cwo-prod".into()),
            session_duration_seconds: Some(43_200),
            ..spec()
        });
        assert_eq!(
            (
                r.external_id.as_deref(),
                r.session_name.as_str(),
                r.duration
            ),
            (Some("ext-42"), "cwo-prod", Duration::from_secs(43_200))
        );
    }
}
