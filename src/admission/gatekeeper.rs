//! `--generate gatekeeper`: a Gatekeeper `ConstraintTemplate` whose Rego makes the checks of the
//! ValidatingAdmissionPolicy (`super::cel`), and a `Constraint` holding the allowlist as its
//! parameters. Rego has no IP address type, so "an address in standard form" is a pattern
//! written here (`ip_patterns`), and the ranges and the allowlist are tested with
//! `net.cidr_contains` only on addresses that passed it, where Go's parser (OPA) and every other
//! reader agree. The Rego keeps to the syntax Gatekeeper accepts in templates (Rego v0).

use std::fmt::Write as _;

use super::{PolicyOptions, allowlist_text, header, quote, refusal};
use crate::k8s::implementation::{ADDRESS_ANNOTATIONS, List};

/// The template's kind, and its name (the kind in lower case, as Gatekeeper requires).
pub const KIND: &str = "ExtipLintServiceAddresses";

/// An IPv4 address as Go's `netip.ParseAddr` reads it: four decimal octets, no leading zeros.
const V4: &str = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}";
const HEX: &str = "[0-9A-Fa-f]{1,4}";

/// The patterns of an IPv4 address, of an IPv6 address (as `netip.ParseAddr` reads it, without
/// a zone: the alternatives, one per place of `::`, each whole), and (over the lower-cased text
/// of an IPv6 address) of an IPv4-mapped one: 80 zero bits then `ffff`, however the zeros are
/// written or compressed. Kept as alternatives so that no line of the Rego is long (Rego
/// readers bound a line's length).
#[must_use]
pub fn ip_patterns() -> (String, Vec<String>, String) {
    let h = HEX;
    let mut alternatives = vec![format!("(?:{h}:){{7}}{h}"), format!("(?:{h}:){{6}}{V4}")];
    // `::` after `left` groups, standing for at least one: at most 7 - left groups after it,
    // an IPv4 tail counting two.
    for left in 0..=7usize {
        let head = match left {
            0 => String::new(),
            1 => h.to_string(),
            n => format!("(?:{h}:){{{}}}{h}", n - 1),
        };
        let room = 7 - left;
        let mut tails = Vec::new();
        if room >= 1 {
            tails.push(format!("(?:{h}(?::{h}){{0,{}}})?", room - 1));
        }
        if room >= 2 {
            tails.push(format!("(?:{h}:){{0,{}}}{V4}", room - 2));
        }
        let tail = match tails.len() {
            0 => String::new(),
            1 => tails.remove(0),
            _ => format!("(?:{})", tails.join("|")),
        };
        alternatives.push(format!("{head}::{tail}"));
    }
    let v6 = alternatives.into_iter().map(|a| format!("^{a}$")).collect();
    let mapped = format!(
        "^(?:(?:0{{1,4}}:){{5}}ffff:|(?:0{{1,4}}(?::0{{1,4}}){{0,3}})?::(?:0{{1,4}}:){{0,4}}ffff:(?:[0-9a-f]{{1,4}}:[0-9a-f]{{1,4}}|{V4})$)"
    );
    (format!("^{V4}$"), v6, mapped)
}

/// The ranges the API server refuses for externalIPs (`ValidateEndpointIP`): unspecified,
/// loopback, link-local unicast and link-local multicast (`ff02::/16` and every `ffX2::/16`,
/// as Go's `IsLinkLocalMulticast` reads the scope).
fn special_ranges() -> Vec<String> {
    let mut out: Vec<String> = [
        "0.0.0.0/32",
        "::/128",
        "127.0.0.0/8",
        "::1/128",
        "169.254.0.0/16",
        "fe80::/10",
        "224.0.0.0/24",
    ]
    .map(String::from)
    .to_vec();
    out.extend((0..16).map(|flags| format!("ff{flags:x}2::/16")));
    out
}

/// A Rego raw string (backquoted); the patterns hold no backquote.
fn raw(s: &str) -> String {
    format!("`{s}`")
}

/// The Rego of the template.
#[must_use]
pub fn rego() -> String {
    let (v4, v6, mapped) = ip_patterns();
    let keys: Vec<String> = ADDRESS_ANNOTATIONS
        .iter()
        .filter(|a| a.list == List::Comma)
        .map(|a| quote(a.key))
        .collect();
    let ranges: Vec<String> = special_ranges().iter().map(|r| quote(r)).collect();
    let mut r = String::new();
    let _ = write!(
        r,
        r#"package extiplintserviceaddresses

# What extip-lint's EXT002 and EXT004 accept, as its ValidatingAdmissionPolicy checks it.
# input.parameters.allow: the allowlist (CIDRs); empty allows no external IP.

violation[{{"msg": msg}}] {{
  a := new_external_ips[_]
  not valid_external_ip(a)
  msg := sprintf("spec.externalIPs: %v must be a single IP address in standard form, and not unspecified, loopback or link-local (extip-lint EXT004)", [json.marshal(a)])
}}

violation[{{"msg": msg}}] {{
  a := new_external_ips[_]
  is_ip(a)
  not allowed(a)
  msg := sprintf("spec.externalIPs: %v is not in the allowlist; %v (extip-lint EXT002)", [json.marshal(a), allowlist])
}}

violation[{{"msg": msg}}] {{
  count(allow_list) > 0
  input.review.object.spec.type == "LoadBalancer"
  a := requested(input.review.object)[_]
  not old_requested[a]
  not lb_allowed(a)
  msg := sprintf("requested load-balancer address %v (spec.loadBalancerIP and the MetalLB, Cilium and kube-vip annotations) must be an IP address in the allowlist; %v (extip-lint EXT002, EXT004)", [json.marshal(a), allowlist])
}}

default allow_list = []

allow_list = input.parameters.allow

allowlist = concat("", ["allowlist: ", concat(", ", allow_list)]) {{
  count(allow_list) > 0
}}

allowlist = "no allowlist is declared, so no external IP is allowed" {{
  count(allow_list) == 0
}}

# Entries a Service already has are left alone on update.
new_external_ips[a] {{
  a := input.review.object.spec.externalIPs[_]
  not old_external_ips[a]
}}

old_external_ips[a] {{
  a := input.review.oldObject.spec.externalIPs[_]
}}

old_requested[a] {{
  a := requested(input.review.oldObject)[_]
}}

# spec.loadBalancerIP and the comma-separated address annotations, each entry trimmed.
requested(obj) = addresses {{
  field := {{a | a := obj.spec.loadBalancerIP; a != ""}}
  annotated := {{a | v := obj.metadata.annotations[k]; lb_annotations[k]; a := trim_space(split(v, ",")[_])}}
  addresses := field | annotated
}}

lb_annotations := {{{keys}}}

special_ranges := [{ranges}]

# Kubernetes' isIP: an address netip.ParseAddr reads, with no zone, and not IPv4-mapped.
is_ip(a) {{
  regex.match({v4}, a)
}}

is_ip(a) {{
  regex.match(ipv6_patterns[_], a)
  not regex.match({mapped}, lower(a))
}}

# An IPv6 address: one pattern per place of "::" (and none).
ipv6_patterns := [
  {v6}
]

valid_external_ip(a) {{
  is_ip(a)
  not special(a)
}}

special(a) {{
  net.cidr_contains(special_ranges[_], a)
}}

allowed(a) {{
  net.cidr_contains(allow_list[_], a)
}}

lb_allowed(a) {{
  is_ip(a)
  allowed(a)
}}

# The implementations read a dotted IPv4-mapped address as its IPv4 address.
lb_allowed(a) {{
  not is_ip(a)
  startswith(lower(a), "::ffff:")
  v := substring(a, 7, -1)
  is_ip(v)
  allowed(v)
}}
"#,
        keys = keys.join(", "),
        ranges = ranges.join(", "),
        v4 = raw(&v4),
        v6 = v6.iter().map(|p| raw(p)).collect::<Vec<_>>().join(",\n  "),
        mapped = raw(&mapped),
    );
    r
}

/// The template and the constraint, or why none can be generated for the target.
pub fn policy(o: &PolicyOptions<'_>) -> Result<String, String> {
    refusal(o.target, false)?;
    let mut out = header(o, " (OPA Gatekeeper)");
    let name = KIND.to_ascii_lowercase();
    let _ = writeln!(
        out,
        "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata:\n  name: {name}\n  annotations:\n    description: {}\nspec:\n  crd:\n    spec:\n      names:\n        kind: {KIND}\n      validation:\n        openAPIV3Schema:\n          type: object\n          properties:\n            allow:\n              description: Allowed CIDRs; empty allows no external IP.\n              type: array\n              items:\n                type: string\n  targets:\n    - target: admission.k8s.gatekeeper.sh\n      rego: |",
        quote("What extip-lint's EXT002 and EXT004 check, for Service create and update.")
    );
    for line in rego().lines() {
        if line.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "        {line}");
        }
    }
    let action = if o.deny { "deny" } else { "warn" };
    let _ = write!(
        out,
        "---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: {KIND}\nmetadata:\n  name: extip-lint-service-addresses\nspec:\n  # Warn first (and audit: Gatekeeper's audit reports every Service's addresses as they are);\n  # generate with --deny to reject.\n  enforcementAction: {action}\n  match:\n    kinds:\n      - apiGroups: [\"\"]\n        kinds: [\"Service\"]\n    # To enforce in some namespaces only:\n    # namespaceSelector:\n    #   matchLabels: {{extip-lint.io/enforce: \"true\"}}\n  parameters:\n    # The {}.\n    allow: [{}]\n",
        allowlist_text(o.allow),
        o.allow
            .iter()
            .map(|a| quote(&a.net.to_string()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(out)
}
