//! The generated admission policy, evaluated with a real CEL interpreter (the `cel` crate) and
//! the Kubernetes IP and CIDR functions implemented here as the Kubernetes library documents them
//! (`isIP`, `ip` and its predicates, `cidr`, `containsIP`, and the strings extension's `split`
//! and `trim`): over a generated set of addresses it accepts and rejects exactly what EXT002 and
//! EXT004 accept and reject for the target version. The real kubectl reads it.

// The `cel` crate hands function arguments over by value.
#![allow(clippy::needless_pass_by_value)]

mod common;

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use cel::extractors::This;
use cel::objects::{Opaque, Value};
use cel::{Context, Env, ExecutionError, FunctionContext, Program};
use extip_lint::config::Overrides;

const BIN: &str = env!("CARGO_BIN_EXE_extip-lint");

// ---- The Kubernetes CEL IP and CIDR library (k8s.io/apiserver pkg/cel/library ip.go, cidr.go).

#[derive(PartialEq, Eq)]
struct Ip(IpAddr);

impl fmt::Debug for Ip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ip({})", self.0)
    }
}

impl Opaque for Ip {
    fn runtime_type_name(&self) -> &'static str {
        "net.IP"
    }
}

#[derive(PartialEq, Eq)]
struct Cidr(ipnet::IpNet);

impl fmt::Debug for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cidr({})", self.0)
    }
}

impl Opaque for Cidr {
    fn runtime_type_name(&self) -> &'static str {
        "net.CIDR"
    }
}

/// `netip.ParseAddr`, then no zones (Rust refuses them) and no IPv4-mapped addresses.
fn parse_ip(s: &str) -> Option<IpAddr> {
    let ip: IpAddr = s.parse().ok()?;
    match ip {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() => None,
        ip => Some(ip),
    }
}

fn ip(ftx: &FunctionContext, s: Arc<String>) -> Result<Arc<dyn Opaque>, ExecutionError> {
    parse_ip(&s)
        .map(|ip| Arc::new(Ip(ip)) as Arc<dyn Opaque>)
        .ok_or_else(|| ftx.error(format!("IP Address {s:?} parse error")))
}

fn is_ip(s: Arc<String>) -> bool {
    parse_ip(&s).is_some()
}

fn the_ip(this: &Arc<dyn Opaque>) -> Result<IpAddr, ExecutionError> {
    this.downcast_ref::<Ip>()
        .map(|i| i.0)
        .ok_or_else(|| ExecutionError::function_error("ip", "not an IP"))
}

fn cidr(ftx: &FunctionContext, s: Arc<String>) -> Result<Arc<dyn Opaque>, ExecutionError> {
    // `netip.ParsePrefix`; host bits are not refused (the library's code, not its comment).
    let net: ipnet::IpNet = s
        .parse()
        .map_err(|_| ftx.error(format!("network address {s:?} parse error")))?;
    Ok(Arc::new(Cidr(net)))
}

fn contains_ip(This(this): This<Arc<dyn Opaque>>, arg: Value) -> Result<bool, ExecutionError> {
    let net = this
        .downcast_ref::<Cidr>()
        .map(|c| c.0)
        .ok_or_else(|| ExecutionError::function_error("containsIP", "not a CIDR"))?;
    let ip = match arg {
        Value::String(s) => {
            parse_ip(&s).ok_or_else(|| ExecutionError::function_error("containsIP", "not an IP"))?
        }
        Value::Opaque(o) => the_ip(&o)?,
        _ => {
            return Err(ExecutionError::function_error(
                "containsIP",
                "wrong argument",
            ));
        }
    };
    Ok(net.contains(&ip))
}

fn predicate(
    f: fn(IpAddr) -> bool,
) -> impl Fn(This<Arc<dyn Opaque>>) -> Result<bool, ExecutionError> + Send + Sync + 'static {
    move |This(this): This<Arc<dyn Opaque>>| the_ip(&this).map(f)
}

fn lower_ascii(This(this): This<Arc<String>>) -> Arc<String> {
    Arc::new(this.to_ascii_lowercase())
}

fn substring(This(this): This<Arc<String>>, from: i64) -> Arc<String> {
    let from = usize::try_from(from).unwrap_or(0).min(this.len());
    Arc::new(this.get(from..).unwrap_or_default().to_string())
}

fn split(This(this): This<Arc<String>>, sep: Arc<String>) -> Value {
    Value::List(Arc::new(
        this.split(sep.as_str())
            .map(|p| Value::String(Arc::new(p.to_string())))
            .collect(),
    ))
}

fn trim(This(this): This<Arc<String>>) -> Arc<String> {
    Arc::new(this.trim().to_string())
}

fn context(env: &Arc<Env>) -> Context<'static, 'static> {
    let mut ctx = Context::with_env(Arc::clone(env));
    ctx.add_function("ip", ip).expect("ip");
    ctx.add_function("isIP", is_ip).expect("isIP");
    ctx.add_function("cidr", cidr).expect("cidr");
    ctx.add_function("containsIP", contains_ip)
        .expect("containsIP");
    ctx.add_function("split", split).expect("split");
    ctx.add_function("trim", trim).expect("trim");
    ctx.add_function("lowerAscii", lower_ascii)
        .expect("lowerAscii");
    ctx.add_function("substring", substring).expect("substring");
    ctx.add_function("isUnspecified", predicate(|ip| ip.is_unspecified()))
        .expect("isUnspecified");
    ctx.add_function("isLoopback", predicate(|ip| ip.is_loopback()))
        .expect("isLoopback");
    ctx.add_function(
        "isLinkLocalUnicast",
        predicate(|ip| match ip {
            IpAddr::V4(v4) => v4.octets()[..2] == [169, 254],
            IpAddr::V6(v6) => v6.segments()[0] & 0xffc0 == 0xfe80,
        }),
    )
    .expect("isLinkLocalUnicast");
    ctx.add_function(
        "isLinkLocalMulticast",
        predicate(|ip| match ip {
            IpAddr::V4(v4) => v4.octets()[..3] == [224, 0, 0],
            IpAddr::V6(v6) => v6.segments()[0] & 0xff0f == 0xff02,
        }),
    )
    .expect("isLinkLocalMulticast");
    ctx
}

// ---- The policy, read from the generated YAML.

struct Policy {
    variables: Vec<(String, Program)>,
    validations: Vec<Program>,
}

fn generated(args: &[&str]) -> String {
    let out = std::process::Command::new(BIN)
        .args(["--generate", "admission-policy"])
        .args(args)
        .current_dir(std::env::temp_dir())
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn policy(yaml: &str, env: &Arc<Env>) -> Policy {
    let first = yaml.split("\n---\n").next().expect("policy");
    let (docs, _) = extip_lint::yaml::parse(first, extip_lint::yaml::BuildLimits { max_depth: 64 });
    let t = &docs[0].tree;
    let root = docs[0].root;
    let compile = |e: &str| env.compile(e).unwrap_or_else(|err| panic!("{e}: {err}"));
    let list = |path: &[&str]| {
        let (n, _, depth) = t.lookup(root, path);
        assert_eq!(depth, path.len(), "{path:?}");
        t.items(n).to_vec()
    };
    let field = |n, k: &str| {
        t.get(n, k)
            .and_then(|(_, v)| t.scalar(v))
            .expect(k)
            .to_string()
    };
    Policy {
        variables: list(&["spec", "variables"])
            .into_iter()
            .map(|v| (field(v, "name"), compile(&field(v, "expression"))))
            .collect(),
        validations: list(&["spec", "validations"])
            .into_iter()
            .map(|v| compile(&field(v, "expression")))
            .collect(),
    }
}

/// Whether the policy admits `object` (and `old` on update).
fn admits(
    p: &Policy,
    env: &Arc<Env>,
    object: &serde_json::Value,
    old: Option<&serde_json::Value>,
) -> bool {
    let mut variables: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    let base = |variables: &BTreeMap<String, serde_json::Value>| {
        let mut ctx = context(env);
        ctx.add_variable("object", object.clone()).expect("object");
        ctx.add_variable("oldObject", old.cloned().unwrap_or(serde_json::Value::Null))
            .expect("oldObject");
        ctx.add_variable("variables", serde_json::json!(variables))
            .expect("variables");
        ctx
    };
    for (name, program) in &p.variables {
        let value = program
            .execute(&base(&variables))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        variables.insert(name.clone(), value.json().expect("json value"));
    }
    let ctx = base(&variables);
    p.validations.iter().all(|v| match v.execute(&ctx) {
        Ok(Value::Bool(b)) => b,
        // A runtime error fails the validation (failurePolicy: Fail).
        other => {
            let _ = other;
            false
        }
    })
}

// ---- What extip-lint says about the same Services.

/// The Services of one case each: `svc-N` with the entry at `where`.
fn services(entries: &[&str], place: &str) -> (String, Vec<serde_json::Value>) {
    let mut yaml = String::new();
    let mut objects = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let object = match place {
            "externalIPs" => serde_json::json!({
                "apiVersion": "v1", "kind": "Service",
                "metadata": {"name": format!("svc-{i}"), "namespace": "shop"},
                "spec": {"ports": [{"port": 80 + i}], "externalIPs": [e]},
            }),
            "loadBalancerIP" => serde_json::json!({
                "apiVersion": "v1", "kind": "Service",
                "metadata": {"name": format!("svc-{i}"), "namespace": "shop"},
                "spec": {"type": "LoadBalancer", "ports": [{"port": 80 + i}], "loadBalancerIP": e},
            }),
            _ => serde_json::json!({
                "apiVersion": "v1", "kind": "Service",
                "metadata": {"name": format!("svc-{i}"), "namespace": "shop",
                             "annotations": {"metallb.io/loadBalancerIPs": e}},
                "spec": {"type": "LoadBalancer", "ports": [{"port": 80 + i}]},
            }),
        };
        yaml.push_str("---\n");
        yaml.push_str(&serde_json::to_string(&object).expect("json"));
        yaml.push('\n');
        objects.push(object);
    }
    (yaml, objects)
}

/// Which Services extip-lint accepts: no EXT002 or EXT004 finding.
fn linted(yaml: &str, overrides: &Overrides) -> Vec<bool> {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("services.yaml");
    std::fs::write(&path, yaml).expect("write");
    let report = common::run(&[path], None, overrides);
    let rejected: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.suppressed.is_none() && ["EXT002", "EXT004"].contains(&f.rule.code))
        .filter_map(|f| f.object.as_ref().map(|o| o.name.clone()))
        .collect();
    (0..yaml.matches("---\n").count())
        .map(|i| !rejected.contains(&format!("svc-{i}")))
        .collect()
}

const ADDRESSES: &[&str] = &[
    "192.0.2.10",
    "192.0.2.255",
    "198.51.100.7",
    "203.0.113.1",
    "10.0.0.1",
    "2001:db8::10",
    "2001:DB8::10",
    "2001:db8:0:0::11",
    "2001:db9::1",
    "fd00::1",
    "192.0.2.010",
    "010.000.002.001",
    "::ffff:192.0.2.10",
    "::ffff:c000:20a",
    "0.0.0.0",
    "::",
    "127.0.0.1",
    "::1",
    "169.254.169.254",
    "fe80::1",
    "224.0.0.251",
    "ff02::1",
    "224.0.1.1",
    "192.0.2.0/28",
    "2001:db8::/64",
    "web.example.com",
    " 192.0.2.10",
    "192.0.2.10 ",
    "fe80::1%eth0",
    "",
    "192.0.2",
    "1.2.3.4.5",
];

/// The hexadecimal IPv4-mapped form, which the implementations read as IPv4 (EXT008) and CEL
/// cannot: the policy refuses it in load-balancer addresses, a documented difference.
const HEX_MAPPED: &str = "::ffff:c000:20a";

fn compare(allow: &[&str], version: &str, place: &str) {
    let env = Arc::new(Env::stdlib());
    let mut args = vec!["--kubernetes-version", version];
    for a in allow {
        args.extend(["--allow-cidr", a]);
    }
    let p = policy(&generated(&args), &env);
    let (yaml, objects) = services(ADDRESSES, place);
    let overrides = Overrides {
        profile: Some("on-prem".into()),
        kubernetes_version: Some(version.into()),
        allow_cidr: allow.iter().map(|a| (*a).to_string()).collect(),
        ..Overrides::default()
    };
    let lint = linted(&yaml, &overrides);
    for ((address, object), lint_ok) in ADDRESSES.iter().zip(&objects).zip(lint) {
        if place != "externalIPs" && *address == HEX_MAPPED {
            assert!(!admits(&p, &env, object, None));
            continue;
        }
        assert_eq!(
            admits(&p, &env, object, None),
            lint_ok,
            "{place} `{address}` (allowlist {allow:?}, Kubernetes {version}): the policy and EXT002/EXT004 disagree"
        );
    }
}

#[test]
fn the_policy_admits_exactly_the_external_ips_extip_lint_accepts() {
    compare(&["192.0.2.0/24", "2001:db8::/32"], "1.37", "externalIPs");
    compare(&["192.0.2.0/24"], "1.36", "externalIPs");
    compare(&[], "1.37", "externalIPs");
}

#[test]
fn the_policy_admits_exactly_the_requested_addresses_extip_lint_accepts() {
    compare(&["192.0.2.0/24", "2001:db8::/32"], "1.37", "loadBalancerIP");
    compare(&["192.0.2.0/24", "2001:db8::/32"], "1.37", "metallb");
}

#[test]
fn addresses_already_stored_are_left_alone_on_update() {
    let env = Arc::new(Env::stdlib());
    let p = policy(&generated(&["--allow-cidr", "192.0.2.0/24"]), &env);
    let svc = |ips: &[&str]| {
        serde_json::json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                           "spec": {"ports": [{"port": 80}], "externalIPs": ips}})
    };
    let old = svc(&["198.51.100.7"]);
    assert!(
        admits(&p, &env, &svc(&["198.51.100.7"]), Some(&old)),
        "kept"
    );
    assert!(
        admits(&p, &env, &svc(&["198.51.100.7", "192.0.2.1"]), Some(&old)),
        "kept and allowed"
    );
    assert!(
        !admits(&p, &env, &svc(&["198.51.100.8"]), Some(&old)),
        "a new disallowed one"
    );
    assert!(
        !admits(&p, &env, &svc(&["198.51.100.7"]), None),
        "on create it counts"
    );
}

#[test]
fn targets_the_policy_cannot_serve_are_refused() {
    for version in ["1.30", "1.35"] {
        let out = std::process::Command::new(BIN)
            .args([
                "--generate",
                "admission-policy",
                "--kubernetes-version",
                version,
            ])
            .current_dir(std::env::temp_dir())
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{version}");
    }
}

#[test]
fn kubectl_reads_both_policies() {
    let kubectl = common::tools::tool("kubectl");
    let dir = tempfile::tempdir().expect("tmp");
    for (name, args) in [
        (
            "policy.yaml",
            vec![
                "--generate",
                "admission-policy",
                "--allow-cidr",
                "192.0.2.0/24",
                "--deny",
            ],
        ),
        (
            "deny-all.yaml",
            vec!["--generate", "admission-policy-deny-all"],
        ),
    ] {
        let out = std::process::Command::new(BIN)
            .args(&args)
            .current_dir(dir.path())
            .output()
            .expect("runs");
        assert!(out.status.success());
        let path = dir.path().join(name);
        std::fs::write(&path, &out.stdout).expect("write");
        let read = std::process::Command::new(&kubectl)
            .args(["annotate", "--local", "-f"])
            .arg(&path)
            .args(["x=y", "-o", "json"])
            .output()
            .expect("kubectl");
        assert!(
            read.status.success(),
            "{}",
            String::from_utf8_lossy(&read.stderr)
        );
        let text = String::from_utf8_lossy(&read.stdout);
        assert!(text.contains("ValidatingAdmissionPolicyBinding"), "{text}");
        // And so does extip-lint, without a finding.
        let lint = std::process::Command::new(BIN)
            .args(["-f", "short", "--allow-empty"])
            .arg(&path)
            .output()
            .expect("lint");
        assert!(String::from_utf8_lossy(&lint.stdout).is_empty());
    }
    let deny = std::fs::read_to_string(dir.path().join("policy.yaml")).expect("policy");
    assert!(deny.contains("validationActions: [Deny]"));
}
