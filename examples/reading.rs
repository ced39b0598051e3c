//! extip-lint's reading of manifest files, one JSON line per file, for the differential test
//! against kubectl (`scripts/differential.py`): the objects it found (identity, where each
//! starts, and a Service's `externalIPs`), the objects it rejected as the API server would, and
//! every `EXT900` problem (with whether it is about an object or about reading the text).
//!
//! `cargo run --example reading -- FILE...`; `--built-in-kinds` prints the kinds it knows.

use std::path::PathBuf;

use extip_lint::finding::ObjectRef;
use extip_lint::input::walk::Input;
use extip_lint::object::load::{LoadOptions, load_all};
use extip_lint::object::{ClassifyOptions, ProblemKind, View};
use extip_lint::yaml::BuildLimits;
use serde_json::{Value, json};

fn id(r: &ObjectRef) -> Value {
    json!([r.api_version, r.kind, r.namespace, r.name])
}

fn main() {
    // The parser's panics are caught and reported as syntax errors; they are not printed.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !extip_lint::yaml::in_parser() {
            default_hook(info);
        }
    }));
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
    let files: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    if files
        .first()
        .is_some_and(|f| f.as_os_str() == "--built-in-kinds")
    {
        // Every built-in kind, the core group's first: what kubectl can map without a version.
        let core: Vec<&str> = extip_lint::k8s::kubernetes::BUILT_IN
            .iter()
            .filter(|(g, v, _)| g.is_empty() && *v == "v1")
            .flat_map(|(_, _, k)| k.iter().copied())
            .collect();
        let all: Vec<&str> = extip_lint::k8s::kubernetes::BUILT_IN
            .iter()
            .flat_map(|(_, _, k)| k.iter().copied())
            .collect();
        println!("{}", json!({"core": core, "all": all}));
        return;
    }
    let inputs: Vec<Input> = files
        .iter()
        .map(|p| Input::File {
            path: p.clone(),
            name: p.display().to_string(),
            root: 0,
            role: extip_lint::source::Role::Manifest,
        })
        .collect();
    let per_input: Vec<&LoadOptions> = inputs.iter().map(|_| &opts).collect();
    for (file, loaded) in files.iter().zip(load_all(&inputs, None, &per_input, None)) {
        let objects: Vec<Value> = loaded
            .objects
            .iter()
            .map(|o| {
                let ips = match &o.view {
                    View::Service(s) => json!(s.spec.as_ref().and_then(|s| s.external_ips.clone())),
                    _ => Value::Null,
                };
                json!({"id": id(&o.id), "start": o.span.start, "externalIPs": ips})
            })
            .collect();
        let invalid = loaded
            .problems
            .iter()
            .filter(|p| p.kind == ProblemKind::Invalid);
        let rejected: Vec<Value> = invalid
            .clone()
            .filter_map(|p| p.object.as_deref().map(id))
            .collect();
        // `read`: the text could not be read (not an object, nor an item of a list, nor a
        // document after a JSON value that is no object, on which kubectl goes on): where
        // kubectl stops.
        let errors: Vec<Value> = invalid
            .map(|p| {
                let read = p.object.is_none()
                    && p.pointer.is_empty()
                    && !p.message.starts_with("the text after the JSON value");
                json!({"start": p.span.start, "message": p.message, "object": p.object.is_some(),
                       "read": read})
            })
            .collect();
        let line = json!({
            "file": file.display().to_string(),
            "objects": objects,
            "rejected": rejected,
            "errors": errors,
            "ignored": loaded.other_documents,
            // Documents skipped as unrendered templates (`{{` in a document that is broken or
            // holds a templated name).
            "templates": loaded
                .notices
                .iter()
                .filter(|n| n.text().contains("unrendered `{{ }}` template syntax"))
                .count(),
            "io": loaded.error.map(|e| e.to_string()),
        });
        println!("{line}");
    }
}
