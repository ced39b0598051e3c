//! Settings: `.extip-lint.yaml` (read with spans, so errors and findings can point into it)
//! merged with command-line flags. Flags win over the file.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use ipnet::IpNet;

use crate::error::{ConfigIssue, Error};
use crate::finding::Severity;
use crate::rules;
use crate::yaml::{self, BuildLimits, NodeId, NodeKind, Tree};

pub const CONFIG_FILE_NAME: &str = ".extip-lint.yaml";

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

/// One allowlist entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowEntry {
    pub net: IpNet,
    /// As written.
    pub text: String,
    pub source: ValueSource,
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
            max_file_size: 256 * 1024 * 1024,
            max_findings_per_file: 1000,
        }
    }
}

impl Limits {
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
    /// Globs relative to the config file's folder.
    pub include: Option<GlobSet>,
    pub exclude: Option<GlobSet>,
    pub glob_base: PathBuf,
    /// Severity by rule code; `None` turns a rule off.
    pub rules: BTreeMap<&'static str, (Option<Severity>, ValueSource)>,
    pub limits: Limits,
    pub config: Option<ConfigFile>,
    /// Label or annotation keys naming a Service's owner, for `--inventory`.
    pub owner_keys: Vec<String>,
    /// Compute the address inventory (`--inventory`).
    pub inventory: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            paths: vec![PathBuf::from(".")],
            context: Vec::new(),
            stdin_filename: None,
            no_ignore: false,
            profile: (Profile::Auto, ValueSource::Default),
            namespace: ("default".into(), ValueSource::Default),
            allow: Vec::new(),
            include: None,
            exclude: None,
            glob_base: PathBuf::from("."),
            rules: rules::ALL
                .iter()
                .map(|r| {
                    (
                        r.meta().code,
                        (Some(r.meta().default_severity), ValueSource::Default),
                    )
                })
                .collect(),
            limits: Limits::default(),
            config: None,
            owner_keys: ["owner", "team", "app.kubernetes.io/part-of"]
                .map(String::from)
                .to_vec(),
            inventory: false,
        }
    }
}

/// Command-line values that override the file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub profile: Option<String>,
    pub namespace: Option<String>,
    pub allow_cidr: Vec<String>,
    pub select: Vec<String>,
    pub ignore: Vec<String>,
}

/// Finds the config file: `explicit`, else `.extip-lint.yaml` in `cwd` or its nearest ancestor.
#[must_use]
pub fn discover(cwd: &Path) -> Option<PathBuf> {
    cwd.ancestors()
        .map(|d| d.join(CONFIG_FILE_NAME))
        .find(|p| p.is_file())
}

/// Reads the config file (if any) and applies the overrides. Warnings (accepted but suspicious
/// values) are returned beside the settings.
pub fn load(
    config_path: Option<&Path>,
    overrides: &Overrides,
) -> Result<(Settings, Vec<ConfigIssue>), Error> {
    let file = match config_path {
        Some(path) => Some(ConfigFile {
            path: path.to_path_buf(),
            text: std::fs::read_to_string(path).map_err(|source| Error::Io {
                path: path.display().to_string(),
                source,
            })?,
        }),
        None => None,
    };
    from_file(file, overrides)
}

/// `load` with the config file's text already read (or none).
pub fn from_file(
    file: Option<ConfigFile>,
    overrides: &Overrides,
) -> Result<(Settings, Vec<ConfigIssue>), Error> {
    let mut settings = Settings::default();
    let mut warnings = Vec::new();
    if let Some(file) = file {
        let path = file.path.clone();
        settings.glob_base = path
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        read_file(&file, &mut settings, &mut warnings)?;
        settings.config = Some(file);
    }
    apply_overrides(&mut settings, overrides)?;
    Ok((settings, warnings))
}

struct Reader<'a> {
    file: &'a ConfigFile,
    tree: &'a Tree,
}

impl Reader<'_> {
    fn issue(
        &self,
        node: NodeId,
        message: String,
        label: &str,
        help: Option<String>,
    ) -> ConfigIssue {
        let n = self.tree.node(node);
        ConfigIssue {
            message,
            src: miette::NamedSource::new(
                self.file.path.display().to_string(),
                self.file.text.clone(),
            ),
            span: (n.start, n.end - n.start).into(),
            label: label.to_string(),
            help,
            severity: miette::Severity::Error,
        }
    }

    fn err(&self, node: NodeId, message: String, label: &str, help: Option<String>) -> Error {
        Error::Config(Box::new(self.issue(node, message, label, help)))
    }

    fn source(&self, node: NodeId) -> ValueSource {
        let n = self.tree.node(node);
        ValueSource::File {
            start: n.start,
            end: n.end,
        }
    }

    fn string(&self, node: NodeId, what: &str) -> Result<String, Error> {
        match &self.tree.node(self.tree.resolve(node)).kind {
            NodeKind::Scalar { value, .. } => Ok(value.clone()),
            _ => Err(self.err(
                node,
                format!("`{what}` must be a string"),
                "expected a string",
                None,
            )),
        }
    }

    fn strings(&self, node: NodeId, what: &str) -> Result<Vec<(String, NodeId)>, Error> {
        if !matches!(
            self.tree.node(self.tree.resolve(node)).kind,
            NodeKind::Seq { .. }
        ) {
            return Err(self.err(
                node,
                format!("`{what}` must be a list"),
                "expected a list",
                None,
            ));
        }
        self.tree
            .items(node)
            .iter()
            .map(|&i| Ok((self.string(i, what)?, i)))
            .collect()
    }

    fn mapping(&self, node: NodeId, what: &str) -> Result<Vec<(String, NodeId, NodeId)>, Error> {
        if !matches!(
            self.tree.node(self.tree.resolve(node)).kind,
            NodeKind::Map { .. }
        ) {
            return Err(self.err(
                node,
                format!("`{what}` must be a mapping"),
                "expected a mapping",
                None,
            ));
        }
        Ok(self
            .tree
            .pairs(node)
            .map(|(k, v)| (self.tree.key_string(k).unwrap_or_default(), k, v))
            .collect())
    }
}

fn unknown_key(r: &Reader<'_>, key: &str, node: NodeId, known: &[&str]) -> Error {
    r.err(
        node,
        format!("unknown key `{key}` in {}", r.file.path.display()),
        "unknown key",
        Some(format!("known keys: {}", known.join(", "))),
    )
}

fn read_file(
    file: &ConfigFile,
    settings: &mut Settings,
    warnings: &mut Vec<ConfigIssue>,
) -> Result<(), Error> {
    let (docs, broken) = yaml::parse(&file.text, Limits::default().build());
    if let Some(b) = broken.first() {
        return Err(Error::Config(Box::new(ConfigIssue {
            message: format!("{} is not valid YAML", file.path.display()),
            src: miette::NamedSource::new(file.path.display().to_string(), file.text.clone()),
            span: (b.error.start, b.error.end - b.error.start).into(),
            label: b.error.message.clone(),
            help: None,
            severity: miette::Severity::Error,
        })));
    }
    let Some(doc) = docs.first() else {
        return Ok(());
    };
    let r = Reader {
        file,
        tree: &doc.tree,
    };
    #[allow(clippy::items_after_statements)]
    const TOP: &[&str] = &[
        "profile",
        "namespace",
        "external-ips",
        "include",
        "exclude",
        "rules",
        "limits",
        "inventory",
    ];
    for (key, k, v) in r.mapping(doc.root, "the config")? {
        match key.as_str() {
            "profile" => {
                let s = r.string(v, "profile")?;
                let p = Profile::parse(&s).ok_or_else(|| {
                    r.err(
                        v,
                        format!("unknown profile `{s}`"),
                        "unknown profile",
                        Some(
                            "use one of: cloud, on-prem, auto (or eks, gke, aks, bare-metal)"
                                .into(),
                        ),
                    )
                })?;
                settings.profile = (p, r.source(v));
            }
            "namespace" => settings.namespace = (r.string(v, "namespace")?, r.source(v)),
            "external-ips" => {
                for (key, k, v) in r.mapping(v, "external-ips")? {
                    if key != "allow" {
                        return Err(unknown_key(&r, &key, k, &["allow"]));
                    }
                    for (text, node) in r.strings(v, "external-ips.allow")? {
                        let (entry, host_bits) = parse_cidr(&text).map_err(|m| r.err(node, m, "invalid CIDR", Some("write an address (192.0.2.7) or a CIDR (192.0.2.0/24, 2001:db8::/32)".into())))?;
                        if host_bits {
                            let mut w = r.issue(
                                node,
                                format!("`{text}` has host bits set; it is read as `{entry}`"),
                                "host bits set",
                                Some(format!("write `{entry}` to say what you mean")),
                            );
                            w.severity = miette::Severity::Warning;
                            warnings.push(w);
                        }
                        settings.allow.push(AllowEntry {
                            net: entry,
                            text,
                            source: r.source(node),
                        });
                    }
                }
            }
            "include" | "exclude" => {
                let mut b = GlobSetBuilder::new();
                for (g, node) in r.strings(v, &key)? {
                    let glob = Glob::new(&g).map_err(|e| {
                        r.err(
                            node,
                            format!("invalid glob `{g}`: {}", e.kind()),
                            "invalid glob",
                            None,
                        )
                    })?;
                    b.add(glob);
                }
                let set = b
                    .build()
                    .map_err(|e| r.err(v, format!("invalid globs: {e}"), "invalid glob", None))?;
                if key == "include" {
                    settings.include = Some(set);
                } else {
                    settings.exclude = Some(set);
                }
            }
            "rules" => {
                for (key, k, v) in r.mapping(v, "rules")? {
                    let Some(rule) = rules::find(&key) else {
                        return Err(r.err(
                            k,
                            format!("unknown rule `{key}`"),
                            "unknown rule",
                            Some("run `extip-lint --list-rules` for the codes and names".into()),
                        ));
                    };
                    let s = r.string(v, "severity")?;
                    let sev = if s == "off" {
                        None
                    } else {
                        Some(Severity::parse(&s).ok_or_else(|| {
                            r.err(
                                v,
                                format!("unknown severity `{s}`"),
                                "unknown severity",
                                Some("use one of: error, warning, note, off".into()),
                            )
                        })?)
                    };
                    settings.rules.insert(rule.code, (sev, r.source(v)));
                }
            }
            "inventory" => {
                for (key, k, v) in r.mapping(v, "inventory")? {
                    if key != "owner-keys" {
                        return Err(unknown_key(&r, &key, k, &["owner-keys"]));
                    }
                    settings.owner_keys = r
                        .strings(v, "inventory.owner-keys")?
                        .into_iter()
                        .map(|(s, _)| s)
                        .collect();
                }
            }
            "limits" => {
                const KNOWN: &[&str] = &[
                    "max-depth",
                    "max-alias-expansion",
                    "max-file-size",
                    "max-findings-per-file",
                ];
                for (key, k, v) in r.mapping(v, "limits")? {
                    let s = r.string(v, &key)?;
                    let n: u64 = s.parse().map_err(|_| {
                        r.err(
                            v,
                            format!("`{key}` must be a positive whole number"),
                            "not a number",
                            None,
                        )
                    })?;
                    let n_usize = usize::try_from(n).unwrap_or(usize::MAX);
                    match key.as_str() {
                        "max-depth" => settings.limits.max_depth = n_usize.max(1),
                        "max-alias-expansion" => settings.limits.max_alias_expansion = n_usize,
                        "max-file-size" => settings.limits.max_file_size = n,
                        "max-findings-per-file" => settings.limits.max_findings_per_file = n_usize,
                        _ => return Err(unknown_key(&r, &key, k, KNOWN)),
                    }
                }
            }
            _ => return Err(unknown_key(&r, &key, k, TOP)),
        }
    }
    Ok(())
}

/// Parses a CIDR or a single address. Returns the network and whether host bits were set.
pub fn parse_cidr(text: &str) -> Result<(IpNet, bool), String> {
    let text = text.trim();
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok((IpNet::from(ip), false));
    }
    let net: IpNet = text
        .parse()
        .map_err(|_| format!("`{text}` is not a valid CIDR or IP address"))?;
    let trunc = net.trunc();
    Ok((trunc, trunc != net))
}

fn apply_overrides(settings: &mut Settings, o: &Overrides) -> Result<(), Error> {
    if let Some(p) = &o.profile {
        let profile = Profile::parse(p).ok_or_else(|| Error::Usage(format!("unknown profile `{p}`: use one of cloud, on-prem, auto (or eks, gke, aks, bare-metal)")))?;
        settings.profile = (profile, ValueSource::Flag("--profile"));
    }
    if let Some(ns) = &o.namespace {
        settings.namespace = (ns.clone(), ValueSource::Flag("--namespace"));
    }
    for c in &o.allow_cidr {
        let (net, _) = parse_cidr(c).map_err(|m| Error::Usage(format!("--allow-cidr: {m}")))?;
        settings.allow.push(AllowEntry {
            net,
            text: c.clone(),
            source: ValueSource::Flag("--allow-cidr"),
        });
    }
    let codes = |list: &[String], flag: &str| -> Result<Vec<&'static str>, Error> {
        list.iter()
            .flat_map(|s| s.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                rules::find(s).map(|m| m.code).ok_or_else(|| {
                    Error::Usage(format!("{flag}: unknown rule `{s}` (see --list-rules)"))
                })
            })
            .collect()
    };
    let select = codes(&o.select, "--select")?;
    if !select.is_empty() {
        for (code, (sev, src)) in &mut settings.rules {
            if !select.contains(code) {
                *sev = None;
                *src = ValueSource::Flag("--select");
            }
        }
        for code in &select {
            if let Some((sev, src)) = settings.rules.get_mut(code)
                && sev.is_none()
            {
                *sev = rules::find(code).map(|m| m.default_severity);
                *src = ValueSource::Flag("--select");
            }
        }
    }
    for code in codes(&o.ignore, "--ignore")? {
        settings
            .rules
            .insert(code, (None, ValueSource::Flag("--ignore")));
    }
    Ok(())
}

impl Settings {
    /// Describes a value's source for people: `.extip-lint.yaml:5`, `--allow-cidr`, `default`.
    #[must_use]
    pub fn describe(&self, source: &ValueSource) -> String {
        match (source, &self.config) {
            (ValueSource::Default, _) => "default".into(),
            (ValueSource::Flag(f), _) => (*f).to_string(),
            (ValueSource::File { start, .. }, Some(c)) => {
                let line = c.text[..*start].matches('\n').count() + 1;
                format!("{}:{line}", crate::walk::display_name(&c.path))
            }
            (ValueSource::File { .. }, None) => "config".into(),
        }
    }

    /// The settings in force and where each came from, as YAML (`--print-config`).
    #[must_use]
    pub fn print(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# settings in force; the comment on each line says where it came from"
        );
        if let Some(c) = &self.config {
            let _ = writeln!(out, "# config file: {}", c.path.display());
        } else {
            let _ = writeln!(out, "# config file: none found");
        }
        let _ = writeln!(
            out,
            "profile: {}  # {}",
            self.profile.0.as_str(),
            self.describe(&self.profile.1)
        );
        let _ = writeln!(
            out,
            "namespace: {}  # {}",
            self.namespace.0,
            self.describe(&self.namespace.1)
        );
        let _ = writeln!(out, "external-ips:");
        if self.allow.is_empty() {
            let _ = writeln!(out, "  allow: []  # default: nothing is allowed");
        } else {
            let _ = writeln!(out, "  allow:");
            for a in &self.allow {
                let _ = writeln!(out, "    - \"{}\"  # {}", a.net, self.describe(&a.source));
            }
        }
        let _ = writeln!(out, "rules:");
        for (code, (sev, src)) in &self.rules {
            let name = rules::find(code).map_or("", |m| m.name);
            let _ = writeln!(
                out,
                "  {code}: {}  # {name}; {}",
                sev.map_or("off", Severity::as_str),
                self.describe(src)
            );
        }
        let l = &self.limits;
        let _ = writeln!(out, "limits:");
        let _ = writeln!(out, "  max-depth: {}", l.max_depth);
        let _ = writeln!(out, "  max-alias-expansion: {}", l.max_alias_expansion);
        let _ = writeln!(out, "  max-file-size: {}", l.max_file_size);
        let _ = writeln!(out, "  max-findings-per-file: {}", l.max_findings_per_file);
        out
    }
}

/// A JSON Schema of `.extip-lint.yaml` for editors (`--generate config-schema`), strict about
/// unknown keys like the reader above; `extip-lint.schema.json` is this, and a test keeps it so.
#[must_use]
pub fn json_schema() -> serde_json::Value {
    use serde_json::json;
    let mut rule_keys: Vec<&str> = Vec::new();
    for r in rules::ALL {
        rule_keys.push(r.meta().code);
        rule_keys.push(r.meta().name);
    }
    let count = json!({"type": "integer", "minimum": 1});
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://github.com/extip-lint/extip-lint/blob/main/extip-lint.schema.json",
        "title": "extip-lint configuration (.extip-lint.yaml)",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "profile": {
                "description": "Network profile: cloud flags every externalIPs entry; auto decides from the input.",
                "enum": ["cloud", "on-prem", "auto", "eks", "gke", "aks", "bare-metal"],
            },
            "namespace": {"description": "Namespace of objects that set none.", "type": "string"},
            "external-ips": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "allow": {
                        "description": "CIDRs or single addresses that externalIPs may use; empty allows nothing.",
                        "type": "array",
                        "items": {"type": "string"},
                    },
                },
            },
            "include": {"description": "Globs of files to read, relative to this file.", "type": "array", "items": {"type": "string"}},
            "exclude": {"description": "Globs of files to skip, relative to this file.", "type": "array", "items": {"type": "string"}},
            "rules": {
                "description": "Severity by rule code or name.",
                "type": "object",
                "propertyNames": {"enum": rule_keys},
                "additionalProperties": {"enum": ["error", "warning", "note", "off"]},
            },
            "inventory": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "owner-keys": {
                        "description": "Label or annotation keys naming a Service's owner (default: owner, team, app.kubernetes.io/part-of).",
                        "type": "array",
                        "items": {"type": "string"},
                    },
                },
            },
            "limits": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "max-depth": count,
                    "max-alias-expansion": count,
                    "max-file-size": count,
                    "max-findings-per-file": count,
                },
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_bits_are_truncated_and_flagged() {
        let (net, host) = parse_cidr("192.0.2.1/24").expect("valid");
        assert_eq!((net.to_string().as_str(), host), ("192.0.2.0/24", true));
    }

    #[test]
    fn single_address_is_a_host_network() {
        let (net, host) = parse_cidr("2001:db8::1").expect("valid");
        assert_eq!((net.to_string().as_str(), host), ("2001:db8::1/128", false));
    }

    #[test]
    fn prefix_too_long_is_rejected() {
        assert!(parse_cidr("192.0.2.0/33").is_err());
    }

    #[test]
    fn profile_aliases() {
        assert_eq!(Profile::parse("gke"), Some(Profile::Cloud));
        assert_eq!(Profile::parse("bare-metal"), Some(Profile::OnPrem));
        assert_eq!(Profile::parse("x"), None);
    }
}
