//! Argo CD: an `Application`'s source as the release to render, and an `ApplicationSet`'s
//! plain list generator, each element an `Application` of its own.

use std::path::Path;

use serde_json::{Map, Value};

use super::{Target, identity, in_repo, parse_values, str_at};

pub(super) fn application(v: &Value, root: &Path) -> (String, Target) {
    let id = identity("Application", v);
    let sources: Vec<&Value> = match v.pointer("/spec/sources").and_then(Value::as_array) {
        Some(s) => s.iter().collect(),
        None => v.pointer("/spec/source").into_iter().collect(),
    };
    // A source with only `ref` provides value files to the others (`$values/...`).
    let Some(source) = sources
        .iter()
        .find(|s| s.get("chart").is_some() || s.get("path").is_some())
    else {
        return (
            id,
            Target::Unrendered("it names no source path or chart".into()),
        );
    };
    if let Some(chart) = source["chart"].as_str() {
        return (
            id,
            Target::Unrendered(format!(
                "its chart `{chart}` comes from the Helm repository `{}`, which cannot be fetched offline",
                source["repoURL"].as_str().unwrap_or("?")
            )),
        );
    }
    let path = source["path"].as_str().unwrap_or(".");
    let dir = in_repo(root, path);
    if !dir.is_dir() {
        return (
            id,
            Target::Unrendered(format!(
                "its source path `{path}` is no folder of this repository"
            )),
        );
    }
    let namespace = str_at(v, "/spec/destination/namespace").map(str::to_string);
    let name = str_at(v, "/metadata/name").unwrap_or_default();
    if source.get("helm").is_some() || dir.join("Chart.yaml").is_file() {
        let helm = &source["helm"];
        let value_files = helm["valueFiles"]
            .as_array()
            .map(|files| {
                files
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|f| match f.strip_prefix('$') {
                        // `$values/path`: a file of the source named `values`, this repository.
                        Some(rest) => in_repo(root, rest.split_once('/').map_or("", |(_, p)| p)),
                        None => crate::input::kustomize::normalize(&dir.join(f)),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut values = Vec::new();
        if let Some(text) = helm["values"].as_str() {
            values.push(parse_values(text));
        }
        if let Some(obj) = helm.get("valuesObject").filter(|o| o.is_object()) {
            values.push(obj.clone());
        }
        let set = helm["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .filter_map(|p| {
                        let n = p["name"].as_str()?;
                        let value = match &p["value"] {
                            Value::String(s) => s.clone(),
                            Value::Null => String::new(),
                            other => other.to_string(),
                        };
                        Some((
                            format!("{n}={value}"),
                            p["forceString"].as_bool().unwrap_or(false),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        return (
            id,
            Target::Chart {
                dir,
                release: helm["releaseName"].as_str().unwrap_or(name).to_string(),
                namespace,
                value_files,
                values,
                set,
                sources: Vec::new(),
            },
        );
    }
    if crate::input::kustomize::file_in(&dir).is_some() {
        let k = &source["kustomize"];
        return (
            id,
            Target::Kustomize {
                dir,
                namespace: k["namespace"].as_str().map(str::to_string),
                name_prefix: k["namePrefix"].as_str().map(str::to_string),
                name_suffix: k["nameSuffix"].as_str().map(str::to_string),
                patches: k["patches"].as_array().cloned().unwrap_or_default(),
                default_namespace: namespace,
                common_labels: k.get("commonLabels").filter(|l| l.is_object()).cloned(),
                labels: None,
                annotations: k
                    .get("commonAnnotations")
                    .filter(|a| a.is_object())
                    .cloned(),
            },
        );
    }
    (id, Target::Plain(dir))
}

/// An `ApplicationSet`'s Applications: one per element of its `list` generators, the template's
/// `{{key}}` (and `{{.key}}` with `goTemplate`) replaced by the element's values. Other
/// generators need a cluster or a repository server: the set is said to be unrendered.
pub(super) fn application_set(v: &Value, root: &Path) -> Vec<(String, Target)> {
    let id = identity("ApplicationSet", v);
    let generators = v
        .pointer("/spec/generators")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut elements = Vec::new();
    for g in &generators {
        match g.pointer("/list/elements").and_then(Value::as_array) {
            Some(list) if g.as_object().is_some_and(|o| o.len() == 1) => {
                elements.extend(list.iter().cloned());
            }
            _ => {
                let kind = g
                    .as_object()
                    .and_then(|o| o.keys().next().cloned())
                    .unwrap_or_default();
                return vec![(
                    id,
                    Target::Unrendered(format!(
                        "its `{kind}` generator needs a cluster or repository server; only plain `list` generators are read"
                    )),
                )];
            }
        }
    }
    let Some(template) = v.pointer("/spec/template") else {
        return vec![(id, Target::Unrendered("it has no template".into()))];
    };
    let mut out = Vec::new();
    for e in elements {
        let Some(params) = e.as_object() else {
            continue;
        };
        let mut app = substitute(template, params);
        if let Some(m) = app.as_object_mut() {
            m.insert("apiVersion".into(), "argoproj.io/v1alpha1".into());
            m.insert("kind".into(), "Application".into());
        }
        let (name, target) = application(&app, root);
        out.push((format!("{name} (from {id})"), target));
    }
    out
}

/// `template` with every `{{key}}`, `{{ key }}`, `{{.key}}` and `{{ .key }}` in its strings
/// replaced by the parameter's value.
pub(super) fn substitute(template: &Value, params: &Map<String, Value>) -> Value {
    match template {
        Value::String(s) => {
            let mut s = s.clone();
            for (k, v) in params {
                let v = match v {
                    Value::String(x) => x.clone(),
                    other => other.to_string(),
                };
                for form in [
                    format!("{{{{{k}}}}}"),
                    format!("{{{{ {k} }}}}"),
                    format!("{{{{.{k}}}}}"),
                    format!("{{{{ .{k} }}}}"),
                ] {
                    s = s.replace(&form, &v);
                }
            }
            Value::String(s)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| substitute(x, params)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), substitute(x, params)))
                .collect(),
        ),
        other => other.clone(),
    }
}
