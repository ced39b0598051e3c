//! Property tests: spans slice exactly their source text, selector matching agrees with a
//! reference model, CIDR containment agrees with a brute-force model, and findings do not depend
//! on file order or line endings.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use extip_lint::config::Overrides;
use extip_lint::yaml::{BuildLimits, NodeKind, parse};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};
use proptest::prelude::*;

/// A scalar as written, and the value the parser must produce.
fn scalar() -> impl Strategy<Value = (String, String)> {
    let word = "[a-zé☕ü0-9]{1,6}";
    prop_oneof![
        word.prop_map(|w| (format!("v{w}"), format!("v{w}"))),
        word.prop_map(|w| (
            format!("\"{w} # not a comment\""),
            format!("{w} # not a comment")
        )),
        word.prop_map(|w| (format!("'{w}''s'"), format!("{w}'s"))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_scalar_span_slices_its_source(
        items in proptest::collection::vec((scalar(), any::<bool>()), 1..8),
        crlf in any::<bool>(),
        flow in any::<bool>(),
        comment in any::<bool>(),
    ) {
        let nl = if crlf { "\r\n" } else { "\n" };
        let trailer = if comment { " # ü comment" } else { "" };
        let mut text = String::from("top:");
        text.push_str(nl);
        if flow {
            let body: Vec<String> = items.iter().enumerate().map(|(i, ((src, _), _))| format!("k{i}: {src}")).collect();
            let _ = write!(text, "  inner: {{{}}}{trailer}{nl}", body.join(", "));
        } else {
            for (i, ((src, _), as_seq)) in items.iter().enumerate() {
                if *as_seq {
                    let _ = write!(text, "  k{i}:{nl}  - {src}{trailer}{nl}");
                } else {
                    let _ = write!(text, "  k{i}: {src}{trailer}{nl}");
                }
            }
        }
        let (docs, broken) = parse(&text, BuildLimits { max_depth: 64 });
        prop_assert!(broken.is_empty(), "{:?}\n{}", broken, text);
        let tree = &docs[0].tree;
        let mut expected: Vec<(&str, &str)> = items.iter().map(|((src, value), _)| (src.as_str(), value.as_str())).collect();
        for node in tree.iter() {
            if let NodeKind::Scalar { value, .. } = node.kind
                && let Some(pos) = expected.iter().position(|(_, v)| *v == value)
            {
                let (src, _) = expected.remove(pos);
                prop_assert_eq!(&text[node.start..node.end], src);
            }
        }
        prop_assert!(expected.is_empty(), "scalars not found: {:?}", expected);
    }

    #[test]
    fn selector_matching_agrees_with_a_reference_model(
        labels in proptest::collection::btree_map("[abc]", "[xyz]", 0..3),
        match_labels in proptest::collection::btree_map("[abc]", "[xyz]", 0..2),
        exprs in proptest::collection::vec(("[abc]", 0..4usize, proptest::collection::vec("[xyz]", 1..3)), 0..3),
    ) {
        const OPS: [&str; 4] = ["In", "NotIn", "Exists", "DoesNotExist"];
        let sel = LabelSelector {
            match_labels: Some(match_labels.clone()),
            match_expressions: Some(exprs.iter().map(|(k, op, vs)| LabelSelectorRequirement {
                key: k.clone(),
                operator: OPS[*op].into(),
                values: (*op < 2).then(|| vs.clone()),
            }).collect()),
        };
        let model = |labels: &BTreeMap<String, String>| {
            match_labels.iter().all(|(k, v)| labels.get(k) == Some(v))
                && exprs.iter().all(|(k, op, vs)| match *op {
                    0 => labels.get(k).is_some_and(|v| vs.contains(v)),
                    1 => !labels.get(k).is_some_and(|v| vs.contains(v)),
                    2 => labels.contains_key(k),
                    _ => !labels.contains_key(k),
                })
        };
        let pod = extip_lint::k8s::selector::PodLabels::known(labels.clone());
        prop_assert_eq!(extip_lint::k8s::selector::matches(&sel, &pod), model(&labels));
    }

    #[test]
    fn cidr_containment_agrees_with_brute_force(a in any::<u32>(), prefix in 20u8..=32, probe in 0u32..4096) {
        let base = std::net::Ipv4Addr::from(a);
        let (net, _) = extip_lint::k8s::address::parse_cidr(&format!("{base}/{prefix}")).expect("valid");
        let ip = std::net::Ipv4Addr::from(a.wrapping_add(probe).wrapping_sub(2048));
        let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
        let brute = (u32::from(ip) & mask) == (a & mask);
        prop_assert_eq!(net.contains(&std::net::IpAddr::V4(ip)), brute);
    }
}

const FILES: [(&str, &str); 3] = [
    (
        "a.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: shop}\nspec:\n  selector: {app: a}\n  ports: [{port: 80}]\n  externalIPs: [192.0.2.1]\n---\napiVersion: v1\nkind: Service\nmetadata: {name: z, namespace: shop}\nspec:\n  externalIPs: [127.0.0.1]\n",
    ),
    (
        "b.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: b, namespace: lab}\nspec:\n  ports: [{port: 80}]\n  externalIPs: [192.0.2.1]\n",
    ),
    (
        "c.yaml",
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: shop}\nspec:\n  podSelector: {matchLabels: {app: other}}\n",
    ),
];

fn short(dir: &std::path::Path, order: &[usize], crlf: bool) -> String {
    for (name, text) in FILES {
        let text = if crlf {
            text.replace('\n', "\r\n")
        } else {
            text.to_string()
        };
        std::fs::write(dir.join(name), text).expect("write");
    }
    let paths: Vec<PathBuf> = order.iter().map(|&i| dir.join(FILES[i].0)).collect();
    let report = common::run(&paths, None, &Overrides::default());
    let mut out = Vec::new();
    extip_lint::render::render(
        &report,
        extip_lint::render::Format::Json,
        &extip_lint::render::Options::default(),
        &mut out,
    )
    .expect("render");
    String::from_utf8(out).expect("utf-8")
}

#[test]
fn findings_do_not_depend_on_file_order_or_line_endings() {
    let dir = tempfile::tempdir().expect("tmp");
    let reference = short(dir.path(), &[0, 1, 2], false);
    assert!(
        reference.contains("EXT005")
            && reference.contains("EXT003")
            && reference.contains("EXT004")
    );
    for order in [[2, 1, 0], [1, 2, 0], [0, 2, 1]] {
        assert_eq!(
            short(dir.path(), &order, false),
            reference,
            "order {order:?}"
        );
    }
    let crlf = short(dir.path(), &[0, 1, 2], true);
    let strip_bytes = |s: &str| {
        s.lines()
            .filter(|l| !l.contains("\"byte\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        strip_bytes(&crlf),
        strip_bytes(&reference),
        "CRLF changes only byte offsets"
    );
}

// ---- fixes: every fix keeps what tests/common/fix_oracle.rs says, on generated manifests ----

#[path = "common/fix_oracle.rs"]
mod fix_oracle;

/// A small deterministic generator (xorshift64*): the same seed, the same manifests.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }
}

/// An address as a manifest may write it: canonical or not, v4 or v6, quoted or not.
fn address(g: &mut Gen, i: usize) -> String {
    let a = match g.below(5) {
        0 => format!("192.0.2.{}", 10 + i),
        1 => format!("2001:db8::{:x}", 0x10 + i),
        2 => format!("2001:DB8::{:X}", 0x10 + i),
        3 => format!("2001:db8:0:0::{:x}", 0x10 + i),
        _ => format!("198.51.100.{}", 10 + i),
    };
    match g.below(3) {
        0 => format!("\"{a}\""),
        1 if !a.contains(':') => format!("'{a}'"),
        _ if a.contains(':') => format!("\"{a}\""),
        _ => a,
    }
}

/// One generated manifest: Services (and a ConfigMap) in block or flow style, in separate
/// documents or one `List`, with anchors, aliases, merge keys, repeated keys, comments,
/// trailing commas, old annotation keys, `loadBalancerIP`, CRLF, a BOM or JSON.
fn manifest(g: &mut Gen) -> Vec<u8> {
    let services = 1 + g.below(4);
    let list = g.chance(30);
    let flow = g.chance(30);
    let crlf = g.chance(15);
    let mut docs: Vec<String> = Vec::new();
    let mut anchored = false;
    for i in 0..services {
        let name = format!("s{i}");
        let mut meta = vec![format!("name: {name}"), "namespace: shop".to_string()];
        if g.chance(25) {
            let key = g.pick(&[
                "metallb.universe.tf/loadBalancerIPs",
                "metallb.io/loadBalancerIPs",
                "metallb.universe.tf/allow-shared-ip",
            ]);
            meta.push(format!("annotations: {{{key}: {}}}", address(g, i + 20)));
        }
        let mut spec = vec![format!("ports: [{{port: {}}}]", 80 + i)];
        if g.chance(30) {
            spec.push("type: LoadBalancer".into());
        }
        if g.chance(25) {
            spec.push(format!("loadBalancerIP: {}", address(g, i + 40)));
        }
        let ips: Vec<String> = (0..=g.below(2)).map(|j| address(g, i * 3 + j)).collect();
        let ips = if list && g.chance(25) && !anchored {
            anchored = true;
            format!("&ips [{}]", ips.join(", "))
        } else if list && anchored && g.chance(40) {
            "*ips".to_string()
        } else {
            format!("[{}]", ips.join(", "))
        };
        spec.push(format!("externalIPs: {ips}"));
        if g.chance(8) {
            spec.push(format!("externalIPs: [{}]", address(g, 60 + i)));
        }
        if g.chance(10) {
            spec.push("selector: {app: web}".into());
        }
        let trailing = if flow && g.chance(30) { ", " } else { "" };
        let comment = if g.chance(30) { "  # a comment" } else { "" };
        let body = if flow {
            format!(
                "apiVersion: v1\nkind: Service\nmetadata: {{{}{trailing}}}{comment}\nspec: {{{}{trailing}}}\n",
                meta.join(", "),
                spec.join(", ")
            )
        } else {
            let mut b = format!("apiVersion: v1\nkind: Service\nmetadata:{comment}\n");
            for m in &meta {
                let _ = writeln!(b, "  {m}");
            }
            b.push_str("spec:\n");
            for s in &spec {
                let _ = writeln!(b, "  {s}");
            }
            b
        };
        docs.push(body);
    }
    if g.chance(20) {
        docs.push(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\ndata: {k: v}\n"
                .into(),
        );
    }
    let mut text = if list {
        let mut t = String::from("apiVersion: v1\nkind: List\nitems:\n");
        for d in &docs {
            for (j, line) in d.lines().enumerate() {
                let _ = writeln!(t, "{}{line}", if j == 0 { "- " } else { "  " });
            }
        }
        // A merge key sharing the first Service's spec.
        if g.chance(30) {
            t = t.replacen("  spec:", "  spec: &spec", 1);
            if t.contains("spec: &spec\n") || t.contains("spec: &spec {") {
                let _ = write!(
                    t,
                    "- apiVersion: v1\n  kind: Service\n  metadata: {{name: merged, namespace: shop}}\n  spec:\n    <<: *spec\n    ports: [{{port: 9}}]\n"
                );
            }
        }
        t
    } else {
        docs.join("---\n")
    };
    if crlf {
        text = text.replace('\n', "\r\n");
    }
    let mut bytes = text.into_bytes();
    if g.chance(5) {
        let mut with_bom = vec![0xEF, 0xBB, 0xBF];
        with_bom.extend(bytes);
        bytes = with_bom;
    }
    if g.chance(5) {
        bytes.extend_from_slice(b"# a byte that is not UTF-8: \xff\n");
    }
    bytes
}

/// 600 generated manifests on a fixed seed, each fixed with every fix and checked by the
/// oracle; a failure prints the seed's case. Most cases must have something fixed, or the test
/// proves nothing.
#[test]
fn every_fix_keeps_the_oracles_invariants_on_generated_manifests() {
    let mut g = Gen(0x5eed_f1c5_0000_0001);
    let mut fixed = 0;
    let mut with_fixes = 0;
    for case in 0..600 {
        let bytes = manifest(&mut g);
        match fix_oracle::check(&bytes, "m.yaml") {
            Ok(n) => {
                fixed += n;
                with_fixes += usize::from(n > 0);
            }
            Err(why) => panic!("case {case}: {why}\n{}", String::from_utf8_lossy(&bytes)),
        }
    }
    assert!(
        with_fixes > 300,
        "only {with_fixes} cases had a fix ({fixed} fixes)"
    );
}
