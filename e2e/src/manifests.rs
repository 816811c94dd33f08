//! The manifests the end-to-end checks run over: CRDs (`crds/`), examples (`examples/`), the
//! invalid-manifest corpus (`e2e/invalid/`) and the chart's rendering, read generically so every
//! file added there is checked without touching a test.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::{Tools, repo_root};

/// The prefix of an invalid manifest's first line; the rest of the line is a substring the API
/// server's (or kubectl's) refusal must contain.
pub const EXPECT_PREFIX: &str = "# expect:";
/// Invalid manifests whose name ends so hold two documents: an object, applied for real, then an
/// update of it that must be refused (immutable fields, transition rules).
pub const UPDATE_SUFFIX: &str = ".update.yaml";
/// Invalid manifests whose name ends so hold two documents: an object, applied for real, then
/// the same object with a status the API server must refuse, applied to the status subresource
/// (the schema of what the operator writes, such as its conditions).
pub const STATUS_SUFFIX: &str = ".status.yaml";

/// `helm template` of the chart (release `cwo` in namespace `cloudwatch-operator`) with `args`,
/// as documents.
pub fn helm_template(args: &[&str]) -> Result<Vec<Value>> {
    let chart = repo_root().join("charts/cloudwatch-operator");
    let home = std::env::temp_dir().join("cwo-helm-template");
    let out = std::process::Command::new(&Tools::ensure()?.helm)
        .arg("template")
        .arg("cwo")
        .arg(&chart)
        .args(["--namespace", "cloudwatch-operator"])
        .args(args)
        .env("HELM_CACHE_HOME", &home)
        .env("HELM_CONFIG_HOME", &home)
        .env("HELM_DATA_HOME", &home)
        .output()?;
    if !out.status.success() {
        bail!(
            "helm template failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    split_documents(&String::from_utf8_lossy(&out.stdout))
        .iter()
        .map(|d| Ok(serde_yaml::from_str(d)?))
        .collect()
}

/// The `*.yaml` / `*.yml` files directly in `dir`, sorted by name. An empty or missing directory
/// is an error: a check over nothing would pass without checking anything.
pub fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()?
        .into_iter()
        .filter(|p| {
            p.is_file() && matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("{} holds no YAML files", dir.display());
    }
    Ok(files)
}

/// Splits a multi-document YAML text at its `---` lines, dropping documents that hold only
/// comments or whitespace.
pub fn split_documents(text: &str) -> Vec<String> {
    let mut docs = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if line.trim_end() == "---" {
            docs.push(std::mem::take(&mut current));
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    docs.push(current);
    docs.into_iter().filter(|d| has_content(d)).collect()
}

fn has_content(doc: &str) -> bool {
    doc.lines().any(|l| {
        let l = l.trim();
        !l.is_empty() && !l.starts_with('#')
    })
}

/// Parses every document of a YAML file into JSON values.
pub fn parse_documents(path: &Path) -> Result<Vec<Value>> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    split_documents(&text)
        .iter()
        .map(|d| serde_yaml::from_str(d).with_context(|| format!("parsing {}", path.display())))
        .collect()
}

/// The namespaces a set of documents names in `metadata.namespace`.
pub fn named_namespaces(docs: &[Value]) -> Vec<String> {
    let mut names: Vec<String> = docs
        .iter()
        .filter_map(|d| {
            d.pointer("/metadata/namespace")?
                .as_str()
                .map(str::to_string)
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// A CustomResourceDefinition read from a file.
#[derive(Debug, Clone)]
pub struct Crd {
    pub path: PathBuf,
    /// `metadata.name`, `<plural>.<group>`.
    pub name: String,
    pub group: String,
    pub kind: String,
    pub plural: String,
    /// The storage version (the served one kubectl explain shows by default).
    pub version: String,
    pub document: Value,
}

impl Crd {
    /// Reads one CRD file (one document of kind CustomResourceDefinition).
    pub fn read(path: &Path) -> Result<Crd> {
        let docs = parse_documents(path)?;
        let [doc] = docs.as_slice() else {
            bail!(
                "{} holds {} documents; one CRD per file",
                path.display(),
                docs.len()
            );
        };
        if doc["kind"] != "CustomResourceDefinition" {
            bail!(
                "{} is a {}, not a CustomResourceDefinition",
                path.display(),
                doc["kind"]
            );
        }
        let s = |ptr: &str| -> Result<String> {
            doc.pointer(ptr)
                .and_then(Value::as_str)
                .map(str::to_string)
                .with_context(|| format!("{} lacks {ptr}", path.display()))
        };
        let versions = doc
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .with_context(|| format!("{} lacks spec.versions", path.display()))?;
        let storage = versions
            .iter()
            .find(|v| v["storage"] == true)
            .or_else(|| versions.first())
            .with_context(|| format!("{} has no version", path.display()))?;
        Ok(Crd {
            path: path.to_path_buf(),
            name: s("/metadata/name")?,
            group: s("/spec/group")?,
            kind: s("/spec/names/kind")?,
            plural: s("/spec/names/plural")?,
            version: storage["name"].as_str().unwrap_or_default().to_string(),
            document: doc.clone(),
        })
    }

    /// Every CRD file in `dir`.
    pub fn read_dir(dir: &Path) -> Result<Vec<Crd>> {
        yaml_files(dir)?.iter().map(|p| Crd::read(p)).collect()
    }

    /// `<group>/<version>`.
    pub fn api_version(&self) -> String {
        format!("{}/{}", self.group, self.version)
    }

    /// The storage version's schema of the field at `path` below the object's root
    /// (e.g. `["spec", "period"]`), if the CRD declares it.
    pub fn field_schema(&self, path: &[&str]) -> Option<&Value> {
        let versions = self.document.pointer("/spec/versions")?.as_array()?;
        let version = versions
            .iter()
            .find(|v| v["name"] == self.version.as_str())?;
        let mut schema = version.pointer("/schema/openAPIV3Schema")?;
        for field in path {
            schema = schema.get("properties")?.get(*field)?;
        }
        Some(schema)
    }

    /// The top-level `spec` fields that carry a description, sorted by name.
    pub fn documented_spec_fields(&self) -> Vec<String> {
        let mut fields: Vec<String> = self
            .field_schema(&["spec"])
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
            .map(|props| {
                props
                    .iter()
                    .filter(|(_, s)| {
                        s.get("description")
                            .and_then(Value::as_str)
                            .is_some_and(|d| !d.trim().is_empty())
                    })
                    .map(|(name, _)| name.clone())
                    .collect()
            })
            .unwrap_or_default();
        fields.sort();
        fields
    }
}

/// One manifest of the invalid corpus.
#[derive(Debug, Clone)]
pub struct InvalidCase {
    pub path: PathBuf,
    /// The substring the refusal must contain.
    pub expect: String,
    /// The documents. For an update case: the original, then the update that must be refused.
    pub documents: Vec<String>,
}

impl InvalidCase {
    pub fn read(path: &Path) -> Result<InvalidCase> {
        let text =
            fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(path, &text)
    }

    fn parse(path: &Path, text: &str) -> Result<InvalidCase> {
        let first = text.lines().next().unwrap_or_default();
        let expect = first
            .strip_prefix(EXPECT_PREFIX)
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .with_context(|| {
                format!(
                    "{}: the first line must be `{EXPECT_PREFIX} <substring of the error>`, found {first:?}",
                    path.display()
                )
            })?
            .to_string();
        let case = InvalidCase {
            path: path.to_path_buf(),
            expect,
            documents: split_documents(text),
        };
        let (wanted, which) = if case.is_update() {
            (2, " (the original, then the refused update)")
        } else if case.is_status() {
            (2, " (the object, then the object with the refused status)")
        } else {
            (1, "")
        };
        if case.documents.len() != wanted {
            bail!(
                "{}: holds {} YAML documents, expected {wanted}{which}",
                path.display(),
                case.documents.len(),
            );
        }
        Ok(case)
    }

    /// Every invalid manifest in `dir`.
    pub fn read_dir(dir: &Path) -> Result<Vec<InvalidCase>> {
        yaml_files(dir)?
            .iter()
            .map(|p| InvalidCase::read(p))
            .collect()
    }

    /// Whether this case is an update that must be refused (`*.update.yaml`).
    pub fn is_update(&self) -> bool {
        self.path.to_string_lossy().ends_with(UPDATE_SUFFIX)
    }

    /// Whether this case is a status that must be refused (`*.status.yaml`).
    pub fn is_status(&self) -> bool {
        self.path.to_string_lossy().ends_with(STATUS_SUFFIX)
    }

    /// The file name, for reports.
    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    }
}

/// Collapses every run of whitespace to one space, so text wrapped by kubectl compares equal to
/// the CRD's description.
pub fn normalize_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_documents_drops_comment_only_documents() {
        let docs = split_documents("# expect: x\n---\na: 1\n---\n# note\n---\nb: 2\n");
        assert_eq!(docs, vec!["a: 1\n".to_string(), "b: 2\n".to_string()]);
    }

    #[test]
    fn a_case_without_its_expect_line_is_refused() {
        let err = InvalidCase::parse(Path::new("x.yaml"), "kind: Alarm\n").unwrap_err();
        assert!(format!("{err:#}").contains("first line must be"), "{err:#}");
    }

    #[test]
    fn an_update_case_needs_two_documents() {
        let one = "# expect: immutable\nkind: Alarm\n";
        assert!(InvalidCase::parse(Path::new("a.update.yaml"), one).is_err());
        let two = "# expect: immutable\nkind: Alarm\n---\nkind: Alarm\n";
        let case = InvalidCase::parse(Path::new("a.update.yaml"), two).unwrap();
        assert!(case.is_update());
        assert_eq!(case.expect, "immutable");
        assert!(InvalidCase::parse(Path::new("a.yaml"), two).is_err());
    }

    #[test]
    fn a_status_case_needs_the_object_and_its_status() {
        let one = "# expect: Unsupported value\nkind: Alarm\n";
        assert!(InvalidCase::parse(Path::new("a.status.yaml"), one).is_err());
        let two = "# expect: Unsupported value\nkind: Alarm\n---\nkind: Alarm\nstatus: {}\n";
        let case = InvalidCase::parse(Path::new("a.status.yaml"), two).unwrap();
        assert!(case.is_status());
        assert!(!case.is_update());
    }

    /// A check over a directory that holds nothing to check must fail, not pass having checked
    /// nothing: the CRDs, the examples and the invalid corpus are all read through here.
    #[test]
    fn a_directory_without_manifests_is_an_error() {
        let empty = tempfile::tempdir().unwrap();
        for err in [
            yaml_files(empty.path()).unwrap_err(),
            Crd::read_dir(empty.path()).unwrap_err(),
            InvalidCase::read_dir(empty.path()).unwrap_err(),
        ] {
            assert!(
                format!("{err:#}").contains("holds no YAML files"),
                "{err:#}"
            );
        }
        fs::write(empty.path().join("README.md"), "# not a manifest\n").unwrap();
        assert!(yaml_files(empty.path()).is_err(), "only README.md");
        let missing = empty.path().join("missing");
        assert!(yaml_files(&missing).is_err(), "a missing directory");
    }

    #[test]
    fn whitespace_is_normalized() {
        assert_eq!(normalize_whitespace("  a\n   b\tc "), "a b c");
    }
}
