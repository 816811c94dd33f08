//! `cloudwatch-operator import`: existing AWS objects as the manifests that take them over,
//! written as a person would write them.
//!
//! Each kind lists its AWS objects with their tags (`runtime::import`); objects an operator
//! already owns are skipped with a note. The manifests take over with `adoption: IfUnowned` and
//! keep the AWS object when deleted (`deletionPolicy: Retain`) unless told otherwise, and leave
//! out every field AWS fills in by itself, so `plan` on them finds nothing to change. AWS is
//! read only: the client refuses every write before sending it.

use super::read_only::{self, AwsAccess};
use crate::alarm::Alarm;
use crate::common_fields::{Adoption, DeletionPolicy};
use crate::composite_alarm::CompositeAlarm;
use crate::log_destination::LogDestination;
use crate::log_subscription::LogSubscription;
use crate::metric_filter::MetricFilter;
use crate::metric_stream::MetricStream;
use crate::runtime::import::{ImportNames, ImportSettings, Imported, Skipped, import};
use crate::sampling_rule::SamplingRule;
use anyhow::Context as _;
use clap::{Args, ValueEnum};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Flags of `cloudwatch-operator import`.
#[derive(Clone, Debug, Args)]
pub struct ImportArgs {
    /// Regions to read. Repeat for several. Default: the AWS SDK's region (or
    /// --default-region).
    #[arg(long = "region", value_name = "REGION")]
    pub regions: Vec<String>,

    /// Kinds to import. Repeat for several. Default: every kind import supports.
    #[arg(long = "kind", value_enum, value_name = "KIND")]
    pub kinds: Vec<ImportKind>,

    /// Only AWS objects whose name starts with this.
    #[arg(long, default_value = "")]
    pub prefix: String,

    /// Only AWS objects carrying this tag, as KEY=VALUE. Repeat for several: all must match.
    #[arg(long = "tag", value_name = "KEY=VALUE", value_parser = parse_tag)]
    pub tags: Vec<(String, String)>,

    /// Namespace written into each manifest. Default: none (`kubectl apply -n` decides).
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,

    /// Write one file per object into this directory (`<kind>-<name>.yaml`) instead of one YAML
    /// stream on standard output.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// `adoption` of the manifests: how they take over the AWS objects.
    #[arg(long, value_enum, default_value_t = AdoptionArg::IfUnowned)]
    pub adoption: AdoptionArg,

    /// `deletionPolicy` of the manifests: what deleting one does to its AWS object.
    #[arg(long, value_enum, default_value_t = DeletionPolicyArg::Retain)]
    pub deletion_policy: DeletionPolicyArg,

    /// The region when no --region is given: the operator's --default-region.
    #[arg(long, env = "CWO_DEFAULT_REGION")]
    pub default_region: Option<String>,

    /// Send every AWS call to this endpoint instead of AWS (the local emulator).
    #[arg(long, env = "CWO_AWS_ENDPOINT_URL")]
    pub aws_endpoint_url: Option<String>,
}

/// The kinds `import` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum ImportKind {
    #[value(name = "Alarm", alias = "alarm")]
    Alarm,
    /// After Alarm: a composite's rule refers to the alarms imported before it.
    #[value(name = "CompositeAlarm", alias = "compositealarm")]
    CompositeAlarm,
    #[value(name = "LogDestination", alias = "logdestination")]
    LogDestination,
    #[value(name = "LogSubscription", alias = "logsubscription")]
    LogSubscription,
    #[value(name = "MetricFilter", alias = "metricfilter")]
    MetricFilter,
    #[value(name = "MetricStream", alias = "metricstream")]
    MetricStream,
    #[value(name = "SamplingRule", alias = "samplingrule")]
    SamplingRule,
}

/// `--adoption`, as the field spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AdoptionArg {
    #[value(name = "IfUnowned")]
    IfUnowned,
    #[value(name = "Force")]
    Force,
    #[value(name = "Never")]
    Never,
}

impl From<AdoptionArg> for Adoption {
    fn from(a: AdoptionArg) -> Self {
        match a {
            AdoptionArg::IfUnowned => Adoption::IfUnowned,
            AdoptionArg::Force => Adoption::Force,
            AdoptionArg::Never => Adoption::Never,
        }
    }
}

/// `--deletion-policy`, as the field spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DeletionPolicyArg {
    #[value(name = "Retain")]
    Retain,
    #[value(name = "Delete")]
    Delete,
}

impl From<DeletionPolicyArg> for DeletionPolicy {
    fn from(d: DeletionPolicyArg) -> Self {
        match d {
            DeletionPolicyArg::Retain => DeletionPolicy::Retain,
            DeletionPolicyArg::Delete => DeletionPolicy::Delete,
        }
    }
}

impl ImportArgs {
    /// What to import and how the manifests manage it, as the flags say.
    fn settings(&self) -> ImportSettings {
        ImportSettings {
            prefix: self.prefix.clone(),
            tags: self.tags.iter().cloned().collect::<BTreeMap<_, _>>(),
            namespace: self.namespace.clone(),
            adoption: self.adoption.into(),
            deletion_policy: self.deletion_policy.into(),
        }
    }
}

fn parse_tag(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("{s:?} is not KEY=VALUE")),
    }
}

/// What an import found: the manifests, and the AWS objects it left alone.
#[derive(Debug, Default)]
pub struct ImportResult {
    pub imported: Vec<Imported>,
    pub skipped: Vec<Skipped>,
}

impl ImportResult {
    /// The manifests as one YAML stream.
    pub fn stream(&self) -> String {
        self.imported
            .iter()
            .map(|i| format!("---\n{}", yaml(i)))
            .collect()
    }

    /// Writes one file per manifest into `dir`; returns their paths.
    pub fn write_files(&self, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut paths = Vec::new();
        for i in &self.imported {
            let path = dir.join(file_name(i));
            std::fs::write(&path, yaml(i))
                .with_context(|| format!("writing {}", path.display()))?;
            paths.push(path);
        }
        Ok(paths)
    }

    /// One line per AWS object left alone, and a summary line.
    pub fn notes(&self) -> String {
        let mut out: String = self
            .skipped
            .iter()
            .map(|s| format!("skipped {}: {}\n", s.aws_object, s.why))
            .collect();
        out.push_str(&format!(
            "imported {}, skipped {}\n",
            self.imported.len(),
            self.skipped.len()
        ));
        out
    }
}

fn yaml(i: &Imported) -> String {
    serde_yaml::to_string(&i.manifest).expect("manifests serialize")
}

/// `<kind>-<name>.yaml`, the kind in lower case: unique, since names are unique per kind.
fn file_name(i: &Imported) -> String {
    format!("{}-{}.yaml", i.kind.to_ascii_lowercase(), i.name)
}

/// Imports what `args` selects.
pub async fn run_import(args: &ImportArgs) -> anyhow::Result<ImportResult> {
    let aws = read_only::aws(&AwsAccess {
        default_region: args.default_region.clone(),
        endpoint_url: args.aws_endpoint_url.clone(),
    })
    .await?;
    let regions = if args.regions.is_empty() {
        vec![aws.default_region().to_string()]
    } else {
        args.regions.clone()
    };
    let mut kinds = if args.kinds.is_empty() {
        ImportKind::value_variants().to_vec()
    } else {
        args.kinds.clone()
    };
    kinds.sort();
    kinds.dedup();
    let settings = args.settings();
    let mut names = ImportNames::default();
    let mut result = ImportResult::default();
    for region in &regions {
        for kind in &kinds {
            let (imported, skipped) = match kind {
                ImportKind::Alarm => import::<Alarm>(&aws, region, &settings, &mut names).await,
                ImportKind::CompositeAlarm => {
                    import::<CompositeAlarm>(&aws, region, &settings, &mut names).await
                }
                ImportKind::LogDestination => {
                    import::<LogDestination>(&aws, region, &settings, &mut names).await
                }
                ImportKind::MetricFilter => {
                    import::<MetricFilter>(&aws, region, &settings, &mut names).await
                }
                ImportKind::LogSubscription => {
                    import::<LogSubscription>(&aws, region, &settings, &mut names).await
                }
                ImportKind::MetricStream => {
                    import::<MetricStream>(&aws, region, &settings, &mut names).await
                }
                ImportKind::SamplingRule => {
                    import::<SamplingRule>(&aws, region, &settings, &mut names).await
                }
            }
            .map_err(|e| anyhow::anyhow!("{}: {}", e.reason, e.message))
            .with_context(|| format!("reading {kind:?} objects in {region}"))?;
            result.imported.extend(imported);
            result.skipped.extend(skipped);
        }
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_yaml::Value;

    fn imported(name: &str) -> Imported {
        Imported {
            kind: "Alarm",
            name: name.into(),
            aws_object: format!("alarm {name:?} in us-east-1"),
            manifest: serde_yaml::from_str(&format!(
                "apiVersion: cwo.dev/v1alpha1\nkind: Alarm\nmetadata:\n  name: {name}\n"
            ))
            .unwrap(),
        }
    }

    #[test]
    fn the_stream_holds_every_manifest_as_its_own_document() {
        let result = ImportResult {
            imported: vec![imported("a"), imported("b")],
            skipped: vec![],
        };
        let docs: Vec<Value> = result
            .stream()
            .split("---\n")
            .filter(|d| !d.is_empty())
            .map(|d| serde_yaml::from_str(d).unwrap())
            .collect();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1]["metadata"]["name"].as_str(), Some("b"));
    }

    #[test]
    fn files_are_named_by_kind_and_name_and_notes_name_what_was_skipped() {
        let dir = std::env::temp_dir().join(format!("cwo-import-files-{}", std::process::id()));
        let result = ImportResult {
            imported: vec![imported("cpu-high")],
            skipped: vec![Skipped {
                aws_object: "alarm \"mem\" in us-east-1".into(),
                why: "managed by Alarm team-a/mem in cluster c1".into(),
            }],
        };
        let paths = result.write_files(&dir.join("out")).unwrap();
        assert_eq!(paths, [dir.join("out/alarm-cpu-high.yaml")]);
        let written: Value =
            serde_yaml::from_str(&std::fs::read_to_string(&paths[0]).unwrap()).unwrap();
        assert_eq!(written, result.imported[0].manifest);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            result.notes(),
            "skipped alarm \"mem\" in us-east-1: managed by Alarm team-a/mem in cluster c1\n\
             imported 1, skipped 1\n"
        );
    }

    #[test]
    fn without_flags_the_manifests_are_managed_as_every_import_defaults_to() {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            import: ImportArgs,
        }
        let cli = <Cli as clap::Parser>::try_parse_from(["import"]).unwrap();
        let settings = cli.import.settings();
        let default = ImportSettings::default();
        assert_eq!(settings.adoption, default.adoption);
        assert_eq!(settings.deletion_policy, default.deletion_policy);
        assert_eq!(settings.prefix, default.prefix);
        assert_eq!(settings.tags, default.tags);
        assert_eq!(settings.namespace, default.namespace);
    }

    #[test]
    fn tags_are_key_equals_value() {
        assert_eq!(parse_tag("team=web"), Ok(("team".into(), "web".into())));
        assert_eq!(parse_tag("empty="), Ok(("empty".into(), String::new())));
        assert_eq!(parse_tag("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert!(parse_tag("=web").is_err());
        assert!(parse_tag("team").is_err());
    }
}
