//! `--print-config`: the settings in force, each with where it came from.

use std::fmt::Write as _;

use super::{Settings, ValueSource};
use crate::finding::Severity;
use crate::source::display_name;

/// A string as a YAML double-quoted scalar.
fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
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
                format!("{}:{line}", display_name(&c.path))
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
        let _ = writeln!(
            out,
            "kubernetes-version: \"{}\"  # {}",
            self.kubernetes.0,
            match self.kubernetes.1 {
                ValueSource::Default => "default: the newest release extip-lint knows".to_string(),
                ref s => self.describe(s),
            }
        );
        let gates = |out: &mut String, indent: &str, gates: &[super::GateSetting]| {
            if gates.is_empty() {
                return;
            }
            let _ = writeln!(out, "{indent}feature-gates:");
            for g in gates {
                let _ = writeln!(
                    out,
                    "{indent}  {}: {}  # {}",
                    g.gate.name(),
                    g.on,
                    self.describe(&g.source)
                );
            }
        };
        if self.feature_gates.is_empty() {
            let _ = writeln!(
                out,
                "feature-gates: {{}}  # default: the version's defaults"
            );
        } else {
            gates(&mut out, "", &self.feature_gates);
        }
        let _ = writeln!(
            out,
            "load-balancer: {}  # {}",
            self.load_balancer.0.map_or("auto", |i| i.key()),
            self.describe(&self.load_balancer.1)
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
        if !self.clusters.is_empty() {
            let _ = writeln!(out, "clusters:");
            for c in &self.clusters {
                let _ = writeln!(out, "  - name: {}", c.name);
                let _ = writeln!(out, "    paths: {:?}", c.patterns);
                if let Some((p, src)) = &c.profile {
                    let _ = writeln!(out, "    profile: {}  # {}", p.as_str(), self.describe(src));
                }
                if let Some((ns, src)) = &c.namespace {
                    let _ = writeln!(out, "    namespace: {ns}  # {}", self.describe(src));
                }
                if let Some((v, src)) = &c.kubernetes {
                    let _ = writeln!(
                        out,
                        "    kubernetes-version: \"{v}\"  # {}",
                        self.describe(src)
                    );
                }
                gates(&mut out, "    ", &c.feature_gates);
                if let Some(allow) = &c.allow {
                    let _ = writeln!(out, "    external-ips:");
                    let _ = writeln!(out, "      allow:");
                    for a in allow {
                        let _ = writeln!(
                            out,
                            "        - \"{}\"  # {}",
                            a.net,
                            self.describe(&a.source)
                        );
                    }
                }
            }
        }
        let _ = writeln!(out, "rules:");
        for (code, (sev, src)) in &self.rules {
            let name = self.find_rule(code).map_or("", |m| m.name);
            let _ = writeln!(
                out,
                "  {code}: {}  # {name}; {}",
                sev.map_or("off", Severity::as_str),
                self.describe(src)
            );
        }
        let source = |key: &str| {
            self.sources
                .get(key)
                .map_or_else(|| "default".to_string(), |s| self.describe(s))
        };
        let list = |out: &mut String, key: &str, items: &[String], default: &str| {
            if items.is_empty() {
                let _ = writeln!(out, "{key}: []  # {default}");
            } else {
                let _ = writeln!(out, "{key}:  # {}", source(key));
                for i in items {
                    let _ = writeln!(out, "  - {}", quoted(i));
                }
            }
        };
        list(
            &mut out,
            "include",
            &self.include_patterns,
            "default: every .yaml, .yml and .json file",
        );
        list(
            &mut out,
            "exclude",
            &self.exclude_patterns,
            "default: nothing",
        );
        let _ = writeln!(out, "inventory:");
        for (key, keys) in [
            ("owner-keys", &self.owner_keys),
            ("route-keys", &self.route_keys),
            ("firewall-keys", &self.firewall_keys),
        ] {
            let _ = writeln!(
                out,
                "  {key}: [{}]  # {}",
                keys.iter()
                    .map(|k| quoted(k))
                    .collect::<Vec<_>>()
                    .join(", "),
                source(&format!("inventory.{key}"))
            );
        }
        let _ = writeln!(
            out,
            "render: {}  # {}",
            self.render.enabled,
            source("render")
        );
        let _ = writeln!(out, "helm:");
        let _ = writeln!(
            out,
            "  release: {}  # {}",
            quoted(self.render.release.as_deref().unwrap_or("release-name")),
            source("helm.release")
        );
        if self.render.values.is_empty() {
            let _ = writeln!(
                out,
                "  values: {{}}  # default: each chart's own values.yaml"
            );
        } else {
            let _ = writeln!(out, "  values:  # {}", source("helm.values"));
            for (chart, files) in &self.render.values {
                let _ = writeln!(
                    out,
                    "    {}: [{}]",
                    quoted(&display_name(chart)),
                    files
                        .iter()
                        .map(|f| quoted(&display_name(f)))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
        let list = |items: &[String]| {
            items
                .iter()
                .map(|i| quoted(i))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let charts: Vec<_> = self
            .render
            .roots
            .iter()
            .filter(|r| r.load_restrictor.is_none())
            .collect();
        if !charts.is_empty() {
            let _ = writeln!(out, "  charts:  # {}", source("helm.charts"));
            for r in charts {
                let _ = writeln!(out, "    {}:", quoted(&display_name(&r.dir)));
                if let Some(v) = &r.release {
                    let _ = writeln!(out, "      release: {}", quoted(v));
                }
                if let Some(v) = &r.namespace {
                    let _ = writeln!(out, "      namespace: {}", quoted(v));
                }
                if !r.values.is_empty() {
                    let files: Vec<String> = r.values.iter().map(|f| display_name(f)).collect();
                    let _ = writeln!(out, "      values: [{}]", list(&files));
                }
                if !r.api_versions.is_empty() {
                    let _ = writeln!(out, "      api-versions: [{}]", list(&r.api_versions));
                }
            }
        }
        let roots: Vec<_> = self
            .render
            .roots
            .iter()
            .filter(|r| r.load_restrictor.is_some())
            .collect();
        if !roots.is_empty() {
            let _ = writeln!(out, "kustomize:");
            let _ = writeln!(out, "  roots:  # {}", source("kustomize.roots"));
            for r in roots {
                let _ = writeln!(
                    out,
                    "    {}: {{load-restrictor: {}}}",
                    quoted(&display_name(&r.dir)),
                    r.load_restrictor.as_deref().unwrap_or_default()
                );
            }
        }
        let l = &self.limits;
        let _ = writeln!(out, "limits:");
        for (key, value) in [
            ("max-depth", l.max_depth as u64),
            ("max-alias-expansion", l.max_alias_expansion as u64),
            ("max-file-size", l.max_file_size),
            ("max-findings-per-file", l.max_findings_per_file as u64),
        ] {
            let _ = writeln!(
                out,
                "  {key}: {value}  # {}",
                source(&format!("limits.{key}"))
            );
        }
        out
    }
}
