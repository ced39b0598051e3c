//! Classify stage: a YAML document -> Kubernetes objects with typed views.
//!
//! A document with `apiVersion` and `kind` is an object; the items of `List` and `*List` kinds
//! are objects. Only what the rules read is decoded: whole Services and `NetworkPolicies`, Cilium
//! policies' selectors and pod templates' metadata. Each object keeps the spans of those
//! subtrees, so its document's tree can be dropped afterwards.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::de::DeserializeOwned;

use crate::finding::ObjectRef;
use crate::source::{FileId, Span};
use crate::yaml::{Document, NodeId, NodeKind, Tree, decode};

/// Where an object came from before it was rendered into this file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `helm` or `kustomize`.
    pub tool: &'static str,
    pub path: String,
    /// For Helm output: byte offset of the first line after the `# Source:` comment.
    pub offset: Option<usize>,
}

/// A Cilium rule's view: which endpoints it selects and whether it enforces on ingress.
#[derive(Debug, Clone)]
pub struct CiliumRule {
    pub pointer: String,
    pub selector: LabelSelector,
    pub has_ingress: bool,
    pub default_deny_ingress: Option<bool>,
}

#[derive(Debug, Clone)]
pub enum View {
    Service(Box<Service>),
    NetworkPolicy(Box<NetworkPolicy>),
    /// `CiliumNetworkPolicy` or `CiliumClusterwideNetworkPolicy` (`cluster_wide`).
    Cilium {
        cluster_wide: bool,
        rules: Vec<CiliumRule>,
    },
    /// An object with a pod template; `pointer` is the template's `metadata`.
    Workload {
        labels: BTreeMap<String, String>,
        pointer: String,
    },
    Other,
}

/// Spans of the nodes rules may point at, by JSON pointer from the document root.
/// Kept compact (every object holds one for the whole run): all pointers in one string, offsets
/// as `u32` (files are far below 4 GiB, see `max-file-size`), the file once.
#[derive(Debug, Clone, Default)]
pub struct SpanMap {
    file: FileId,
    /// The pointers, sorted, one after the other.
    pointers: Box<str>,
    /// For each pointer: its end in `pointers`, then key start/end (equal to the value's for
    /// sequence items) and value start/end.
    entries: Box<[[u32; 5]]>,
}

impl SpanMap {
    /// Builds the map from unsorted `(pointer, [key start, key end, value start, value end])`.
    fn new(file: FileId, mut spans: Vec<(String, [u32; 4])>) -> SpanMap {
        spans.sort_by(|a, b| a.0.cmp(&b.0));
        spans.dedup_by(|a, b| a.0 == b.0);
        let mut pointers = String::with_capacity(spans.iter().map(|s| s.0.len()).sum());
        let entries = spans
            .iter()
            .map(|(p, [ks, ke, vs, ve])| {
                pointers.push_str(p);
                [pointers.len() as u32, *ks, *ke, *vs, *ve]
            })
            .collect();
        SpanMap {
            file,
            pointers: pointers.into_boxed_str(),
            entries,
        }
    }

    /// The value span at `pointer`, or the nearest ancestor's.
    #[must_use]
    pub fn value(&self, pointer: &str) -> Span {
        let e = self.find(pointer);
        Span::new(self.file, e[3] as usize, e[4] as usize)
    }

    /// The key span of the entry at `pointer` (its value span for sequence items), or the
    /// nearest ancestor's.
    #[must_use]
    pub fn key(&self, pointer: &str) -> Span {
        let e = self.find(pointer);
        Span::new(self.file, e[1] as usize, e[2] as usize)
    }

    fn pointer(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.entries[i - 1][0] };
        &self.pointers[start as usize..self.entries[i][0] as usize]
    }

    fn find(&self, mut pointer: &str) -> [u32; 5] {
        let Some(&root) = self.entries.first() else {
            return [0; 5];
        };
        loop {
            let (mut lo, mut hi) = (0, self.entries.len());
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                match self.pointer(mid).cmp(pointer) {
                    std::cmp::Ordering::Less => lo = mid + 1,
                    std::cmp::Ordering::Greater => hi = mid,
                    std::cmp::Ordering::Equal => return self.entries[mid],
                }
            }
            match pointer.rfind('/') {
                Some(i) => pointer = &pointer[..i],
                // The object's own pointer is a prefix of every other, so it sorts first.
                None => return root,
            }
        }
    }
}

/// A Kubernetes object found in the input.
#[derive(Debug, Clone)]
pub struct Object {
    pub id: Arc<ObjectRef>,
    pub file: FileId,
    /// Pointer of the object in its document: empty, or `/items/N` for List items.
    pub pointer: String,
    pub span: Span,
    /// `metadata.labels`, kept for Services only.
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub origin: Option<Origin>,
    pub view: View,
    pub spans: SpanMap,
}

impl Object {
    /// Span of the value at `path` below the object (`/spec/externalIPs/0`).
    #[must_use]
    pub fn value_span(&self, path: &str) -> Span {
        self.spans.value(&format!("{}{path}", self.pointer))
    }

    /// Span of the key at `path` below the object.
    #[must_use]
    pub fn key_span(&self, path: &str) -> Span {
        self.spans.key(&format!("{}{path}", self.pointer))
    }

    /// Full pointer from the document root.
    #[must_use]
    pub fn pointer_to(&self, path: &str) -> String {
        format!("{}{path}", self.pointer)
    }
}

/// A problem with a document that makes it invalid for the API server.
#[derive(Debug, Clone)]
pub struct Problem {
    pub span: Span,
    pub origin: Option<Origin>,
    pub message: String,
    pub object: Option<Arc<ObjectRef>>,
    pub pointer: String,
}

/// What classification needs from the settings.
#[derive(Debug, Clone)]
pub struct ClassifyOptions {
    pub default_namespace: String,
    pub alias_budget: usize,
}

/// The result of classifying one document.
#[derive(Debug, Default)]
pub struct Classified {
    pub objects: Vec<Object>,
    pub problems: Vec<Problem>,
    /// Documents that are not Kubernetes objects (values files, CI workflows, ...).
    pub ignored: usize,
}

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
                for (path, sel) in policy_selectors(&np) {
                    valid &= cx.valid_selector(Some(sel), &path);
                }
                if valid {
                    let mut np = np;
                    np.metadata = ObjectMeta::default();
                    obj.view = View::NetworkPolicy(Box::new(np));
                }
            }
        }
        (_, "CiliumNetworkPolicy" | "CiliumClusterwideNetworkPolicy") if group == "cilium.io" => {
            subtrees.push("/spec");
            subtrees.push("/specs");
            obj.view = View::Cilium {
                cluster_wide: kind == "CiliumClusterwideNetworkPolicy",
                rules: cilium_rules(&mut cx),
            };
        }
        _ => {
            if let Some(path) = pod_template_metadata(tree, node, kind) {
                let labels =
                    if tree.lookup(node, &path_segments(path)).2 == path_segments(path).len() {
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

fn path_segments(path: &str) -> Vec<Cow<'_, str>> {
    path.split('/').skip(1).map(unescape).collect()
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
        let segs = path_segments(&full);
        let (n, _, depth) = self.tree.lookup(self.node, &segs);
        let node = self.tree.node(n);
        self.problems.push(Problem {
            origin: self.origin.clone(),
            span: Span::new(self.file, node.start, node.end),
            message: format!("{} has an invalid selector: {message}; the API server rejects it and it is not counted", self.id),
            object: Some(Arc::clone(self.id)),
            pointer: format!("{}{}", self.obj_pointer, to_pointer(&segs[..depth])),
        });
        false
    }

    /// Decodes `T` at `path` below the object; a failure becomes a problem at the failing node.
    fn decode<T: DeserializeOwned>(&mut self, path: &str) -> Option<T> {
        let segments = path_segments(path);
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
                    pointer: format!("{}{}", self.obj_pointer, to_pointer(&full[..depth])),
                });
                None
            }
        }
    }
}

/// Every label selector of a `NetworkPolicy`, with its pointer.
fn policy_selectors(np: &NetworkPolicy) -> Vec<(String, &LabelSelector)> {
    let mut out = Vec::new();
    let Some(spec) = &np.spec else { return out };
    if let Some(s) = &spec.pod_selector {
        out.push(("/spec/podSelector".to_string(), s));
    }
    let ingress = spec
        .ingress
        .iter()
        .flatten()
        .map(|r| r.from.as_deref().unwrap_or_default());
    let egress = spec
        .egress
        .iter()
        .flatten()
        .map(|r| r.to.as_deref().unwrap_or_default());
    for (dir, peers_key, rules) in [
        ("ingress", "from", ingress.collect::<Vec<_>>()),
        ("egress", "to", egress.collect()),
    ] {
        for (i, peers) in rules.iter().enumerate() {
            for (j, peer) in peers.iter().enumerate() {
                if let Some(s) = &peer.pod_selector {
                    out.push((format!("/spec/{dir}/{i}/{peers_key}/{j}/podSelector"), s));
                }
                if let Some(s) = &peer.namespace_selector {
                    out.push((
                        format!("/spec/{dir}/{i}/{peers_key}/{j}/namespaceSelector"),
                        s,
                    ));
                }
            }
        }
    }
    out
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

/// Joins segments into a JSON pointer.
fn to_pointer<S: AsRef<str>>(segments: &[S]) -> String {
    segments
        .iter()
        .fold(String::new(), |out, s| child(&out, &escape(s.as_ref())))
}

/// `pointer` with one more, already escaped, segment.
fn child(pointer: &str, segment: &str) -> String {
    let mut out = String::with_capacity(pointer.len() + segment.len() + 1);
    out.push_str(pointer);
    out.push('/');
    out.push_str(segment);
    out
}

/// Escapes a JSON pointer segment.
#[must_use]
pub fn escape(s: &str) -> Cow<'_, str> {
    if s.contains(['~', '/']) {
        Cow::Owned(s.replace('~', "~0").replace('/', "~1"))
    } else {
        Cow::Borrowed(s)
    }
}

fn unescape(s: &str) -> Cow<'_, str> {
    if s.contains('~') {
        Cow::Owned(s.replace("~1", "/").replace("~0", "~"))
    } else {
        Cow::Borrowed(s)
    }
}

/// Rules point at most 9 segments below an object
/// (`/spec/ingress/0/from/0/podSelector/matchExpressions/0/operator`). Deeper nodes, keys longer
/// than any Kubernetes key (317 characters), anything past a per-object total, and alias
/// expansions past a small budget fall back to their nearest recorded ancestor. Without these
/// bounds a deeply nested, long-keyed or alias-expanded document would cost memory far beyond
/// its size, for the whole run.
const MAX_POINTER_SEGMENTS: usize = 16;
const MAX_POINTER_LEN: usize = 512;
const MAX_POINTER_BYTES: usize = 1 << 20;
/// Nodes recorded through aliases, per object: a shared list of addresses is pointed at where it
/// is written, an alias bomb is not expanded.
const MAX_ALIASED_NODES: usize = 256;

/// Records the spans of the nodes under the given subtrees of the object (see the bounds above).
fn span_map(file: FileId, tree: &Tree, node: NodeId, base: &str, subtrees: &[&str]) -> SpanMap {
    let mut entries: Vec<(String, [u32; 4])> = Vec::new();
    let root = tree.node(node);
    let (rs, re) = (root.start as u32, root.end as u32);
    entries.push((base.into(), [rs, re, rs, re]));
    let mut bytes = 0;
    let mut aliased = MAX_ALIASED_NODES;
    for sub in subtrees {
        let segs = path_segments(sub);
        let (n, key, depth) = tree.lookup(node, &segs);
        if depth < segs.len() {
            continue;
        }
        let mut stack = vec![(n, key, format!("{base}{sub}"), segs.len(), false)];
        while let Some((n, key, pointer, depth, via_alias)) = stack.pop() {
            if bytes > MAX_POINTER_BYTES {
                break;
            }
            let via_alias = via_alias || matches!(tree.node(n).kind, NodeKind::Alias(_));
            if via_alias {
                if aliased == 0 {
                    continue;
                }
                aliased -= 1;
            }
            bytes += pointer.len();
            let v = tree.node(n);
            let (vs, ve) = (v.start as u32, v.end as u32);
            let (ks, ke) = key.map_or((vs, ve), |k| {
                let k = tree.node(k);
                (k.start as u32, k.end as u32)
            });
            let deeper = depth < MAX_POINTER_SEGMENTS;
            let r = tree.resolve(n);
            match tree.node(r).kind {
                NodeKind::Map { .. } if deeper => {
                    for (k, v) in tree.pairs(r) {
                        if let Some(ks) = tree.key(k) {
                            let ks = escape(&ks);
                            if pointer.len() + ks.len() < MAX_POINTER_LEN {
                                let p = child(&pointer, &ks);
                                stack.push((v, Some(k), p, depth + 1, via_alias));
                            }
                        }
                    }
                }
                NodeKind::Seq { .. } if deeper => {
                    for (i, &item) in tree.items(r).iter().enumerate() {
                        let p = child(&pointer, &i.to_string());
                        stack.push((item, None, p, depth + 1, via_alias));
                    }
                }
                _ => {}
            }
            entries.push((pointer, [ks, ke, vs, ve]));
        }
    }
    SpanMap::new(file, entries)
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
    fn span_map_finds_the_pointer_or_its_nearest_ancestor() {
        let m = SpanMap::new(
            FileId(3),
            vec![
                ("/items/0/spec/a".into(), [10, 11, 12, 13]),
                ("/items/0".into(), [0, 99, 0, 99]),
                ("/items/0/spec".into(), [5, 9, 5, 40]),
                ("/items/0/spec/ab".into(), [20, 22, 24, 26]),
            ],
        );
        assert_eq!(m.value("/items/0/spec/a"), Span::new(FileId(3), 12, 13));
        assert_eq!(m.key("/items/0/spec/ab"), Span::new(FileId(3), 20, 22));
        assert_eq!(m.value("/items/0/spec/abc/7"), Span::new(FileId(3), 5, 40));
        assert_eq!(m.value("/items/0/status"), Span::new(FileId(3), 0, 99));
        assert_eq!(m.value("/other"), Span::new(FileId(3), 0, 99));
    }

    #[test]
    fn span_maps_stay_small_for_deep_long_keyed_or_aliased_documents() {
        use std::fmt::Write as _;

        let deep = format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: a}}\nspec:\n  externalIPs: [1.2.3.4]\n  x: {}{}\n",
            "[".repeat(60),
            "]".repeat(60)
        );
        let long = format!(
            // An explicit key: implicit ones may not be longer than 1024 characters.
            "apiVersion: v1\nkind: Service\nmetadata: {{name: a}}\nspec:\n  externalIPs: [1.2.3.4]\n  ? {}\n  : {{a: [1, 2, 3]}}\n",
            "k".repeat(5000)
        );
        let mut bomb = String::from(
            "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nx0: &a0 [x, x, x, x, x, x, x, x]\n",
        );
        for i in 1..6 {
            let refs = vec![format!("*a{}", i - 1); 8].join(", ");
            let _ = writeln!(bomb, "x{i}: &a{i} [{refs}]");
        }
        bomb.push_str("spec:\n  externalIPs: [1.2.3.4]\n  x: *a5\n");
        for text in [deep, long, bomb] {
            let o = &objects(&text).objects[0];
            let ip = o.value_span("/spec/externalIPs/0");
            assert_eq!(&text[ip.start..ip.end], "1.2.3.4");
            assert!(
                o.spans.entries.len() < 40 + MAX_ALIASED_NODES,
                "{}",
                o.spans.entries.len()
            );
            assert!(o.spans.pointers.len() < 8192, "{}", o.spans.pointers.len());
        }
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
