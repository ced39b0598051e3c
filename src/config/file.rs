//! The config file: read from its span tree, so every error and every value keeps the byte
//! range it came from.

mod values;

use globset::{Glob, GlobSet, GlobSetBuilder};

use super::{
    AllowEntry, ClusterConfig, ConfigFile, DEFAULT_CLUSTER, GateSetting, Limits, Profile, Settings,
    ValueSource,
};
use crate::error::{ConfigIssue, Error};
use crate::finding::Severity;
use crate::k8s::address;
use crate::k8s::implementation::Implementation;
use crate::k8s::kubernetes::{Gate, Version};
use crate::yaml::{self, NodeId, NodeKind, Tree};

struct Reader<'a> {
    file: &'a ConfigFile,
    tree: &'a Tree,
    /// Every problem found so far: reading goes on after one, so a run shows them all.
    errors: std::cell::RefCell<Vec<ConfigIssue>>,
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

    /// The value, or `None` with its error kept for the end of the read.
    fn keep<T>(&self, r: Result<T, Error>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(Error::Config(issue)) => {
                self.errors.borrow_mut().push(*issue);
                None
            }
            Err(Error::Configs(issues)) => {
                self.errors.borrow_mut().extend(issues);
                None
            }
            Err(other) => {
                // Not a config problem with a place: keep its text at the file's start.
                let issue = self.issue(NodeId::default(), other.to_string(), "here", None);
                self.errors.borrow_mut().push(issue);
                None
            }
        }
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
            NodeKind::Scalar { value, .. } => Ok(value.to_string()),
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
        format!("unknown key `{key}`"),
        "unknown key",
        Some(format!(
            "{}known keys: {}",
            did_you_mean(key, known),
            known.join(", ")
        )),
    )
}

/// `did you mean `exclude`? ` for a word close to one of `known`, else nothing.
fn did_you_mean(word: &str, known: &[&str]) -> String {
    let lower = word.to_ascii_lowercase();
    let close: Vec<(usize, &str)> = known
        .iter()
        .map(|k| (edit_distance(&lower, &k.to_ascii_lowercase()), *k))
        .filter(|(d, k)| {
            *d <= (word.chars().count() / 3).max(1)
                || (lower.len() >= 3 && k.to_ascii_lowercase().starts_with(&lower))
        })
        .collect();
    let Some(best) = close.iter().map(|(d, _)| *d).min() else {
        return String::new();
    };
    // Only a single nearest word is a suggestion; `EXT00` is as near to ten codes.
    match close
        .iter()
        .filter(|(d, _)| *d == best)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [(_, k)] => format!("did you mean `{k}`? "),
        _ => String::new(),
    }
}

/// Levenshtein distance, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

pub(super) fn read(
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
        errors: std::cell::RefCell::new(Vec::new()),
    };
    /// The keys of `helm.charts.<folder>`.
    #[allow(clippy::items_after_statements)]
    const CHART_KEYS: &[&str] = &["release", "namespace", "values", "api-versions"];
    /// kustomize's `--load-restrictor` values.
    #[allow(clippy::items_after_statements)]
    const RESTRICTORS: &[&str] = &["LoadRestrictionsRootOnly", "LoadRestrictionsNone"];
    #[allow(clippy::items_after_statements)]
    const TOP: &[&str] = &[
        "profile",
        "namespace",
        "kubernetes-version",
        "feature-gates",
        "load-balancer",
        "external-ips",
        "include",
        "exclude",
        "rules",
        "limits",
        "inventory",
        "clusters",
        "render",
        "helm",
        "kustomize",
    ];
    for (key, k, v) in r.mapping(doc.root, "the config")? {
        let read = (|| -> Result<(), Error> {
            match key.as_str() {
                "profile" => settings.profile = (r.profile(v)?, r.source(v)),
                "namespace" => settings.namespace = (r.string(v, "namespace")?, r.source(v)),
                "kubernetes-version" => settings.kubernetes = r.version(v)?,
                "feature-gates" => settings.feature_gates = r.gates(v)?,
                "load-balancer" => settings.load_balancer = r.load_balancer(v)?,
                "external-ips" => settings.allow = r.allow(v, "external-ips", warnings)?,
                "clusters" => settings.clusters = r.clusters(v, warnings)?,
                "include" | "exclude" => {
                    let (set, patterns) = r.globs(v, &key)?;
                    if key == "include" {
                        settings.include = Some(set);
                        settings.include_patterns = patterns;
                    } else {
                        settings.exclude = Some(set);
                        settings.exclude_patterns = patterns;
                    }
                    settings.sources.insert(key.clone(), r.source(v));
                }
                "rules" => {
                    for (key, k, v) in r.mapping(v, "rules")? {
                        let Some(rule) = settings.find_rule(&key) else {
                            let known: Vec<&str> = settings
                                .catalog
                                .iter()
                                .flat_map(|m| [m.code, m.name])
                                .collect();
                            r.keep::<()>(Err(r.err(
                                k,
                                format!("unknown rule `{key}`"),
                                "unknown rule",
                                Some(format!(
                                    "{}run `extip-lint --list-rules` for the codes and names",
                                    did_you_mean(&key, &known)
                                )),
                            )));
                            continue;
                        };
                        let Some(s) = r.keep(r.string(v, "severity")) else {
                            continue;
                        };
                        let sev = if s == "off" {
                            None
                        } else if let Some(sev) = Severity::parse(&s) {
                            Some(sev)
                        } else {
                            r.keep::<()>(Err(r.err(
                                v,
                                format!("unknown severity `{s}`"),
                                "unknown severity",
                                Some(format!(
                                    "{}use one of: error, warning, note, off",
                                    did_you_mean(&s, &["error", "warning", "note", "off"])
                                )),
                            )));
                            continue;
                        };
                        settings.rules.insert(rule.code, (sev, r.source(v)));
                    }
                }
                "render" => {
                    settings.render.enabled = match r.string(v, "render")?.as_str() {
                        "true" => true,
                        "false" => false,
                        other => {
                            return Err(r.err(
                                v,
                                format!("`render` must be true or false, not `{other}`"),
                                "not a boolean",
                                None,
                            ));
                        }
                    };
                    settings.sources.insert(key.clone(), r.source(v));
                }
                "helm" => {
                    for (key, k, v) in r.mapping(v, "helm")? {
                        match key.as_str() {
                            "release" => {
                                settings.render.release = Some(r.string(v, "release")?);
                                settings.sources.insert("helm.release".into(), r.source(v));
                            }
                            "values" => {
                                settings.sources.insert("helm.values".into(), r.source(v));
                                for (chart, _, files) in r.mapping(v, "helm.values")? {
                                    let files = r
                                        .strings(files, "helm.values")?
                                        .into_iter()
                                        .map(|(f, _)| settings.glob_base.join(f))
                                        .collect();
                                    settings
                                        .render
                                        .values
                                        .push((settings.glob_base.join(chart), files));
                                }
                            }
                            "charts" => {
                                settings.sources.insert("helm.charts".into(), r.source(v));
                                for (chart, _, o) in r.mapping(v, "helm.charts")? {
                                    let mut root = crate::config::RenderRoot {
                                        dir: settings.glob_base.join(&chart),
                                        ..Default::default()
                                    };
                                    for (key, k, v) in r.mapping(o, "helm.charts.<folder>")? {
                                        match key.as_str() {
                                            "release" => {
                                                root.release = Some(r.string(v, "release")?);
                                            }
                                            "namespace" => {
                                                root.namespace = Some(r.string(v, "namespace")?);
                                            }
                                            "values" => {
                                                root.values = r
                                                    .strings(v, "values")?
                                                    .into_iter()
                                                    .map(|(f, _)| settings.glob_base.join(f))
                                                    .collect();
                                            }
                                            "api-versions" => {
                                                root.api_versions = r
                                                    .strings(v, "api-versions")?
                                                    .into_iter()
                                                    .map(|(s, _)| s)
                                                    .collect();
                                            }
                                            _ => {
                                                return Err(unknown_key(&r, &key, k, CHART_KEYS));
                                            }
                                        }
                                    }
                                    settings.render.roots.push(root);
                                }
                            }
                            _ => {
                                return Err(unknown_key(
                                    &r,
                                    &key,
                                    k,
                                    &["release", "values", "charts"],
                                ));
                            }
                        }
                    }
                }
                "kustomize" => {
                    for (key, k, v) in r.mapping(v, "kustomize")? {
                        if key != "roots" {
                            return Err(unknown_key(&r, &key, k, &["roots"]));
                        }
                        settings
                            .sources
                            .insert("kustomize.roots".into(), r.source(v));
                        for (dir, _, o) in r.mapping(v, "kustomize.roots")? {
                            let mut root = crate::config::RenderRoot {
                                dir: settings.glob_base.join(&dir),
                                ..Default::default()
                            };
                            for (key, k, v) in r.mapping(o, "kustomize.roots.<folder>")? {
                                if key != "load-restrictor" {
                                    return Err(unknown_key(&r, &key, k, &["load-restrictor"]));
                                }
                                let value = r.string(v, "load-restrictor")?;
                                if !RESTRICTORS.contains(&value.as_str()) {
                                    return Err(r.err(
                                        v,
                                        format!(
                                            "`load-restrictor` must be one of {}, not `{value}`",
                                            RESTRICTORS.join(", ")
                                        ),
                                        "not a kustomize load restrictor",
                                        None,
                                    ));
                                }
                                root.load_restrictor = Some(value);
                            }
                            settings.render.roots.push(root);
                        }
                    }
                }
                "inventory" => {
                    const KNOWN: &[&str] = &["owner-keys", "route-keys", "firewall-keys"];
                    for (key, k, v) in r.mapping(v, "inventory")? {
                        let target = match key.as_str() {
                            "owner-keys" => &mut settings.owner_keys,
                            "route-keys" => &mut settings.route_keys,
                            "firewall-keys" => &mut settings.firewall_keys,
                            _ => return Err(unknown_key(&r, &key, k, KNOWN)),
                        };
                        let path = format!("inventory.{key}");
                        *target = r.strings(v, &path)?.into_iter().map(|(s, _)| s).collect();
                        settings.sources.insert(path, r.source(v));
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
                        if !KNOWN.contains(&key.as_str()) {
                            r.keep::<()>(Err(unknown_key(&r, &key, k, KNOWN)));
                            continue;
                        }
                        let Some(s) = r.keep(r.string(v, &key)) else {
                            continue;
                        };
                        let Some(n) = r.keep(s.parse::<u64>().map_err(|_| {
                            r.err(
                                v,
                                format!("`{key}` must be a positive whole number"),
                                "not a number",
                                None,
                            )
                        })) else {
                            continue;
                        };
                        if key == "max-file-size" && n > u64::from(u32::MAX) {
                            // Offsets into a file (spans, trees) are kept in 32 bits.
                            r.keep::<()>(Err(r.err(
                                v,
                                format!("`max-file-size` is at most {} (4 GiB - 1): offsets into a file are 32 bits", u32::MAX),
                                "too large",
                                None,
                            )));
                            continue;
                        }
                        let n_usize = usize::try_from(n).unwrap_or(usize::MAX);
                        settings
                            .sources
                            .insert(format!("limits.{key}"), r.source(v));
                        match key.as_str() {
                            "max-depth" => settings.limits.max_depth = n_usize.max(1),
                            "max-alias-expansion" => settings.limits.max_alias_expansion = n_usize,
                            "max-file-size" => settings.limits.max_file_size = n,
                            "max-findings-per-file" => {
                                settings.limits.max_findings_per_file = n_usize;
                            }
                            _ => return Err(unknown_key(&r, &key, k, KNOWN)),
                        }
                    }
                }
                _ => return Err(unknown_key(&r, &key, k, TOP)),
            }
            Ok(())
        })();
        r.keep(read);
    }
    let mut errors = r.errors.into_inner();
    match errors.len() {
        0 => Ok(()),
        1 => Err(Error::Config(Box::new(errors.remove(0)))),
        _ => Err(Error::Configs(errors)),
    }
}
