//! `--diff` and `--fix`: the checked fixes (`fix::apply`) shown as a patch or written to the
//! files. Writing is a transaction per file: the bytes are read again and must still be what
//! was linted, the new bytes are the old ones with only the edits replaced, and they replace
//! the file at once (a temporary file beside it, renamed over it, its permissions kept; through
//! a symbolic link to its target; in place when other hard links share it). A file that cannot
//! be fixed is reported and the others are fixed all the same.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::finding::Safety;
use crate::report::Report;
use crate::verdict::fix::{self, Fixed};

/// What a `--fix` or `--diff` run did, for the messages and the exit code.
#[derive(Debug, Default)]
pub struct Done {
    /// Files fixed (or, with `--diff`, that would be), with how many fixes each.
    pub fixed: Vec<(String, usize)>,
    /// Files that could not be written, and why.
    pub failed: Vec<(String, String)>,
}

/// The checked fixes of `report`, of the allowed safety.
#[must_use]
pub fn planned(report: &Report, unsafe_too: bool, limits: crate::yaml::BuildLimits) -> Vec<Fixed> {
    fix::apply(&report.findings, &report.files, unsafe_too, limits)
}

/// Writes every fixed file; a failure on one does not stop the others.
#[must_use]
pub fn write(report: &Report, fixed: &[Fixed]) -> Done {
    let mut done = Done::default();
    for f in fixed {
        let file = &report.files[f.file];
        let Some(path) = &file.path else { continue };
        let result = std::fs::read(path)
            .map_err(|e| format!("cannot read it again: {e}"))
            .and_then(|stored| fix::bytes::splice(file, &stored, &f.edits))
            .and_then(|bytes| replace(path, &bytes).map_err(|e| format!("cannot write it: {e}")));
        match result {
            Ok(()) => done.fixed.push((file.name.clone(), f.applied)),
            Err(why) => done.failed.push((file.name.clone(), why)),
        }
    }
    done
}

/// The fixes as a unified diff of the files' bytes (`git apply` and `patch` take it).
pub fn diff(report: &Report, fixed: &[Fixed], out: &mut dyn Write) -> Done {
    let mut done = Done::default();
    for f in fixed {
        let file = &report.files[f.file];
        let Some(path) = &file.path else { continue };
        let stored = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                done.failed
                    .push((file.name.clone(), format!("cannot read it again: {e}")));
                continue;
            }
        };
        match fix::bytes::splice(file, &stored, &f.edits) {
            Ok(new) => {
                let _ = out.write_all(&unified(&stored, &new, &file.name));
                done.fixed.push((file.name.clone(), f.applied));
            }
            Err(why) => done.failed.push((file.name.clone(), why)),
        }
    }
    let _ = out.flush();
    done
}

/// How many unsuppressed findings have a fix left out: unsafe ones without `--unsafe-fixes`,
/// and refused ones, each with the place and reason of the refusal.
#[must_use]
pub fn left_out(report: &Report, unsafe_too: bool) -> (usize, Vec<String>) {
    let mut unsafe_left = 0;
    let mut refused = Vec::new();
    for f in crate::render::active(report) {
        for x in &f.fixes {
            if x.safety == Safety::Unsafe && !unsafe_too {
                if x.refused.is_none() {
                    unsafe_left += 1;
                }
                continue;
            }
            if let Some(why) = &x.refused {
                let l = crate::render::locate(report, f.primary.span, None);
                refused.push(format!(
                    "{}:{}:{}: {} not fixed ({}): {why}",
                    crate::render::one_line(&l.path),
                    l.start.line,
                    l.start.column,
                    f.rule.code,
                    x.title
                ));
            }
        }
    }
    (unsafe_left, refused)
}

/// Replaces the file at `path` with `bytes` at once.
fn replace(path: &Path, bytes: &[u8]) -> io::Result<()> {
    // Through a symbolic link: the link stays, its target changes.
    let target: PathBuf = if std::fs::symlink_metadata(path)?.file_type().is_symlink() {
        std::fs::canonicalize(path)?
    } else {
        path.to_path_buf()
    };
    let meta = std::fs::metadata(&target)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.nlink() > 1 {
            // Renaming would split the hard links apart: write in place.
            return std::fs::write(&target, bytes);
        }
    }
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.extip-lint-{}", std::process::id()));
    let written = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::set_permissions(&tmp, meta.permissions())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            // Kept when allowed (root, or the same owner); otherwise the new file is ours.
            let _ = std::os::unix::fs::chown(&tmp, Some(meta.uid()), Some(meta.gid()));
        }
        std::fs::rename(&tmp, &target)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// A unified diff of two byte strings, line by line, with 3 lines of context, bytes as they are.
fn unified(old: &[u8], new: &[u8], name: &str) -> Vec<u8> {
    let (a, b): (Vec<&[u8]>, Vec<&[u8]>) = (
        old.split_inclusive(|&c| c == b'\n').collect(),
        new.split_inclusive(|&c| c == b'\n').collect(),
    );
    let ops = similar::capture_diff_slices(similar::Algorithm::Myers, &a, &b);
    let mut out = Vec::new();
    let _ = write!(out, "--- a/{name}\n+++ b/{name}\n");
    for group in similar::group_diff_ops(ops, 3) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let (old_range, new_range) = (
            first.old_range().start..last.old_range().end,
            first.new_range().start..last.new_range().end,
        );
        let range = |r: &std::ops::Range<usize>| {
            if r.is_empty() {
                format!("{},0", r.start)
            } else {
                format!("{},{}", r.start + 1, r.len())
            }
        };
        let _ = writeln!(out, "@@ -{} +{} @@", range(&old_range), range(&new_range));
        for op in &group {
            for change in op.iter_changes(&a, &b) {
                let (sign, line) = match change.tag() {
                    similar::ChangeTag::Equal => (b' ', change.value()),
                    similar::ChangeTag::Delete => (b'-', change.value()),
                    similar::ChangeTag::Insert => (b'+', change.value()),
                };
                out.push(sign);
                out.extend_from_slice(line);
                if !line.ends_with(b"\n") {
                    out.extend_from_slice(b"\n\\ No newline at end of file\n");
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::unified;

    #[test]
    fn a_diff_keeps_bytes_that_are_not_utf8() {
        let old = b"a: 1 # \xff\nb: 2\n";
        let new = b"a: 1 # \xff\nb: 3\n";
        assert_eq!(
            unified(old, new, "x.yaml"),
            b"--- a/x.yaml\n+++ b/x.yaml\n@@ -1,2 +1,2 @@\n a: 1 # \xff\n-b: 2\n+b: 3\n".to_vec()
        );
        assert_eq!(
            unified(b"a", b"b", "x"),
            b"--- a/x\n+++ b/x\n@@ -1,1 +1,1 @@\n-a\n\\ No newline at end of file\n+b\n\\ No newline at end of file\n".to_vec()
        );
    }
}
