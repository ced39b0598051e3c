//! Kustomizations as kustomize reads them, as far as extip-lint needs: which folders and files a
//! kustomization uses (resources, components, patches, generators and transformers), which
//! resources are remote, and its patches with where each is written, so a field a patch sets can
//! be pointed at. Reads files; runs nothing.

use std::path::{Component, Path, PathBuf};

use crate::yaml::{self, BuildLimits, NodeId, NodeKind, Tree};

/// The file names kustomize looks for in a folder, in its order.
pub const FILE_NAMES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// One patch of a kustomization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    /// The patch file, if it is one.
    pub file: Option<PathBuf>,
    /// An inline patch: its text and the byte offset of that text in the kustomization file.
    pub inline: Option<(String, usize)>,
    /// `target.kind` and `target.name`, when given.
    pub target_kind: Option<String>,
    pub target_name: Option<String>,
}

/// A kustomization file, read.
#[derive(Debug, Clone, Default)]
pub struct Kustomization {
    /// The kustomization file.
    pub file: PathBuf,
    /// Local resources and components: files and folders, resolved against the folder.
    pub uses: Vec<PathBuf>,
    /// Files it reads that are not resources: patches, generators, transformers,
    /// configurations, replacements, CRD schemas.
    pub inputs: Vec<PathBuf>,
    /// Resources and components that are fetched (URLs, `github.com/...`, `?ref=`).
    pub remote: Vec<String>,
    pub patches: Vec<Patch>,
    /// `helmCharts`, which kustomize renders only with `--enable-helm`.
    pub helm_charts: bool,
    /// `kind: Component`: applied by the kustomizations that list it, never built on its own.
    pub component: bool,
}

impl Kustomization {
    /// The folder of the kustomization.
    #[must_use]
    pub fn dir(&self) -> &Path {
        self.file.parent().unwrap_or(Path::new("."))
    }
}

/// The kustomization file of folder `dir`, if it has one.
#[must_use]
pub fn file_in(dir: &Path) -> Option<PathBuf> {
    FILE_NAMES.iter().map(|n| dir.join(n)).find(|p| p.is_file())
}

/// Whether `path` is named as a kustomization file.
#[must_use]
pub fn is_kustomization(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| FILE_NAMES.contains(&n))
}

/// Whether a resource reference is fetched rather than read from disk.
fn is_remote(s: &str) -> bool {
    s.contains("://")
        || s.starts_with("github.com/")
        || s.starts_with("gitlab.com/")
        || s.starts_with("bitbucket.org/")
        || s.starts_with("git@")
        || s.contains("?ref=")
        || s.contains(".git//")
}

/// `path` with `.` and `..` taken away lexically (kustomize resolves paths so).
#[must_use]
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if out.as_os_str().is_empty() || out.ends_with("..") {
                    out.push("..");
                } else {
                    out.pop();
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Reads the kustomization in `file`. A file that is not YAML, or not a mapping, is an error
/// message (kustomize fails on it too).
pub fn read(file: &Path) -> Result<Kustomization, String> {
    let text = crate::source::read_regular_text(file, crate::source::DEFAULT_MAX_FILE_SIZE)
        .map_err(|e| e.to_string())?;
    parse(file, &text)
}

/// Reads a kustomization from its text.
pub fn parse(file: &Path, text: &str) -> Result<Kustomization, String> {
    let (docs, broken) = yaml::parse(text, BuildLimits { max_depth: 64 });
    if let Some(b) = broken.first() {
        return Err(b.error.message.clone());
    }
    let Some(doc) = docs.first() else {
        return Ok(Kustomization {
            file: file.to_path_buf(),
            ..Kustomization::default()
        });
    };
    let t = &doc.tree;
    if !matches!(t.node(t.resolve(doc.root)).kind, NodeKind::Map { .. }) {
        return Err("a kustomization is a mapping".into());
    }
    let dir = file.parent().unwrap_or(Path::new("."));
    let local = |s: &str| normalize(&dir.join(s));
    let strings = |key: &str| -> Vec<String> {
        t.get(doc.root, key)
            .map(|(_, v)| {
                t.items(v)
                    .iter()
                    .filter_map(|&i| t.scalar(i).map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut k = Kustomization {
        file: file.to_path_buf(),
        ..Kustomization::default()
    };
    for key in ["resources", "bases", "components"] {
        for r in strings(key) {
            if is_remote(&r) {
                k.remote.push(r);
            } else {
                k.uses.push(local(&r));
            }
        }
    }
    for key in [
        "generators",
        "transformers",
        "validators",
        "configurations",
        "crds",
    ] {
        k.inputs.extend(
            strings(key)
                .iter()
                .filter(|s| !is_remote(s))
                .map(|s| local(s)),
        );
    }
    if let Some((_, v)) = t.get(doc.root, "replacements") {
        for &item in t.items(v) {
            if let Some(p) = field(t, item, "path") {
                k.inputs.push(local(&p));
            }
        }
    }
    if let Some((_, v)) = t.get(doc.root, "openapi")
        && let Some(p) = field(t, v, "path")
    {
        k.inputs.push(local(&p));
    }
    k.helm_charts = t.get(doc.root, "helmCharts").is_some();
    k.component = field(t, doc.root, "kind").is_some_and(|s| s == "Component");
    // Generator inputs: `files` (`key=path` or `path`), `envs` and the older `env`; Helm values
    // files of `helmCharts`. Their contents are data, not objects.
    for key in ["configMapGenerator", "secretGenerator"] {
        let Some((_, v)) = t.get(doc.root, key) else {
            continue;
        };
        for &item in t.items(v) {
            for list in ["files", "envs"] {
                if let Some((_, files)) = t.get(item, list) {
                    for &f in t.items(files) {
                        let Some(s) = t.scalar(f) else { continue };
                        let path = s.split_once('=').map_or(s, |(_, p)| p);
                        if !is_remote(path) {
                            k.inputs.push(local(path));
                        }
                    }
                }
            }
            if let Some(p) = field(t, item, "env") {
                k.inputs.push(local(&p));
            }
        }
    }
    if let Some((_, v)) = t.get(doc.root, "helmCharts") {
        for &item in t.items(v) {
            if let Some(p) = field(t, item, "valuesFile") {
                k.inputs.push(local(&p));
            }
            if let Some((_, files)) = t.get(item, "additionalValuesFiles") {
                for &f in t.items(files) {
                    if let Some(s) = t.scalar(f) {
                        k.inputs.push(local(s));
                    }
                }
            }
        }
    }
    // `patches` and `patchesJson6902`: mappings with `path` or `patch` and `target`;
    // `patchesStrategicMerge`: file names or inline patches.
    for key in ["patches", "patchesJson6902"] {
        let Some((_, v)) = t.get(doc.root, key) else {
            continue;
        };
        for &item in t.items(v) {
            let target = t.get(item, "target").map(|(_, v)| v);
            let mut p = Patch {
                file: field(t, item, "path").map(|s| local(&s)),
                inline: t
                    .get(item, "patch")
                    .and_then(|(_, v)| Some((t.scalar(v)?.to_string(), t.node(v).start))),
                target_kind: target.and_then(|tg| field(t, tg, "kind")),
                target_name: target.and_then(|tg| field(t, tg, "name")),
            };
            if let Some(f) = &p.file {
                k.inputs.push(f.clone());
            }
            if p.file.is_none() && p.inline.is_none() {
                p.inline = Some((String::new(), t.node(item).start));
            }
            k.patches.push(p);
        }
    }
    if let Some((_, v)) = t.get(doc.root, "patchesStrategicMerge") {
        for &item in t.items(v) {
            let Some(s) = t.scalar(item) else { continue };
            let p = if s.contains('\n') || s.contains(':') {
                Patch {
                    file: None,
                    inline: Some((s.to_string(), t.node(item).start)),
                    target_kind: None,
                    target_name: None,
                }
            } else {
                let f = local(s);
                k.inputs.push(f.clone());
                Patch {
                    file: Some(f),
                    inline: None,
                    target_kind: None,
                    target_name: None,
                }
            };
            k.patches.push(p);
        }
    }
    Ok(k)
}

fn field(t: &Tree, map: NodeId, key: &str) -> Option<String> {
    t.get(map, key)
        .and_then(|(_, v)| t.scalar(v))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uses_inputs_and_remote_resources_are_told_apart() {
        let k = parse(
            Path::new("overlays/prod/kustomization.yaml"),
            "resources:\n- ../../base\n- https://example.com/x.yaml\n- github.com/org/repo//k8s?ref=v1\ncomponents: [../../components/tls]\npatches:\n- path: svc.yaml\n- target: {kind: Service, name: web}\n  patch: |-\n    - op: add\n      path: /spec/externalIPs\n      value: [192.0.2.1]\npatchesStrategicMerge: [dep.yaml]\n",
        )
        .expect("reads");
        assert_eq!(
            k.uses,
            [PathBuf::from("base"), PathBuf::from("components/tls")]
        );
        assert_eq!(k.remote.len(), 2);
        assert_eq!(
            k.inputs,
            [
                PathBuf::from("overlays/prod/svc.yaml"),
                PathBuf::from("overlays/prod/dep.yaml")
            ]
        );
        assert_eq!(k.patches.len(), 3);
        assert!(!k.component);
        assert_eq!(k.patches[1].target_kind.as_deref(), Some("Service"));
        assert!(
            k.patches[1]
                .inline
                .as_ref()
                .is_some_and(|(t, _)| t.contains("op: add"))
        );
    }

    #[test]
    fn generator_inputs_and_components_are_read() {
        let k = parse(
            Path::new("app/kustomization.yaml"),
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nconfigMapGenerator:\n- name: cfg\n  files: [ejabberd.yml, conf=extra/conf.yaml]\n  envs: [env/app.env]\nsecretGenerator:\n- name: s\n  env: s.env\n",
        )
        .expect("reads");
        assert!(k.component);
        assert_eq!(
            k.inputs,
            [
                PathBuf::from("app/ejabberd.yml"),
                PathBuf::from("app/extra/conf.yaml"),
                PathBuf::from("app/env/app.env"),
                PathBuf::from("app/s.env")
            ]
        );
    }

    #[test]
    fn parent_folders_resolve_lexically() {
        assert_eq!(normalize(Path::new("a/b/../../c")), PathBuf::from("c"));
        assert_eq!(normalize(Path::new("../x/./y")), PathBuf::from("../x/y"));
        assert_eq!(normalize(Path::new("a/../../b")), PathBuf::from("../b"));
    }
}
