//! Errors about the run itself (usage, config, I/O). Problems in manifests are findings, never
//! errors.

use miette::{Diagnostic, NamedSource, SourceSpan};

/// A problem in the config file, shown with a code frame of the config at the offending value.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ConfigIssue {
    pub message: String,
    pub src: NamedSource<String>,
    pub span: SourceSpan,
    pub label: String,
    pub help: Option<String>,
    /// Error, or warning for a value read with a correction (a CIDR with host bits set).
    pub severity: miette::Severity,
}

impl Diagnostic for ConfigIssue {
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.src)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(
            miette::LabeledSpan::new_with_span(Some(self.label.clone()), self.span),
        )))
    }
}

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum Error {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Config(Box<ConfigIssue>),
    /// Every problem of a config file, each with its code frame.
    #[error("{} problems in the config", .0.len())]
    Configs(Vec<ConfigIssue>),
    #[error("cannot read `{path}`: {}", os_text(cause))]
    Io { path: String, cause: std::io::Error },
    /// Not read for a reason of the tool's (not a regular file, over a limit).
    #[error("cannot read `{path}`: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("cannot write `{path}`: {}", os_text(cause))]
    Write { path: String, cause: std::io::Error },
    #[error("`{0}` does not exist")]
    NotFound(String),
    #[error("{0}")]
    Usage(String),
}

impl Error {
    /// A file that could not be read: an operating-system error (`cause`), or the tool's own
    /// reason (not a regular file, over a limit).
    #[must_use]
    pub fn unread(path: String, cause: Result<std::io::Error, String>) -> Error {
        match cause {
            Ok(cause) => Error::Io { path, cause },
            Err(reason) => Error::Unreadable { path, reason },
        }
    }
}

/// An operating-system error as people read it: `No such file or directory`, without Rust's
/// `(os error 2)`.
#[must_use]
pub fn os_text(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => text[..i].to_string(),
        _ => text,
    }
}
