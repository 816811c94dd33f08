//! IAM as far as STS needs it: roles with their trust, the temporary credentials AssumeRole
//! issues, and who a request's access key is.
//!
//! Access keys map to accounts. A key AssumeRole issued (`ASIA…`) belongs to the role's account
//! until it expires, and works only with its session token. Any other key is a long-term key of
//! an account's root user: the account is the key itself when it is 12 digits, otherwise
//! [`DEFAULT_ACCOUNT`] (so tests can address several accounts without setting anything up).
//!
//! Trust is configured through the admin API (`PUT /_emulator/iam/roles`): a role trusts a list
//! of principals, each optionally with the external ID it must pass. A principal is an account
//! (its id, or `arn:aws:iam::<account>:root`: any identity of that account), or one identity's
//! ARN: a user, a role (then any session of that role), or an assumed-role session. A role that
//! does not exist, or does not trust the caller, is refused as AWS refuses both: `AccessDenied`,
//! without saying which.

use std::collections::{BTreeMap, HashMap};

use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::error::AwsError;
use crate::signing_scope::DEFAULT_ACCOUNT;

/// A role's longest session when its configuration names none (AWS's default).
pub const DEFAULT_MAX_SESSION_SECONDS: u64 = 3_600;
/// Issued credentials are forgotten this long after they expire.
const FORGET_AFTER_SECONDS: f64 = 3_600.0;

/// One principal a role trusts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Trust {
    /// An account id or `arn:<partition>:iam::<account>:root` (every identity of the account),
    /// or the ARN of one user, role or assumed-role session.
    pub principal: String,
    /// The external ID the caller must pass (`sts:ExternalId`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
}

/// An IAM role: who may assume it, and for how long at most.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Role {
    /// `arn:<partition>:iam::<account>:role/<path/>name`.
    pub arn: String,
    /// The principals it trusts; none: nobody may assume it.
    #[serde(default)]
    pub trust: Vec<Trust>,
    /// The longest session AssumeRole may ask for, 3,600 to 43,200 seconds.
    #[serde(default = "default_max_session")]
    pub max_session_duration: u64,
}

fn default_max_session() -> u64 {
    DEFAULT_MAX_SESSION_SECONDS
}

/// STS settings a test sets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StsSettings {
    /// Issued credentials last at most this many seconds, whatever DurationSeconds asks for (a
    /// test bed's short sessions, to see them renewed). `None`: as asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_seconds: Option<u64>,
}

/// The parts of a role ARN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleArn<'a> {
    pub partition: &'a str,
    pub account: &'a str,
    pub name: &'a str,
}

/// Parses `arn:<partition>:iam::<account>:role/<path/>name`.
pub fn parse_role_arn(arn: &str) -> Option<RoleArn<'_>> {
    let rest = arn.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(':')?;
    let rest = rest.strip_prefix("iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path = resource.strip_prefix("role/")?;
    let name = path.rsplit('/').next()?;
    let valid = !partition.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty();
    valid.then_some(RoleArn {
        partition,
        account,
        name,
    })
}

impl Role {
    /// Checks a role configuration sent to the admin API.
    pub fn validate(&self) -> Result<(), String> {
        if parse_role_arn(&self.arn).is_none() {
            return Err(format!(
                "{:?} is not a role ARN (arn:aws:iam::<12-digit account>:role/<name>)",
                self.arn
            ));
        }
        if !(DEFAULT_MAX_SESSION_SECONDS..=43_200).contains(&self.max_session_duration) {
            return Err(format!(
                "maxSessionDuration {} is not within 3600..=43200",
                self.max_session_duration
            ));
        }
        if self.trust.iter().any(|t| t.principal.is_empty()) {
            return Err("a trust entry names no principal".into());
        }
        Ok(())
    }
}

/// Who sent a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The account whose state the request reads and writes.
    pub account: String,
    /// The caller's ARN, as GetCallerIdentity reports it.
    pub arn: String,
    /// GetCallerIdentity's UserId.
    pub user_id: String,
    /// For an assumed-role session, the role's ARN.
    pub role_arn: Option<String>,
}

impl Caller {
    /// A long-term key of `account`'s root user.
    fn root(account: &str) -> Self {
        Caller {
            account: account.to_string(),
            arn: format!("arn:aws:iam::{account}:root"),
            user_id: account.to_string(),
            role_arn: None,
        }
    }

    /// Whether `trust` lets this caller in.
    fn trusted_by(&self, trust: &Trust) -> bool {
        let principal = trust.principal.as_str();
        let account_root = principal
            .strip_prefix("arn:")
            .and_then(|rest| rest.split_once(':'))
            .and_then(|(_, rest)| rest.strip_prefix("iam::"))
            .and_then(|rest| rest.strip_suffix(":root"));
        principal == self.account
            || account_root == Some(self.account.as_str())
            || principal == self.arn
            || self.role_arn.as_deref() == Some(principal)
    }
}

/// Why a request's credentials are refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// The temporary credentials have expired.
    Expired,
    /// The key or its session token is not one STS issued.
    Invalid,
}

/// Temporary credentials AssumeRole issued.
#[derive(Clone, Debug)]
struct Session {
    caller: Caller,
    session_token: String,
    /// Seconds since the epoch.
    expires: f64,
}

/// What AssumeRole returns.
#[derive(Clone, Debug, PartialEq)]
pub struct Issued {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    /// Seconds since the epoch.
    pub expires: f64,
    pub assumed_role_arn: String,
    pub assumed_role_id: String,
}

/// AssumeRole's parameters.
#[derive(Clone, Debug, Default)]
pub struct AssumeRole {
    pub role_arn: Option<String>,
    pub role_session_name: Option<String>,
    pub duration_seconds: Option<String>,
    pub external_id: Option<String>,
}

/// Roles, issued sessions and settings. One per emulator (IAM and STS are global).
#[derive(Debug, Default)]
pub struct Iam {
    roles: BTreeMap<String, Role>,
    sessions: HashMap<String, Session>,
    pub settings: StsSettings,
}

impl Iam {
    /// No roles yet, with these settings.
    pub fn with_settings(settings: StsSettings) -> Self {
        Iam {
            settings,
            ..Iam::default()
        }
    }

    /// Creates or replaces a role.
    pub fn put_role(&mut self, role: Role) -> Result<(), String> {
        role.validate()?;
        self.roles.insert(role.arn.clone(), role);
        Ok(())
    }

    /// Every role, by ARN.
    pub fn roles(&self) -> Vec<Role> {
        self.roles.values().cloned().collect()
    }

    /// Replaces every role (the state file).
    pub fn set_roles(&mut self, roles: Vec<Role>) {
        self.roles = roles.into_iter().map(|r| (r.arn.clone(), r)).collect();
    }

    /// Forgets every role and session.
    pub fn reset(&mut self) {
        self.roles.clear();
        self.sessions.clear();
    }

    /// Who `access_key` (with `session_token`, if sent) is at `now` (seconds since the epoch).
    /// Unsigned requests (no key) are the default account's root.
    pub fn identify(
        &self,
        access_key: Option<&str>,
        session_token: Option<&str>,
        now: f64,
    ) -> Result<Caller, Refused> {
        let Some(key) = access_key.filter(|k| !k.is_empty()) else {
            return Ok(Caller::root(DEFAULT_ACCOUNT));
        };
        if let Some(session) = self.sessions.get(key) {
            if session_token != Some(session.session_token.as_str()) {
                return Err(Refused::Invalid);
            }
            if now >= session.expires {
                return Err(Refused::Expired);
            }
            return Ok(session.caller.clone());
        }
        if key.starts_with("ASIA") {
            // Temporary credentials STS never issued, or forgotten long after they expired.
            return Err(Refused::Invalid);
        }
        let account = if key.len() == 12 && key.bytes().all(|b| b.is_ascii_digit()) {
            key
        } else {
            DEFAULT_ACCOUNT
        };
        Ok(Caller::root(account))
    }

    /// AssumeRole for `caller` at `now`.
    pub fn assume_role(
        &mut self,
        caller: &Caller,
        request: &AssumeRole,
        now: f64,
    ) -> Result<Issued, AwsError> {
        let (role_arn, session_name, duration) = validate(request)?;
        let denied = || {
            AwsError::new(
                403,
                "AccessDenied",
                format!(
                    "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                    caller.arn
                ),
            )
        };
        let role = self.roles.get(role_arn).ok_or_else(denied)?;
        let trusted = role.trust.iter().any(|t| {
            caller.trusted_by(t)
                && t.external_id
                    .as_deref()
                    .is_none_or(|want| request.external_id.as_deref() == Some(want))
        });
        if !trusted {
            return Err(denied());
        }
        if duration > role.max_session_duration {
            return Err(AwsError::bad_request(
                "ValidationError",
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            ));
        }
        let lifetime = self
            .settings
            .session_seconds
            .map_or(duration, |cap| cap.min(duration));
        let parsed = parse_role_arn(role_arn).ok_or_else(denied)?;
        let assumed_role_arn = format!(
            "arn:{}:sts::{}:assumed-role/{}/{session_name}",
            parsed.partition, parsed.account, parsed.name
        );
        let assumed_role_id = format!("{}:{session_name}", role_id(role_arn));
        let issued = Issued {
            access_key_id: format!("ASIA{}", random_chars(16, KEY_CHARS)),
            secret_access_key: random_chars(40, SECRET_CHARS),
            session_token: format!("IQoJb3JpZ2luX2VjE{}", random_chars(300, SECRET_CHARS)),
            expires: (now + lifetime as f64).floor(),
            assumed_role_arn: assumed_role_arn.clone(),
            assumed_role_id: assumed_role_id.clone(),
        };
        self.sessions
            .retain(|_, s| s.expires + FORGET_AFTER_SECONDS > now);
        self.sessions.insert(
            issued.access_key_id.clone(),
            Session {
                caller: Caller {
                    account: parsed.account.to_string(),
                    arn: assumed_role_arn,
                    user_id: assumed_role_id,
                    role_arn: Some(role_arn.to_string()),
                },
                session_token: issued.session_token.clone(),
                expires: issued.expires,
            },
        );
        Ok(issued)
    }
}

/// The parameters' constraints from the STS API reference; AWS reports every violation at once.
fn validate(request: &AssumeRole) -> Result<(&str, &str, u64), AwsError> {
    let mut problems = Vec::new();
    let mut check = |field: &str, value: Option<&str>, min: usize, max: usize, extra: &str| {
        let Some(value) = value else {
            if min > 0 {
                problems.push(format!(
                    "Value null at '{field}' failed to satisfy constraint: Member must not be null"
                ));
            }
            return;
        };
        let length = value.chars().count();
        if length < min {
            problems.push(format!(
                "Value '{value}' at '{field}' failed to satisfy constraint: Member must have \
                 length greater than or equal to {min}"
            ));
        } else if length > max {
            problems.push(format!(
                "Value '{value}' at '{field}' failed to satisfy constraint: Member must have \
                 length less than or equal to {max}"
            ));
        }
        if !extra.is_empty()
            && !value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || extra.contains(c))
        {
            problems.push(format!(
                "Value '{value}' at '{field}' failed to satisfy constraint: Member must satisfy \
                 regular expression pattern: [\\w{extra}]*"
            ));
        }
    };
    check("roleArn", request.role_arn.as_deref(), 20, 2048, "");
    check(
        "roleSessionName",
        request.role_session_name.as_deref(),
        2,
        64,
        "+=,.@-",
    );
    if request.external_id.is_some() {
        check(
            "externalId",
            request.external_id.as_deref(),
            2,
            1224,
            "+=/:,.@-",
        );
    }
    let duration = match request.duration_seconds.as_deref() {
        None => DEFAULT_MAX_SESSION_SECONDS,
        Some(text) => match text.parse::<u64>() {
            Ok(d) if d < 900 => {
                problems.push(format!(
                    "Value '{d}' at 'durationSeconds' failed to satisfy constraint: Member must \
                     have value greater than or equal to 900"
                ));
                d
            }
            Ok(d) if d > 43_200 => {
                problems.push(format!(
                    "Value '{d}' at 'durationSeconds' failed to satisfy constraint: Member must \
                     have value less than or equal to 43200"
                ));
                d
            }
            Ok(d) => d,
            Err(_) => {
                return Err(AwsError::bad_request(
                    "MalformedInput",
                    format!("DurationSeconds {text:?} is not a number"),
                ));
            }
        },
    };
    if !problems.is_empty() {
        let count = problems.len();
        let noun = if count == 1 { "error" } else { "errors" };
        return Err(AwsError::bad_request(
            "ValidationError",
            format!(
                "{count} validation {noun} detected: {}",
                problems.join("; ")
            ),
        ));
    }
    Ok((
        request.role_arn.as_deref().unwrap_or_default(),
        request.role_session_name.as_deref().unwrap_or_default(),
        duration,
    ))
}

const KEY_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn random_chars(n: usize, alphabet: &[u8]) -> String {
    let mut rng = rand::rng();
    (0..n)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

/// A role's stable id (`AROA` and 17 characters), derived from its ARN.
fn role_id(arn: &str) -> String {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut h = DefaultHasher::new();
    arn.hash(&mut h);
    let mut n = h.finish();
    let mut id = String::from("AROA");
    for _ in 0..17 {
        id.push(KEY_CHARS[(n % KEY_CHARS.len() as u64) as usize] as char);
        n = n / KEY_CHARS.len() as u64 + 0x9e37_79b9;
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROLE: &str = "arn:aws:iam::210987654321:role/cwo";

    fn iam_with(trust: Vec<Trust>) -> Iam {
        let mut iam = Iam::default();
        iam.put_role(Role {
            arn: ROLE.into(),
            trust,
            max_session_duration: DEFAULT_MAX_SESSION_SECONDS,
        })
        .unwrap();
        iam
    }

    fn trust(principal: &str, external_id: Option<&str>) -> Trust {
        Trust {
            principal: principal.into(),
            external_id: external_id.map(str::to_string),
        }
    }

    fn request(external_id: Option<&str>) -> AssumeRole {
        AssumeRole {
            role_arn: Some(ROLE.into()),
            role_session_name: Some("cloudwatch-operator".into()),
            duration_seconds: None,
            external_id: external_id.map(str::to_string),
        }
    }

    fn operator() -> Caller {
        Iam::default()
            .identify(Some("AKIDOPERATOR"), None, 0.0)
            .unwrap()
    }

    #[test]
    fn a_long_term_key_is_its_accounts_root() {
        let iam = Iam::default();
        let c = iam.identify(Some("210987654321"), None, 0.0).unwrap();
        assert_eq!(c.account, "210987654321");
        assert_eq!(c.arn, "arn:aws:iam::210987654321:root");
        assert_eq!(operator().account, DEFAULT_ACCOUNT);
        assert_eq!(
            iam.identify(None, None, 0.0).unwrap().account,
            DEFAULT_ACCOUNT
        );
    }

    #[test]
    fn an_issued_key_is_the_roles_account_until_it_expires() {
        let mut iam = iam_with(vec![trust(DEFAULT_ACCOUNT, None)]);
        iam.settings.session_seconds = Some(20);
        let issued = iam
            .assume_role(&operator(), &request(None), 1_000.5)
            .unwrap();
        assert_eq!(issued.expires, 1_020.0, "capped to the bed's lifetime");
        assert!(issued.access_key_id.starts_with("ASIA") && issued.access_key_id.len() == 20);
        let key = Some(issued.access_key_id.as_str());
        let token = Some(issued.session_token.as_str());
        let c = iam.identify(key, token, 1_019.9).unwrap();
        assert_eq!(c.account, "210987654321");
        assert_eq!(
            c.arn,
            "arn:aws:sts::210987654321:assumed-role/cwo/cloudwatch-operator"
        );
        assert!(c.user_id.starts_with("AROA") && c.user_id.ends_with(":cloudwatch-operator"));
        assert_eq!(iam.identify(key, token, 1_020.0), Err(Refused::Expired));
        assert_eq!(iam.identify(key, None, 1_000.0), Err(Refused::Invalid));
        assert_eq!(
            iam.identify(key, Some("other"), 1_000.0),
            Err(Refused::Invalid)
        );
        assert_eq!(
            iam.identify(Some("ASIAUNKNOWNUNKNOWN12"), token, 1_000.0),
            Err(Refused::Invalid)
        );
    }

    #[test]
    fn an_untrusted_caller_or_a_missing_role_is_denied_alike() {
        let mut iam = iam_with(vec![trust("999999999999", None)]);
        let e = iam
            .assume_role(&operator(), &request(None), 0.0)
            .unwrap_err();
        assert_eq!((e.status, e.code.as_str()), (403, "AccessDenied"));
        assert_eq!(
            e.message,
            format!(
                "User: arn:aws:iam::{DEFAULT_ACCOUNT}:root is not authorized to perform: \
                 sts:AssumeRole on resource: {ROLE}"
            )
        );
        let mut missing = request(None);
        missing.role_arn = Some("arn:aws:iam::210987654321:role/nope".into());
        let e2 = iam.assume_role(&operator(), &missing, 0.0).unwrap_err();
        assert_eq!(e2.code, "AccessDenied");
    }

    #[test]
    fn the_external_id_must_match_when_the_trust_requires_one() {
        let mut iam = iam_with(vec![trust(
            &format!("arn:aws:iam::{DEFAULT_ACCOUNT}:root"),
            Some("ext-1"),
        )]);
        assert_eq!(
            iam.assume_role(&operator(), &request(None), 0.0)
                .unwrap_err()
                .code,
            "AccessDenied"
        );
        assert_eq!(
            iam.assume_role(&operator(), &request(Some("ext-2")), 0.0)
                .unwrap_err()
                .code,
            "AccessDenied"
        );
        assert!(
            iam.assume_role(&operator(), &request(Some("ext-1")), 0.0)
                .is_ok()
        );
    }

    #[test]
    fn a_role_trusted_by_arn_lets_in_its_sessions_only() {
        let mut iam = iam_with(vec![trust("arn:aws:iam::123456789012:role/operator", None)]);
        iam.put_role(Role {
            arn: "arn:aws:iam::123456789012:role/operator".into(),
            trust: vec![trust(DEFAULT_ACCOUNT, None)],
            max_session_duration: 3_600,
        })
        .unwrap();
        // The account's root is not the role.
        assert!(iam.assume_role(&operator(), &request(None), 0.0).is_err());
        let mut hop = request(None);
        hop.role_arn = Some("arn:aws:iam::123456789012:role/operator".into());
        let base = iam.assume_role(&operator(), &hop, 0.0).unwrap();
        let as_role = iam
            .identify(Some(&base.access_key_id), Some(&base.session_token), 1.0)
            .unwrap();
        assert!(iam.assume_role(&as_role, &request(None), 1.0).is_ok());
    }

    #[test]
    fn parameters_are_held_to_the_api_reference_at_their_bounds() {
        let mut iam = iam_with(vec![trust(DEFAULT_ACCOUNT, None)]);
        iam.put_role(Role {
            arn: ROLE.into(),
            trust: vec![trust(DEFAULT_ACCOUNT, None)],
            max_session_duration: 43_200,
        })
        .unwrap();
        let with = |f: &dyn Fn(&mut AssumeRole)| {
            let mut r = request(None);
            f(&mut r);
            iam.clone_for_test().assume_role(&operator(), &r, 0.0)
        };
        assert!(with(&|r| r.duration_seconds = Some("900".into())).is_ok());
        assert!(with(&|r| r.duration_seconds = Some("43200".into())).is_ok());
        let e = with(&|r| r.duration_seconds = Some("899".into())).unwrap_err();
        assert!(
            e.message.contains("greater than or equal to 900"),
            "{}",
            e.message
        );
        assert!(with(&|r| r.duration_seconds = Some("43201".into())).is_err());
        assert!(with(&|r| r.role_session_name = Some("ab".into())).is_ok());
        assert!(with(&|r| r.role_session_name = Some("a".repeat(64))).is_ok());
        let e = with(&|r| r.role_session_name = Some("a".repeat(65))).unwrap_err();
        assert_eq!(e.code, "ValidationError");
        let e = with(&|r| r.role_session_name = Some("has space".into())).unwrap_err();
        assert!(
            e.message.contains("regular expression pattern"),
            "{}",
            e.message
        );
        let e = with(&|r| {
            r.role_arn = None;
            r.role_session_name = None;
        })
        .unwrap_err();
        assert!(
            e.message.starts_with("2 validation errors detected"),
            "{}",
            e.message
        );
        assert!(with(&|r| r.external_id = Some("a".repeat(1224))).is_ok());
        assert!(with(&|r| r.external_id = Some("x".into())).is_err());
        assert!(with(&|r| r.external_id = Some("ok:/=,.@-+_x".into())).is_ok());
    }

    #[test]
    fn a_session_longer_than_the_role_allows_is_refused() {
        let mut iam = iam_with(vec![trust(DEFAULT_ACCOUNT, None)]);
        let mut long = request(None);
        long.duration_seconds = Some("3601".into());
        let e = iam.assume_role(&operator(), &long, 0.0).unwrap_err();
        assert_eq!(e.code, "ValidationError");
        assert!(e.message.contains("MaxSessionDuration"), "{}", e.message);
    }

    #[test]
    fn role_arns_are_parsed_with_their_paths() {
        let p = parse_role_arn("arn:aws-cn:iam::123456789012:role/team/ops/cwo").unwrap();
        assert_eq!(
            (p.partition, p.account, p.name),
            ("aws-cn", "123456789012", "cwo")
        );
        assert!(parse_role_arn("arn:aws:iam::12345:role/x").is_none());
        assert!(parse_role_arn("arn:aws:iam::123456789012:user/x").is_none());
        assert!(parse_role_arn("arn:aws:iam::123456789012:role/").is_none());
    }

    impl Iam {
        fn clone_for_test(&self) -> Iam {
            Iam {
                roles: self.roles.clone(),
                sessions: self.sessions.clone(),
                settings: self.settings.clone(),
            }
        }
    }
}
