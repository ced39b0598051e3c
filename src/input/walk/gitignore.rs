//! `.gitignore` rules, with the ignore files read by extip-lint itself.
//!
//! The `ignore` crate's walker opens every ignore file it meets with a blocking `open`: a FIFO
//! named `.gitignore` in a linted folder (or in one above it) stopped the run forever, and one
//! linked to `/dev/zero` never ended. Here an ignore file is read only if it is a regular file of
//! at most `source::DEFAULT_MAX_FILE_SIZE` (`source::read_regular`); one that is not is named in
//! a notice and its rules are left out.
//!
//! The rules are those the walker applied with `parents`, `git_ignore` and `git_exclude` on and
//! `require_git` off: every `.gitignore` from the filesystem root down to a file's folder, then
//! every `.git/info/exclude` on the way (a worktree's through its `.git` file), the nearest
//! match deciding. Paths are matched as absolute paths.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use ignore::gitignore::{Gitignore, GitignoreBuilder};

use crate::source::{self, Unread, display_name};

/// The ignore rules of the folders seen so far, by absolute path.
#[derive(Default)]
pub(super) struct Rules {
    levels: Mutex<HashMap<PathBuf, Arc<Level>>>,
    /// Ignore files that were not read, as notices.
    notices: Mutex<Vec<String>>,
}

/// One folder's rules, and its parent folder's.
struct Level {
    parent: Option<Arc<Level>>,
    gitignore: Option<Gitignore>,
    exclude: Option<Gitignore>,
}

impl Rules {
    /// Whether the entry at absolute path `path` is ignored.
    pub(super) fn ignored(&self, path: &Path, is_dir: bool) -> bool {
        let Some(folder) = path.parent() else {
            return false;
        };
        let level = self.level(folder);
        let gitignore: fn(&Level) -> Option<&Gitignore> = |l| l.gitignore.as_ref();
        let exclude: fn(&Level) -> Option<&Gitignore> = |l| l.exclude.as_ref();
        for pick in [gitignore, exclude] {
            let mut at = Some(&level);
            while let Some(l) = at {
                if let Some(rules) = pick(l) {
                    let m = rules.matched(path, is_dir);
                    if m.is_ignore() {
                        return true;
                    }
                    if m.is_whitelist() {
                        return false;
                    }
                }
                at = l.parent.as_ref();
            }
        }
        false
    }

    /// The notices about ignore files that were not read.
    pub(super) fn take_notices(&self) -> Vec<String> {
        std::mem::take(&mut *self.notices.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn level(&self, folder: &Path) -> Arc<Level> {
        if let Some(l) = self
            .levels
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(folder)
        {
            return Arc::clone(l);
        }
        let parent = folder.parent().map(|p| self.level(p));
        let level = Arc::new(Level {
            parent,
            gitignore: self.read(folder, &folder.join(".gitignore")),
            exclude: exclude_file(folder).and_then(|f| self.read(folder, &f)),
        });
        self.levels
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(folder.to_path_buf(), Arc::clone(&level));
        level
    }

    /// The rules of the ignore file `file`, matched relative to `folder`; `None` when there is
    /// none, and a notice when it is there but was not read.
    fn read(&self, folder: &Path, file: &Path) -> Option<Gitignore> {
        // Most folders have no ignore file: `symlink_metadata` is one cheap call.
        std::fs::symlink_metadata(file).ok()?;
        let bytes = match source::read_regular(file, source::DEFAULT_MAX_FILE_SIZE) {
            Ok(b) => b,
            Err(Unread::Io(_)) => return None,
            Err(u) => {
                self.notices
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(format!(
                        "`{}` was not read ({u}); files it would ignore are linted",
                        display_name(file)
                    ));
                return None;
            }
        };
        let mut builder = GitignoreBuilder::new(folder);
        for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
            // A line that is not UTF-8 is skipped, as the walker skipped it.
            let Ok(mut line) = std::str::from_utf8(line) else {
                continue;
            };
            if i == 0 {
                line = line.trim_start_matches('\u{feff}');
            }
            // A pattern that is not a valid glob is left out; the others still apply.
            let _ = builder.add_line(Some(file.to_path_buf()), line.trim_end_matches('\r'));
        }
        builder.build().ok().filter(|g| !g.is_empty())
    }
}

/// The `info/exclude` file of the repository whose `.git` is in `folder`: `.git/info/exclude`,
/// or, for a worktree (a `.git` file naming its git folder), the common folder's.
fn exclude_file(folder: &Path) -> Option<PathBuf> {
    let git = folder.join(".git");
    let meta = std::fs::metadata(&git).ok()?;
    if meta.is_dir() {
        return Some(git.join("info/exclude"));
    }
    if !meta.is_file() {
        return None;
    }
    let first_line = |path: &Path| {
        let bytes = source::read_regular(path, 64 * 1024).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        Some(text.lines().next()?.to_string())
    };
    let git_dir = PathBuf::from(first_line(&git)?.strip_prefix("gitdir: ")?);
    let common = first_line(&git_dir.join("commondir"))?;
    let common = if common.starts_with('.') {
        git_dir.join(common)
    } else {
        PathBuf::from(common)
    };
    Some(common.join("info/exclude"))
}
