//! Releases of deployment controllers: the Flux `HelmRelease` and `Kustomization`, Argo CD
//! `Application` and `ApplicationSet` (list generator) objects of the input -> what each renders,
//! with exactly the inputs it gives (chart or folder, values, namespace, release name, name
//! prefix, patches). Sources are this repository: a `GitRepository` or an Argo CD `repoURL` names
//! the repository the input is in, and its paths are relative to the repository's root; a chart
//! from a Helm repository or an OCI registry cannot be read offline and is said to be so, by
//! name. Reads files; runs nothing.

mod argo;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::yaml::{self, BuildLimits, NodeId, NodeKind, Tree};

/// One release found in the input.
#[derive(Debug, Clone, PartialEq)]
pub struct Release {
    /// `HelmRelease flux-system/podinfo`, `Application argocd/shop`.
    pub name: String,
    /// The file that declares it, and the byte offset of its document there.
    pub file: PathBuf,
    pub offset: usize,
    pub target: Target,
}

/// What a release renders.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// A chart folder of this repository, rendered with `helm template`.
    Chart {
        dir: PathBuf,
        release: String,
        namespace: Option<String>,
        /// Values files of the repository, in the order given.
        value_files: Vec<PathBuf>,
        /// Values given in the release itself (inline, from `ConfigMap`s and `Secret`s), each a
        /// values document, after the files.
        values: Vec<Value>,
        /// `--set` (Argo CD `parameters`), and `--set-string` for `forceString`.
        set: Vec<(String, bool)>,
        /// The files that hold `values` and `set` (the release's, the `ConfigMap`s'), the last
        /// the strongest.
        sources: Vec<PathBuf>,
    },
    /// A folder of this repository, built with `kustomize build` through a wrapper.
    Kustomize {
        dir: PathBuf,
        namespace: Option<String>,
        name_prefix: Option<String>,
        name_suffix: Option<String>,
        /// Flux `patches` / Argo CD `kustomize.patches`: `{patch, target}` items.
        patches: Vec<Value>,
        /// Where objects that name no namespace go (Argo CD `destination.namespace`).
        default_namespace: Option<String>,
        /// Labels set on every object and selector (Argo CD `kustomize.commonLabels`).
        common_labels: Option<Value>,
        /// Labels and annotations set on every object's metadata only (Flux `commonMetadata`,
        /// Argo CD `kustomize.commonAnnotations`).
        labels: Option<Value>,
        annotations: Option<Value>,
    },
    /// A folder of plain manifests (an Argo CD `directory` source): they are linted as written.
    Plain(PathBuf),
    /// Not rendered offline, with why.
    Unrendered(String),
}

/// A document of the input as a JSON value, with where it is.
struct Doc {
    file: PathBuf,
    offset: usize,
    value: Value,
}

/// The releases in `files` (plain manifests). `root_of` gives the repository root that the
/// paths of a release in a file are relative to.
#[must_use]
pub fn find(files: &[PathBuf], root_of: &dyn Fn(&Path) -> PathBuf) -> Vec<Release> {
    // Files that can hold a release are parsed first; `ConfigMap`s and `Secret`s only when a
    // release takes values from them.
    let mut docs = Vec::new();
    let mut others = Vec::new();
    for f in files {
        let Ok(text) = crate::source::read_regular_text(f, crate::source::DEFAULT_MAX_FILE_SIZE)
        else {
            continue;
        };
        if text.contains("fluxcd.io") || text.contains("argoproj.io") {
            docs.extend(objects(f, &text));
        } else if text.contains("ConfigMap") || text.contains("Secret") {
            others.push(f);
        }
    }
    if docs
        .iter()
        .any(|d| d.value.pointer("/spec/valuesFrom").is_some())
    {
        for f in others {
            if let Ok(text) =
                crate::source::read_regular_text(f, crate::source::DEFAULT_MAX_FILE_SIZE)
            {
                docs.extend(objects(f, &text));
            }
        }
    }
    let mut out = Vec::new();
    for d in &docs {
        let v = &d.value;
        let root = &root_of(&d.file);
        let (group, kind) = (
            v["apiVersion"].as_str().unwrap_or_default(),
            v["kind"].as_str().unwrap_or_default(),
        );
        let group = group.split('/').next().unwrap_or_default();
        let found = match (group, kind) {
            ("helm.toolkit.fluxcd.io", "HelmRelease") => vec![helm_release(v, root, &docs)],
            ("kustomize.toolkit.fluxcd.io", "Kustomization") => vec![flux_kustomization(v, root)],
            ("argoproj.io", "Application") => vec![argo::application(v, root)],
            ("argoproj.io", "ApplicationSet") => argo::application_set(v, root),
            _ => continue,
        };
        for (name, target) in found {
            out.push(Release {
                name,
                file: d.file.clone(),
                offset: d.offset,
                target,
            });
        }
    }
    out
}

/// The documents of `text` (file `file`) that are mappings, as JSON.
fn objects(file: &Path, text: &str) -> Vec<Doc> {
    let (parsed, _) = yaml::parse(text, BuildLimits { max_depth: 128 });
    parsed
        .into_iter()
        .map(|d| Doc {
            file: file.to_path_buf(),
            offset: d.start,
            value: json(&d.tree, d.root),
        })
        .filter(|d| d.value.is_object())
        .collect()
}

/// The root of the repository `file` is in: the nearest folder above it with `.git`.
#[must_use]
pub fn repository_root(file: &Path) -> Option<PathBuf> {
    let absolute = std::fs::canonicalize(file).ok()?;
    absolute
        .ancestors()
        .skip(1)
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn identity(kind: &str, v: &Value) -> String {
    let name = str_at(v, "/metadata/name").unwrap_or("?");
    match str_at(v, "/metadata/namespace") {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    }
}

/// A repository path (`./apps/web`, `apps/web`) under `root`.
fn in_repo(root: &Path, path: &str) -> PathBuf {
    crate::input::kustomize::normalize(&root.join(path.trim_start_matches('/')))
}

fn helm_release(v: &Value, root: &Path, docs: &[Doc]) -> (String, Target) {
    let id = identity("HelmRelease", v);
    let name = str_at(v, "/metadata/name").unwrap_or_default().to_string();
    let own_ns = str_at(v, "/metadata/namespace");
    if let Some(kind) = str_at(v, "/spec/chartRef/kind") {
        return (
            id,
            Target::Unrendered(format!(
                "its chart comes from {kind} `{}`, which cannot be fetched offline",
                str_at(v, "/spec/chartRef/name").unwrap_or("?")
            )),
        );
    }
    let chart = str_at(v, "/spec/chart/spec/chart").unwrap_or_default();
    let source_kind = str_at(v, "/spec/chart/spec/sourceRef/kind").unwrap_or_default();
    let source_name = str_at(v, "/spec/chart/spec/sourceRef/name").unwrap_or("?");
    if source_kind != "GitRepository" {
        return (
            id,
            Target::Unrendered(format!(
                "its chart `{chart}` comes from {} `{source_name}`, which cannot be fetched offline",
                if source_kind.is_empty() {
                    "an unnamed source"
                } else {
                    source_kind
                }
            )),
        );
    }
    let dir = in_repo(root, chart);
    if !dir.join("Chart.yaml").is_file() {
        return (
            id,
            Target::Unrendered(format!(
                "its chart path `{chart}` (GitRepository `{source_name}`) is no chart folder of this repository"
            )),
        );
    }
    let target_ns = str_at(v, "/spec/targetNamespace");
    let release = str_at(v, "/spec/releaseName").map_or_else(
        || target_ns.map_or_else(|| name.clone(), |ns| format!("{ns}-{name}")),
        str::to_string,
    );
    // Flux merges `valuesFrom` in order, then `values` on top.
    let mut values = Vec::new();
    let mut sources = Vec::new();
    if let Some(from) = v.pointer("/spec/valuesFrom").and_then(Value::as_array) {
        for f in from {
            let kind = f["kind"].as_str().unwrap_or("ConfigMap");
            let ref_name = f["name"].as_str().unwrap_or_default();
            let key = f["valuesKey"].as_str().unwrap_or("values.yaml");
            let optional = f["optional"].as_bool().unwrap_or(false);
            match values_from(docs, kind, ref_name, own_ns, key) {
                Some((file, text)) => {
                    sources.push(file);
                    let parsed = parse_values(&text);
                    match f["targetPath"].as_str() {
                        Some(path) => values.push(at_path(path, parsed)),
                        None => values.push(parsed),
                    }
                }
                None if optional => {}
                None => {
                    return (
                        id,
                        Target::Unrendered(format!(
                            "its `valuesFrom` {kind} `{ref_name}` (key `{key}`) is not in the input"
                        )),
                    );
                }
            }
        }
    }
    if let Some(inline) = v.pointer("/spec/values").filter(|x| x.is_object()) {
        values.push(inline.clone());
    }
    // `valuesFiles` of the chart template: paths from the source's root, before `valuesFrom`.
    let value_files = v
        .pointer("/spec/chart/spec/valuesFiles")
        .and_then(Value::as_array)
        .map(|files| {
            files
                .iter()
                .filter_map(Value::as_str)
                .map(|f| in_repo(root, f))
                .collect()
        })
        .unwrap_or_default();
    (
        id,
        Target::Chart {
            dir,
            release,
            namespace: target_ns.or(own_ns).map(str::to_string),
            value_files,
            values,
            set: Vec::new(),
            sources,
        },
    )
}

/// The file and text of key `key` of `ConfigMap` or `Secret` `name` in the release's namespace.
fn values_from(
    docs: &[Doc],
    kind: &str,
    name: &str,
    ns: Option<&str>,
    key: &str,
) -> Option<(PathBuf, String)> {
    docs.iter().find_map(|d| {
        let v = &d.value;
        if v["kind"].as_str() != Some(kind)
            || str_at(v, "/metadata/name") != Some(name)
            || (ns.is_some() && str_at(v, "/metadata/namespace").is_some_and(|n| Some(n) != ns))
        {
            return None;
        }
        let text = match v["data"][key].as_str() {
            Some(s) if kind == "Secret" => base64(s),
            Some(s) => Some(s.to_string()),
            None => v["stringData"][key].as_str().map(str::to_string),
        };
        Some((d.file.clone(), text?))
    })
}

/// Standard base64, as Secrets hold `data`.
fn base64(s: &str) -> Option<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        let v = ALPHABET.iter().position(|&a| a == c)?;
        bits = (bits << 6) | u32::try_from(v).ok()?;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push(u8::try_from((bits >> n) & 0xFF).ok()?);
        }
    }
    String::from_utf8(out).ok()
}

/// A values document from its YAML text (an empty map when it is not a map).
fn parse_values(text: &str) -> Value {
    let (docs, _) = yaml::parse(text, BuildLimits { max_depth: 128 });
    docs.first()
        .map(|d| json(&d.tree, d.root))
        .filter(Value::is_object)
        .unwrap_or_else(|| Value::Object(Map::new()))
}

/// `value` placed at a dotted path (`valuesFrom.targetPath`).
fn at_path(path: &str, value: Value) -> Value {
    path.rsplit('.').fold(value, |inner, key| {
        let mut m = Map::new();
        m.insert(key.to_string(), inner);
        Value::Object(m)
    })
}

fn flux_kustomization(v: &Value, root: &Path) -> (String, Target) {
    let id = identity("Kustomization", v);
    let source_kind = str_at(v, "/spec/sourceRef/kind").unwrap_or("GitRepository");
    if source_kind != "GitRepository" {
        return (
            id,
            Target::Unrendered(format!(
                "its source is {source_kind} `{}`, which cannot be fetched offline",
                str_at(v, "/spec/sourceRef/name").unwrap_or("?")
            )),
        );
    }
    let path = str_at(v, "/spec/path").unwrap_or("./");
    let dir = in_repo(root, path);
    if !dir.is_dir() {
        return (
            id,
            Target::Unrendered(format!("its path `{path}` is no folder of this repository")),
        );
    }
    (
        id,
        Target::Kustomize {
            dir,
            namespace: str_at(v, "/spec/targetNamespace").map(str::to_string),
            name_prefix: str_at(v, "/spec/namePrefix").map(str::to_string),
            name_suffix: str_at(v, "/spec/nameSuffix").map(str::to_string),
            patches: v
                .pointer("/spec/patches")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            default_namespace: None,
            common_labels: None,
            labels: v.pointer("/spec/commonMetadata/labels").cloned(),
            annotations: v.pointer("/spec/commonMetadata/annotations").cloned(),
        },
    )
}

/// A YAML node as JSON, scalars typed as YAML 1.1 reads them (what helm and kubectl see).
fn json(t: &Tree, n: NodeId) -> Value {
    let n = t.resolve(n);
    match t.node(n).kind {
        NodeKind::Scalar { .. } => match t.typed(n) {
            Some(yaml::scalar::Typed::Bool(b)) => Value::Bool(b),
            Some(yaml::scalar::Typed::Int(i)) => Value::from(i),
            Some(yaml::scalar::Typed::UInt(u)) => Value::from(u),
            Some(yaml::scalar::Typed::Float(f)) => {
                serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
            }
            Some(yaml::scalar::Typed::Str(s)) => Value::String(s.to_string()),
            Some(yaml::scalar::Typed::Null) | None => Value::Null,
        },
        NodeKind::Seq { .. } => t.items(n).iter().map(|&i| json(t, i)).collect(),
        NodeKind::Map { .. } => {
            let mut m = BTreeMap::new();
            for (k, v) in t.pairs(n) {
                if let Some(key) = t.key_string(k) {
                    m.insert(key, json(t, v));
                }
            }
            Value::Object(m.into_iter().collect())
        }
        NodeKind::Alias(_) => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_decoded_as_base64() {
        assert_eq!(base64("aGVsbG86IDEK").as_deref(), Some("hello: 1\n"));
        assert_eq!(base64("!").as_deref(), None);
    }

    #[test]
    fn list_generator_parameters_fill_the_template() {
        let t = serde_json::json!({"metadata": {"name": "app-{{env}}"}, "spec": {"source": {"path": "apps/{{ .env }}"}}});
        let p = serde_json::json!({"env": "prod"});
        let out = argo::substitute(&t, p.as_object().expect("map"));
        assert_eq!(out["metadata"]["name"], "app-prod");
        assert_eq!(out["spec"]["source"]["path"], "apps/prod");
    }

    #[test]
    fn a_helm_release_is_read_as_flux_renders_it() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path();
        std::fs::create_dir_all(root.join("charts/web")).expect("mkdir");
        std::fs::write(root.join("charts/web/Chart.yaml"), "name: web\n").expect("write");
        let release = serde_json::json!({
            "metadata": {"name": "web", "namespace": "flux-system"},
            "spec": {
                "targetNamespace": "shop",
                "chart": {"spec": {
                    "chart": "./charts/web",
                    "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
                    "valuesFiles": ["./charts/web/values-prod.yaml"]
                }},
                "values": {"replicas": 2}
            }
        });
        let (name, target) = helm_release(&release, root, &[]);
        assert_eq!(name, "HelmRelease flux-system/web");
        let Target::Chart {
            release,
            namespace,
            value_files,
            values,
            ..
        } = target
        else {
            panic!("{target:?}");
        };
        assert_eq!(release, "shop-web");
        assert_eq!(namespace.as_deref(), Some("shop"));
        assert_eq!(value_files, [root.join("charts/web/values-prod.yaml")]);
        assert_eq!(values, [serde_json::json!({"replicas": 2})]);
        let remote = serde_json::json!({"spec": {"chart": {"spec": {"chart": "redis", "sourceRef": {"kind": "HelmRepository", "name": "bitnami"}}}}});
        assert!(matches!(
            helm_release(&remote, root, &[]).1,
            Target::Unrendered(_)
        ));
    }

    #[test]
    fn target_paths_nest_values() {
        assert_eq!(
            at_path("a.b", serde_json::json!(1)),
            serde_json::json!({"a": {"b": 1}})
        );
    }
}
