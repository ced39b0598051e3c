//! `--generate`: shell completions (which offer rule codes and names where a flag takes them),
//! the man page (with EXIT STATUS, FILES and ENVIRONMENT sections), and the config's schema.

use clap::CommandFactory;
use clap::builder::{PossibleValue, TypedValueParser};
use clap_complete::Shell;
use clap_mangen::roff::{Roff, bold, roman};

use super::{Args, Generate};
use crate::error::Error;
use crate::{config, rules};

/// The value of `--select`, `--ignore` and `--explain`: any text (the config layer says what is
/// wrong with an unknown rule, with the rules it may have meant), completed from the rule codes
/// and names.
#[derive(Debug, Clone, Copy)]
pub struct RuleNames;

impl TypedValueParser for RuleNames {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(rules::CATALOG.iter().flat_map(|m| {
            [
                PossibleValue::new(m.code).help(m.summary),
                PossibleValue::new(m.name).help(m.summary),
            ]
        })))
    }
}

/// The text of `--generate KIND` (not the admission policies, which need the settings).
pub fn generate(kind: Generate) -> Result<Vec<u8>, Error> {
    let mut cmd = Args::command();
    let mut out = Vec::new();
    let shell = match kind {
        Generate::CompleteBash => Shell::Bash,
        Generate::CompleteZsh => Shell::Zsh,
        Generate::CompleteFish => Shell::Fish,
        Generate::CompletePowershell => Shell::PowerShell,
        Generate::Man => return man(cmd),
        Generate::AdmissionPolicy
        | Generate::AdmissionPolicyDenyAll
        | Generate::KyvernoPolicy
        | Generate::Gatekeeper => {
            return Err(Error::Usage(
                "the admission policy needs the settings".into(),
            ));
        }
        Generate::ConfigSchema => {
            let mut text = serde_json::to_string_pretty(&config::json_schema(&rules::CATALOG))
                .unwrap_or_default();
            text.push('\n');
            return Ok(text.into_bytes());
        }
    };
    clap_complete::generate(shell, &mut cmd, "extip-lint", &mut out);
    Ok(out)
}

/// clap's sections, then the ones a man page reader looks for.
fn man(cmd: clap::Command) -> Result<Vec<u8>, Error> {
    let man = clap_mangen::Man::new(cmd);
    let mut out = Vec::new();
    let write = |out: &mut Vec<u8>| -> std::io::Result<()> {
        man.render_title(out)?;
        man.render_name_section(out)?;
        man.render_synopsis_section(out)?;
        man.render_description_section(out)?;
        man.render_options_section(out)?;
        let mut roff = Roff::new();
        section(
            &mut roff,
            "EXIT STATUS",
            &[
                (
                    "0",
                    "No unsuppressed finding at or above --fail-on (or --fail-on never).",
                ),
                (
                    "1",
                    "Unsuppressed findings at or above --fail-on; findings left out by a limit count too.",
                ),
                (
                    "2",
                    "A usage, config or I/O error (a path that does not exist, an unreadable file, a renderer that could not run), or a run that checked no Kubernetes object without --allow-empty. The findings of everything that could be read are still reported.",
                ),
            ],
        );
        section(
            &mut roff,
            "FILES",
            &[
                (
                    ".extip-lint.yaml",
                    "The config file, looked up in the working directory and its parents, or next to the paths given (--config names another). --print-config shows every setting and where it came from.",
                ),
                (
                    ".extip-lint-baseline.json",
                    "A good name for --write-baseline and --baseline.",
                ),
                (
                    ".gitignore, .ignore",
                    "Files they ignore are not read, and hidden folders are not walked, unless --no-ignore.",
                ),
            ],
        );
        section(
            &mut roff,
            "ENVIRONMENT",
            &[
                (
                    "NO_COLOR",
                    "When set and not empty, no colour (unless --color always).",
                ),
                (
                    "CLICOLOR_FORCE, FORCE_COLOR",
                    "Colour even when standard output is not a terminal (unless --color never).",
                ),
                ("TERM", "dumb: no colour."),
                (
                    "COLUMNS",
                    "The width human output and --explain wrap at (default: the terminal's, else 100).",
                ),
                (
                    "GITHUB_STEP_SUMMARY",
                    "With a github report (--format github or -o github=FILE), a Markdown job summary is appended to this file.",
                ),
                (
                    "PATH",
                    "Where --render finds helm and kustomize (or kubectl), and --diff-base finds git. Nothing else is run.",
                ),
            ],
        );
        roff.to_writer(out)?;
        man.render_version_section(out)?;
        Ok(())
    };
    write(&mut out).map_err(|source| Error::Write {
        path: "<man page>".into(),
        cause: source,
    })?;
    Ok(out)
}

/// A man page section of tagged paragraphs.
fn section(roff: &mut Roff, title: &str, items: &[(&str, &str)]) {
    roff.control("SH", [title]);
    for (tag, text) in items {
        roff.control("TP", []);
        roff.text([bold(*tag)]);
        roff.text([roman(*text)]);
    }
}
