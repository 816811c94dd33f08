//! End-to-end checks of manifests against a real API server, written over files so that the
//! project's `crds/`, `examples/` and `e2e/invalid/` and the harness's own fixtures share them.

use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::bed::Bed;
use crate::manifests::{Crd, InvalidCase, named_namespaces, normalize_whitespace, parse_documents};

const ESTABLISHED_TIMEOUT: &str = "60s";
/// The API server publishes a new CRD's OpenAPI, which kubectl explain reads, a little after the
/// CRD is Established.
const OPENAPI_TIMEOUT: Duration = Duration::from_secs(60);

/// The API server's version as `kubectl version` reports it (e.g. `v1.37.1`).
pub fn server_version(bed: &Bed) -> Result<String> {
    let out = bed.kubectl(["version", "-o", "json"])?.ok()?;
    let v: serde_json::Value =
        serde_json::from_str(&out.stdout).context("parsing kubectl version")?;
    v.pointer("/serverVersion/gitVersion")
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .context("kubectl version printed no serverVersion.gitVersion")
}

/// Applies every CRD (server-side: generated CRDs outgrow the 256 KiB annotation client-side
/// apply keeps) and waits until each is Established.
pub fn install_crds(bed: &Bed, crds: &[Crd]) -> Result<()> {
    if crds.is_empty() {
        bail!("no CRDs to install");
    }
    for crd in crds {
        bed.kubectl([
            "apply".as_ref(),
            "--server-side".as_ref(),
            "--force-conflicts".as_ref(),
            "--field-manager=cwo-e2e".as_ref(),
            "-f".as_ref(),
            crd.path.as_os_str(),
        ])?
        .ok()
        .with_context(|| format!("installing {}", crd.path.display()))?;
    }
    let mut args = vec![
        "wait".to_string(),
        "--for=condition=Established".to_string(),
        format!("--timeout={ESTABLISHED_TIMEOUT}"),
    ];
    args.extend(crds.iter().map(|c| format!("crd/{}", c.name)));
    bed.kubectl(&args)?
        .ok()
        .context("waiting for the CRDs to become Established")?;
    Ok(())
}

/// A namespace created for one test and deleted (without waiting) when dropped.
pub struct TestNamespace<'a> {
    bed: &'a Bed,
    name: String,
}

impl<'a> TestNamespace<'a> {
    /// Creates `<prefix>-<pid>-<n>`: unique per process and call, so tests may run in parallel
    /// and against a shared, existing cluster.
    pub fn create(bed: &'a Bed, prefix: &str) -> Result<TestNamespace<'a>> {
        Self::create_named(bed, unique_name(prefix, None))
    }

    /// Creates `<prefix><x…>-<pid>-<n>`, padded with `x` to exactly `len` characters (63, the
    /// longest namespace name Kubernetes allows, tests names at their extreme).
    pub fn create_with_length(bed: &'a Bed, prefix: &str, len: usize) -> Result<TestNamespace<'a>> {
        Self::create_named(bed, unique_name(prefix, Some(len)))
    }

    fn create_named(bed: &'a Bed, name: String) -> Result<TestNamespace<'a>> {
        bed.kubectl(["create", "namespace", &name])?.ok()?;
        Ok(TestNamespace { bed, name })
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

/// `<prefix>-<pid>-<n>`, unique per process and call; with `len`, `prefix` is padded with `x` so
/// the whole has `len` characters.
fn unique_name(prefix: &str, len: Option<usize>) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let suffix = format!(
        "-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let pad = len.map_or(0, |len| len.saturating_sub(prefix.len() + suffix.len()));
    format!("{prefix}{}{suffix}", "x".repeat(pad))
}

impl Drop for TestNamespace<'_> {
    fn drop(&mut self) {
        let _ = self
            .bed
            .kubectl(["delete", "namespace", &self.name, "--wait=false"]);
    }
}

/// Namespaces named by manifests that this process created, deleted when dropped.
struct CreatedNamespaces<'a> {
    bed: &'a Bed,
    names: Vec<String>,
}

impl<'a> CreatedNamespaces<'a> {
    /// Creates whichever of `names` does not exist yet.
    fn ensure(bed: &'a Bed, names: &[String]) -> Result<CreatedNamespaces<'a>> {
        let mut created = CreatedNamespaces {
            bed,
            names: Vec::new(),
        };
        for name in names {
            if !bed.kubectl(["get", "namespace", name])?.success() {
                bed.kubectl(["create", "namespace", name])?.ok()?;
                created.names.push(name.clone());
            }
        }
        Ok(created)
    }
}

impl Drop for CreatedNamespaces<'_> {
    fn drop(&mut self) {
        for name in &self.names {
            let _ = self
                .bed
                .kubectl(["delete", "namespace", name, "--wait=false"]);
        }
    }
}

/// `kubectl apply --dry-run=server` of one manifest file: `Ok` when the API server accepts every
/// object, `Err` with kubectl's output otherwise. Objects without a namespace go to `namespace`;
/// namespaces the file names are created if missing (a dry run cannot create them).
pub fn server_dry_run(bed: &Bed, path: &Path, namespace: &str) -> Result<()> {
    let docs = parse_documents(path)?;
    let named = named_namespaces(&docs);
    let _namespaces = CreatedNamespaces::ensure(bed, &named)?;
    let mut args: Vec<String> = vec!["apply".into(), "--dry-run=server".into()];
    if named.is_empty() {
        args.extend(["-n".into(), namespace.into()]);
    }
    args.extend(["-f".into(), path.display().to_string()]);
    bed.kubectl(&args)?.ok()?;
    Ok(())
}

/// What the API server said when it refused an invalid manifest.
#[derive(Debug)]
pub struct Refusal {
    /// The line of kubectl's output holding the expected substring.
    pub line: String,
}

/// Applies an invalid manifest and checks that it is refused with its expected message. For an
/// update case, the original is applied for real first (and must be accepted), then the update;
/// for a status case, the object first, then its status through the status subresource.
/// Whatever was created is deleted again.
pub fn check_refused(bed: &Bed, case: &InvalidCase, namespace: &str) -> Result<Refusal> {
    let (setup, refused) = match case.documents.as_slice() {
        [original, update] if case.is_update() || case.is_status() => (Some(original), update),
        [only] => (None, only),
        _ => bail!("{}: unexpected number of documents", case.path.display()),
    };
    let docs: Vec<serde_json::Value> = case
        .documents
        .iter()
        .map(|d| serde_yaml::from_str(d))
        .collect::<Result<_, _>>()
        .with_context(|| format!("parsing {}", case.path.display()))?;
    let named = named_namespaces(&docs);
    let _namespaces = CreatedNamespaces::ensure(bed, &named)?;
    let ns_args: Vec<String> = if named.is_empty() {
        vec!["-n".into(), namespace.into()]
    } else {
        Vec::new()
    };
    let apply = |doc: &str, status: bool| -> Result<_> {
        let mut args = vec!["apply".to_string(), "-f".into(), "-".into()];
        if status {
            // Status is written through its subresource; a write to the object drops it.
            args.extend([
                "--server-side".into(),
                "--field-manager=cwo-e2e-status".into(),
                "--subresource=status".into(),
            ]);
        }
        args.extend(ns_args.iter().cloned());
        bed.kubectl_with_stdin(&args, doc)
    };
    let cleanup = |doc: &str| {
        let mut args = vec![
            "delete".to_string(),
            "-f".into(),
            "-".into(),
            "--ignore-not-found".into(),
            "--wait=false".into(),
        ];
        args.extend(ns_args.iter().cloned());
        let _ = bed.kubectl_with_stdin(&args, doc);
    };

    // Something to delete afterwards: the original of an update case, or a manifest that was
    // wrongly accepted. A refused manifest created nothing, which spares a kubectl run per case.
    let mut created = setup.is_some();
    let result = (|| {
        if let Some(original) = setup {
            apply(original, false)?
                .ok()
                .context("the original object (first document) was refused; it must be valid")?;
        }
        let out = apply(refused, case.is_status())?;
        if out.success() {
            created = true;
            bail!(
                "accepted, but must be refused with {:?}:\n{out}",
                case.expect
            );
        }
        let text = out.combined();
        match text.lines().find(|l| l.contains(&case.expect)) {
            Some(line) => Ok(Refusal {
                line: line.trim().to_string(),
            }),
            None => bail!(
                "refused, but the output lacks {:?}:\n{}",
                case.expect,
                text.trim_end()
            ),
        }
    })();
    if created {
        for doc in case.documents.iter().rev() {
            cleanup(doc);
        }
    }
    result
}

/// `kubectl explain <plural>.<field path>` shows the field's description from the CRD.
pub fn check_explain(bed: &Bed, crd: &Crd, field: &[&str]) -> Result<()> {
    let description = crd
        .field_schema(field)
        .and_then(|s| s.get("description"))
        .and_then(|d| d.as_str())
        .with_context(|| format!("{} has no description for {}", crd.name, field.join(".")))?;
    let wanted = normalize_whitespace(description);
    let target = format!("{}.{}", crd.plural, field.join("."));
    let deadline = Instant::now() + OPENAPI_TIMEOUT;
    loop {
        let out = bed.kubectl([
            "explain",
            &target,
            &format!("--api-version={}", crd.api_version()),
        ])?;
        if out.success() && normalize_whitespace(&out.stdout).contains(&wanted) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "kubectl explain {target} does not show the CRD's description {wanted:?}:\n{out}"
            );
        }
        thread::sleep(Duration::from_millis(500));
    }
}
