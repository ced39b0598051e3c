//! Errors about the run itself (usage, config, I/O). Problems in manifests are findings, never
//! errors.

use miette::{Diagnostic, NamedSource, SourceSpan};

/// A problem in the config file, shown with a code frame of the config at the offending value.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{message}")]
pub struct ConfigIssue {
    pub message: String,
    #[source_code]
    pub src: NamedSource<String>,
    #[label("{label}")]
    pub span: SourceSpan,
    pub label: String,
    #[help]
    pub help: Option<String>,
    #[diagnostic(severity)]
    pub severity: miette::Severity,
}

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum Error {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Config(Box<ConfigIssue>),
    #[error("cannot read `{path}`: {source}")]
    #[diagnostic(code(extip_lint::io))]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("`{0}` does not exist")]
    #[diagnostic(code(extip_lint::not_found))]
    NotFound(String),
    #[error("{0}")]
    #[diagnostic(code(extip_lint::usage))]
    Usage(String),
}
