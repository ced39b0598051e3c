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
        let pod = extip_lint::selector::PodLabels::known(labels.clone());
        prop_assert_eq!(extip_lint::selector::matches(&sel, &pod), model(&labels));
    }

    #[test]
    fn cidr_containment_agrees_with_brute_force(a in any::<u32>(), prefix in 20u8..=32, probe in 0u32..4096) {
        let base = std::net::Ipv4Addr::from(a);
        let (net, _) = extip_lint::address::parse_cidr(&format!("{base}/{prefix}")).expect("valid");
        let ip = std::net::Ipv4Addr::from(a.wrapping_add(probe).wrapping_sub(2048));
        let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
        let brute = (u32::from(ip) & mask) == (a & mask);
        prop_assert_eq!(net.contains(&std::net::IpAddr::V4(ip)), brute);
    }
}

const FILES: [(&str, &str); 3] = [
    (
        "a.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: shop}\nspec:\n  selector: {app: a}\n  ports: [{port: 80}]\n  externalIPs: [192.0.2.1, 127.0.0.1]\n",
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
