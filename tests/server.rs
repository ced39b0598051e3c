//! `extip-lint server` with real clients: pytest-lsp (a real LSP client over standard input
//! and output, with VS Code's capabilities) runs `tests/lsp/test_server.py` against the binary,
//! started with exactly the command README's editor snippets give (Neovim's `cmd`, Helix's
//! `command` and `args`, the VS Code extension's), and the VS Code extension is packaged with the
//! real `@vscode/vsce` by README's own commands. The tools come from
//! `scripts/install-test-tools.sh`; a tool that cannot be installed fails the test.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_extip-lint");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn said(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The first fenced block of `lang` after the heading `heading` in README.
fn readme_block(heading: &str, lang: &str) -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let at = readme
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("README has no `{heading}`"));
    let rest = &readme[at..];
    let fence = format!("```{lang}\n");
    let start = rest
        .find(&fence)
        .unwrap_or_else(|| panic!("no {lang} block after `{heading}`"))
        + fence.len();
    let end = rest[start..].find("```").expect("closed block") + start;
    rest[start..end].to_string()
}

/// The strings of `"a", "b"`.
fn strings(list: &str) -> Vec<String> {
    list.split(',')
        .map(|s| s.trim().trim_matches('"').to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The command every editor snippet of README starts the server with, checked to be the same
/// in each.
fn server_command() -> Vec<String> {
    let lua = readme_block("### Neovim", "lua");
    let cmd = lua
        .lines()
        .find_map(|l| l.trim().strip_prefix("cmd = {"))
        .expect("Neovim snippet has `cmd = { ... }`");
    let neovim = strings(cmd.trim_end_matches(',').trim_end_matches('}'));
    let toml = readme_block("### Helix", "toml");
    let value = |key: &str| {
        toml.lines()
            .find_map(|l| l.strip_prefix(&format!("{key} = ")))
            .unwrap_or_else(|| panic!("Helix snippet has `{key} =`"))
            .to_string()
    };
    let mut helix = vec![value("command").trim_matches('"').to_string()];
    helix.extend(strings(value("args").trim_matches(['[', ']'])));
    assert_eq!(neovim, helix, "README's Neovim and Helix snippets differ");
    let extension =
        std::fs::read_to_string(root().join("editors/vscode/extension.js")).expect("extension");
    let args = format!(
        "args: [{}]",
        neovim[1..]
            .iter()
            .map(|a| format!("\"{a}\""))
            .collect::<Vec<_>>()
            .join(", ")
    );
    assert!(extension.contains(&args), "extension.js lacks `{args}`");
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("editors/vscode/package.json")).expect("manifest"),
    )
    .expect("package.json is JSON");
    assert_eq!(
        manifest["contributes"]["configuration"]["properties"]["extip-lint.path"]["default"],
        neovim[0].as_str(),
        "the extension's default executable"
    );
    neovim
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("readable") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            if e.file_name() != "node_modules" {
                copy_dir(&e.path(), &target);
            }
        } else {
            std::fs::copy(e.path(), &target).expect("copy");
        }
    }
}

#[test]
fn a_real_client_sees_diagnostics_code_actions_and_hover() {
    let pytest = common::tools::tool("pytest-lsp");
    let command = server_command();
    assert_eq!(command[0], "extip-lint");
    let dir = tempfile::tempdir().expect("temporary folder");
    let workspace = dir.path().join("workspace");
    copy_dir(&root().join("testdata/server/workspace"), &workspace);
    // The binary under test is the `extip-lint` on PATH.
    let bin_dir = Path::new(BIN).parent().expect("folder");
    let path = std::env::join_paths(std::iter::once(bin_dir.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .expect("PATH");
    let explain = Command::new(BIN)
        .args(["--explain", "EXT007"])
        .output()
        .expect("--explain runs");
    let mut cmd = Command::new(pytest);
    cmd.arg("-q")
        .arg(root().join("tests/lsp/test_server.py"))
        .current_dir(dir.path())
        .env("PATH", path)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("EXTIP_LINT_WORKSPACE", &workspace)
        .env(
            "EXTIP_LINT_SERVER_COMMAND",
            serde_json::to_string(&command).expect("json"),
        )
        .env(
            "EXTIP_LINT_EXPLAIN_EXT007",
            String::from_utf8_lossy(&explain.stdout).as_ref(),
        );
    let out = common::output_within(&mut cmd, None);
    assert!(
        out.status.success(),
        "the LSP tests failed:\n{}",
        said(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("6 passed"),
        "{}",
        said(&out)
    );
}

#[test]
fn the_vscode_extension_packages_with_vsce_as_readme_says() {
    let vsce = common::tools::tool("vsce");
    let dir = tempfile::tempdir().expect("temporary folder");
    let extension = dir.path().join("vscode");
    copy_dir(&root().join("editors/vscode"), &extension);
    let steps = readme_block("### VS Code", "sh");
    let mut ran = 0;
    for step in steps.lines().map(str::trim).filter(|l| !l.is_empty()) {
        // Where the extension is and installing it into VS Code are the reader's.
        if step.starts_with("cd ") || step.starts_with("code ") {
            continue;
        }
        let step = step.replace("npx @vscode/vsce", &vsce.display().to_string());
        let out = common::output_within(
            Command::new("sh")
                .args(["-c", &step])
                .current_dir(&extension),
            None,
        );
        assert!(out.status.success(), "`{step}` failed:\n{}", said(&out));
        ran += 1;
    }
    assert_eq!(ran, 2, "README's VS Code steps: {steps}");
    let vsix = extension.join("extip-lint-0.1.0.vsix");
    assert!(vsix.is_file(), "no {}", vsix.display());
    // What the package holds, as VS Code unpacks it.
    let listing = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile; print('\\n'.join(zipfile.ZipFile(sys.argv[1]).namelist()))",
        ])
        .arg(&vsix)
        .output()
        .expect("python3 runs");
    let names = String::from_utf8_lossy(&listing.stdout);
    for needed in [
        "extension/package.json",
        "extension/extension.js",
        "extension/node_modules/vscode-languageclient/node.js",
    ] {
        assert!(
            names.lines().any(|n| n == needed),
            "{needed} not in the package:\n{names}"
        );
    }
}
