//! Helm charts as helm reads them, as far as extip-lint needs: a chart's `Chart.yaml` (its name,
//! whether it is a library chart, its dependencies and where each comes from), which files of a
//! chart folder are values files rather than manifests, and the chart-testing `ci/` values.
//! Reads files; runs nothing.

use std::path::{Path, PathBuf};

use crate::yaml::{self, BuildLimits, NodeKind};

/// Where a dependency comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repository {
    /// `file://../partials`: a folder of this repository, resolved against the chart.
    Local(PathBuf),
    /// A chart repository or OCI registry: fetched by `helm dependency build`, never by us.
    Remote(String),
    /// No `repository:` at all: helm expects it under `charts/` already.
    None,
}

/// One entry of `dependencies:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    pub name: String,
    pub repository: Repository,
}

/// A chart's `Chart.yaml`, read.
#[derive(Debug, Clone, Default)]
pub struct Chart {
    pub name: String,
    /// `type: library`: helm refuses to install or template it; it is only ever a dependency.
    pub library: bool,
    pub dependencies: Vec<Dependency>,
}

/// Reads `dir/Chart.yaml`. A file that cannot be read or parsed is `None`: helm reports it.
#[must_use]
pub fn read(dir: &Path) -> Option<Chart> {
    let text = crate::source::read_regular_text(
        &dir.join("Chart.yaml"),
        crate::source::DEFAULT_MAX_FILE_SIZE,
    )
    .ok()?;
    Some(parse(dir, &text))
}

/// Reads a `Chart.yaml` of chart folder `dir` from its text.
#[must_use]
pub fn parse(dir: &Path, text: &str) -> Chart {
    let (docs, _) = yaml::parse(text, BuildLimits { max_depth: 64 });
    let Some(doc) = docs.first() else {
        return Chart::default();
    };
    let t = &doc.tree;
    if !matches!(t.node(t.resolve(doc.root)).kind, NodeKind::Map { .. }) {
        return Chart::default();
    }
    let field = |map: yaml::NodeId, key: &str| {
        t.get(map, key)
            .and_then(|(_, v)| t.scalar(v))
            .map(str::to_string)
    };
    let mut chart = Chart {
        name: field(doc.root, "name").unwrap_or_default(),
        library: field(doc.root, "type").is_some_and(|s| s == "library"),
        dependencies: Vec::new(),
    };
    if let Some((_, deps)) = t.get(doc.root, "dependencies") {
        for &d in t.items(deps) {
            let Some(name) = field(d, "name") else {
                continue;
            };
            let repository = match field(d, "repository") {
                None => Repository::None,
                Some(r) if r.trim().is_empty() => Repository::None,
                Some(r) => match r.strip_prefix("file://") {
                    Some(rel) => {
                        Repository::Local(crate::input::kustomize::normalize(&dir.join(rel)))
                    }
                    None => Repository::Remote(r),
                },
            };
            chart.dependencies.push(Dependency { name, repository });
        }
    }
    chart
}

/// Whether dependency `name` is vendored under `dir/charts/`: a folder whose `Chart.yaml` names
/// it, or an archive `name-<version>.tgz`.
#[must_use]
pub fn vendored(dir: &Path, name: &str) -> bool {
    let Ok(entries) = std::fs::read_dir(dir.join("charts")) else {
        return false;
    };
    entries.flatten().any(|e| {
        let p = e.path();
        let file = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            read(&p).is_some_and(|c| c.name == name)
        } else {
            file.strip_suffix(".tgz")
                .and_then(|s| s.strip_prefix(name))
                .is_some_and(|v| v.starts_with('-'))
        }
    })
}

/// Whether `path`, a file in chart folder `chart`, is a values file: `values.yaml` and its
/// siblings named `values*.yaml` or `*-values.yaml`/`*.values.yaml`, and anything under `ci/`.
/// Helm reads them as values, never as manifests.
#[must_use]
pub fn is_values_file(chart: &Path, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(chart) else {
        return false;
    };
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    match parts.as_slice() {
        [dir, _] if dir == "ci" => true,
        [name] => {
            let stem = name
                .strip_suffix(".yaml")
                .or_else(|| name.strip_suffix(".yml"))
                .or_else(|| name.strip_suffix(".json"));
            // `values.schema.json` is a JSON schema, not values.
            stem.is_some_and(|s| {
                s != "values.schema"
                    && (s.starts_with("values") || s.ends_with("-values") || s.ends_with(".values"))
            })
        }
        _ => false,
    }
}

/// The chart-testing values of chart folder `dir`: `ci/*-values.yaml`, sorted by name.
#[must_use]
pub fn ci_values(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir.join("ci")) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with("-values.yaml") || n.ends_with("-values.yml"))
        })
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_charts_and_dependency_sources_are_read() {
        let c = parse(
            Path::new("charts/web"),
            "apiVersion: v2\nname: web\ntype: application\ndependencies:\n- name: partials\n  repository: file://../partials\n- name: redis\n  repository: https://charts.example.com\n- name: vendored\n",
        );
        assert_eq!(c.name, "web");
        assert!(!c.library);
        assert_eq!(
            c.dependencies[0].repository,
            Repository::Local(PathBuf::from("charts/partials"))
        );
        assert!(matches!(
            c.dependencies[1].repository,
            Repository::Remote(_)
        ));
        assert_eq!(c.dependencies[2].repository, Repository::None);
        assert!(parse(Path::new("l"), "name: l\ntype: library\n").library);
    }

    #[test]
    fn values_files_are_told_from_manifests() {
        let chart = Path::new("c");
        for yes in [
            "c/values.yaml",
            "c/values-prod.yaml",
            "c/prod-values.yaml",
            "c/ci/x-values.yaml",
        ] {
            assert!(is_values_file(chart, Path::new(yes)), "{yes}");
        }
        for no in [
            "c/crds/crd.yaml",
            "c/templates/values.yaml",
            "c/extra.yaml",
            "d/values.yaml",
            "c/values.schema.json",
        ] {
            assert!(!is_values_file(chart, Path::new(no)), "{no}");
        }
    }
}
