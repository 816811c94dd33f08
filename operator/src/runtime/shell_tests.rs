//! The reconcile shell on its own, with no kind of the operator's: a made-up `Widget` whose
//! `apply` answers what the test scripts, against a scripted Kubernetes API (every request the
//! shell makes is checked and answered here; one it should not make fails the test).

use super::accounts::{AccountGate, AccountUsers};
use super::backoff::Backoffs;
use super::cleanups::Cleanups;
use super::context::{Context, RuntimeConfig};
use super::events::EventPublisher;
use super::reconcile::{KindContext, reconcile};
use super::settling::Settling;
use super::tag_reads::TagReads;
use super::watch::Synced;
use super::{Applied, Failed, ManagedKind, Reconcile};
use crate::aws::accounts::{Identity, Role};
use crate::aws::{Aws, AwsSettings};
use crate::common_fields::{CommonSpec, CommonStatus};
use crate::error::{Error, Result};
use crate::metrics::Metrics;
use crate::reason::Reason;
use crate::vocabulary::{EventReason, FINALIZER};
use http::{Request, Response};
use kube::client::Body;
use kube::runtime::controller::Action;
use kube::runtime::watcher;
use kube::{Client, CustomResource};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tower_test::mock::{self, Handle};

/// What a widget's `apply` should answer.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
pub enum Script {
    #[default]
    Ready,
    Terminal,
    Retried,
    /// Records an intent (`arn:intent`), then fails as throttled.
    IntentThenRetried,
    /// Records an intent, then fails with an answer that proves nothing was created.
    IntentThenRefused,
    /// Ready; its cleanup waits for something already being deleted (a quiet wait).
    CleanupWaitsQuietly,
    /// Ready; its cleanup waits for something that stays.
    CleanupWaits,
}

#[derive(CustomResource, Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[kube(group = "test.cwo.dev", version = "v1", kind = "Widget", namespaced)]
#[kube(status = "WidgetStatus")]
pub struct WidgetSpec {
    #[serde(flatten)]
    pub common: CommonSpec,
    pub script: Script,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WidgetStatus {
    #[serde(flatten)]
    pub common: CommonStatus,
}

/// What the widget's reconciles share: a record of the calls the shell made.
#[derive(Default)]
pub struct Calls(Mutex<Vec<String>>);

impl ManagedKind for Widget {
    const KIND: &'static str = "Widget";
    type Status = WidgetStatus;
    type Shared = Calls;

    crate::common_field_accessors!(WidgetStatus);

    fn aws_name(&self) -> String {
        "widget".into()
    }

    fn describe(&self) -> String {
        "widget \"widget\"".into()
    }

    async fn apply(
        &self,
        r: &Reconcile<'_, Self>,
    ) -> Result<Applied<WidgetStatus>, Failed<WidgetStatus>> {
        r.shared.0.lock().unwrap().push("apply".into());
        let mut status = r.previous().cloned().unwrap_or_default();
        status.common.aws_name = Some(r.name.clone());
        match self.spec.script {
            Script::Ready | Script::CleanupWaitsQuietly | Script::CleanupWaits => {
                let created = r.previous().and_then(|s| s.common.arn.as_ref()).is_none();
                if created {
                    r.before_create().await?;
                }
                status.common.arn = Some("arn:widget".into());
                let notices = created.then(|| r.created("CreateWidget"));
                Ok(Applied::new(status, r.matches_spec()).notices(notices))
            }
            Script::Terminal => Err(Error::invalid_spec("no such widget").into()),
            Script::Retried => Err(Error::new(Reason::Throttled, "slow down").into()),
            Script::IntentThenRetried | Script::IntentThenRefused => {
                let mut intent = status.clone();
                intent.common.arn = Some("arn:intent".into());
                r.record_intent(intent).await?;
                if self.spec.script == Script::IntentThenRetried {
                    Err(Error::new(Reason::Throttled, "slow down").into())
                } else {
                    let before = r.previous().cloned().unwrap_or_default();
                    Err(Failed::with_status(Error::invalid_spec("refused"), before))
                }
            }
        }
    }

    /// Records which AWS object the status named: what a kind without tags would delete.
    async fn cleanup(&self, r: &Reconcile<'_, Self>) -> Result<()> {
        let waiting = Error::dependency("still named by a parent");
        match self.spec.script {
            Script::CleanupWaitsQuietly => return Err(waiting.quietly()),
            Script::CleanupWaits => return Err(waiting),
            _ => {}
        }
        let owned = r.previous().and_then(|s| s.common.arn.clone());
        r.shared.0.lock().unwrap().push(format!(
            "cleanup of {}",
            owned.as_deref().unwrap_or("nothing")
        ));
        Ok(())
    }
}

/// The accounts of the tests: namespace `ns` may use `team-a`, whose role nothing can assume
/// (no AWS listens); every other account is refused.
struct Grants;

impl AccountGate for Grants {
    fn admit(
        &self,
        account: &str,
        namespace: &str,
        _labels: &std::collections::BTreeMap<String, String>,
        _region: &str,
        _recorded: bool,
    ) -> Result<Role> {
        if (namespace, account) == ("ns", "team-a") {
            return Ok(Role {
                arn: "arn:aws:iam::210987654321:role/cwo".into(),
                external_id: None,
                session_name: "cloudwatch-operator".into(),
                duration: Duration::from_secs(3600),
            });
        }
        Err(Error::new(
            Reason::AccountNotAllowed,
            format!("namespace {namespace} may not use AWSAccount {account}"),
        ))
    }
}

/// The shell's context over the scripted API; the cleanups it starts queue their object on
/// `wake` when they end.
async fn context(
    client: Client,
    wake: mpsc::Sender<kube::runtime::reflector::ObjectRef<Widget>>,
) -> Arc<KindContext<Widget>> {
    context_settling(client, wake, Duration::ZERO).await
}

/// [`context`] with new objects waiting `settle` before their first create.
async fn context_settling(
    client: Client,
    wake: mpsc::Sender<kube::runtime::reflector::ObjectRef<Widget>>,
    settle: Duration,
) -> Arc<KindContext<Widget>> {
    let metrics = Arc::new(Metrics::new());
    let aws = Aws::load(
        AwsSettings {
            default_region: Some("eu-west-1".into()),
            // Nothing listens here: the shell itself never calls AWS.
            endpoint_url: Some("http://127.0.0.1:9".into()),
            ..Default::default()
        },
        Arc::clone(&metrics),
    )
    .await
    .unwrap();
    aws.set_own_identity(Identity {
        account_id: "123456789012".into(),
        arn: "arn:aws:iam::123456789012:role/operator".into(),
    });
    let (namespaces, _writer) = kube::runtime::reflector::store();
    let (namespaces_synced, mut raise) = Synced::new::<()>();
    raise(&Ok(watcher::Event::InitDone));
    Arc::new(KindContext {
        ctx: Arc::new(Context {
            client: client.clone(),
            aws: Arc::new(aws),
            metrics,
            events: EventPublisher::new(client, "test", None),
            config: RuntimeConfig {
                cluster_id: "c1".into(),
                resync_period: Duration::from_secs(600),
            },
            backoffs: Backoffs::default(),
            tag_reads: TagReads::new(Duration::from_secs(3600)),
            confirmed: Default::default(),
            released: Default::default(),
            versions: Default::default(),
            settling: Arc::new(Settling::new(settle)),
            namespaces,
            accounts_synced: namespaces_synced.clone(),
            namespaces_synced,
            accounts: Arc::new(Grants),
            account_users: AccountUsers::default(),
        }),
        shared: Arc::new(Calls::default()),
        cleanups: Arc::new(Cleanups::new(wake)),
    })
}

fn widget(script: Script, finalizer: bool, status: Option<Value>) -> Widget {
    let mut obj: Widget = serde_json::from_value(json!({
        "apiVersion": "test.cwo.dev/v1",
        "kind": "Widget",
        "metadata": {
            "name": "w", "namespace": "ns", "uid": "u-1", "generation": 2,
            "resourceVersion": "7",
        },
        "spec": { "script": script },
    }))
    .unwrap();
    if finalizer {
        obj.metadata.finalizers = Some(vec![FINALIZER.into()]);
    }
    obj.status = status.map(|s| serde_json::from_value(s).unwrap());
    obj
}

/// One expected request: method, path, and a check of its body; the answer is the object.
async fn expect(
    handle: &mut Handle<Request<Body>, Response<Body>>,
    method: &str,
    path: &str,
    answer: Value,
) -> Value {
    respond(handle, method, path, 200, answer).await
}

/// The read of a new object before its first create (`Reconcile::before_create`), answered
/// with the object as it is.
async fn expect_live(handle: &mut Handle<Request<Body>, Response<Body>>, obj: &Widget) {
    expect(handle, "GET", WIDGET, serde_json::to_value(obj).unwrap()).await;
}

/// One expected request, answered with the API server's "not found".
async fn expect_not_found(
    handle: &mut Handle<Request<Body>, Response<Body>>,
    method: &str,
    path: &str,
) {
    let status = json!({
        "kind": "Status", "apiVersion": "v1", "status": "Failure",
        "message": "widgets \"w\" not found", "reason": "NotFound", "code": 404,
    });
    respond(handle, method, path, 404, status).await;
}

/// Takes the next request, checks its method and path, answers `answer` with HTTP `code`, and
/// returns the request's body.
async fn respond(
    handle: &mut Handle<Request<Body>, Response<Body>>,
    method: &str,
    path: &str,
    code: u16,
    answer: Value,
) -> Value {
    let (request, send) = tokio::time::timeout(Duration::from_secs(5), handle.next_request())
        .await
        .unwrap_or_else(|_| panic!("no {method} {path} came"))
        .expect("the client is alive");
    assert_eq!(request.method().as_str(), method, "{}", request.uri());
    assert_eq!(request.uri().path(), path);
    let body = request.into_body().collect_bytes().await.unwrap();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    send.send_response(
        Response::builder()
            .status(code)
            .body(Body::from(serde_json::to_vec(&answer).unwrap()))
            .unwrap(),
    );
    body
}

/// Runs one reconcile while `script` answers the API; returns the requeue.
async fn run<F>(obj: Widget, kc: Arc<KindContext<Widget>>, script: F) -> Action
where
    F: AsyncFnOnce(&mut Handle<Request<Body>, Response<Body>>),
{
    let (service, mut handle) = mock::pair::<Request<Body>, Response<Body>>();
    let client = Client::new(service, "ns");
    let kc = Arc::new(KindContext {
        ctx: Arc::new(Context {
            client: client.clone(),
            events: EventPublisher::new(client, "test", None),
            aws: Arc::clone(&kc.ctx.aws),
            metrics: Arc::clone(&kc.ctx.metrics),
            config: kc.ctx.config.clone(),
            backoffs: Backoffs::default(),
            tag_reads: TagReads::new(Duration::from_secs(3600)),
            confirmed: Default::default(),
            released: Arc::clone(&kc.ctx.released),
            versions: Arc::clone(&kc.ctx.versions),
            settling: Arc::clone(&kc.ctx.settling),
            namespaces: kc.ctx.namespaces.clone(),
            namespaces_synced: kc.ctx.namespaces_synced.clone(),
            accounts: Arc::clone(&kc.ctx.accounts),
            accounts_synced: kc.ctx.accounts_synced.clone(),
            account_users: AccountUsers::default(),
        }),
        shared: Arc::clone(&kc.shared),
        cleanups: Arc::clone(&kc.cleanups),
    });
    let reconciled = tokio::spawn(reconcile(Arc::new(obj), kc));
    script(&mut handle).await;
    let action = reconciled.await.unwrap().unwrap();
    // Nothing else was asked of the API (a closed channel means the client is gone).
    if let Ok(Some((request, _))) =
        tokio::time::timeout(Duration::from_millis(200), handle.next_request()).await
    {
        panic!("an unexpected {} {}", request.method(), request.uri());
    }
    action
}

const WIDGET: &str = "/apis/test.cwo.dev/v1/namespaces/ns/widgets/w";
const EVENTS: &str = "/apis/events.k8s.io/v1/namespaces/ns/events";

async fn shell() -> Arc<KindContext<Widget>> {
    shell_with_wakes().await.0
}

/// The shell, and the queue its cleanups wake objects on.
async fn shell_with_wakes() -> (
    Arc<KindContext<Widget>>,
    mpsc::Receiver<kube::runtime::reflector::ObjectRef<Widget>>,
) {
    let (service, _handle) = mock::pair::<Request<Body>, Response<Body>>();
    let (wake, woken) = mpsc::channel(8);
    (context(Client::new(service, "ns"), wake).await, woken)
}

fn condition<'a>(status: &'a Value, type_: &str) -> Option<&'a Value> {
    status["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

#[tokio::test]
async fn a_new_object_gets_the_finalizer_before_anything_else() {
    let kc = shell().await;
    let obj = widget(Script::Ready, false, None);
    let answer = serde_json::to_value(widget(Script::Ready, true, None)).unwrap();
    run(obj, Arc::clone(&kc), async |api: &mut Handle<_, _>| {
        let patch = expect(api, "PATCH", WIDGET, answer).await;
        assert!(patch.to_string().contains(FINALIZER), "{patch}");
    })
    .await;
    assert!(
        kc.shared.0.lock().unwrap().is_empty(),
        "apply waits for the next event"
    );
}

/// The count of failed reconciles of widgets for `reason`, 0 when never counted.
fn failures(kc: &KindContext<Widget>, reason: &str) -> u64 {
    let series = format!("cwo_reconcile_errors_total{{kind=\"Widget\",reason=\"{reason}\"}} ");
    kc.ctx
        .metrics
        .encode()
        .lines()
        .find_map(|l| l.strip_prefix(&series))
        .map_or(0, |n| n.parse().unwrap())
}

#[tokio::test]
async fn a_finalizer_patch_from_a_stale_copy_is_not_a_failure() {
    let kc = shell().await;
    // The cache still shows no finalizer, but the API server's object has it (an earlier
    // reconcile added it and the watch has not brought that yet): the patch's test fails, and
    // the API server answers as it does for a failed JSON patch test.
    let obj = widget(Script::Ready, false, None);
    let refused = json!({
        "kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 422,
        "reason": "Invalid",
        "message": "the server rejected our request due to an error in our request",
        "details": {"causes": [{"reason": "UnexpectedServerResponse",
            "message": "testing value /metadata/finalizers failed: test failed"}]},
    });
    let action = run(obj, Arc::clone(&kc), async |api: &mut Handle<_, _>| {
        respond(api, "PATCH", WIDGET, 422, refused).await;
    })
    .await;
    assert_eq!(requeue_after(&action), Some(Duration::from_secs(1)));
    assert_eq!(failures(&kc, "KubernetesError"), 0, "nothing failed");
}

#[tokio::test]
async fn a_finalizer_patch_the_object_refuses_is_a_failure() {
    let kc = shell().await;
    let obj = widget(Script::Ready, false, None);
    // A 422 that names the object: its own validation refused it, and that is reported.
    let invalid = json!({
        "kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 422,
        "reason": "Invalid", "message": "Widget.test.cwo.dev \"w\" is invalid: spec: bad",
        "details": {"name": "w", "group": "test.cwo.dev", "kind": "Widget"},
    });
    run(obj, Arc::clone(&kc), async |api: &mut Handle<_, _>| {
        respond(api, "PATCH", WIDGET, 422, invalid).await;
    })
    .await;
    assert_eq!(failures(&kc, "KubernetesError"), 1);
}

#[tokio::test]
async fn a_ready_verdict_writes_status_once_and_publishes_the_kinds_event() {
    let kc = shell().await;
    let obj = widget(Script::Ready, true, None);
    let answer = serde_json::to_value(&obj).unwrap();
    let mut written = Value::Null;
    let action = run(
        obj.clone(),
        Arc::clone(&kc),
        async |api: &mut Handle<_, _>| {
            expect_live(api, &obj).await;
            let apply = expect(api, "PATCH", &format!("{WIDGET}/status"), answer).await;
            written = apply["status"].clone();
            let event = expect(api, "POST", EVENTS, json!({})).await;
            assert_eq!(event["reason"], EventReason::Created.as_str());
            assert_eq!(event["type"], "Normal");
        },
    )
    .await;
    assert_eq!(action, Action::await_change());
    assert_eq!(written["observedGeneration"], 2);
    assert_eq!(written["region"], "eu-west-1");
    assert_eq!(written["accountId"], "123456789012");
    assert!(
        written.get("account").is_none(),
        "the operator's own account"
    );
    assert_eq!(written["arn"], "arn:widget");
    let ready = condition(&written, "Ready").unwrap();
    assert_eq!(
        (ready["status"].as_str(), ready["reason"].as_str()),
        (Some("True"), Some("Available"))
    );
    assert!(condition(&written, "Reconciling").is_none());
    assert!(condition(&written, "Stalled").is_none());

    // The same object with that status: apply runs, nothing is written.
    let again = widget(Script::Ready, true, Some(written));
    run(again, Arc::clone(&kc), async |_: &mut Handle<_, _>| {}).await;
    assert_eq!(*kc.shared.0.lock().unwrap(), ["apply", "apply"]);
}

#[tokio::test]
async fn an_aws_object_created_for_an_object_deleted_meanwhile_is_deleted_again() {
    // The object was deleted and released while apply created its AWS object (a deletion racing
    // with the finalizer): its status write finds nothing, and no cleanup would ever come.
    let kc = shell().await;
    let obj = widget(Script::Ready, true, None);
    let action = run(
        obj.clone(),
        Arc::clone(&kc),
        async |api: &mut Handle<_, _>| {
            // Still there when read before the create; deleted by the time of the status write.
            expect_live(api, &obj).await;
            expect_not_found(api, "PATCH", &format!("{WIDGET}/status")).await;
        },
    )
    .await;
    assert_eq!(action, Action::await_change());
    assert_eq!(
        *kc.shared.0.lock().unwrap(),
        ["apply", "cleanup of arn:widget"],
        "the AWS object apply created is deleted, and no Event is published for a gone object"
    );

    // Nothing was created (the AWS object was there already): nothing is deleted.
    let kc = shell().await;
    let ready = widget(
        Script::Ready,
        true,
        Some(json!({"arn": "arn:widget", "observedGeneration": 1})),
    );
    run(ready, Arc::clone(&kc), async |api: &mut Handle<_, _>| {
        expect_not_found(api, "PATCH", &format!("{WIDGET}/status")).await;
    })
    .await;
    assert_eq!(*kc.shared.0.lock().unwrap(), ["apply"]);
}

#[tokio::test]
async fn nothing_is_created_for_a_new_object_found_gone_or_deleting_before_its_first_create() {
    // The object's deletion raced with its finalizer and won: the read before the first create
    // finds it gone, and the reconcile ends with no create, no status write and no Event.
    let kc = shell().await;
    let obj = widget(Script::Ready, true, None);
    let action = run(obj, Arc::clone(&kc), async |api: &mut Handle<_, _>| {
        expect_not_found(api, "GET", WIDGET).await;
    })
    .await;
    assert_eq!(action, Action::await_change());
    assert_eq!(*kc.shared.0.lock().unwrap(), ["apply"], "nothing created");

    // Found being deleted: the same, the deletion's own reconcile takes over.
    let kc = shell().await;
    let obj = widget(Script::IntentThenRetried, true, None);
    run(
        obj.clone(),
        Arc::clone(&kc),
        async |api: &mut Handle<_, _>| {
            expect_live(api, &deleting(obj.clone())).await;
        },
    )
    .await;
    assert_eq!(
        *kc.shared.0.lock().unwrap(),
        ["apply"],
        "no intent recorded"
    );

    // Replaced by a new object of the same name: the old one is gone.
    let kc = shell().await;
    let obj = widget(Script::Ready, true, None);
    let mut replaced = obj.clone();
    replaced.metadata.uid = Some("u-2".into());
    run(obj, Arc::clone(&kc), async |api: &mut Handle<_, _>| {
        expect_live(api, &replaced).await;
    })
    .await;
    assert_eq!(*kc.shared.0.lock().unwrap(), ["apply"]);
}

/// Reconciles `obj` twice on a shell whose objects settle for 60 s, with no API request allowed
/// (`run` fails on any): each reconcile must return at once, the first asking to come back when
/// the wait is over, the second (before its time) for the rest of the same wait. Returns the
/// shell, for what the reconciles applied.
async fn waits_out_of_the_reconcile_slot(obj: Widget) -> Arc<KindContext<Widget>> {
    let (service, _handle) = mock::pair::<Request<Body>, Response<Body>>();
    let (wake, _woken) = mpsc::channel(8);
    let kc = context_settling(Client::new(service, "ns"), wake, Duration::from_secs(60)).await;
    let first = run(
        obj.clone(),
        Arc::clone(&kc),
        async |_: &mut Handle<_, _>| {},
    );
    let action = tokio::time::timeout(Duration::from_secs(5), first)
        .await
        .expect("the reconcile returned at once, not after the wait");
    let Some(wait) = requeue_after(&action) else {
        panic!("no requeue: {action:?}");
    };
    assert!(
        wait > Duration::from_secs(59) && wait <= Duration::from_secs(60),
        "{wait:?}"
    );
    let again = run(obj, Arc::clone(&kc), async |_: &mut Handle<_, _>| {}).await;
    let rest = requeue_after(&again).expect("still waiting");
    assert!(rest <= wait, "{rest:?} after {wait:?}");
    kc
}

#[tokio::test]
async fn a_new_object_waits_before_its_first_create_out_of_the_reconcile_slot() {
    // A new object's reconcile returns before its apply: no read, no AWS call, no status write.
    let kc = waits_out_of_the_reconcile_slot(widget(Script::Ready, true, None)).await;
    assert!(kc.shared.0.lock().unwrap().is_empty(), "nothing applied");
}

#[tokio::test]
async fn an_aws_object_created_again_waits_before_its_create_out_of_the_reconcile_slot() {
    // Reconciled before (a status with an observed generation), and its AWS object must be
    // created (again): after a restart, or after someone deleted it out of band. This process
    // has not seen it yet, so its create waits, and the wait starts at the create: the apply
    // runs and ends quietly at `before_create`, with no read, status write or Event.
    let obj = widget(Script::Ready, true, Some(json!({"observedGeneration": 1})));
    let kc = waits_out_of_the_reconcile_slot(obj).await;
    assert_eq!(
        *kc.shared.0.lock().unwrap(),
        ["apply", "apply"],
        "nothing created"
    );
}

/// The delay of a requeue of a second or more, read from the action's debug form (kube's
/// `Action` keeps it private): `Action { requeue_after: Some(59.99s) }`.
fn requeue_after(action: &Action) -> Option<Duration> {
    let text = format!("{action:?}");
    let seconds = text
        .strip_prefix("Action { requeue_after: Some(")?
        .strip_suffix("s) }")?;
    let wait = Duration::from_secs_f64(seconds.parse().ok()?);
    Some(wait)
}

#[tokio::test]
async fn a_new_object_read_back_live_is_not_read_again_by_its_retries() {
    let kc = shell().await;
    let obj = widget(Script::IntentThenRetried, true, None);
    let once = async |api: &mut Handle<_, _>| {
        expect(
            api,
            "PATCH",
            &format!("{WIDGET}/status"),
            answered(&obj, &Value::Null, "8"),
        )
        .await;
        expect(
            api,
            "PATCH",
            &format!("{WIDGET}/status"),
            answered(&obj, &Value::Null, "9"),
        )
        .await;
    };
    run(
        obj.clone(),
        Arc::clone(&kc),
        async |api: &mut Handle<_, _>| {
            expect_live(api, &obj).await;
            once(api).await;
            expect(api, "POST", EVENTS, json!({})).await;
        },
    )
    .await;
    // The retry (from a copy without this process's writes: read again, as always) records its
    // intent without the read before the create.
    let fresh = answered(&obj, &Value::Null, "9");
    run(
        obj.clone(),
        Arc::clone(&kc),
        async |api: &mut Handle<_, _>| {
            expect(api, "GET", WIDGET, fresh.clone()).await;
            once(api).await;
            expect(api, "POST", EVENTS, json!({})).await;
        },
    )
    .await;
    assert_eq!(*kc.shared.0.lock().unwrap(), ["apply", "apply"]);
}

#[tokio::test]
async fn a_terminal_failure_is_stalled_announced_once_and_not_retried() {
    let kc = shell().await;
    let obj = widget(Script::Terminal, true, None);
    let answer = serde_json::to_value(&obj).unwrap();
    let mut written = Value::Null;
    let action = run(obj, Arc::clone(&kc), async |api: &mut Handle<_, _>| {
        written = expect(api, "PATCH", &format!("{WIDGET}/status"), answer).await["status"].clone();
        let event = expect(api, "POST", EVENTS, json!({})).await;
        assert_eq!(event["type"], "Warning");
        assert_eq!(event["reason"], "InvalidSpec");
        assert_eq!(event["note"], "no such widget");
    })
    .await;
    assert_eq!(action, Action::await_change(), "no retry loop");
    let stalled = condition(&written, "Stalled").unwrap();
    assert_eq!(stalled["status"], "True");
    assert_eq!(stalled["message"], "InvalidSpec: no such widget");
    assert_eq!(condition(&written, "Ready").unwrap()["status"], "False");

    // Failing the same way again: no status write, no second Warning.
    let again = widget(Script::Terminal, true, Some(written));
    let action = run(again, kc, async |_: &mut Handle<_, _>| {}).await;
    assert_eq!(action, Action::await_change());
}

#[tokio::test]
async fn a_recoverable_failure_is_reconciling_and_requeued_with_backoff() {
    let kc = shell().await;
    let obj = widget(Script::Retried, true, None);
    let answer = serde_json::to_value(&obj).unwrap();
    let mut written = Value::Null;
    let action = run(obj, kc, async |api: &mut Handle<_, _>| {
        written = expect(api, "PATCH", &format!("{WIDGET}/status"), answer).await["status"].clone();
        expect(api, "POST", EVENTS, json!({})).await;
    })
    .await;
    assert_ne!(action, Action::await_change(), "retried");
    assert_eq!(
        condition(&written, "Reconciling").unwrap()["reason"],
        "Throttled"
    );
    assert!(condition(&written, "Stalled").is_none());
}

#[tokio::test]
async fn a_deleted_object_is_cleaned_up_beside_the_controller_then_released() {
    let (kc, mut woken) = shell_with_wakes().await;
    let mut obj = widget(Script::Ready, true, None);
    obj.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        k8s_openapi::jiff::Timestamp::from_second(1_700_000_000).unwrap(),
    ));
    // The first reconcile starts the cleanup and returns at once, writing nothing.
    let action = run(
        obj.clone(),
        Arc::clone(&kc),
        async |_: &mut Handle<_, _>| {},
    )
    .await;
    assert_ne!(
        action,
        Action::await_change(),
        "looked at again even if no wake-up came"
    );
    let again = tokio::time::timeout(Duration::from_secs(5), woken.recv())
        .await
        .expect("the cleanup's end queues the object")
        .unwrap();
    assert_eq!(again.name, "w");
    assert_eq!(*kc.shared.0.lock().unwrap(), ["cleanup of nothing"]);
    assert!(
        !kc.ctx.released.holds("u-1"),
        "not released before its outcome is reported"
    );

    // The reconcile it queues reports the outcome: the Event, then the finalizer goes.
    let mut released = obj.clone();
    released.metadata.finalizers = None;
    let answer = serde_json::to_value(&released).unwrap();
    run(obj, Arc::clone(&kc), async |api: &mut Handle<_, _>| {
        let event = expect(api, "POST", EVENTS, json!({})).await;
        assert_eq!(event["reason"], EventReason::Deleted.as_str());
        let patch = expect(api, "PATCH", WIDGET, answer).await;
        assert!(patch.to_string().contains("remove"), "{patch}");
    })
    .await;
    assert_eq!(
        *kc.shared.0.lock().unwrap(),
        ["cleanup of nothing"],
        "the cleanup ran once"
    );
    // Objects waiting for it no longer count it, though caches still hold it for a while.
    assert!(kc.ctx.released.holds("u-1"));
}

/// A deleted widget whose cleanup has ended with `script`'s outcome, and the shell that ran it.
async fn cleanup_ended(script: Script) -> (Arc<KindContext<Widget>>, Widget) {
    let (kc, mut woken) = shell_with_wakes().await;
    let mut obj = widget(script, true, None);
    obj.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        k8s_openapi::jiff::Timestamp::from_second(1_700_000_000).unwrap(),
    ));
    run(
        obj.clone(),
        Arc::clone(&kc),
        async |_: &mut Handle<_, _>| {},
    )
    .await;
    tokio::time::timeout(Duration::from_secs(5), woken.recv())
        .await
        .expect("the cleanup's end queues the object")
        .unwrap();
    (kc, obj)
}

#[tokio::test]
async fn a_cleanup_waiting_for_what_is_being_deleted_writes_nothing_and_looks_again_soon() {
    let (kc, obj) = cleanup_ended(Script::CleanupWaitsQuietly).await;
    // No status write, no event, no finalizer change: `run` fails on any request.
    let action = run(obj, Arc::clone(&kc), async |_: &mut Handle<_, _>| {}).await;
    assert_eq!(action, Action::requeue(Duration::from_secs(10)));
    assert!(!kc.ctx.released.holds("u-1"), "still held");
}

#[tokio::test]
async fn a_cleanup_waiting_for_what_stays_reports_the_wait() {
    let (kc, obj) = cleanup_ended(Script::CleanupWaits).await;
    let answer = serde_json::to_value(&obj).unwrap();
    let mut written = Value::Null;
    run(obj, Arc::clone(&kc), async |api: &mut Handle<_, _>| {
        written = expect(api, "PATCH", &format!("{WIDGET}/status"), answer).await["status"].clone();
        let event = expect(api, "POST", EVENTS, json!({})).await;
        assert_eq!(event["reason"], "DependencyNotReady");
    })
    .await;
    assert_eq!(
        condition(&written, "Ready").unwrap()["message"],
        "still named by a parent"
    );
    assert!(!kc.ctx.released.holds("u-1"));
}

/// No AWS call was made, by the SDK's count.
fn no_aws_calls(kc: &KindContext<Widget>) {
    let metrics = kc.ctx.metrics.encode();
    let calls: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("cwo_aws_calls_total{") && !l.ends_with(" 0"))
        .collect();
    assert!(calls.is_empty(), "{calls:?}");
}

#[tokio::test]
async fn an_object_whose_namespace_may_not_use_its_account_stops_before_apply_and_aws() {
    let kc = shell().await;
    let mut obj = widget(Script::Ready, true, None);
    obj.spec.common.account_ref = Some("prod".into());
    let answer = serde_json::to_value(&obj).unwrap();
    let mut written = Value::Null;
    let action = run(obj, Arc::clone(&kc), async |api: &mut Handle<_, _>| {
        written = expect(api, "PATCH", &format!("{WIDGET}/status"), answer).await["status"].clone();
        let event = expect(api, "POST", EVENTS, json!({})).await;
        assert_eq!(event["type"], "Warning");
        assert_eq!(event["reason"], "AccountNotAllowed");
    })
    .await;
    assert_eq!(action, Action::await_change(), "terminal: no retry loop");
    let stalled = condition(&written, "Stalled").unwrap();
    assert_eq!(stalled["reason"], "AccountNotAllowed");
    assert!(
        stalled["message"]
            .as_str()
            .unwrap()
            .contains("namespace ns may not use AWSAccount prod"),
        "{stalled}"
    );
    assert!(written.get("region").is_none(), "not placed anywhere");
    assert!(kc.shared.0.lock().unwrap().is_empty(), "apply never ran");
    no_aws_calls(&kc);
}

#[tokio::test]
async fn a_deleted_object_whose_namespace_lost_the_account_is_not_cleaned_up_in_it() {
    let (kc, mut woken) = shell_with_wakes().await;
    let mut obj = widget(
        Script::Ready,
        true,
        Some(json!({"region": "eu-west-1", "account": "prod", "accountId": "210987654321"})),
    );
    obj.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        k8s_openapi::jiff::Timestamp::from_second(1_700_000_000).unwrap(),
    ));
    run(
        obj.clone(),
        Arc::clone(&kc),
        async |_: &mut Handle<_, _>| {},
    )
    .await;
    tokio::time::timeout(Duration::from_secs(5), woken.recv())
        .await
        .expect("the cleanup task ended")
        .unwrap();
    assert!(
        kc.shared.0.lock().unwrap().is_empty(),
        "the kind's cleanup never ran"
    );
    no_aws_calls(&kc);
    // The reconcile the task queued reports the refusal and keeps the finalizer.
    let answer = serde_json::to_value(&obj).unwrap();
    let action = run(obj, Arc::clone(&kc), async |api: &mut Handle<_, _>| {
        let written =
            expect(api, "PATCH", &format!("{WIDGET}/status"), answer).await["status"].clone();
        assert_eq!(
            condition(&written, "Stalled").unwrap()["reason"],
            "AccountNotAllowed"
        );
        expect(api, "POST", EVENTS, json!({})).await;
    })
    .await;
    assert_eq!(action, Action::await_change());
    assert!(
        !kc.ctx.released.holds("u-1"),
        "an object whose cleanup was refused is not released"
    );
}

#[tokio::test]
async fn an_account_whose_role_cannot_be_assumed_keeps_apply_from_running() {
    let kc = shell().await;
    let mut obj = widget(Script::Ready, true, None);
    obj.spec.common.account_ref = Some("team-a".into());
    let answer = serde_json::to_value(&obj).unwrap();
    let mut written = Value::Null;
    let action = run(obj, Arc::clone(&kc), async |api: &mut Handle<_, _>| {
        written = expect(api, "PATCH", &format!("{WIDGET}/status"), answer).await["status"].clone();
        expect(api, "POST", EVENTS, json!({})).await;
    })
    .await;
    assert_ne!(action, Action::await_change(), "retried with backoff");
    let reconciling = condition(&written, "Reconciling").unwrap();
    assert!(
        reconciling["message"]
            .as_str()
            .unwrap()
            .starts_with("AwsUnavailable: AWSAccount team-a: AssumeRole"),
        "{reconciling}"
    );
    assert!(kc.shared.0.lock().unwrap().is_empty(), "apply never ran");
}

fn deleting(mut obj: Widget) -> Widget {
    obj.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        k8s_openapi::jiff::Timestamp::from_second(1_700_000_000).unwrap(),
    ));
    obj
}

/// The widget as the API server answers a status write: its version moved on to `version`.
fn answered(obj: &Widget, status: &Value, version: &str) -> Value {
    let mut answer = serde_json::to_value(obj).unwrap();
    answer["status"] = status.clone();
    answer["metadata"]["resourceVersion"] = json!(version);
    answer
}

#[tokio::test]
async fn a_cached_copy_without_the_last_status_write_is_read_again_before_cleanup() {
    let (kc, mut woken) = shell_with_wakes().await;
    let obj = widget(Script::Ready, true, None);
    let mut written = Value::Null;
    run(
        obj.clone(),
        Arc::clone(&kc),
        async |api: &mut Handle<_, _>| {
            let answer = answered(&obj, &Value::Null, "8");
            expect_live(api, &obj).await;
            written =
                expect(api, "PATCH", &format!("{WIDGET}/status"), answer).await["status"].clone();
            expect(api, "POST", EVENTS, json!({})).await;
        },
    )
    .await;
    // The deletion arrives with a copy from before the write (version 7, no status): the shell
    // reads the object, which names the AWS object, before the cleanup task takes it, and the
    // cleanup deletes that.
    let stale = deleting(widget(Script::Ready, true, None));
    let fresh = answered(&stale, &written, "8");
    run(stale, Arc::clone(&kc), async |api: &mut Handle<_, _>| {
        expect(api, "GET", WIDGET, fresh.clone()).await;
    })
    .await;
    tokio::time::timeout(Duration::from_secs(5), woken.recv())
        .await
        .expect("the cleanup's end queues the object")
        .unwrap();
    assert_eq!(
        *kc.shared.0.lock().unwrap(),
        ["apply", "cleanup of arn:widget"]
    );
    // The reconcile it queues starts from the cache, which has the write by now.
    let mut released = fresh.clone();
    released["metadata"]["finalizers"] = Value::Null;
    let cached: Widget = serde_json::from_value(fresh).unwrap();
    run(cached, Arc::clone(&kc), async |api: &mut Handle<_, _>| {
        expect(api, "POST", EVENTS, json!({})).await;
        expect(api, "PATCH", WIDGET, released).await;
    })
    .await;
    assert!(
        kc.ctx
            .metrics
            .encode()
            .contains("cwo_kube_fresh_reads_total{kind=\"Widget\"} 2"),
        "{}",
        kc.ctx.metrics.encode()
    );
}

#[tokio::test]
async fn a_status_write_notes_the_version_it_made_and_a_copy_at_it_is_used_as_is() {
    let (kc, mut woken) = shell_with_wakes().await;
    let obj = widget(Script::Ready, true, None);
    let status = json!({"arn": "arn:widget"});
    let answer = answered(&obj, &status, "8");
    run(
        obj.clone(),
        Arc::clone(&kc),
        async |api: &mut Handle<_, _>| {
            expect_live(api, &obj).await;
            expect(api, "PATCH", &format!("{WIDGET}/status"), answer).await;
            expect(api, "POST", EVENTS, json!({})).await;
        },
    )
    .await;
    assert!(!kc.ctx.versions.is_current("u-1", Some("7")));
    // A copy that has the write: no read, cleanup acts on it.
    let mut current = deleting(widget(Script::Ready, true, Some(status)));
    current.metadata.resource_version = Some("8".into());
    run(
        current.clone(),
        Arc::clone(&kc),
        async |_: &mut Handle<_, _>| {},
    )
    .await;
    tokio::time::timeout(Duration::from_secs(5), woken.recv())
        .await
        .expect("the cleanup's end queues the object")
        .unwrap();
    assert_eq!(
        kc.shared.0.lock().unwrap().last().map(String::as_str),
        Some("cleanup of arn:widget")
    );
    let mut released = serde_json::to_value(&current).unwrap();
    released["metadata"]["finalizers"] = Value::Null;
    run(current, Arc::clone(&kc), async |api: &mut Handle<_, _>| {
        expect(api, "POST", EVENTS, json!({})).await;
        expect(api, "PATCH", WIDGET, released).await;
    })
    .await;
    assert!(
        kc.ctx.versions.is_current("u-1", Some("7")),
        "a released object is forgotten"
    );
}

#[tokio::test]
async fn an_object_gone_from_the_api_server_is_left_alone() {
    let kc = shell().await;
    kc.ctx.versions.saw("u-1", Some("8"));
    let stale = deleting(widget(Script::Ready, true, None));
    let gone = json!({
        "kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound",
        "code": 404, "message": "widgets \"w\" not found"
    });
    let action = run(stale, Arc::clone(&kc), async |api: &mut Handle<_, _>| {
        let (request, send) = api.next_request().await.unwrap();
        assert_eq!(
            (request.method().as_str(), request.uri().path()),
            ("GET", WIDGET)
        );
        send.send_response(
            Response::builder()
                .status(404)
                .body(Body::from(serde_json::to_vec(&gone).unwrap()))
                .unwrap(),
        );
    })
    .await;
    assert_eq!(action, Action::await_change());
    assert!(kc.shared.0.lock().unwrap().is_empty(), "no cleanup ran");
}

#[tokio::test]
async fn a_failure_after_an_intent_keeps_the_intent_recorded() {
    let kc = shell().await;
    let obj = widget(Script::IntentThenRetried, true, None);
    let mut intent = Value::Null;
    let mut failure = Value::Null;
    run(
        obj.clone(),
        Arc::clone(&kc),
        async |api: &mut Handle<_, _>| {
            expect_live(api, &obj).await;
            intent = expect(
                api,
                "PATCH",
                &format!("{WIDGET}/status"),
                answered(&obj, &Value::Null, "8"),
            )
            .await["status"]
                .clone();
            failure = expect(
                api,
                "PATCH",
                &format!("{WIDGET}/status"),
                answered(&obj, &Value::Null, "9"),
            )
            .await["status"]
                .clone();
            expect(api, "POST", EVENTS, json!({})).await;
        },
    )
    .await;
    assert_eq!(intent["arn"], "arn:intent");
    assert_eq!(intent["awsName"], "widget");
    assert_eq!(
        failure["arn"], "arn:intent",
        "the failure is written over the intent"
    );
    assert_eq!(
        condition(&failure, "Reconciling").unwrap()["reason"],
        "Throttled"
    );
    assert!(kc.ctx.versions.is_current("u-1", Some("9")));
}

#[tokio::test]
async fn a_refusal_after_an_intent_withdraws_it() {
    let kc = shell().await;
    let obj = widget(Script::IntentThenRefused, true, None);
    let mut failure = Value::Null;
    run(
        obj.clone(),
        Arc::clone(&kc),
        async |api: &mut Handle<_, _>| {
            expect_live(api, &obj).await;
            let intent = expect(
                api,
                "PATCH",
                &format!("{WIDGET}/status"),
                answered(&obj, &Value::Null, "8"),
            )
            .await;
            assert_eq!(intent["status"]["arn"], "arn:intent");
            failure = expect(
                api,
                "PATCH",
                &format!("{WIDGET}/status"),
                answered(&obj, &Value::Null, "9"),
            )
            .await["status"]
                .clone();
            expect(api, "POST", EVENTS, json!({})).await;
        },
    )
    .await;
    assert!(failure.get("arn").is_none(), "{failure}");
    assert_eq!(
        condition(&failure, "Stalled").unwrap()["reason"],
        "InvalidSpec"
    );
}

#[test]
fn the_resync_visits_only_objects_reconciled_before_and_not_stalled_or_deleting() {
    use super::resync::due;
    let stalled = |generation: i64| {
        json!({"observedGeneration": generation, "conditions": [
            {"type": "Stalled", "status": "True", "reason": "InvalidSpec", "message": "no",
             "lastTransitionTime": "2026-01-01T00:00:00Z"}]})
    };
    let ready = json!({"observedGeneration": 2, "conditions": [
        {"type": "Ready", "status": "True", "reason": "Available", "message": "ok",
         "lastTransitionTime": "2026-01-01T00:00:00Z"}]});
    assert!(due(&widget(Script::Ready, true, Some(ready.clone()))));
    assert!(
        !due(&widget(Script::Ready, true, None)),
        "its first reconcile is on its way"
    );
    assert!(
        !due(&widget(
            Script::Ready,
            true,
            Some(serde_json::from_str(crate::crds::INITIAL_STATUS).unwrap())
        )),
        "the status a new object is served with"
    );
    assert!(!due(&widget(Script::Ready, true, Some(stalled(2)))));
    assert!(
        due(&widget(Script::Ready, true, Some(stalled(1)))),
        "stalled on an older generation"
    );
    assert!(!due(&deleting(widget(Script::Ready, true, Some(ready)))));
}
