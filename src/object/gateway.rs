//! Gateway API `Gateway`s: the addresses they request and the ports they listen on. Only those
//! parts are decoded (each against the fields its published schema declares); the rest of the
//! spec is not read, so a field a newer Gateway API release adds is not an error.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::decoder::Decoder;

/// A `Gateway`'s requested addresses and listeners.
#[derive(Debug, Clone, Default)]
pub struct Gateway {
    pub addresses: Vec<Address>,
    /// `(port, protocol)` of each listener; protocol is the Gateway API's (`HTTP`, `UDP`, ...).
    pub listeners: Vec<(i32, String)>,
    /// `spec.infrastructure.annotations`: what the implementation puts on the resources it
    /// creates for the Gateway (the load-balancer Service).
    pub infrastructure_annotations: BTreeMap<String, String>,
}

/// One `spec.addresses` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// `IPAddress` when unset (the CRD's default).
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub value: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct Listener {
    name: Option<IgnoredAny>,
    hostname: Option<IgnoredAny>,
    port: i32,
    protocol: String,
    tls: Option<IgnoredAny>,
    allowed_routes: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct Infrastructure {
    labels: Option<IgnoredAny>,
    annotations: Option<BTreeMap<String, String>>,
    parameters_ref: Option<IgnoredAny>,
}

/// Reads a Gateway; `None` when a part it reads does not decode (a problem on `cx`).
pub(super) fn read(cx: &mut Decoder<'_>) -> Option<Gateway> {
    let has = |cx: &Decoder<'_>, path: &[&str]| cx.tree.lookup(cx.node, path).2 == path.len();
    let mut g = Gateway::default();
    if has(cx, &["spec", "addresses"]) {
        g.addresses = cx
            .decode::<Option<Vec<Address>>>("/spec/addresses")?
            .unwrap_or_default();
    }
    if has(cx, &["spec", "listeners"]) {
        g.listeners = cx
            .decode::<Option<Vec<Listener>>>("/spec/listeners")?
            .unwrap_or_default()
            .into_iter()
            .map(|l| (l.port, l.protocol))
            .collect();
    }
    if has(cx, &["spec", "infrastructure"]) {
        g.infrastructure_annotations = cx
            .decode::<Option<Infrastructure>>("/spec/infrastructure")?
            .and_then(|i| i.annotations)
            .unwrap_or_default();
    }
    Some(g)
}
