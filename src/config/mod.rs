//! Settings: `.extip-lint.yaml` (read with spans, so errors and findings can point into it)
//! merged with command-line flags. Flags win over the file.
//!
//! The rules a config may name come in as a parameter (`catalog`): settings know rule metadata,
//! never the rules themselves.

mod file;
mod overrides;
mod print;
mod schema;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use globset::GlobSet;
use ipnet::IpNet;

pub use schema::json_schema;

use crate::error::{ConfigIssue, Error};
use crate::finding::{Message, RuleMeta, Severity};
use crate::k8s::implementation::Implementation;
use crate::k8s::kubernetes::{Gate, Target, Version};
use crate::source::{FileId, Span};
use crate::yaml::BuildLimits;

pub const CONFIG_FILE_NAME: &str = ".extip-lint.yaml";

/// `inventory.owner-keys` by default: the tool's own annotation, then the keys teams use most.
pub const DEFAULT_OWNER_KEYS: [&str; 4] = [
    "extip-lint.io/owner",
    "owner",
    "team",
    "app.kubernetes.io/part-of",
];
/// `inventory.route-keys` by default. No Kubernetes convention exists for it: an annotation of
/// the tool's own, or a plain `route`.
pub const DEFAULT_ROUTE_KEYS: [&str; 2] = ["extip-lint.io/route", "route"];
/// `inventory.firewall-keys` by default.
pub const DEFAULT_FIREWALL_KEYS: [&str; 2] = ["extip-lint.io/firewall", "firewall"];

/// The network profile rules judge externalIPs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Cloud,
    OnPrem,
    Auto,
}

impl Profile {
    /// Parses a profile name or alias.
    #[must_use]
    pub fn parse(s: &str) -> Option<Profile> {
        match s {
            "cloud" | "eks" | "gke" | "aks" => Some(Profile::Cloud),
            "on-prem" | "bare-metal" => Some(Profile::OnPrem),
            "auto" => Some(Profile::Auto),
            _ => None,
        }
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Cloud => "cloud",
            Profile::OnPrem => "on-prem",
            Profile::Auto => "auto",
        }
    }
}

/// Where a setting came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueSource {
    Default,
    /// The config file, with the byte range of the value.
    File {
        start: usize,
        end: usize,
    },
    Flag(&'static str),
}

impl ValueSource {
    /// Where a value came from, for a message: `default`, the flag, or its place in the config
    /// file (`config` is the config file's id in the run).
    #[must_use]
    pub fn message(&self, config: Option<FileId>) -> Message {
        match (self, config) {
            (ValueSource::Default, _) => Message::from("default"),
            (ValueSource::Flag(f), _) => Message::from(*f),
            (ValueSource::File { start, end }, Some(file)) => {
                let mut m = Message::default();
                m.push_place(Span::new(file, *start, *end));
                m
            }
            (ValueSource::File { .. }, None) => Message::from("config"),
        }
    }
}

/// One allowlist entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowEntry {
    pub net: IpNet,
    /// As written.
    pub text: String,
    pub source: ValueSource,
}

pub use crate::finding::DEFAULT_CLUSTER;

/// A cluster of the `clusters:` config: the files it holds and what it sets differently.
#[derive(Debug, Clone, Default)]
pub struct ClusterConfig {
    pub name: String,
    /// Globs relative to the config file's folder, and the globs as written.
    pub paths: GlobSet,
    pub patterns: Vec<String>,
    pub profile: Option<(Profile, ValueSource)>,
    pub namespace: Option<(String, ValueSource)>,
    /// Replaces the top-level allowlist for this cluster.
    pub allow: Option<Vec<AllowEntry>>,
    pub kubernetes: Option<(Version, ValueSource)>,
    /// Override the top-level gates one by one.
    pub feature_gates: Vec<GateSetting>,
    /// `load-balancer:` (`None` inside: `auto`).
    pub load_balancer: Option<(Option<Implementation>, ValueSource)>,
}

/// A feature gate set in the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateSetting {
    pub gate: Gate,
    pub on: bool,
    pub source: ValueSource,
}

/// `--render`: charts and kustomizations rendered with the user's helm and kustomize.
#[derive(Debug, Clone, Default)]
pub struct RenderSettings {
    pub enabled: bool,
    /// `helm template`'s release name (`release-name` by default, as helm names it).
    pub release: Option<String>,
    /// Values files by chart folder, both relative to the config file's folder.
    pub values: Vec<(PathBuf, Vec<PathBuf>)>,
    /// `--chart-dir`: the chart Helm output on standard input (or in files) was rendered from.
    pub chart_dir: Option<PathBuf>,
    /// `--strict-render`: a root that cannot be rendered offline is an `EXT903` error.
    pub strict: bool,
    /// `helm.charts` and `kustomize.roots`: options of single roots.
    pub roots: Vec<RenderRoot>,
}

/// The renderer options of one chart (`helm.charts.<folder>`) or kustomization root
/// (`kustomize.roots.<folder>`); the folder is relative to the config file's folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderRoot {
    pub dir: PathBuf,
    pub release: Option<String>,
    pub namespace: Option<String>,
    pub values: Vec<PathBuf>,
    pub api_versions: Vec<String>,
    pub load_restrictor: Option<String>,
}

/// Resource limits (issue: hostile input).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_depth: usize,
    pub max_alias_expansion: usize,
    pub max_file_size: u64,
    pub max_findings_per_file: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 256,
            max_alias_expansion: 100_000,
            max_file_size: crate::source::DEFAULT_MAX_FILE_SIZE,
            max_findings_per_file: 1000,
        }
    }
}

impl Limits {
    /// The limits the YAML reader applies.
    #[must_use]
    pub fn build(&self) -> BuildLimits {
        BuildLimits {
            max_depth: self.max_depth,
        }
    }
}

/// The config file as read.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    pub path: PathBuf,
    pub text: String,
}

/// Everything a run needs to know.
#[derive(Debug, Clone)]
pub struct Settings {
    pub paths: Vec<PathBuf>,
    /// Folders whose manifests are indexed (policies, Services, workloads) but not reported
    /// on: `--context`, for pre-commit runs that name only the changed files.
    pub context: Vec<PathBuf>,
    pub stdin_filename: Option<String>,
    pub no_ignore: bool,
    pub profile: (Profile, ValueSource),
    pub namespace: (String, ValueSource),
    pub allow: Vec<AllowEntry>,
    /// The Kubernetes version the manifests are checked against.
    pub kubernetes: (Version, ValueSource),
    pub feature_gates: Vec<GateSetting>,
    /// The load-balancer implementation (`None`: `auto`, decided from the input).
    pub load_balancer: (Option<Implementation>, ValueSource),
    /// Globs relative to the config file's folder.
    pub include: Option<GlobSet>,
    pub exclude: Option<GlobSet>,
    pub glob_base: PathBuf,
    /// Severity by rule code; `None` turns a rule off.
    pub rules: BTreeMap<&'static str, (Option<Severity>, ValueSource)>,
    pub limits: Limits,
    pub config: Option<ConfigFile>,
    /// The rules the settings may name, sorted by code.
    pub catalog: &'static [&'static RuleMeta],
    /// Label or annotation keys naming a Service's owner, for `--inventory`.
    pub owner_keys: Vec<String>,
    /// Label or annotation keys naming the route that brings an address to the nodes.
    pub route_keys: Vec<String>,
    /// Label or annotation keys naming the firewall entry that lets traffic to an address in.
    pub firewall_keys: Vec<String>,
    /// Compute the address inventory (`--inventory`).
    pub inventory: bool,
    /// `clusters:` in the config: which files are which cluster.
    pub clusters: Vec<ClusterConfig>,
    /// Each path given on the command line is a cluster of its own (`--cluster-per-path`).
    pub cluster_per_path: bool,
    pub render: RenderSettings,
    /// `include` and `exclude` as written, for `--print-config`.
    pub include_patterns: Vec<String>,
    pub exclude_patterns: Vec<String>,
    /// Where the settings without a source of their own came from, by config key path
    /// (`include`, `inventory.owner-keys`, `render`, `helm.values`, `limits.max-depth`); a key
    /// not here has its default.
    pub sources: BTreeMap<String, ValueSource>,
}

impl Settings {
    /// The defaults, for the rules in `catalog`.
    #[must_use]
    pub fn new(catalog: &'static [&'static RuleMeta]) -> Self {
        Settings {
            paths: vec![PathBuf::from(".")],
            context: Vec::new(),
            stdin_filename: None,
            no_ignore: false,
            profile: (Profile::Auto, ValueSource::Default),
            namespace: ("default".into(), ValueSource::Default),
            allow: Vec::new(),
            kubernetes: (crate::k8s::kubernetes::NEWEST, ValueSource::Default),
            feature_gates: Vec::new(),
            load_balancer: (None, ValueSource::Default),
            include: None,
            exclude: None,
            glob_base: PathBuf::from("."),
            rules: catalog
                .iter()
                .map(|m| (m.code, (Some(m.default_severity), ValueSource::Default)))
                .collect(),
            limits: Limits::default(),
            config: None,
            owner_keys: DEFAULT_OWNER_KEYS.map(String::from).to_vec(),
            route_keys: DEFAULT_ROUTE_KEYS.map(String::from).to_vec(),
            firewall_keys: DEFAULT_FIREWALL_KEYS.map(String::from).to_vec(),
            inventory: false,
            clusters: Vec::new(),
            cluster_per_path: false,
            render: RenderSettings::default(),
            include_patterns: Vec::new(),
            exclude_patterns: Vec::new(),
            sources: BTreeMap::new(),
            catalog,
        }
    }

    /// The version and gates cluster `config` (or the top level, for `None`) runs, with where
    /// the version came from and each gate's setting.
    #[must_use]
    pub fn target<'a>(
        &'a self,
        config: Option<&'a ClusterConfig>,
    ) -> (Target, &'a ValueSource, Vec<&'a GateSetting>) {
        let (version, source) = config
            .and_then(|c| c.kubernetes.as_ref())
            .unwrap_or(&self.kubernetes);
        let mut gates: Vec<&GateSetting> = Vec::new();
        for g in self
            .feature_gates
            .iter()
            .chain(config.into_iter().flat_map(|c| &c.feature_gates))
        {
            gates.retain(|o| o.gate != g.gate);
            gates.push(g);
        }
        let target = Target {
            version: *version,
            gates: gates.iter().map(|g| (g.gate, g.on)).collect(),
        };
        (target, source, gates)
    }

    /// Checks every cluster's target: each gate set must exist, and not be locked, in the
    /// version it is set for.
    fn check_targets(&self) -> Result<(), Error> {
        let configs = std::iter::once(None).chain(self.clusters.iter().map(Some));
        for c in configs {
            let (target, version_source, gates) = self.target(c);
            let Err(message) = target.check() else {
                continue;
            };
            let gate = gates.iter().find(|g| message.contains(g.gate.name()));
            let source = gate.map_or(version_source, |g| &g.source);
            let message = match c {
                Some(c) => format!("cluster `{}`: {message}", c.name),
                None => message,
            };
            let version_from = self.describe(version_source);
            let help = Some(format!(
                "the Kubernetes version is {} ({version_from}); remove the gate or change `kubernetes-version`",
                target.version
            ));
            return Err(match (source, &self.config) {
                (ValueSource::File { start, end }, Some(file)) => {
                    Error::Config(Box::new(ConfigIssue {
                        message,
                        src: miette::NamedSource::new(
                            file.path.display().to_string(),
                            file.text.clone(),
                        ),
                        span: (*start, end - start).into(),
                        label: "cannot be set here".into(),
                        help,
                        severity: miette::Severity::Error,
                    }))
                }
                _ => Error::Usage(message),
            });
        }
        Ok(())
    }

    /// The rule `code_or_name` names, if any.
    #[must_use]
    pub fn find_rule(&self, code_or_name: &str) -> Option<&'static RuleMeta> {
        find(self.catalog, code_or_name)
    }
}

/// The rule of `catalog` that `code_or_name` names, if any.
#[must_use]
pub fn find(catalog: &[&'static RuleMeta], code_or_name: &str) -> Option<&'static RuleMeta> {
    catalog.iter().copied().find(|m| m.is(code_or_name))
}

/// Command-line values that override the file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub profile: Option<String>,
    pub namespace: Option<String>,
    pub kubernetes_version: Option<String>,
    pub allow_cidr: Vec<String>,
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    pub render: bool,
    /// `--strict-render`: implies `--render`; a root not rendered is an `EXT903` error.
    pub strict_render: bool,
    pub chart_dir: Option<PathBuf>,
}

/// The nearest `.extip-lint.yaml` in `dir` or its ancestors.
#[must_use]
pub fn discover(dir: &Path) -> Option<PathBuf> {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    // Anything but a folder counts, so a config that cannot be read (a FIFO) is an error
    // naming it, not skipped for one further up.
    dir.ancestors()
        .map(|d| d.join(CONFIG_FILE_NAME))
        .find(|p| std::fs::metadata(p).is_ok_and(|m| !m.is_dir()))
}

/// The config of a run: the nearest `.extip-lint.yaml` above each path linted (standard input:
/// above `cwd`). Paths whose nearest configs differ cannot share one run: that is an error
/// naming both, since which settings a file gets would otherwise depend on the other paths
/// given.
pub fn discover_for(paths: &[PathBuf], cwd: &Path) -> Result<Option<PathBuf>, Error> {
    let mut found: Option<(Option<PathBuf>, &Path)> = None;
    for p in paths {
        let start = if p.as_os_str() == "-" {
            cwd.to_path_buf()
        } else if p.is_dir() {
            cwd.join(p)
        } else {
            cwd.join(p)
                .parent()
                .map_or_else(|| cwd.to_path_buf(), Path::to_path_buf)
        };
        let config = discover(&start);
        match &found {
            None => found = Some((config, p)),
            Some((c, _)) if *c == config => {}
            Some((c, other)) => {
                let name = |c: &Option<PathBuf>| {
                    c.as_deref()
                        .map_or_else(|| "none".to_string(), crate::source::display_name)
                };
                return Err(Error::Usage(format!(
                    "`{}` and `{}` have different nearest config files ({} and {}); lint them in separate runs, or choose one with --config",
                    crate::source::display_name(other),
                    crate::source::display_name(p),
                    name(c),
                    name(&config)
                )));
            }
        }
    }
    Ok(found.and_then(|(c, _)| c))
}

/// Reads the config file (if any) and applies the overrides. Warnings (accepted but suspicious
/// values) are returned beside the settings.
pub fn load(
    config_path: Option<&Path>,
    overrides: &Overrides,
    catalog: &'static [&'static RuleMeta],
) -> Result<(Settings, Vec<ConfigIssue>), Error> {
    let file = match config_path {
        Some(path) => Some(ConfigFile {
            path: path.to_path_buf(),
            // A FIFO or a device given to `--config` would block or never end: only a regular
            // file is read, within the default file size limit (the config sets the limit).
            text: crate::source::read_regular_text(path, crate::source::DEFAULT_MAX_FILE_SIZE)
                .map_err(|u| Error::unread(path.display().to_string(), u.into_cause()))?,
        }),
        None => None,
    };
    from_file(file, overrides, catalog)
}

/// `load` with the config file's text already read (or none).
pub fn from_file(
    file: Option<ConfigFile>,
    overrides: &Overrides,
    catalog: &'static [&'static RuleMeta],
) -> Result<(Settings, Vec<ConfigIssue>), Error> {
    let mut settings = Settings::new(catalog);
    let mut warnings = Vec::new();
    if let Some(file) = file {
        let path = file.path.clone();
        settings.glob_base = path
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        file::read(&file, &mut settings, &mut warnings)?;
        settings.config = Some(file);
    }
    overrides::apply(&mut settings, overrides)?;
    settings.check_targets()?;
    Ok((settings, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_aliases() {
        assert_eq!(Profile::parse("gke"), Some(Profile::Cloud));
        assert_eq!(Profile::parse("bare-metal"), Some(Profile::OnPrem));
        assert_eq!(Profile::parse("x"), None);
    }
}
