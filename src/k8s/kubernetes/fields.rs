//! What each release's API serves of the kinds extip-lint reads: fields that came or went, and
//! API versions that were removed.

use super::{Version, v};

/// Fields of the kinds extip-lint decodes strictly whose presence in the API depends on the
/// release: `(kind, or "*" for every kind; field path, `[]` for any index; first minor release
/// whose API has it; first that no longer has it)`. The decoding types are those of the newest
/// release; this table makes the verdict the target release's: strict field validation
/// (kubectl's default) rejects a field the target's API does not have, and accepts one it has.
/// From each release's `OpenAPI` document (`api/openapi-spec/swagger.json`), checked against k8s-openapi's
/// 1.33 to 1.37 types, which agree for these kinds.
const FIELD_HISTORY: &[(&str, &str, u32, Option<u32>)] = &[
    ("*", "metadata.clusterName", 0, Some(25)),
    ("Service", "spec.ipFamily", 16, Some(20)),
    ("Service", "spec.topologyKeys", 17, Some(22)),
    ("Service", "spec.allocateLoadBalancerNodePorts", 20, None),
    ("Service", "spec.clusterIPs", 20, None),
    ("Service", "spec.ipFamilies", 20, None),
    ("Service", "spec.ipFamilyPolicy", 20, None),
    ("Service", "spec.internalTrafficPolicy", 21, None),
    ("Service", "spec.loadBalancerClass", 21, None),
    ("Service", "spec.trafficDistribution", 30, None),
    ("Service", "status.conditions", 20, None),
    ("Service", "status.loadBalancer.ingress[].ports", 20, None),
    ("Service", "status.loadBalancer.ingress[].ipMode", 29, None),
    ("NetworkPolicy", "status", 24, Some(28)),
    ("NetworkPolicy", "spec.ingress[].ports[].endPort", 21, None),
    ("NetworkPolicy", "spec.egress[].ports[].endPort", 21, None),
];

/// Whether the API of release `version` has `field` (`spec.ports[0].appProtocol`) on `kind`,
/// when the field's presence depends on the release; `None` for every other field.
#[must_use]
pub fn field_served(kind: &str, field: &str, version: Version) -> Option<bool> {
    let pattern = generic(field);
    FIELD_HISTORY
        .iter()
        .find(|(k, f, ..)| (*k == "*" || *k == kind) && *f == pattern)
        .map(|&(_, _, added, removed)| {
            version.minor >= added && removed.is_none_or(|r| version.minor < r)
        })
}

/// The release that removed `field` from `kind`'s API, when one did.
#[must_use]
pub fn field_removed(kind: &str, field: &str) -> Option<Version> {
    let pattern = generic(field);
    FIELD_HISTORY
        .iter()
        .find(|(k, f, ..)| (*k == "*" || *k == kind) && *f == pattern)
        .and_then(|&(.., removed)| removed.map(v))
}

/// The fields of `kind` the newest API has but release `version`'s does not, with the release
/// that added each: `[]` marks any index.
pub fn fields_not_yet(kind: &str, version: Version) -> impl Iterator<Item = (&'static str, u32)> {
    FIELD_HISTORY
        .iter()
        .filter(move |(k, _, added, removed)| {
            (*k == "*" || *k == kind) && version.minor < *added && removed.is_none()
        })
        .map(|&(_, f, added, _)| (f, added))
}

/// `spec.ports[3].name` -> `spec.ports[].name`.
fn generic(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut in_index = false;
    for c in field.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push_str("[]");
            }
            ']' => in_index = false,
            _ if in_index => {}
            c => out.push(c),
        }
    }
    out
}

/// An API version of a kind that Kubernetes stopped serving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemovedApi {
    pub api_version: &'static str,
    pub kinds: &'static [&'static str],
    pub removed: Version,
    pub instead: &'static str,
}

/// The removed API versions of the kinds extip-lint reads (Kubernetes deprecated API
/// migration guide, <https://kubernetes.io/docs/reference/using-api/deprecation-guide/>).
pub static REMOVED_APIS: &[RemovedApi] = &[
    RemovedApi {
        api_version: "extensions/v1beta1",
        kinds: &["Deployment", "DaemonSet", "ReplicaSet"],
        removed: v(16),
        instead: "apps/v1",
    },
    RemovedApi {
        api_version: "extensions/v1beta1",
        kinds: &["NetworkPolicy"],
        removed: v(16),
        instead: "networking.k8s.io/v1",
    },
    RemovedApi {
        api_version: "apps/v1beta1",
        kinds: &["Deployment", "StatefulSet", "ReplicaSet"],
        removed: v(16),
        instead: "apps/v1",
    },
    RemovedApi {
        api_version: "apps/v1beta2",
        kinds: &["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"],
        removed: v(16),
        instead: "apps/v1",
    },
    RemovedApi {
        api_version: "batch/v1beta1",
        kinds: &["CronJob"],
        removed: v(25),
        instead: "batch/v1",
    },
];
