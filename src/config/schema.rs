//! The JSON Schema of `.extip-lint.yaml`, hand-written beside the reader it mirrors.

use crate::finding::RuleMeta;

/// A JSON Schema of `.extip-lint.yaml` for editors (`--generate config-schema`), strict about
/// unknown keys like the reader above; `extip-lint.schema.json` is this, and a test keeps it so.
#[must_use]
pub fn json_schema(catalog: &[&RuleMeta]) -> serde_json::Value {
    use serde_json::json;
    let mut rule_keys: Vec<&str> = Vec::new();
    for m in catalog {
        rule_keys.push(m.code);
        rule_keys.push(m.name);
    }
    let count = json!({"type": "integer", "minimum": 1});
    let profile = json!({
        "description": "Network profile: cloud flags every externalIPs entry; auto decides from the input.",
        "enum": ["cloud", "on-prem", "auto", "eks", "gke", "aks", "bare-metal"],
    });
    let version = json!({
        "description": "Kubernetes version the manifests are checked against (`1.36`); default: the newest release extip-lint knows.",
        "type": ["string", "number"],
        "pattern": "^v?1\\.[0-9]+(\\.[0-9]+)?$",
    });
    let gates = json!({
        "description": "Feature gates that override the version's defaults.",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "AllowServiceExternalIPs": {"description": "kube-proxy programs spec.externalIPs (KEP-5707).", "type": "boolean"},
            "StrictIPCIDRValidation": {"description": "kube-apiserver rejects IPv4 leading zeros and IPv4-mapped IPv6 (KEP-4858).", "type": "boolean"},
        },
    });
    let load_balancer = json!({
        "description": "The load-balancer implementation fixes migrate to (auto: decided from the input).",
        "enum": ["metallb", "cilium", "kube-vip", "calico", "gateway", "manual", "auto"],
    });
    let external_ips = json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "allow": {
                "description": "CIDRs or single addresses that externalIPs (and every other requested address) may use; empty allows no externalIPs.",
                "type": "array",
                "items": {"type": "string"},
            },
        },
    });
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://github.com/extip-lint/extip-lint/blob/main/extip-lint.schema.json",
        "title": "extip-lint configuration (.extip-lint.yaml)",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "profile": profile,
            "namespace": {"description": "Namespace of objects that set none.", "type": "string"},
            "kubernetes-version": version,
            "feature-gates": gates,
            "load-balancer": load_balancer,
            "external-ips": external_ips,
            "clusters": {
                "description": "Which files are linted together: each cluster has its own index, profile, address conflicts and inventory. A file goes to the first cluster whose paths match it, else to `default`.",
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["name", "paths"],
                    "properties": {
                        "name": {"type": "string", "not": {"const": "default"}},
                        "paths": {"description": "Globs relative to this file.", "type": "array", "items": {"type": "string"}},
                        "profile": profile,
                        "namespace": {"description": "Namespace of objects that set none, in this cluster.", "type": "string"},
                        "kubernetes-version": version,
                        "feature-gates": gates,
                        "load-balancer": load_balancer,
                        "external-ips": external_ips,
                    },
                },
            },
            "render": {"description": "Render every Helm chart (helm template) and Kustomize root (kustomize build) found, offline, and lint the output (also --render).", "type": "boolean"},
            "helm": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "release": {"description": "Release name for helm template (default: release-name).", "type": "string"},
                    "values": {
                        "description": "Values files by chart folder, both relative to this file.",
                        "type": "object",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    },
                    "charts": {
                        "description": "Options of single charts by folder, relative to this file.",
                        "type": "object",
                        "additionalProperties": {
                            "type": "object",
                            "additionalProperties": false,
                            "properties": {
                                "release": {"description": "Release name for this chart.", "type": "string"},
                                "namespace": {"description": "Namespace for this chart (helm template --namespace).", "type": "string"},
                                "values": {"description": "Values files for this chart, relative to this file.", "type": "array", "items": {"type": "string"}},
                                "api-versions": {"description": "APIs .Capabilities reports (helm template --api-versions).", "type": "array", "items": {"type": "string"}},
                            },
                        },
                    },
                },
            },
            "kustomize": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "roots": {
                        "description": "Options of single kustomization roots by folder, relative to this file.",
                        "type": "object",
                        "additionalProperties": {
                            "type": "object",
                            "additionalProperties": false,
                            "properties": {
                                "load-restrictor": {"description": "kustomize build --load-restrictor for this root.", "enum": ["LoadRestrictionsRootOnly", "LoadRestrictionsNone"]},
                            },
                        },
                    },
                },
            },
            "include": {"description": "Globs of files to read, relative to this file.", "type": "array", "items": {"type": "string"}},
            "exclude": {"description": "Globs of files to skip, relative to this file.", "type": "array", "items": {"type": "string"}},
            "rules": {
                "description": "Severity by rule code or name.",
                "type": "object",
                "propertyNames": {"enum": rule_keys},
                "additionalProperties": {"enum": ["error", "warning", "note", "off"]},
            },
            "inventory": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "owner-keys": {
                        "description": "Label or annotation keys naming a Service's owner, the first one set wins (default: extip-lint.io/owner, owner, team, app.kubernetes.io/part-of).",
                        "type": "array",
                        "items": {"type": "string"},
                    },
                    "route-keys": {
                        "description": "Label or annotation keys naming the route that brings the address to the nodes (default: extip-lint.io/route, route).",
                        "type": "array",
                        "items": {"type": "string"},
                    },
                    "firewall-keys": {
                        "description": "Label or annotation keys naming the firewall entry that lets traffic to the address in (default: extip-lint.io/firewall, firewall).",
                        "type": "array",
                        "items": {"type": "string"},
                    },
                },
            },
            "limits": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "max-depth": count,
                    "max-alias-expansion": count,
                    // Offsets into a file are kept in 32 bits.
                    "max-file-size": {"type": "integer", "minimum": 1, "maximum": u32::MAX},
                    "max-findings-per-file": count,
                },
            },
        },
    })
}
