//! What `plan` and `import` run against: AWS and the cluster, read only. The AWS client refuses
//! every call that would change AWS before it is sent; the Kubernetes client sends nothing but
//! GET requests (or, without a kubeconfig, nothing at all), so neither command can write
//! whatever code path it takes.

use crate::aws::rate_limit::RateLimitConfig;
use crate::aws::{Aws, AwsSettings};
use crate::aws_account::AWSAccount;
use crate::aws_account::grants::Grants;
use crate::metrics::Metrics;
use crate::runtime::accounts::AccountUsers;
use crate::runtime::backoff::Backoffs;
use crate::runtime::context::{Context, RuntimeConfig};
use crate::runtime::events::EventPublisher;
use crate::runtime::tag_reads::TagReads;
use crate::runtime::watch::Synced;
use crate::vocabulary::FIELD_MANAGER;
use anyhow::Context as _;
use http::{Request, Response};
use k8s_openapi::api::core::v1::Namespace;
use kube::client::{Body, ClientBuilder};
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::{self, Store};
use kube::runtime::watcher;
use kube::{Client, Config};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;
use tower::{BoxError, Layer, Service};

/// How to reach AWS.
#[derive(Clone, Debug, Default)]
pub struct AwsAccess {
    /// Region for objects that name none.
    pub default_region: Option<String>,
    /// Send every call here instead of AWS (the local emulator).
    pub endpoint_url: Option<String>,
}

/// AWS, read only: write calls fail before they are sent.
pub async fn aws(access: &AwsAccess) -> anyhow::Result<Arc<Aws>> {
    let settings = AwsSettings {
        default_region: access.default_region.clone(),
        endpoint_url: access.endpoint_url.clone(),
        rate_limits: RateLimitConfig::default(),
        read_only: true,
    };
    Ok(Arc::new(
        Aws::load(settings, Arc::new(Metrics::new())).await?,
    ))
}

/// The cluster, when a kubeconfig (or an in-cluster service account) is available.
pub struct Cluster {
    pub client: Client,
    /// The namespace of the kubeconfig's context.
    pub default_namespace: String,
}

/// The cluster from the kubeconfig (`KUBECONFIG`, `~/.kube/config`) or the in-cluster service
/// account, with a client that sends only reads; `None` when there is neither.
pub async fn cluster() -> anyhow::Result<Option<Cluster>> {
    let config = match Config::infer().await {
        Ok(config) => config,
        Err(e) => {
            tracing::debug!(error = %e, "no kubeconfig: planning without the cluster");
            return Ok(None);
        }
    };
    let default_namespace = config.default_namespace.clone();
    let client = ClientBuilder::try_from(config)
        .context("cannot build a Kubernetes client from the kubeconfig")?
        .with_layer(&ReadsOnlyLayer)
        .build();
    Ok(Some(Cluster {
        client,
        default_namespace,
    }))
}

/// Lets GET requests through and fails every other request before it is sent.
#[derive(Clone, Copy, Debug)]
struct ReadsOnlyLayer;

impl<S> Layer<S> for ReadsOnlyLayer {
    type Service = ReadsOnly<S>;

    fn layer(&self, inner: S) -> ReadsOnly<S> {
        ReadsOnly(inner)
    }
}

/// See [`ReadsOnlyLayer`].
#[derive(Clone, Debug)]
pub struct ReadsOnly<S>(S);

type Answer<R> = Pin<Box<dyn Future<Output = Result<R, BoxError>> + Send>>;

impl<S, R> Service<Request<Body>> for ReadsOnly<S>
where
    S: Service<Request<Body>, Response = R>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
{
    type Response = R;
    type Error = BoxError;
    type Future = Answer<R>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), BoxError>> {
        self.0.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        if request.method() != http::Method::GET {
            let refused = format!(
                "{} {} was not sent: this command only reads the cluster",
                request.method(),
                request.uri().path()
            );
            return Box::pin(async move { Err(refused.into()) });
        }
        let call = self.0.call(request);
        Box::pin(async move { call.await.map_err(Into::into) })
    }
}

/// A Kubernetes client with no cluster behind it: every request fails before it is sent. What
/// `plan` hands the controllers' code when no kubeconfig is available.
pub fn no_cluster() -> Client {
    ClientBuilder::new(NoCluster, "default").build()
}

#[derive(Clone, Copy, Debug)]
struct NoCluster;

impl Service<Request<Body>> for NoCluster {
    type Response = Response<Body>;
    type Error = BoxError;
    type Future = Answer<Response<Body>>;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let refused = format!(
            "{} {} was not sent: no cluster (no kubeconfig)",
            request.method(),
            request.uri().path()
        );
        Box::pin(async move { Err(refused.into()) })
    }
}

/// A cache filled by hand, already complete.
pub fn store_of<K>(objects: impl IntoIterator<Item = K>) -> Store<K>
where
    K: kube::Resource + Clone + 'static,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone,
{
    let (store, mut writer) = reflector::store();
    for obj in objects {
        writer.apply_watcher_event(&watcher::Event::Apply(obj));
    }
    store
}

/// The runtime context the controllers' read-and-decide steps run under in `plan`: `aws` and
/// `client` read only, `namespaces` for their `cwo.dev/region` and `cwo.dev/account`
/// annotations, `accounts` for who may use which account, and `cluster_id` to recognise the
/// ownership tags (empty: unknown, see `ownership::Owner`).
pub fn context(
    client: Client,
    aws: Arc<Aws>,
    namespaces: Vec<PartialObjectMeta<Namespace>>,
    accounts: Vec<AWSAccount>,
    cluster_id: String,
) -> Context {
    Context {
        events: EventPublisher::new(client.clone(), FIELD_MANAGER, None),
        client,
        aws,
        metrics: Arc::new(Metrics::new()),
        config: RuntimeConfig {
            cluster_id,
            resync_period: Duration::from_secs(600),
        },
        backoffs: Backoffs::default(),
        tag_reads: TagReads::new(Duration::from_secs(3600)),
        confirmed: Default::default(),
        versions: Default::default(),
        settling: Default::default(),
        namespaces: store_of(namespaces),
        namespaces_synced: Synced::already(),
        accounts: Arc::new(Grants::new(store_of(accounts))),
        accounts_synced: Synced::already(),
        account_users: AccountUsers::default(),
        released: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube::Api;
    use kube::api::{ListParams, PostParams};

    /// A client whose only server is a mock: a request that reaches it is answered with an
    /// empty list, and counted.
    fn guarded() -> (
        Client,
        tower_test::mock::Handle<Request<Body>, Response<Body>>,
    ) {
        let (mock, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
        let client = ClientBuilder::new(mock, "default")
            .with_layer(&ReadsOnlyLayer)
            .build();
        (client, handle)
    }

    #[tokio::test]
    async fn writes_never_reach_the_server_and_reads_do() {
        let (client, mut handle) = guarded();
        let api: Api<ConfigMap> = Api::namespaced(client, "default");
        let server = tokio::spawn(async move {
            let (request, reply) = handle.next_request().await.expect("a request");
            assert_eq!(request.method(), http::Method::GET);
            reply.send_response(
                Response::builder()
                    .body(Body::from(
                        br#"{"apiVersion":"v1","kind":"ConfigMapList","metadata":{},"items":[]}"#
                            .to_vec(),
                    ))
                    .unwrap(),
            );
            // Nothing else arrives: the write below is refused before it is sent.
            assert!(handle.next_request().await.is_none());
        });
        let refused = api
            .create(&PostParams::default(), &ConfigMap::default())
            .await
            .unwrap_err();
        assert!(
            refused.to_string().contains("only reads the cluster"),
            "{refused}"
        );
        assert!(
            api.list(&ListParams::default())
                .await
                .unwrap()
                .items
                .is_empty()
        );
        drop(api);
        server.await.unwrap();
    }

    #[tokio::test]
    async fn without_a_cluster_every_request_fails_unsent() {
        let api: Api<ConfigMap> = Api::namespaced(no_cluster(), "default");
        let e = api.list(&ListParams::default()).await.unwrap_err();
        assert!(e.to_string().contains("no cluster"), "{e}");
    }
}
