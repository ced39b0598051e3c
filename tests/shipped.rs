//! Every YAML and JSON file the project ships is read by parsers that are not extip-lint's own
//! (`PyYAML`, `serde_json`): the action, workflows, hooks, schemas, examples, and the YAML blocks of
//! the documentation. actionlint checks the action as a workflow uses it, and the action's run
//! step is run as GitHub runs it: one run writes the SARIF report, the annotations and the job
//! summary.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_extip-lint");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn said(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Folders that hold inputs, not things shipped: fixtures (broken on purpose), build output,
/// fuzz corpora.
const NOT_SHIPPED: &[&str] = &[
    "testdata",
    "target",
    ".git",
    "fuzz/corpus",
    "fuzz/artifacts",
];

/// Every file below the repository root with one of `extensions`, outside `NOT_SHIPPED`.
fn shipped(extensions: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("readable") {
            let p = e.expect("entry").path();
            let rel = p.strip_prefix(root()).expect("below root");
            if NOT_SHIPPED.iter().any(|n| rel.starts_with(n)) {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else if p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| extensions.iter().any(|x| n.ends_with(x)))
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The documents of each YAML file, as `PyYAML` reads them.
fn pyyaml(files: &[PathBuf]) -> Result<Vec<serde_json::Value>, String> {
    let tool = common::tools::tool("yaml-to-json");
    let out = Command::new(tool)
        .args(files)
        .output()
        .expect("yaml-to-json runs");
    if !out.status.success() {
        return Err(said(&out));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("yaml-to-json prints JSON"))
        .collect())
}

#[test]
fn every_shipped_yaml_file_parses() {
    let files = shipped(&[".yml", ".yaml"]);
    for needed in [
        "action.yml",
        ".pre-commit-hooks.yaml",
        "pre-commit-mirror/.pre-commit-hooks.yaml",
        ".github/workflows/release.yml",
    ] {
        assert!(
            files.contains(&root().join(needed)),
            "{needed} is not among {files:?}"
        );
    }
    let docs = pyyaml(&files).unwrap_or_else(|e| panic!("a shipped YAML file does not parse: {e}"));
    assert_eq!(docs.len(), files.len());
    for (file, docs) in files.iter().zip(&docs) {
        assert!(
            docs.as_array()
                .is_some_and(|d| !d.is_empty() && !d[0].is_null()),
            "{} holds no document",
            file.display()
        );
    }
}

#[test]
fn every_shipped_json_file_parses() {
    let files = shipped(&[".json"]);
    assert!(files.contains(&root().join("extip-lint.schema.json")));
    for f in files {
        let bytes = std::fs::read(&f).expect("readable");
        if let Err(e) = serde_json::from_slice::<serde_json::Value>(&bytes) {
            panic!("{} is not JSON: {e}", f.display());
        }
    }
}

/// The YAML blocks (fenced as `yaml`) of the Markdown the project ships, each a file of its own.
fn yaml_blocks(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for doc in shipped(&[".md"]) {
        let rel = doc
            .strip_prefix(root())
            .expect("below root")
            .display()
            .to_string();
        let text = std::fs::read_to_string(&doc).expect("readable");
        // The block's first line, the fence's indent, and the block's text without it.
        let mut block: Option<(usize, usize, String)> = None;
        for (i, line) in text.lines().enumerate() {
            let fence = line.trim_start();
            let indent = line.len() - fence.len();
            match &mut block {
                None if fence == "```yaml" || fence == "```yml" => {
                    block = Some((i + 2, indent, String::new()));
                }
                Some((start, _, body)) if fence == "```" => {
                    let file = dir.join(format!("block-{}.yaml", out.len()));
                    std::fs::write(&file, &body).expect("write");
                    out.push((format!("{rel}:{start}"), file));
                    block = None;
                }
                Some((_, indent, body)) => {
                    let cut = line.len() - line.trim_start_matches(' ').len();
                    body.push_str(&line[cut.min(*indent)..]);
                    body.push('\n');
                }
                None => {}
            }
        }
    }
    out
}

#[test]
fn every_yaml_block_in_the_documentation_parses() {
    let dir = tempfile::tempdir().expect("tmp");
    let blocks = yaml_blocks(dir.path());
    assert!(blocks.len() > 20, "{} blocks", blocks.len());
    for (place, file) in &blocks {
        if let Err(e) = pyyaml(std::slice::from_ref(file)) {
            panic!("the YAML block at {place} does not parse: {e}");
        }
    }
}

/// A repository whose workflow uses the action from its own folder, with `with:`. actionlint
/// reads local actions only inside a repository (a `.git` folder).
fn workflow_using_the_action(action: &str, with: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(dir.path().join(".git")).expect("mkdir");
    std::fs::create_dir_all(dir.path().join(".github/workflows")).expect("mkdir");
    std::fs::create_dir_all(dir.path().join("extip")).expect("mkdir");
    std::fs::write(dir.path().join("extip/action.yml"), action).expect("write");
    std::fs::write(
        dir.path().join(".github/workflows/lint.yml"),
        format!(
            "on: [push]\npermissions:\n  contents: read\njobs:\n  lint:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - uses: ./extip\n        id: extip\n        with:\n{with}      - run: echo \"${{{{ steps.extip.outputs.sarif-file }}}}\"\n"
        ),
    )
    .expect("write");
    dir
}

fn actionlint(dir: &Path) -> Output {
    Command::new(common::tools::tool("actionlint"))
        .arg(".github/workflows/lint.yml")
        .current_dir(dir)
        .output()
        .expect("actionlint runs")
}

/// `with:` lines setting every input the action declares.
fn every_input(action: &serde_json::Value) -> String {
    let mut out = String::new();
    for k in action["inputs"].as_object().expect("inputs").keys() {
        out.push_str("          ");
        out.push_str(k);
        out.push_str(": x\n");
    }
    out
}

fn action() -> (String, serde_json::Value) {
    let text = std::fs::read_to_string(root().join("action.yml")).expect("action.yml");
    let doc = pyyaml(&[root().join("action.yml")]).expect("action.yml parses");
    (text, doc[0][0].clone())
}

#[test]
fn actionlint_accepts_the_action_as_a_workflow_uses_it() {
    let (text, doc) = action();
    let dir = workflow_using_the_action(&text, &every_input(&doc));
    let out = actionlint(dir.path());
    assert!(out.status.success(), "{}", said(&out));
}

#[test]
fn actionlint_rejects_an_unknown_input_and_an_action_that_is_not_yaml() {
    // The check above can fail: an input the action does not declare, and the action.yml of
    // 0.1.0, whose unquoted `: ` in a description stopped every YAML reader.
    let (text, doc) = action();
    let dir =
        workflow_using_the_action(&text, &format!("{}          nope: x\n", every_input(&doc)));
    let out = actionlint(dir.path());
    assert!(
        !out.status.success() && said(&out).contains("nope"),
        "{}",
        said(&out)
    );
    let broken = text.replacen(
        "description: \"Config file (default: .extip-lint.yaml in the working directory or a parent).\"",
        "description: Config file (default: .extip-lint.yaml in the working directory or a parent).",
        1,
    );
    assert_ne!(broken, text);
    let dir = workflow_using_the_action(&broken, "");
    let out = actionlint(dir.path());
    assert!(
        !out.status.success() && said(&out).contains("could not parse action metadata"),
        "{}",
        said(&out)
    );
}

/// The action's run step, as the runner runs a composite step (`bash -eo pipefail`), with its
/// `${{ inputs.* }}` filled in; the release binary is this test's binary.
fn run_action_step(inputs: &[(&str, &str)], workspace: &Path, runner_temp: &Path) -> Output {
    let (_, doc) = action();
    let step = doc["runs"]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["name"] == "Run extip-lint")
        .expect("a step that runs extip-lint")
        .clone();
    let defaults = doc["inputs"].as_object().expect("inputs");
    let input = |name: &str| {
        inputs.iter().find(|(k, _)| *k == name).map_or_else(
            || defaults[name]["default"].as_str().unwrap_or("").to_string(),
            |(_, v)| (*v).to_string(),
        )
    };
    std::fs::create_dir_all(runner_temp.join("extip-lint/bin")).expect("mkdir");
    let bin = runner_temp.join("extip-lint/bin/extip-lint");
    if !bin.exists() {
        std::fs::copy(BIN, &bin).expect("copy the binary");
    }
    let mut cmd = Command::new("bash");
    cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c"])
        .arg(step["run"].as_str().expect("run"))
        .current_dir(workspace)
        .env("RUNNER_TEMP", runner_temp)
        .env("GITHUB_STEP_SUMMARY", runner_temp.join("summary.md"))
        .env_remove("NO_COLOR");
    for (k, v) in step["env"].as_object().expect("env") {
        let v = v.as_str().expect("string");
        let name = v
            .strip_prefix("${{ inputs.")
            .and_then(|r| r.strip_suffix(" }}"))
            .unwrap_or_else(|| panic!("{k}: {v} is not an input"));
        cmd.env(k, input(name));
    }
    cmd.output().expect("bash runs")
}

#[test]
fn the_action_writes_sarif_annotations_and_a_job_summary_from_one_run() {
    let workspace = tempfile::tempdir().expect("tmp");
    let temp = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(workspace.path().join(".git")).expect("a repository");
    std::fs::create_dir_all(workspace.path().join("deploy")).expect("mkdir");
    std::fs::write(
        workspace.path().join("deploy/edge.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata: {name: edge, namespace: shop}\nspec:\n  ports: [{port: 443}]\n  externalIPs: [198.51.100.7]\n",
    )
    .expect("write");
    let out = run_action_step(
        &[
            ("paths", "deploy"),
            ("profile", "on-prem"),
            ("fail-on", "never"),
        ],
        workspace.path(),
        temp.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("::warning file=deploy/edge.yaml,line=6,"),
        "{}",
        said(&out)
    );
    let sarif: serde_json::Value = serde_json::from_slice(
        &std::fs::read(workspace.path().join("extip-lint.sarif")).expect("the SARIF report"),
    )
    .expect("SARIF is JSON");
    let (schemas, id) = common::schema("testdata/schemas/sarif-schema-2.1.0.json");
    if let Err(e) = schemas.validate(&sarif, id) {
        panic!("the action's SARIF is not valid: {e:#}");
    }
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert!(
        results.iter().any(
            |r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                == "deploy/edge.yaml"
        ),
        "{sarif}"
    );
    let summary = std::fs::read_to_string(temp.path().join("summary.md")).expect("a job summary");
    assert!(summary.starts_with("## extip-lint\n"), "{summary}");
    assert!(summary.contains("198.51.100.7"), "the inventory: {summary}");

    // With `annotations: false`, plain lines in the log and no summary.
    let temp = tempfile::tempdir().expect("tmp");
    let out = run_action_step(
        &[
            ("paths", "deploy"),
            ("profile", "on-prem"),
            ("annotations", "false"),
        ],
        workspace.path(),
        temp.path(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("deploy/edge.yaml:6:"), "{}", said(&out));
    assert!(!stdout.contains("::warning"), "{stdout}");
    assert!(!temp.path().join("summary.md").exists());
}
