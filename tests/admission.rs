//! The generated admission policy, evaluated with a real CEL interpreter (the `cel` crate) and
//! the Kubernetes IP and CIDR functions implemented here as the Kubernetes library documents them
//! (`isIP`, `ip` and its predicates, `cidr`, `containsIP`, and the strings extension's `split`
//! and `trim`): over a generated set of addresses it accepts and rejects exactly what EXT002 and
//! EXT004 accept and reject for the target version. The Kyverno `ClusterPolicy`'s CEL is evaluated
//! the same way, and the Gatekeeper template's Rego by a Rego interpreter (regorus): all three
//! give EXT002's and EXT004's verdicts. The real kubectl reads them all.

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
    generated_kind("admission-policy", args)
}

fn generated_kind(kind: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(BIN)
        .args(["--generate", kind])
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
    cel_policy(yaml, env, &["spec"], "validations")
}

/// The Kyverno `ClusterPolicy`'s CEL: the same variables and expressions, in its rule.
fn kyverno_policy(yaml: &str, env: &Arc<Env>) -> Policy {
    let (docs, _) = extip_lint::yaml::parse(yaml, extip_lint::yaml::BuildLimits { max_depth: 64 });
    let t = &docs[0].tree;
    let (rules, _, depth) = t.lookup(docs[0].root, &["spec", "rules"]);
    assert_eq!(depth, 2);
    assert_eq!(t.items(rules).len(), 1, "one rule");
    cel_policy(
        yaml,
        env,
        &["spec", "rules", "0", "validate", "cel"],
        "expressions",
    )
}

/// The variables and validations under `at` in the first document of `yaml`.
fn cel_policy(yaml: &str, env: &Arc<Env>, at: &[&str], checks: &str) -> Policy {
    let first = yaml.split("\n---\n").next().expect("policy");
    let (docs, _) = extip_lint::yaml::parse(first, extip_lint::yaml::BuildLimits { max_depth: 64 });
    let t = &docs[0].tree;
    let (root, _, depth) = t.lookup(docs[0].root, at);
    assert_eq!(depth, at.len(), "{at:?}");
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
        variables: list(&["variables"])
            .into_iter()
            .map(|v| (field(v, "name"), compile(&field(v, "expression"))))
            .collect(),
        validations: list(&[checks])
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

// ---- The Gatekeeper template's Rego, evaluated by a Rego interpreter (regorus).

struct Gatekeeper {
    engine: regorus::Engine,
    allow: serde_json::Value,
}

impl Gatekeeper {
    /// The template's Rego and the constraint's parameters, read from the generated YAML.
    fn new(yaml: &str) -> Self {
        let (docs, _) =
            extip_lint::yaml::parse(yaml, extip_lint::yaml::BuildLimits { max_depth: 64 });
        assert_eq!(docs.len(), 2, "template and constraint");
        let scalar = |d: usize, path: &[&str]| {
            let t = &docs[d].tree;
            let (n, _, depth) = t.lookup(docs[d].root, path);
            assert_eq!(depth, path.len(), "{path:?}");
            t.scalar(n).expect("scalar").to_string()
        };
        assert_eq!(scalar(0, &["kind"]), "ConstraintTemplate");
        assert_eq!(scalar(1, &["kind"]), "ExtipLintServiceAddresses");
        let rego = scalar(0, &["spec", "targets", "0", "rego"]);
        let t = &docs[1].tree;
        let (allow, _, depth) = t.lookup(docs[1].root, &["spec", "parameters", "allow"]);
        assert_eq!(depth, 3);
        let allow: Vec<String> = t
            .items(allow)
            .iter()
            .map(|n| t.scalar(*n).expect("cidr").to_string())
            .collect();
        let mut engine = regorus::Engine::new();
        // Gatekeeper reads templates as Rego v0.
        engine.set_rego_v0(true);
        engine
            .add_policy("template.rego".into(), rego)
            .unwrap_or_else(|e| panic!("the template's Rego: {e}"));
        Gatekeeper {
            engine,
            allow: serde_json::json!(allow),
        }
    }

    /// Whether the constraint admits `object` (and `old` on update): no violation.
    fn admits(&mut self, object: &serde_json::Value, old: Option<&serde_json::Value>) -> bool {
        let mut review = serde_json::json!({
            "operation": if old.is_some() { "UPDATE" } else { "CREATE" },
            "object": object,
        });
        if let Some(old) = old {
            review["oldObject"] = old.clone();
        }
        let input = serde_json::json!({"review": review, "parameters": {"allow": self.allow}});
        self.engine
            .set_input(regorus::Value::from_json_str(&input.to_string()).expect("input"));
        let v = self
            .engine
            .eval_rule("data.extiplintserviceaddresses.violation".into())
            .expect("violation evaluates");
        let violations = v.as_set().map_or_else(
            |_| panic!("violation is a set: {v:?}"),
            regorus::value::Set::len,
        );
        violations == 0
    }
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
    "0:0:0:0:0:ffff:192.0.2.10",
    "::FFFF:c000:20a",
    "::ffff:1",
    "::192.0.2.10",
    "2001:db8::1.2.3.4",
    "ff12::1",
    "fe90::1",
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

/// IPv4-mapped forms other than `::ffff:` and a dotted address (the hexadecimal one, the
/// uncompressed one), which the implementations read as IPv4 (EXT008) and the policies cannot:
/// they refuse them in load-balancer addresses, a documented difference.
const OTHER_MAPPED: &[&str] = &[
    "::ffff:c000:20a",
    "::FFFF:c000:20a",
    "0:0:0:0:0:ffff:192.0.2.10",
];

fn compare(allow: &[&str], version: &str, place: &str) {
    let env = Arc::new(Env::stdlib());
    let mut args = vec!["--kubernetes-version", version];
    for a in allow {
        args.extend(["--allow-cidr", a]);
    }
    let p = policy(&generated(&args), &env);
    let k = kyverno_policy(&generated_kind("kyverno-policy", &args), &env);
    let mut g = Gatekeeper::new(&generated_kind("gatekeeper", &args));
    let (yaml, objects) = services(ADDRESSES, place);
    let overrides = Overrides {
        profile: Some("on-prem".into()),
        kubernetes_version: Some(version.into()),
        allow_cidr: allow.iter().map(|a| (*a).to_string()).collect(),
        ..Overrides::default()
    };
    let lint = linted(&yaml, &overrides);
    for ((address, object), lint_ok) in ADDRESSES.iter().zip(&objects).zip(lint) {
        let verdicts = [
            ("ValidatingAdmissionPolicy", admits(&p, &env, object, None)),
            ("Kyverno", admits(&k, &env, object, None)),
            ("Gatekeeper", g.admits(object, None)),
        ];
        for (engine, admitted) in verdicts {
            if place != "externalIPs" && OTHER_MAPPED.contains(address) {
                assert!(!admitted, "{engine}: {address}");
                continue;
            }
            assert_eq!(
                admitted, lint_ok,
                "{place} `{address}` (allowlist {allow:?}, Kubernetes {version}): the {engine} policy and EXT002/EXT004 disagree"
            );
        }
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

/// One engine's verdict on a Service (and its old version on update).
type Admits<'a> = dyn FnMut(&serde_json::Value, Option<&serde_json::Value>) -> bool + 'a;

#[test]
fn addresses_already_stored_are_left_alone_on_update() {
    let env = Arc::new(Env::stdlib());
    let args = ["--allow-cidr", "192.0.2.0/24"];
    let p = policy(&generated(&args), &env);
    let k = kyverno_policy(&generated_kind("kyverno-policy", &args), &env);
    let mut g = Gatekeeper::new(&generated_kind("gatekeeper", &args));
    let mut engines: Vec<(&str, Box<Admits<'_>>)> = vec![
        (
            "ValidatingAdmissionPolicy",
            Box::new(|o, old| admits(&p, &env, o, old)),
        ),
        ("Kyverno", Box::new(|o, old| admits(&k, &env, o, old))),
        ("Gatekeeper", Box::new(move |o, old| g.admits(o, old))),
    ];
    let svc = |ips: &[&str]| {
        serde_json::json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                           "spec": {"ports": [{"port": 80}], "externalIPs": ips}})
    };
    let lb = |ips: &str| {
        serde_json::json!({"apiVersion": "v1", "kind": "Service",
                           "metadata": {"name": "s", "annotations": {"metallb.io/loadBalancerIPs": ips}},
                           "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}})
    };
    let old = svc(&["198.51.100.7"]);
    let old_lb = lb("198.51.100.7");
    for (engine, admits) in &mut engines {
        assert!(
            admits(&svc(&["198.51.100.7"]), Some(&old)),
            "{engine}: kept"
        );
        assert!(
            admits(&svc(&["198.51.100.7", "192.0.2.1"]), Some(&old)),
            "{engine}: kept and allowed"
        );
        assert!(
            !admits(&svc(&["198.51.100.8"]), Some(&old)),
            "{engine}: a new disallowed one"
        );
        assert!(
            !admits(&svc(&["198.51.100.7"]), None),
            "{engine}: on create it counts"
        );
        // The same for load-balancer annotations.
        assert!(
            admits(&lb("198.51.100.7"), Some(&old_lb)),
            "{engine}: annotation kept"
        );
        assert!(
            admits(&lb("198.51.100.7, 192.0.2.2"), Some(&old_lb)),
            "{engine}: annotation kept and allowed"
        );
        assert!(
            !admits(&lb("198.51.100.9"), Some(&old_lb)),
            "{engine}: a new disallowed annotation address"
        );
        assert!(
            !admits(&lb("198.51.100.7"), None),
            "{engine}: annotation on create"
        );
    }
}

#[test]
fn targets_the_policy_cannot_serve_are_refused() {
    for kind in ["admission-policy", "kyverno-policy", "gatekeeper"] {
        for version in ["1.30", "1.35"] {
            let out = std::process::Command::new(BIN)
                .args(["--generate", kind, "--kubernetes-version", version])
                .current_dir(std::env::temp_dir())
                .output()
                .expect("runs");
            assert_eq!(out.status.code(), Some(2), "{kind} {version}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains(&format!("--generate {kind}: ")), "{err}");
        }
    }
    // Strict validation turned on by its gate is enough where CEL's library exists.
    for kind in ["admission-policy", "kyverno-policy", "gatekeeper"] {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(
            dir.path().join(".extip-lint.yaml"),
            "kubernetes-version: \"1.35\"\nfeature-gates: {StrictIPCIDRValidation: true}\n",
        )
        .expect("config");
        let out = std::process::Command::new(BIN)
            .args(["--generate", kind])
            .current_dir(dir.path())
            .output()
            .expect("runs");
        assert!(
            out.status.success(),
            "{kind}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn warn_and_audit_by_default_deny_with_deny() {
    for (kind, default, deny) in [
        (
            "admission-policy",
            "validationActions: [Warn, Audit]",
            "validationActions: [Deny]",
        ),
        (
            "kyverno-policy",
            "failureAction: Audit",
            "failureAction: Enforce",
        ),
        (
            "gatekeeper",
            "enforcementAction: warn",
            "enforcementAction: deny",
        ),
    ] {
        assert!(generated_kind(kind, &[]).contains(default), "{kind}");
        assert!(generated_kind(kind, &["--deny"]).contains(deny), "{kind}");
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
        (
            "kyverno.yaml",
            vec![
                "--generate",
                "kyverno-policy",
                "--allow-cidr",
                "192.0.2.0/24",
            ],
        ),
        (
            "gatekeeper.yaml",
            vec![
                "--generate",
                "gatekeeper",
                "--allow-cidr",
                "192.0.2.0/24",
                "--deny",
            ],
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
        let kind = match name {
            "kyverno.yaml" => "\"kind\": \"ClusterPolicy\"",
            "gatekeeper.yaml" => "\"kind\": \"ExtipLintServiceAddresses\"",
            _ => "ValidatingAdmissionPolicyBinding",
        };
        assert!(text.contains(kind), "{text}");
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
