//! The policy kinds beyond Kubernetes `NetworkPolicy`, read into `policy::Policy` views:
//! Cilium, Calico, the AdminNetworkPolicy family, and the kinds recognised but not evaluated.
//!
//! Each custom resource is decoded with the fields its published CRD schema declares at the
//! levels the rules read (rule bodies below them are kept opaque), so a misspelt field is an
//! unknown field, as kubectl's strict field validation makes the API server reject it.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde::Deserialize;
use serde::de::IgnoredAny;

use super::decoder::Decoder;
use crate::k8s::calico;
use crate::k8s::policy::{
    CalicoPolicy, CiliumRule, ClusterPolicy, Openness, Policy, Subject, calico_default_types,
    spans_a_family,
};

/// What reading an object as a policy gave.
pub(super) enum Read {
    /// The kind is not a policy kind.
    NotAPolicy,
    /// A policy the API server rejects (the problem is on the decoder).
    Rejected,
    Policy(Policy),
}

/// The view of a policy kind, if `(api_version, kind)` is one. A decode failure is a problem on
/// `cx`.
pub(super) fn policy(cx: &mut Decoder<'_>, api_version: &str, kind: &str) -> Read {
    let group = api_version.split('/').next().unwrap_or_default();
    let view = match (group, kind) {
        ("cilium.io", "CiliumNetworkPolicy" | "CiliumClusterwideNetworkPolicy") => {
            cilium(cx, kind == "CiliumClusterwideNetworkPolicy")
        }
        ("projectcalico.org" | "crd.projectcalico.org", "NetworkPolicy") => calico(cx, false),
        ("projectcalico.org" | "crd.projectcalico.org", "GlobalNetworkPolicy") => calico(cx, true),
        (
            "projectcalico.org" | "crd.projectcalico.org",
            "StagedNetworkPolicy" | "StagedGlobalNetworkPolicy" | "StagedKubernetesNetworkPolicy",
        ) => Some(Policy::Unevaluated(
            "is a staged Calico policy, which previews and does not enforce",
        )),
        ("policy.networking.k8s.io", "AdminNetworkPolicy" | "BaselineAdminNetworkPolicy")
            if api_version.ends_with("/v1alpha1") =>
        {
            let tier = if kind == "AdminNetworkPolicy" {
                "Admin"
            } else {
                "Baseline"
            };
            admin(cx, Some(tier))
        }
        ("policy.networking.k8s.io", "ClusterNetworkPolicy") => admin(cx, None),
        ("crd.antrea.io", "NetworkPolicy" | "ClusterNetworkPolicy") => Some(Policy::Unevaluated(
            "is an Antrea policy, which extip-lint does not evaluate",
        )),
        ("security.istio.io", "AuthorizationPolicy") => Some(Policy::Unevaluated(
            "is an Istio AuthorizationPolicy, enforced by the mesh proxy, which extip-lint does not evaluate",
        )),
        // Gateway API policy attachments (`spec.targetRef(s)`: GKE's HealthCheckPolicy and
        // GCPBackendPolicy, BackendTLSPolicy, ...) configure a Service or route; they select no pods.
        (g, k)
            if (k.ends_with("NetworkPolicy")
                || (k.ends_with("Policy") && g.contains("network")))
                && !["targetRef", "targetRefs"]
                    .iter()
                    .any(|t| cx.tree.lookup(cx.node, &["spec", t]).2 == 2) =>
        {
            Some(Policy::Unevaluated(
                "is a policy kind extip-lint does not evaluate",
            ))
        }
        _ => return Read::NotAPolicy,
    };
    view.map_or(Read::Rejected, Read::Policy)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct Object<S> {
    api_version: Option<IgnoredAny>,
    kind: Option<IgnoredAny>,
    metadata: Option<IgnoredAny>,
    spec: Option<S>,
    status: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct CiliumObject {
    api_version: Option<IgnoredAny>,
    kind: Option<IgnoredAny>,
    metadata: Option<IgnoredAny>,
    spec: Option<CiliumSpec>,
    specs: Option<Vec<CiliumSpec>>,
    status: Option<IgnoredAny>,
}

/// A Cilium rule (`cilium.io/v2` `Rule`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct CiliumSpec {
    endpoint_selector: Option<LabelSelector>,
    node_selector: Option<IgnoredAny>,
    ingress: Option<Vec<IgnoredAny>>,
    ingress_deny: Option<Vec<IgnoredAny>>,
    egress: Option<Vec<IgnoredAny>>,
    egress_deny: Option<Vec<IgnoredAny>>,
    labels: Option<IgnoredAny>,
    description: Option<String>,
    enable_default_deny: Option<DefaultDeny>,
    log: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct DefaultDeny {
    ingress: Option<bool>,
    egress: Option<bool>,
}

fn cilium(cx: &mut Decoder<'_>, cluster_wide: bool) -> Option<Policy> {
    let obj = cx.decode::<CiliumObject>("")?;
    let specs = obj
        .spec
        .into_iter()
        .map(|s| ("/spec".to_string(), s))
        .chain(
            obj.specs
                .into_iter()
                .flatten()
                .enumerate()
                .map(|(i, s)| (format!("/specs/{i}"), s)),
        );
    let mut rules = Vec::new();
    let mut valid = true;
    for (path, spec) in specs {
        // A nodeSelector rule selects nodes, not pods.
        let Some(selector) = spec.endpoint_selector else {
            continue;
        };
        valid &= cx.valid_selector(Some(&selector), &format!("{path}/endpointSelector"));
        let ingress = cx.decode::<serde_json::Value>(&format!("{path}/ingress"));
        rules.push(CiliumRule {
            selector,
            has_ingress: spec.ingress.is_some_and(|r| !r.is_empty())
                || spec.ingress_deny.is_some_and(|r| !r.is_empty()),
            default_deny_ingress: spec.enable_default_deny.and_then(|d| d.ingress),
            open: ingress.map_or_else(Openness::default, |rules| cilium_openness(&rules, &path)),
            pointer: path,
        });
    }
    valid.then_some(Policy::Cilium {
        cluster_wide,
        rules,
    })
}

/// A Calico `NetworkPolicy` spec.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct CalicoSpec {
    tier: Option<String>,
    order: Option<f64>,
    selector: Option<String>,
    service_account_selector: Option<String>,
    types: Option<Vec<String>>,
    ingress: Option<Vec<IgnoredAny>>,
    egress: Option<Vec<IgnoredAny>>,
    performance_hints: Option<IgnoredAny>,
}

/// A Calico `GlobalNetworkPolicy` spec: a `NetworkPolicy`'s and four more fields.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct CalicoGlobalSpec {
    tier: Option<String>,
    order: Option<f64>,
    selector: Option<String>,
    service_account_selector: Option<String>,
    namespace_selector: Option<String>,
    types: Option<Vec<String>>,
    ingress: Option<Vec<IgnoredAny>>,
    egress: Option<Vec<IgnoredAny>>,
    performance_hints: Option<IgnoredAny>,
    do_not_track: Option<bool>,
    #[serde(rename = "preDNAT")]
    pre_dnat: Option<bool>,
    apply_on_forward: Option<bool>,
}

fn calico(cx: &mut Decoder<'_>, global: bool) -> Option<Policy> {
    let spec = if global {
        cx.decode::<Object<CalicoGlobalSpec>>("")?.spec
    } else {
        cx.decode::<Object<CalicoSpec>>("")?
            .spec
            .map(|s| CalicoGlobalSpec {
                tier: s.tier,
                order: s.order,
                selector: s.selector,
                service_account_selector: s.service_account_selector,
                types: s.types,
                ingress: s.ingress,
                egress: s.egress,
                ..CalicoGlobalSpec::default()
            })
    };
    let spec = spec.unwrap_or_default();
    let mut parse = |field: &str, text: Option<String>| -> Option<Option<calico::Selector>> {
        let Some(text) = text else {
            return Some(None);
        };
        match calico::Selector::parse(&text) {
            Ok(s) if s.uses_global() => {
                cx.problem_at(
                    &format!("/spec/{field}"),
                    &format!("has an invalid {field} `{text}`: `global()` is not allowed here; the API server rejects it and it is not counted"),
                );
                None
            }
            Ok(s) => Some(Some(s)),
            Err(e) => {
                cx.problem_at(
                    &format!("/spec/{field}"),
                    &format!("has an invalid {field} `{text}` ({e}); the API server rejects it and it is not counted"),
                );
                None
            }
        }
    };
    let selector = parse("selector", spec.selector)?
        .unwrap_or_else(|| calico::Selector::parse("").expect("BUG: empty selectors parse"));
    let namespace_selector = parse("namespaceSelector", spec.namespace_selector)?;
    let service_account_selector = parse("serviceAccountSelector", spec.service_account_selector)?;
    let open = cx
        .decode::<serde_json::Value>("/spec/ingress")
        .map_or_else(Openness::default, |rules| calico_openness(&rules));
    let ingress_rules = spec.ingress.map_or(0, |r| r.len());
    let egress_rules = spec.egress.map_or(0, |r| r.len());
    let written = spec.types.filter(|t| !t.is_empty());
    let types_defaulted = written.is_none();
    let types = written.unwrap_or_else(|| calico_default_types(ingress_rules, egress_rules));
    Some(Policy::Calico(Box::new(CalicoPolicy {
        global,
        selector,
        namespace_selector,
        service_account_selector,
        ingress: types.iter().any(|t| t == "Ingress"),
        types,
        tier: spec.tier.unwrap_or_else(|| "default".into()),
        order: spec.order,
        types_defaulted,
        open,
        host_only: if spec.do_not_track == Some(true) {
            Some("doNotTrack")
        } else if spec.pre_dnat == Some(true) {
            Some("preDNAT")
        } else {
            None
        },
    })))
}

/// Where a Cilium rule's ingress lets in every source: `fromEntities` `world` or `all`, a `/0`
/// in `fromCIDR` or `fromCIDRSet`, or `toPorts` with no `from*` at all (a layer-4 rule applies
/// to every source), on the rule's ports (every port without `toPorts`). An ingress rule with
/// neither is empty and allows nothing.
/// <https://docs.cilium.io/en/stable/security/policy/language/>
fn cilium_openness(rules: &serde_json::Value, at: &str) -> Openness {
    const FROM: &[&str] = &[
        "fromEndpoints",
        "fromRequires",
        "fromCIDR",
        "fromCIDRSet",
        "fromEntities",
        "fromGroups",
        "fromNodes",
    ];
    let mut out = Openness::default();
    for (i, rule) in rules.as_array().into_iter().flatten().enumerate() {
        let strings = |key: &str| -> Vec<String> {
            rule.get(key)
                .and_then(|v| v.as_array())
                .into_iter()
                .flatten()
                .filter_map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .or_else(|| v.get("cidr").and_then(|c| c.as_str()).map(str::to_string))
                })
                .collect()
        };
        let to_ports = rule.get("toPorts").and_then(|v| v.as_array());
        let ports: Vec<String> = to_ports
            .into_iter()
            .flatten()
            .flat_map(|p| {
                p.get("ports")
                    .and_then(|v| v.as_array())
                    .into_iter()
                    .flatten()
            })
            .map(|p| {
                let port = p.get("port").map_or_else(
                    || "0".into(),
                    |v| v.as_str().map_or_else(|| v.to_string(), str::to_string),
                );
                let port = match p.get("endPort").and_then(serde_json::Value::as_i64) {
                    Some(end) => format!("{port}-{end}"),
                    None => port,
                };
                let proto = p.get("protocol").and_then(|v| v.as_str()).unwrap_or("ANY");
                if port == "0" {
                    format!("every {proto} port")
                } else {
                    format!("{port}/{proto}")
                }
            })
            .collect();
        let entities = strings("fromEntities");
        let how = if let Some(e) = entities
            .iter()
            .find(|e| matches!(e.as_str(), "world" | "all" | "world-ipv4" | "world-ipv6"))
        {
            Some(format!("`{at}/ingress/{i}` admits `fromEntities: {e}`"))
        } else if let Some(c) = strings("fromCIDR")
            .into_iter()
            .chain(strings("fromCIDRSet"))
            .find(|c| spans_a_family(c))
        {
            Some(format!("`{at}/ingress/{i}` admits CIDR `{c}`"))
        } else if to_ports.is_some_and(|p| !p.is_empty())
            && !FROM.iter().any(|k| rule.get(*k).is_some())
        {
            Some(format!("`{at}/ingress/{i}` lists ports and no source"))
        } else {
            None
        };
        if let Some(how) = how {
            out.open(ports, how);
        }
    }
    out
}

/// Where a Calico policy's ingress rules let in every source, in order: an `Allow` rule whose
/// `source` names no nets, selector, namespace selector or service accounts (or a `/0` net), on
/// its destination ports (every port without them); a `Deny` rule that shuts out every source
/// on every port ends the search.
/// <https://docs.tigera.io/calico/latest/reference/resources/networkpolicy#rule>
fn calico_openness(rules: &serde_json::Value) -> Openness {
    let mut out = Openness::default();
    for (i, rule) in rules.as_array().into_iter().flatten().enumerate() {
        let action = rule.get("action").and_then(|v| v.as_str()).unwrap_or("");
        let source = rule.get("source");
        let field = |key: &str| source.and_then(|s| s.get(key));
        let nets: Vec<&str> = field("nets")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
            .filter_map(serde_json::Value::as_str)
            .collect();
        let names_peers = [
            "selector",
            "namespaceSelector",
            "serviceAccounts",
            "services",
            "notNets",
            "notSelector",
        ]
        .iter()
        .any(|k| field(k).is_some());
        let wide_net = nets.iter().find(|n| spans_a_family(n));
        let every_source = !names_peers && (nets.is_empty() || wide_net.is_some());
        if !every_source {
            continue;
        }
        let proto = rule.get("protocol").and_then(|v| {
            v.as_str()
                .map(str::to_string)
                .or_else(|| Some(v.to_string()))
        });
        let ports: Vec<String> = rule
            .get("destination")
            .and_then(|d| d.get("ports"))
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
            .map(|p| {
                let port = p.as_str().map_or_else(|| p.to_string(), str::to_string);
                format!(
                    "{}/{}",
                    port.replace(':', "-"),
                    proto.as_deref().unwrap_or("TCP")
                )
            })
            .collect();
        let all_ports = ports.is_empty() && proto.is_none();
        match action {
            "Allow" => {
                let how = wide_net.map_or_else(
                    || format!("ingress rule {} allows with no source", i + 1),
                    |n| format!("ingress rule {} allows net `{n}`", i + 1),
                );
                let ports = if ports.is_empty() {
                    proto
                        .map(|p| vec![format!("every {p} port")])
                        .unwrap_or_default()
                } else {
                    ports
                };
                out.open(ports, how);
            }
            "Deny" if all_ports => break,
            _ => {}
        }
    }
    out
}

/// `AdminNetworkPolicy`, `BaselineAdminNetworkPolicy` and `ClusterNetworkPolicy` specs, as
/// one: the fields differ only in `tier` (v1alpha2) and `priority` (not on a baseline).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct AdminSpec {
    tier: Option<String>,
    priority: Option<i64>,
    subject: AdminSubject,
    ingress: Option<Vec<AdminRule>>,
    egress: Option<Vec<IgnoredAny>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct AdminSubject {
    namespaces: Option<LabelSelector>,
    pods: Option<AdminPods>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct AdminPods {
    namespace_selector: LabelSelector,
    pod_selector: LabelSelector,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct AdminRule {
    name: Option<String>,
    action: String,
    from: Vec<AdminSubject>,
    ports: Option<IgnoredAny>,
    protocols: Option<IgnoredAny>,
}

fn admin(cx: &mut Decoder<'_>, tier: Option<&'static str>) -> Option<Policy> {
    let spec = cx.decode::<Object<AdminSpec>>("")?.spec?;
    let tier = tier.unwrap_or(match spec.tier.as_deref() {
        Some("Baseline") => "Baseline",
        _ => "Admin",
    });
    let subject = match spec.subject {
        AdminSubject { pods: Some(p), .. } => Subject::Pods {
            namespaces: p.namespace_selector,
            pods: p.pod_selector,
        },
        AdminSubject { namespaces, .. } => Subject::Namespaces(namespaces.unwrap_or_default()),
    };
    let ingress = spec
        .ingress
        .into_iter()
        .flatten()
        .map(|r| {
            let from: Vec<String> = r
                .from
                .iter()
                .map(|p| match p {
                    AdminSubject { pods: Some(p), .. } => format!(
                        "pods `{}` in {}",
                        crate::k8s::selector::describe(&p.pod_selector),
                        namespaces(&p.namespace_selector)
                    ),
                    AdminSubject { namespaces: n, .. } => {
                        namespaces(&n.clone().unwrap_or_default())
                    }
                })
                .collect();
            (r.action, format!("from {}", from.join(" or ")))
        })
        .collect();
    Some(Policy::Cluster(Box::new(ClusterPolicy {
        tier,
        priority: spec.priority,
        subject,
        ingress,
    })))
}

/// A namespace selector for people: "all namespaces", or "namespaces" and the selector.
fn namespaces(sel: &LabelSelector) -> String {
    let d = crate::k8s::selector::describe(sel);
    if d == "{}" {
        "all namespaces".into()
    } else {
        format!("namespaces `{d}`")
    }
}
