//! Classification proper: type meta, identity, labels and annotations, the typed views rules
//! read, and decode failures as problems at the failing field.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::decoder::Decoder;
use super::span_map::span_map;
use super::{
    Classified, ClassifyOptions, IGNORE_ANNOTATION, IgnoreAnnotation, Object, Problem, ProblemKind,
    REASON_ANNOTATION, View,
};
use super::{gateway, policies, pools, workload};
use crate::finding::ObjectRef;
use crate::k8s::policy::{self, Policy};
use crate::source::{FileId, Origin, Span};
use crate::yaml::pointer::field_path;
use crate::yaml::scalar::Typed;
use crate::yaml::{Document, NodeId, Tree};

/// Kinds without a namespace (core and common extensions).
const CLUSTER_SCOPED: &[&str] = &[
    "APIService",
    "AdminNetworkPolicy",
    "BGPConfiguration",
    "BaselineAdminNetworkPolicy",
    "CiliumLoadBalancerIPPool",
    "ClusterInformation",
    "ClusterNetworkPolicy",
    "CSIDriver",
    "CSINode",
    "CertificateSigningRequest",
    "CiliumClusterwideNetworkPolicy",
    "ClusterIssuer",
    "ClusterRole",
    "ClusterRoleBinding",
    "ComponentStatus",
    "CustomResourceDefinition",
    "FelixConfiguration",
    "FlowSchema",
    "GatewayClass",
    "GlobalNetworkPolicy",
    "GlobalNetworkSet",
    "HostEndpoint",
    "IPPool",
    "IngressClass",
    "MutatingWebhookConfiguration",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PodSecurityPolicy",
    "PriorityClass",
    "PriorityLevelConfiguration",
    "RuntimeClass",
    "StagedGlobalNetworkPolicy",
    "StorageClass",
    "Tier",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
    "VolumeAttachment",
];

#[allow(clippy::too_many_arguments)]
pub(super) fn object(
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
    // The identity as written, for messages; the decoded metadata below is what counts.
    let str_at = |path: &[&str]| {
        let (n, _, depth) = tree.lookup(node, path);
        (depth == path.len())
            .then(|| tree.scalar(n))
            .flatten()
            .map(str::to_string)
    };
    let written = ObjectRef {
        api_version: api_version.to_string(),
        kind: kind.to_string(),
        namespace: (!CLUSTER_SCOPED.contains(&kind)).then(|| {
            str_at(&["metadata", "namespace"])
                .filter(|ns| !ns.is_empty())
                .unwrap_or_else(|| opts.default_namespace.clone())
        }),
        name: str_at(&["metadata", "name"])
            .or_else(|| str_at(&["metadata", "generateName"]))
            .unwrap_or_default(),
    };
    let id = Arc::new(written);
    let problems = out.problems.len();
    let ignores = out.ignores.len();
    ignore_annotation(file, tree, node, &id, &mut out.ignores);
    let origin = origin(doc, tree, node);
    let mut cx = Decoder {
        origin: origin.clone(),
        file,
        tree,
        node,
        obj_pointer: &pointer,
        budget: opts.alias_budget,
        version: opts.kubernetes.version,
        id: &id,
        problems: &mut out.problems,
    };
    // A kind or version no API serves: kubectl cannot map the object to a resource and fails
    // it (the rest of the file is still applied).
    if let Err(u) = opts.kubernetes.serves(api_version, kind) {
        let (n, _, _) = tree.lookup(node, &[u.field]);
        let v = tree.node(n);
        let value = if u.field == "kind" { kind } else { api_version };
        let written = if value.is_empty() {
            format!("no `{}`", u.field)
        } else {
            format!("`{}: {}`", u.field, shown(value))
        };
        out.problems.push(Problem {
            kind: ProblemKind::Invalid,
            span: Span::new(file, v.start, v.end),
            origin: origin.clone(),
            message: format!(
                "{id} has {written}, and no API serves it: {} (kubectl: `{}`); it is not counted",
                u.why, u.kubectl
            ),
            object: Some(Arc::clone(&id)),
            pointer: format!("{pointer}/{}", u.field),
            help: Some(u.meant.map_or_else(
                || "Correct the `apiVersion` and `kind`: kubectl maps them to an API exactly, case and blanks included.".to_string(),
                |m| format!("Write `{m}`: kubectl maps `apiVersion` and `kind` to an API exactly, case and blanks included."),
            )),
        });
        return;
    }
    // An API version the cluster no longer serves: kubectl cannot map the kind at all.
    if let Some(r) = opts.kubernetes.removed(api_version, kind) {
        let (n, _, _) = tree.lookup(node, &["apiVersion"]);
        let v = tree.node(n);
        out.problems.push(Problem {
            kind: ProblemKind::Invalid,
            span: Span::new(file, v.start, v.end),
            origin: origin.clone(),
            message: format!(
                "{id} uses `apiVersion: {api_version}`, which Kubernetes {} does not serve (removed in {}; kubectl fails with `no matches for kind \"{kind}\" in version \"{api_version}\"`); it is not counted",
                opts.kubernetes.version, r.removed
            ),
            object: Some(Arc::clone(&id)),
            pointer: format!("{pointer}/apiVersion"),
            help: Some(format!("Use `apiVersion: {}`.", r.instead)),
        });
        return;
    }
    // Only what rules may point at: cloud evidence (`apiVersion`, annotations), suppression
    // annotations, and below the views that rules read.
    let mut subtrees: Vec<&str> = vec!["/apiVersion", "/metadata/annotations"];
    let mut metadata = None;
    let view = match (api_version, kind) {
        ("v1", "Service") => {
            subtrees.extend(["/metadata", "/spec", "/status"]);
            cx.decode::<Service>("").map(|mut svc| {
                // Labels and annotations are kept once, on the object; every object is alive
                // for the whole run.
                metadata = Some(std::mem::take(&mut svc.metadata));
                View::Service(Box::new(svc))
            })
        }
        ("networking.k8s.io/v1", "NetworkPolicy") => {
            subtrees.extend(["/metadata", "/spec"]);
            cx.decode::<NetworkPolicy>("").and_then(|mut np| {
                // The API server validates every selector of a policy and rejects the whole
                // policy if one is invalid, so each is checked and any failure drops the policy.
                let mut valid = true;
                for (path, sel) in policy::selectors(&np) {
                    valid &= cx.valid_selector(Some(sel), &path);
                }
                let types = np.spec.as_ref().and_then(|s| s.policy_types.as_ref());
                for (i, t) in types.into_iter().flatten().enumerate() {
                    if t != "Ingress" && t != "Egress" {
                        cx.problem_at(
                            &format!("/spec/policyTypes/{i}"),
                            &format!("has policyTypes entry `{t}`, which the API server rejects (`Unsupported value`: it takes \"Ingress\" and \"Egress\"); the policy is not counted"),
                        );
                        valid = false;
                    }
                }
                for (pointer, field, why) in policy::rejected_parts(&np) {
                    cx.problem_at(
                        &pointer,
                        &format!("has `{field}` that the API server rejects ({why}); the policy is not counted"),
                    );
                    valid = false;
                }
                metadata = Some(std::mem::take(&mut np.metadata));
                valid.then(|| View::Policy(Policy::Kubernetes(Box::new(np))))
            })
        }
        ("v1", "Namespace") => {
            let meta = cx.decode::<ObjectMeta>("/metadata");
            let labels = meta
                .as_ref()
                .and_then(|m| m.labels.clone())
                .unwrap_or_default();
            metadata = meta;
            Some(View::Namespace(labels))
        }
        (av, "Gateway") if av.starts_with("gateway.networking.k8s.io/") => {
            subtrees.extend([
                "/spec/addresses",
                "/spec/listeners",
                "/spec/infrastructure/annotations",
            ]);
            gateway::read(&mut cx).map(|g| View::Gateway(Box::new(g)))
        }
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition") => Some(crd(tree, node)),
        ("projectcalico.org/v3" | "crd.projectcalico.org/v1", "Tier") => {
            let (n, _, depth) = tree.lookup(node, &["spec", "defaultAction"]);
            let pass = depth == 2 && tree.scalar(n) == Some("Pass");
            Some(View::CalicoTier { pass })
        }
        _ => {
            if let Some(p) = pools::pool(
                api_version,
                kind,
                &id.name,
                id.namespace.as_deref(),
                tree,
                node,
            ) {
                subtrees.extend(["/spec", "/data"]);
                // A pool with an entry that is no range is refused (the CRD's `format: cidr`,
                // or the controller's webhook): what it holds is unknown, and rules that
                // compare addresses with the implementation's pools abstain.
                for (text, path) in &p.unreadable {
                    cx.problem_at(
                        path,
                        &format!(
                            "has `{text}` where an address range belongs (a placeholder not replaced?): the API server or {} refuses the pool, and addresses are not compared with {}'s pools while it cannot be read",
                            p.implementation.name(),
                            p.implementation.name()
                        ),
                    );
                }
                Some(View::AddressPool(Box::new(p)))
            } else {
                match policies::policy(&mut cx, api_version, kind) {
                    policies::Read::Policy(p) => {
                        subtrees.extend(["/spec", "/specs"]);
                        Some(View::Policy(p))
                    }
                    policies::Read::Rejected => None,
                    policies::Read::NotAPolicy => match pod_template_metadata(tree, node, kind) {
                        Some(path) => workload::read(&mut cx, kind, path).map(|w| {
                            subtrees.push(path);
                            View::Workload(Box::new(w))
                        }),
                        None => Some(View::Other),
                    },
                }
            }
        }
    };
    // Every object's metadata is validated as the API server does (a Service's and a policy's
    // came with the whole object).
    let whole = matches!(
        (api_version, kind),
        ("v1", "Service" | "Namespace") | ("networking.k8s.io/v1", "NetworkPolicy")
    );
    if !whole && tree.lookup(node, &["metadata"]).2 == 1 {
        metadata = cx.decode::<ObjectMeta>("/metadata");
    }
    // Fields the newest API has that the target's does not (yet).
    if whole {
        for (field, added) in crate::k8s::kubernetes::fields_not_yet(kind, opts.kubernetes.version)
        {
            for key in present(tree, node, field) {
                let written = field_path(&cx.path_to(key));
                cx.problem(
                    key,
                    format!(
                        "{id} has field \"{written}\", which Kubernetes {} does not have (added in 1.{added}); the API server rejects it (strict field validation) and it is not counted",
                        opts.kubernetes.version
                    ),
                );
            }
        }
    }
    // An object the API server rejects is not one the cluster has: it counts for nothing (its
    // suppression annotation still applies to the findings about it).
    if out.problems.len() > problems {
        return;
    }
    let Some(view) = view else { return };
    let metadata = metadata.unwrap_or_default();
    if let Some(value) = templated(&metadata, &view) {
        let n = tree.node(node);
        out.problems.push(Problem {
            kind: ProblemKind::Template,
            span: Span::new(file, n.start, n.start),
            origin,
            message: format!("{id} holds unrendered template syntax (`{value}`)"),
            object: Some(id),
            pointer,
            help: None,
        });
        return;
    }
    let id = Arc::new(ObjectRef {
        name: metadata
            .name
            .clone()
            .or_else(|| metadata.generate_name.clone())
            .unwrap_or_default(),
        namespace: (!CLUSTER_SCOPED.contains(&kind)).then(|| {
            metadata
                .namespace
                .clone()
                .filter(|ns| !ns.is_empty())
                .unwrap_or_else(|| opts.default_namespace.clone())
        }),
        ..Arc::unwrap_or_clone(id)
    });
    let namespace_defaulted =
        !CLUSTER_SCOPED.contains(&kind) && metadata.namespace.as_deref().is_none_or(str::is_empty);
    for ignore in &mut out.ignores[ignores..] {
        ignore.object = Arc::clone(&id);
    }
    let node_span = tree.node(node);
    let spans = span_map(file, tree, node, &pointer, &subtrees);
    out.objects.push(Object {
        id,
        file,
        span: Span::new(file, node_span.start, node_span.end),
        // Only a Service's own labels are read (the inventory's owner keys); a workload's pod
        // labels are in its view. Every object lives for the whole run, so the rest are not kept.
        labels: if kind == "Service" {
            metadata.labels.unwrap_or_default()
        } else {
            BTreeMap::new()
        },
        annotations: metadata.annotations.unwrap_or_default(),
        namespace_defaulted,
        origin: origin.map(Box::new),
        view,
        spans,
        pointer,
    });
}

/// The group, kind and served versions a `CustomResourceDefinition` defines (read as written;
/// the API server validates the rest).
fn crd(tree: &Tree, node: NodeId) -> View {
    let text = |n: NodeId, path: &[&str]| {
        let (v, _, depth) = tree.lookup(n, path);
        (depth == path.len())
            .then(|| tree.scalar(v))
            .flatten()
            .unwrap_or_default()
            .to_string()
    };
    let (versions, _, depth) = tree.lookup(node, &["spec", "versions"]);
    let served = if depth == 2 {
        tree.items(versions)
    } else {
        &[]
    }
    .iter()
    .filter(|&&v| {
        let (s, _, depth) = tree.lookup(v, &["served"]);
        depth == 1 && tree.typed(s) == Some(Typed::Bool(true))
    })
    .map(|&v| text(v, &["name"]))
    .collect();
    View::Crd(Box::new(super::Crd {
        group: text(node, &["spec", "group"]),
        kind: text(node, &["spec", "names", "kind"]),
        served,
    }))
}

/// A value as YAML would need it written to read back the same: quoted when it has blanks
/// around it or is empty.
fn shown(value: &str) -> String {
    if value.trim() == value && !value.is_empty() {
        value.to_string()
    } else {
        format!("{value:?}")
    }
}

/// A value where Kubernetes wants a name, label or address that is still template syntax
/// (`{{ .Values.ns }}` quoted, `etcd-{{cell}}`, `${NAMESPACE}`): the document is a template,
/// not a manifest.
fn templated<'a>(meta: &'a ObjectMeta, view: &'a View) -> Option<&'a str> {
    let is_template = |s: &&str| s.contains("{{") || s.contains("${");
    let labels = |m: Option<&'a BTreeMap<String, String>>| {
        m.into_iter()
            .flatten()
            .flat_map(|(k, v)| [k.as_str(), v.as_str()])
    };
    let names = [&meta.name, &meta.generate_name, &meta.namespace]
        .into_iter()
        .filter_map(|s| s.as_deref());
    let viewed: Vec<&str> = match view {
        View::Service(svc) => svc
            .spec
            .iter()
            .flat_map(|s| {
                labels(s.selector.as_ref())
                    .chain(s.external_ips.iter().flatten().map(String::as_str))
                    .chain(s.load_balancer_ip.as_deref())
            })
            .collect(),
        View::Workload(w) => labels(Some(&w.labels)).collect(),
        View::Gateway(g) => g
            .addresses
            .iter()
            .filter_map(|a| a.value.as_deref())
            .collect(),
        _ => Vec::new(),
    };
    // The load-balancer annotations that request addresses.
    let requested = meta.annotations.iter().flatten().filter_map(|(k, v)| {
        crate::k8s::implementation::ADDRESS_ANNOTATIONS
            .iter()
            .any(|a| a.key == k)
            .then_some(v.as_str())
    });
    names
        .chain(labels(meta.labels.as_ref()))
        .chain(requested)
        .chain(viewed)
        .find(is_template)
}

/// Records the object's `extip-lint.io/ignore` annotation, read as written.
fn ignore_annotation(
    file: FileId,
    tree: &Tree,
    node: NodeId,
    id: &Arc<ObjectRef>,
    out: &mut Vec<IgnoreAnnotation>,
) {
    let annotation = |key: &str| {
        let (n, _, depth) = tree.lookup(node, &["metadata", "annotations", key]);
        (depth == 3)
            .then(|| tree.scalar(n).map(|s| (n, s.to_string())))
            .flatten()
    };
    let Some((n, codes)) = annotation(IGNORE_ANNOTATION) else {
        return;
    };
    let v = tree.node(n);
    out.push(IgnoreAnnotation {
        object: Arc::clone(id),
        codes,
        reason: annotation(REASON_ANNOTATION).map(|(_, r)| r),
        span: Span::new(file, v.start, v.end),
    });
}

/// The Helm `# Source:` comment, else the Kustomize origin annotation.
pub(super) fn origin(doc: &Document, tree: &Tree, node: NodeId) -> Option<Origin> {
    if let Some((path, offset)) = &doc.helm_source {
        return Some(Origin {
            tool: "helm",
            path: path.clone(),
            offset: Some(*offset),
            patched_in: Vec::new(),
        });
    }
    let (n, _, depth) = tree.lookup(
        node,
        &["metadata", "annotations", "config.kubernetes.io/origin"],
    );
    let origin = (depth == 3).then(|| tree.scalar(n)).flatten()?;
    let path = origin
        .lines()
        .find_map(|l| l.trim().strip_prefix("path:"))?;
    // `alpha.config.kubernetes.io/transformations`: a YAML list of `{configuredIn,
    // configuredBy: {kind}}`; the patch transformers name the kustomizations with patches.
    let (t, _, depth) = tree.lookup(
        node,
        &[
            "metadata",
            "annotations",
            "alpha.config.kubernetes.io/transformations",
        ],
    );
    let mut patched_in = Vec::new();
    if depth == 3
        && let Some(text) = tree.scalar(t)
    {
        let (docs, _) = crate::yaml::parse(text, crate::yaml::BuildLimits { max_depth: 16 });
        if let Some(d) = docs.first() {
            let dt = &d.tree;
            for &item in dt.items(d.root) {
                let kind = dt.lookup(item, &["configuredBy", "kind"]);
                let is_patch =
                    kind.2 == 2 && dt.scalar(kind.0).is_some_and(|k| k.starts_with("Patch"));
                if let (true, Some((_, v))) = (is_patch, dt.get(item, "configuredIn"))
                    && let Some(k) = dt.scalar(v)
                    && !patched_in.iter().any(|p| p == k)
                {
                    patched_in.push(k.to_string());
                }
            }
        }
    }
    Some(Origin {
        tool: "kustomize",
        path: path.trim().to_string(),
        offset: None,
        patched_in,
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

/// The key nodes at `field` (`spec.ports[].appProtocol`, `[]` for every index) below `node`.
fn present(tree: &Tree, node: NodeId, field: &str) -> Vec<NodeId> {
    let mut at = vec![(node, None)];
    for part in field.split('.') {
        let (key, each) = match part.strip_suffix("[]") {
            Some(k) => (k, true),
            None => (part, false),
        };
        let mut next = Vec::new();
        for (n, _) in at {
            if let Some((k, v)) = tree.get(n, key) {
                if each {
                    next.extend(tree.items(v).iter().map(|&i| (i, Some(k))));
                } else {
                    next.push((v, Some(k)));
                }
            }
        }
        at = next;
    }
    if field.ends_with("[]") {
        return Vec::new();
    }
    at.into_iter().filter_map(|(_, k)| k).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::document::classify;
    use crate::yaml::{BuildLimits, parse};

    fn objects(text: &str) -> Classified {
        let (docs, _) = parse(text, BuildLimits { max_depth: 64 });
        let opts = ClassifyOptions {
            default_namespace: "default".into(),
            alias_budget: 10_000,
            kubernetes: crate::k8s::kubernetes::Target::default(),
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
            View::Workload(w) => {
                assert_eq!(w.labels.get("app").map(String::as_str), Some("x"));
                assert_eq!(
                    w.controller,
                    crate::object::workload::Controller::CronJob { name: "c".into() }
                );
            }
            v => panic!("{v:?}"),
        }
    }
}
