//! Classification proper: type meta, identity, labels and annotations, the typed views rules
//! read, and decode failures as problems at the failing field.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::de::DeserializeOwned;

use super::span_map::span_map;
use super::{Classified, ClassifyOptions, Object, Problem, SpanMap, View};
use crate::finding::ObjectRef;
use crate::policy::{self, CiliumRule, Policy};
use crate::source::{FileId, Origin, Span};
use crate::yaml::pointer::{join, segments};
use crate::yaml::{Document, NodeId, NodeKind, Tree, decode};

/// Kinds without a namespace (core and common extensions).
const CLUSTER_SCOPED: &[&str] = &[
    "APIService",
    "CSIDriver",
    "CSINode",
    "CertificateSigningRequest",
    "CiliumClusterwideNetworkPolicy",
    "ClusterIssuer",
    "ClusterRole",
    "ClusterRoleBinding",
    "ComponentStatus",
    "CustomResourceDefinition",
    "FlowSchema",
    "GatewayClass",
    "IngressClass",
    "MutatingWebhookConfiguration",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PodSecurityPolicy",
    "PriorityClass",
    "PriorityLevelConfiguration",
    "RuntimeClass",
    "StorageClass",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
    "VolumeAttachment",
];

/// Classifies one document into objects.
#[must_use]
pub fn classify(file: FileId, doc: &Document, opts: &ClassifyOptions) -> Classified {
    let mut out = Classified::default();
    let tree = &doc.tree;
    let Some((api_version, kind)) = type_meta(tree, doc.root) else {
        out.ignored += 1;
        return out;
    };
    let items = tree.get(doc.root, "items").map(|(_, v)| v);
    if kind.ends_with("List")
        && items.is_some_and(|v| matches!(tree.node(tree.resolve(v)).kind, NodeKind::Seq { .. }))
    {
        let items = tree.items(items.unwrap_or(doc.root));
        for (i, &item) in items.iter().enumerate() {
            match type_meta(tree, item) {
                Some((av, k)) => object(
                    file,
                    doc,
                    item,
                    format!("/items/{i}"),
                    av,
                    k,
                    opts,
                    &mut out,
                ),
                None => out.ignored += 1,
            }
        }
        return out;
    }
    object(
        file,
        doc,
        doc.root,
        String::new(),
        api_version,
        kind,
        opts,
        &mut out,
    );
    out
}

fn type_meta(tree: &Tree, node: NodeId) -> Option<(&str, &str)> {
    let api_version = tree.scalar(tree.get(node, "apiVersion")?.1)?;
    let kind = tree.scalar(tree.get(node, "kind")?.1)?;
    (!api_version.is_empty() && !kind.is_empty()).then_some((api_version, kind))
}

#[allow(clippy::too_many_arguments)]
fn object(
    file: FileId,
    doc: &Document,
    node: NodeId,
    pointer: String,
    api_version: &str,
    kind: &str,
    opts: &ClassifyOptions,
    out: &mut Classified,
) {
    let tree = &doc.tree;
    let str_at = |path: &[&str]| {
        let (n, _, depth) = tree.lookup(node, path);
        (depth == path.len())
            .then(|| tree.scalar(n))
            .flatten()
            .map(str::to_string)
    };
    let name = str_at(&["metadata", "name"])
        .or_else(|| str_at(&["metadata", "generateName"]))
        .unwrap_or_default();
    let namespace = (!CLUSTER_SCOPED.contains(&kind)).then(|| {
        str_at(&["metadata", "namespace"])
            .filter(|ns| !ns.is_empty())
            .unwrap_or_else(|| opts.default_namespace.clone())
    });
    let id = Arc::new(ObjectRef {
        api_version: api_version.to_string(),
        kind: kind.to_string(),
        namespace,
        name,
    });
    let node_span = tree.node(node);
    let mut obj = Object {
        id: Arc::clone(&id),
        file,
        span: Span::new(file, node_span.start, node_span.end),
        // Only a Service's own labels are read (the inventory's owner keys); a workload's pod
        // labels are in its view. Every object lives for the whole run, so the rest are not kept.
        labels: if kind == "Service" {
            string_map(tree, node, &["metadata", "labels"])
        } else {
            BTreeMap::new()
        },
        annotations: string_map(tree, node, &["metadata", "annotations"]),
        origin: None,
        view: View::Other,
        spans: SpanMap::default(),
        pointer,
    };
    obj.origin = origin(doc, &obj.annotations);
    let mut cx = Decoder {
        origin: obj.origin.clone(),
        file,
        tree,
        node,
        obj_pointer: &obj.pointer,
        budget: opts.alias_budget,
        id: &id,
        problems: &mut out.problems,
    };
    // Only what rules may point at: cloud evidence (`apiVersion`, annotations), suppression
    // annotations, and below the views that rules read.
    let mut subtrees: Vec<&str> = vec!["/apiVersion", "/metadata/annotations"];
    let group = api_version.split('/').next().unwrap_or_default();
    match (api_version, kind) {
        ("v1", "Service") => {
            subtrees.push("/metadata");
            subtrees.push("/spec");
            subtrees.push("/status");
            if let Some(mut svc) = cx.decode::<Service>("") {
                // Labels and annotations are kept once, on the object; every object is alive
                // for the whole run.
                svc.metadata = ObjectMeta::default();
                obj.view = View::Service(Box::new(svc));
            }
        }
        ("networking.k8s.io/v1", "NetworkPolicy") => {
            subtrees.push("/metadata");
            subtrees.push("/spec");
            if let Some(np) = cx.decode::<NetworkPolicy>("") {
                // The API server validates every selector of a policy and rejects the whole
                // policy if one is invalid, so each is checked and any failure drops the policy.
                let mut valid = true;
                for (path, sel) in policy::selectors(&np) {
                    valid &= cx.valid_selector(Some(sel), &path);
                }
                if valid {
                    let mut np = np;
                    np.metadata = ObjectMeta::default();
                    obj.view = View::Policy(Policy::Kubernetes(Box::new(np)));
                }
            }
        }
        (_, "CiliumNetworkPolicy" | "CiliumClusterwideNetworkPolicy") if group == "cilium.io" => {
            subtrees.push("/spec");
            subtrees.push("/specs");
            obj.view = View::Policy(Policy::Cilium {
                cluster_wide: kind == "CiliumClusterwideNetworkPolicy",
                rules: cilium_rules(&mut cx),
            });
        }
        _ => {
            if let Some(path) = pod_template_metadata(tree, node, kind) {
                let labels = if tree.lookup(node, &segments(path)).2 == segments(path).len() {
                    cx.decode::<ObjectMeta>(path)
                        .map(|m| m.labels.unwrap_or_default())
                } else {
                    Some(BTreeMap::new())
                };
                if let Some(labels) = labels {
                    subtrees.push(path);
                    obj.view = View::Workload {
                        labels: labels.into_iter().collect(),
                        pointer: path.to_string(),
                    };
                }
            }
        }
    }
    obj.spans = span_map(file, tree, node, &obj.pointer, &subtrees);
    out.objects.push(obj);
}

/// The Helm `# Source:` comment, else the Kustomize origin annotation.
fn origin(doc: &Document, annotations: &BTreeMap<String, String>) -> Option<Origin> {
    doc.helm_source
        .as_ref()
        .map(|(path, offset)| Origin {
            tool: "helm",
            path: path.clone(),
            offset: Some(*offset),
        })
        .or_else(|| {
            let origin = annotations.get("config.kubernetes.io/origin")?;
            let path = origin
                .lines()
                .find_map(|l| l.trim().strip_prefix("path:"))?;
            Some(Origin {
                tool: "kustomize",
                path: path.trim().to_string(),
                offset: None,
            })
        })
}

/// The pointer of the pod template's metadata, for kinds that have one.
fn pod_template_metadata(tree: &Tree, node: NodeId, kind: &str) -> Option<&'static str> {
    let has = |path: &[&str]| tree.lookup(node, path).2 == path.len();
    match kind {
        "Pod" => Some("/metadata"),
        "CronJob" => Some("/spec/jobTemplate/spec/template/metadata"),
        "PodTemplate" => Some("/template/metadata"),
        "Deployment"
        | "ReplicaSet"
        | "StatefulSet"
        | "DaemonSet"
        | "Job"
        | "ReplicationController" => Some("/spec/template/metadata"),
        _ if has(&["spec", "template", "spec", "containers"]) => Some("/spec/template/metadata"),
        _ => None,
    }
}

struct Decoder<'a> {
    file: FileId,
    tree: &'a Tree,
    node: NodeId,
    obj_pointer: &'a str,
    budget: usize,
    id: &'a Arc<ObjectRef>,
    origin: Option<Origin>,
    problems: &'a mut Vec<Problem>,
}

impl Decoder<'_> {
    /// Validates a selector; an invalid one is a problem at its bad expression.
    fn valid_selector(&mut self, sel: Option<&LabelSelector>, path: &str) -> bool {
        let Some(Err((message, i))) = sel.map(crate::selector::validate) else {
            return true;
        };
        let full = format!("{path}/matchExpressions/{i}/operator");
        let segs = segments(&full);
        let (n, _, depth) = self.tree.lookup(self.node, &segs);
        let node = self.tree.node(n);
        self.problems.push(Problem {
            origin: self.origin.clone(),
            span: Span::new(self.file, node.start, node.end),
            message: format!("{} has an invalid selector: {message}; the API server rejects it and it is not counted", self.id),
            object: Some(Arc::clone(self.id)),
            pointer: format!("{}{}", self.obj_pointer, join(&segs[..depth])),
        });
        false
    }

    /// Decodes `T` at `path` below the object; a failure becomes a problem at the failing node.
    fn decode<T: DeserializeOwned>(&mut self, path: &str) -> Option<T> {
        let segments = segments(path);
        let (start, _, depth) = self.tree.lookup(self.node, &segments);
        if depth < segments.len() {
            return None;
        }
        match decode::decode::<T>(self.tree, start, self.budget) {
            Ok(v) => Some(v),
            Err(e) => {
                let mut full = segments.clone();
                full.extend(e.path.iter().map(|s| Cow::Borrowed(s.as_str())));
                let (n, _, depth) = self.tree.lookup(self.node, &full);
                let node = self.tree.node(n);
                let shown: Vec<&str> = full[..depth].iter().map(AsRef::as_ref).collect();
                let field = if shown.is_empty() {
                    String::new()
                } else {
                    format!(" at `{}`", shown.join("."))
                };
                self.problems.push(Problem {
                    origin: self.origin.clone(),
                    span: Span::new(self.file, node.start, node.end),
                    message: format!("{} cannot be decoded{field}: {}", self.id, e.message),
                    object: Some(Arc::clone(self.id)),
                    pointer: format!("{}{}", self.obj_pointer, join(&full[..depth])),
                });
                None
            }
        }
    }
}

/// The rules of a Cilium policy (`spec` and every entry of `specs`) that select endpoints.
fn cilium_rules(cx: &mut Decoder<'_>) -> Vec<CiliumRule> {
    let tree = cx.tree;
    let mut paths = Vec::new();
    if let Some((_, spec)) = tree.get(cx.node, "spec") {
        paths.push(("/spec".to_string(), spec));
    }
    if let Some((_, specs)) = tree.get(cx.node, "specs") {
        for (i, &s) in tree.items(specs).iter().enumerate() {
            paths.push((format!("/specs/{i}"), s));
        }
    }
    let mut rules = Vec::new();
    for (path, spec) in paths {
        if tree.get(spec, "endpointSelector").is_none() {
            // A nodeSelector rule selects nodes, not pods.
            continue;
        }
        let Some(selector) = cx.decode::<LabelSelector>(&format!("{path}/endpointSelector")) else {
            continue;
        };
        if !cx.valid_selector(Some(&selector), &format!("{path}/endpointSelector")) {
            continue;
        }
        let non_empty = |key: &str| {
            tree.get(spec, key)
                .is_some_and(|(_, v)| !tree.items(v).is_empty())
        };
        let (n, _, depth) = tree.lookup(spec, &["enableDefaultDeny", "ingress"]);
        let default_deny_ingress = (depth == 2)
            .then(|| tree.scalar(n))
            .flatten()
            .and_then(|s| match crate::yaml::scalar::resolve(s, true) {
                crate::yaml::scalar::Typed::Bool(b) => Some(b),
                _ => None,
            });
        rules.push(CiliumRule {
            pointer: path,
            selector,
            has_ingress: non_empty("ingress") || non_empty("ingressDeny"),
            default_deny_ingress,
        });
    }
    rules
}

/// A mapping of strings read leniently (non-string values are left out; typed views report them).
fn string_map(tree: &Tree, node: NodeId, path: &[&str]) -> BTreeMap<String, String> {
    let (n, _, depth) = tree.lookup(node, path);
    if depth < path.len() {
        return BTreeMap::new();
    }
    tree.pairs(n)
        .filter_map(|(k, v)| Some((tree.key_string(k)?, tree.scalar(v)?.to_string())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{BuildLimits, parse};

    fn objects(text: &str) -> Classified {
        let (docs, _) = parse(text, BuildLimits { max_depth: 64 });
        let opts = ClassifyOptions {
            default_namespace: "default".into(),
            alias_budget: 10_000,
        };
        let mut all = Classified::default();
        for d in &docs {
            let c = classify(FileId(0), d, &opts);
            all.objects.extend(c.objects);
            all.problems.extend(c.problems);
            all.ignored += c.ignored;
        }
        all
    }

    #[test]
    fn list_items_are_objects_with_their_own_pointer() {
        let c = objects(
            "apiVersion: v1\nkind: ServiceList\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: a}\n",
        );
        assert_eq!(c.objects.len(), 1);
        assert_eq!(c.objects[0].pointer, "/items/0");
        assert_eq!(c.objects[0].id.to_string(), "Service default/a");
    }

    #[test]
    fn cluster_scoped_kinds_have_no_namespace() {
        let c = objects("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n");
        assert_eq!(c.objects[0].id.namespace, None);
    }

    #[test]
    fn decode_failure_points_at_the_failing_field() {
        let text = "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec:\n  ports:\n  - port: \"80\"\n";
        let c = objects(text);
        assert_eq!(c.problems.len(), 1);
        let p = &c.problems[0];
        assert_eq!(&text[p.span.start..p.span.end], "\"80\"");
        assert_eq!(p.pointer, "/spec/ports/0/port");
    }

    #[test]
    fn non_objects_are_counted_not_reported() {
        let c = objects("name: CI\non: push\n---\nfoo: bar\n");
        assert_eq!((c.objects.len(), c.problems.len(), c.ignored), (0, 0, 2));
    }

    #[test]
    fn cronjob_template_labels_are_read() {
        let c = objects(
            "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        metadata:\n          labels: {app: x}\n",
        );
        match &c.objects[0].view {
            View::Workload { labels, .. } => {
                assert_eq!(labels.get("app").map(String::as_str), Some("x"));
            }
            v => panic!("{v:?}"),
        }
    }
}
