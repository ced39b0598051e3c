//! The command line as clap reads it: flags, subcommands and their values.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

use super::generate;
use crate::render::Format;

#[derive(Debug, Parser)]
#[command(
    name = "extip-lint",
    version,
    about = "Lint Kubernetes manifests for Service externalIPs risks and NetworkPolicy coverage",
    long_about = None
)]
pub struct Args {
    /// Files and folders to lint; `-` reads standard input.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Output format (default: human).
    #[arg(short, long, value_enum)]
    pub format: Option<Format>,
    /// Write the report to FILE instead of standard output; `FORMAT=FILE` writes one more
    /// report in FORMAT (`-` is standard output). Repeatable: `-o sarif=extip.sarif -o github=-`.
    #[arg(short, long, value_name = "[FORMAT=]FILE")]
    pub output: Vec<PathBuf>,
    /// The folder SARIF, GitHub and GitLab paths are relative to (default: the top of the git
    /// repository holding the working directory).
    #[arg(long, value_name = "DIR")]
    pub project_root: Option<PathBuf>,
    /// Lowest severity that makes the exit code 1.
    #[arg(long, value_enum, default_value_t = FailOn::Warning)]
    pub fail_on: FailOn,
    /// Colour in human output (`NO_COLOR` is honoured with `auto`).
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// Config file (default: `.extip-lint.yaml` here or in the nearest parent folder).
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Network profile: cloud, on-prem or auto (aliases eks, gke, aks, bare-metal).
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
    /// Kubernetes version the manifests are checked against, like `1.36` (default: the newest
    /// release extip-lint knows).
    #[arg(long, value_name = "VERSION")]
    pub kubernetes_version: Option<String>,
    /// Allowed external IP range (repeatable; added to the config's list).
    #[arg(long = "allow-cidr", value_name = "CIDR")]
    pub allow_cidr: Vec<String>,
    /// Namespace of objects that set none (default: `default`).
    #[arg(short, long, value_name = "NS")]
    pub namespace: Option<String>,
    /// Run only these rules (comma-separated codes or names).
    #[arg(long, value_name = "CODES", value_parser = generate::RuleNames)]
    pub select: Vec<String>,
    /// Do not run these rules (comma-separated codes or names).
    #[arg(long, value_name = "CODES", value_parser = generate::RuleNames)]
    pub ignore: Vec<String>,
    /// Index the manifests under DIR (policies, Services, workloads) without reporting on them;
    /// for pre-commit, which names only the changed files. Repeatable.
    #[arg(long, value_name = "DIR")]
    pub context: Vec<PathBuf>,
    /// Make each path given its own cluster (own index, profile and address conflicts), for
    /// `extip-lint prod.yaml staging.yaml`; the config's `clusters:` otherwise say which files
    /// go together, and without them one run is one cluster.
    #[arg(long)]
    pub cluster_per_path: bool,
    /// Report only findings that are not there at the git revision REV (`HEAD`, `origin/main`,
    /// a commit): the same paths are linted as they are at REV, read through git, and findings
    /// found there are left out (and counted).
    #[arg(long, value_name = "REV")]
    pub diff_base: Option<String>,
    /// Leave out the findings recorded in FILE (written by `--write-baseline`).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Render every Helm chart (`helm template`) and Kustomize root (`kustomize build`) found,
    /// with your helm and kustomize (or kubectl), offline, and lint what they give; findings
    /// point at the template or patch line. Also `render: true` in the config.
    #[arg(long)]
    pub render: bool,
    /// `--render`, and fail on every chart or kustomization that was not checked: a render that
    /// failed, or a root that cannot be rendered offline (a remote dependency or resource not
    /// vendored), is an EXT903 error.
    #[arg(long)]
    pub strict_render: bool,
    /// The chart folder Helm output (on standard input or in a file) was rendered from: its
    /// `# Source:` lines then name the chart's files, and findings point at template lines.
    #[arg(long, value_name = "DIR")]
    pub chart_dir: Option<PathBuf>,
    /// With `--generate admission-policy`, `kyverno-policy` or `gatekeeper`: reject instead of
    /// warn and audit (`validationActions: [Deny]`, `failureAction: Enforce`,
    /// `enforcementAction: deny`).
    #[arg(long)]
    pub deny: bool,
    /// Print the fixes as a unified diff, and change nothing.
    #[arg(long)]
    pub diff: bool,
    /// Apply the safe fixes to the files (plain YAML only; never rendered output), then report
    /// what is left.
    #[arg(long)]
    pub fix: bool,
    /// With `--fix` or `--diff`, also the fixes that change what the cluster does (EXT007's
    /// move to a LoadBalancer Service).
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Succeed when the paths hold no Kubernetes object (by default that fails, exit 2: a run
    /// that checked nothing should not pass unnoticed).
    #[arg(long)]
    pub allow_empty: bool,
    /// Write the current findings to FILE as a baseline, print nothing else, and exit 0 (2 on
    /// errors).
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Name standard input in reports.
    #[arg(long, value_name = "NAME")]
    pub stdin_filename: Option<String>,
    /// Read files that .gitignore ignores and walk hidden folders.
    #[arg(long)]
    pub no_ignore: bool,
    /// Print the settings in force and where each came from, then exit.
    #[arg(long)]
    pub print_config: bool,
    /// List the rules, then exit.
    #[arg(long)]
    pub list_rules: bool,
    /// Print shell completions, a man page or the config's JSON Schema, then exit.
    #[arg(long, value_enum, value_name = "KIND")]
    pub generate: Option<Generate>,
    /// Print the number of findings per rule instead of the findings; they still decide the
    /// exit code.
    #[arg(long, conflicts_with = "inventory")]
    pub statistics: bool,
    /// Print the external-address inventory instead of the findings: md (or markdown) is a
    /// runbook page grouped by owner with each address's debugging commands; csv and json are
    /// tables. Findings still decide the exit code.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub inventory: Option<crate::render::inventory::InventoryFormat>,
    /// Also write a report of KIND to FILE: `html`, the exposure map (one self-contained page:
    /// every requested address, the objects claiming it, the pods they reach, the policies over
    /// them and the findings, per cluster).
    #[arg(long, num_args = 2, value_names = ["KIND", "FILE"])]
    pub report: Vec<String>,
    /// Print a rule's documentation (code or name), then exit.
    #[arg(long, value_name = "RULE", value_parser = generate::RuleNames)]
    pub explain: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Subcommand)]
pub enum Command {
    /// Serve the Language Server Protocol on standard input and output, for editors: the
    /// findings of the whole workspace as you type (a folder named `server` is linted as
    /// `./server`).
    Server,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Generate {
    CompleteBash,
    CompleteZsh,
    CompleteFish,
    CompletePowershell,
    Man,
    ConfigSchema,
    /// A ValidatingAdmissionPolicy enforcing EXT002 and EXT004 for the target version.
    AdmissionPolicy,
    /// A ValidatingAdmissionPolicy denying every new external IP.
    AdmissionPolicyDenyAll,
    /// A Kyverno `ClusterPolicy` (CEL) enforcing EXT002 and EXT004, the same CEL as the
    /// ValidatingAdmissionPolicy.
    KyvernoPolicy,
    /// A Gatekeeper `ConstraintTemplate` (Rego) and `Constraint` enforcing EXT002 and EXT004.
    Gatekeeper,
}

impl Generate {
    /// Whether the text is made from the settings (the target version and the allowlist).
    #[must_use]
    pub fn needs_settings(self) -> bool {
        matches!(
            self,
            Generate::AdmissionPolicy
                | Generate::AdmissionPolicyDenyAll
                | Generate::KyvernoPolicy
                | Generate::Gatekeeper
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Note,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}
