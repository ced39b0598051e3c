//! A root that failed to render: EXT903 with the renderer's first error line, and the root's
//! own plain files read instead, so that a render never checks less than a plain run.

use std::sync::Arc;

use super::{Loaded, file_problem};
use crate::object::ProblemKind;
use crate::source::{self, Encoding, FileId, SourceFile};

/// A renderer that failed: an `EXT903` problem at the start of its `Chart.yaml` or
/// kustomization file, which is the file reported.
pub(super) fn render_failure(
    id: FileId,
    r: &crate::input::walk::Rendered,
    error: &str,
    max: u64,
) -> Loaded {
    let name = crate::source::display_name(&r.file);
    let text = source::read_regular_text(&r.file, max).unwrap_or_default();
    let instead = match r.fallback {
        0 => String::new(),
        1 => "; its 1 plain manifest file was linted as written instead".to_string(),
        n => format!("; its {n} plain manifest files were linted as written instead"),
    };
    let mut problem = file_problem(
        id,
        r.offset.min(text.len()),
        match error.strip_prefix(crate::input::expand::NOT_RENDERED) {
            Some(why) => format!(
                "`{}` was not run, so what it renders was not checked: {}{instead}",
                r.label,
                short_error(why)
            ),
            None => format!(
                "`{}` failed, so what it renders was not checked: {}{instead}",
                r.label,
                short_error(first_error_line(error))
            ),
        },
        &format!(
            "Run `{}` to see the whole error; extip-lint renders offline, with {}.",
            r.command,
            match r.tool {
                source::Tool::Helm =>
                    "the chart's own values, its `ci/*-values.yaml` and the values files the config names",
                source::Tool::Kustomize =>
                    "no plugins, exec functions or Helm charts, and the load restrictor the config names",
            }
        ),
    );
    problem.kind = ProblemKind::RenderFailed;
    Loaded {
        source: SourceFile::new(
            id,
            name,
            Some(r.file.clone()),
            Arc::from(text),
            Encoding::Utf8,
        ),
        objects: Vec::new(),
        problems: vec![problem],
        ignores: Vec::new(),
        documents: 0,
        other_documents: 0,
        notices: Vec::new(),
        error: None,
    }
}

/// The line of a renderer's error that says what failed: the first that is not blank, without
/// the `Error: ` every helm and kustomize error starts with.
fn first_error_line(error: &str) -> &str {
    let line = error
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    line.strip_prefix("Error: ").unwrap_or(line)
}

/// A renderer's error for a message: renderers nest their causes, so a long message keeps its
/// end, where the cause is.
fn short_error(error: &str) -> String {
    const MAX: usize = 400;
    let error = error.split_whitespace().collect::<Vec<_>>().join(" ");
    if error.is_empty() {
        return "no message".into();
    }
    if error.len() <= MAX {
        return error;
    }
    let mut cut = error.len() - MAX;
    while !error.is_char_boundary(cut) {
        cut += 1;
    }
    format!("…{}", &error[cut..])
}
