//! Checks over a directory of manifests, shared by the project's manifests and the fixture:
//! each file is checked and reported, and every failure is listed before the test fails.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use anyhow::{Result, bail};
use cwo_e2e::checks::{self, TestNamespace};
use cwo_e2e::manifests::{Crd, InvalidCase, yaml_files};
use cwo_e2e::{Bed, repo_root, report};

/// A path relative to the repository, for reports.
pub fn shown(path: &Path) -> String {
    path.strip_prefix(repo_root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The shared bed, with its server version reported once.
pub fn bed() -> &'static Bed {
    static VERSION: OnceLock<()> = OnceLock::new();
    let bed = Bed::shared().unwrap_or_else(|e| panic!("{e:#}"));
    VERSION.get_or_init(|| match checks::server_version(bed) {
        Ok(v) => report(&format!("cwo-e2e: checking against kube-apiserver {v}")),
        Err(e) => report(&format!("cwo-e2e: kubectl version failed: {e:#}")),
    });
    bed
}

/// The outcome of installing one directory's CRDs, kept for every later caller.
type Installation = Result<Vec<Crd>, String>;

/// Installs the CRDs of `dir` once per test process and returns them once Established.
pub fn installed_crds(dir: &Path) -> Result<Vec<Crd>> {
    static INSTALLED: OnceLock<Mutex<HashMap<PathBuf, Installation>>> = OnceLock::new();
    let mut installed = INSTALLED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let result = installed.entry(dir.to_path_buf()).or_insert_with(|| {
        let crds = Crd::read_dir(dir).map_err(|e| format!("{e:#}"))?;
        checks::install_crds(bed(), &crds).map_err(|e| format!("{e:#}"))?;
        for crd in &crds {
            report(&format!(
                "  ok  {} ({}) Established",
                shown(&crd.path),
                crd.name
            ));
        }
        Ok(crds)
    });
    result
        .clone()
        .map_err(|e| anyhow::anyhow!("installing the CRDs of {}: {e}", shown(dir)))
}

/// Fails listing every failure, or reports how many were checked.
fn conclude(what: &str, checked: usize, failures: Vec<String>) -> Result<()> {
    if checked == 0 {
        bail!("{what}: nothing to check; a check over nothing proves nothing");
    }
    if failures.is_empty() {
        report(&format!("cwo-e2e: {what}: {checked} checked, all passed"));
        return Ok(());
    }
    bail!(
        "{what}: {} of {checked} failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    )
}

/// A directory's kustomize file: it lists manifests, it is not one (the gitops tests check it).
pub const KUSTOMIZATION: &str = "kustomization.yaml";

/// Every manifest in `examples` is accepted by `kubectl apply --dry-run=server`.
pub fn examples_accepted(crds: &Path, examples: &Path) -> Result<()> {
    installed_crds(crds)?;
    let bed = bed();
    let ns = TestNamespace::create(bed, "cwo-e2e-examples")?;
    let files: Vec<PathBuf> = yaml_files(examples)?
        .into_iter()
        .filter(|f| !f.ends_with(KUSTOMIZATION))
        .collect();
    let mut failures = Vec::new();
    for file in &files {
        match checks::server_dry_run(bed, file, ns.name()) {
            Ok(()) => report(&format!(
                "  ok  {} accepted (--dry-run=server)",
                shown(file)
            )),
            Err(e) => {
                report(&format!("  FAIL {} refused", shown(file)));
                failures.push(format!("{}: {e:#}", shown(file)));
            }
        }
    }
    conclude(
        &format!("examples in {}", shown(examples)),
        files.len(),
        failures,
    )
}

/// Every manifest in `invalid` is refused with the message its `# expect:` line names. Returns
/// how many there were.
pub fn invalid_refused(crds: &Path, invalid: &Path) -> Result<usize> {
    installed_crds(crds)?;
    let bed = bed();
    let ns = TestNamespace::create(bed, "cwo-e2e-invalid")?;
    let cases = InvalidCase::read_dir(invalid)?;
    let mut failures = Vec::new();
    for case in &cases {
        match checks::check_refused(bed, case, ns.name()) {
            Ok(refusal) => report(&format!(
                "  ok  {} refused: {}",
                shown(&case.path),
                refusal.line
            )),
            Err(e) => {
                report(&format!("  FAIL {}", shown(&case.path)));
                failures.push(format!(
                    "{} (expect: {:?}): {e:#}",
                    shown(&case.path),
                    case.expect
                ));
            }
        }
    }
    conclude(
        &format!("invalid manifests in {}", shown(invalid)),
        cases.len(),
        failures,
    )?;
    Ok(cases.len())
}

/// `kubectl explain` shows one documented spec field per kind; `preferred` names the field to
/// show for a kind (else the first documented one).
pub fn explain_shows_docs(crds: &Path, preferred: &[(&str, &str)]) -> Result<()> {
    let crds = installed_crds(crds)?;
    let bed = bed();
    let mut failures = Vec::new();
    for crd in &crds {
        let documented = crd.documented_spec_fields();
        let field = preferred
            .iter()
            .find(|(kind, _)| *kind == crd.kind)
            .map(|(_, f)| f.to_string())
            .or_else(|| documented.first().cloned());
        let Some(field) = field else {
            failures.push(format!(
                "{}: no spec field has a description",
                shown(&crd.path)
            ));
            continue;
        };
        let target = format!("{}.spec.{field}", crd.kind.to_lowercase());
        match checks::check_explain(bed, crd, &["spec", &field]) {
            Ok(()) => report(&format!(
                "  ok  kubectl explain {target} shows its description"
            )),
            Err(e) => {
                report(&format!("  FAIL kubectl explain {target}"));
                failures.push(format!("{}: {e:#}", shown(&crd.path)));
            }
        }
    }
    conclude("kubectl explain, one field per kind", crds.len(), failures)
}
