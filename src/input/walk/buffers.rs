//! Unsaved buffers (`extip-lint server`): an editor's text of a file, read in place of what is
//! on disk, in the same walk and the same run as every other file.
//!
//! A buffer replaces the walked file of the same path; the rest of the pipeline sees an input
//! like any other (`Input::Blob`: named and placed as the file is, its text given). A buffer of
//! a file that is not on disk yet (a new file, not saved) is added where the walk would have
//! found it: below a folder linted, with a manifest extension, not hidden, selected by
//! `include`/`exclude`, not a chart template. A file on disk that the walk left out (ignored,
//! excluded, a kustomize patch) stays out, whatever its buffer holds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Input, WalkOptions, Walked, chart_of, has_extension, selected};
use crate::source::Role;
use crate::source::display_name;

/// Buffers by absolute path.
#[derive(Debug, Clone, Default)]
pub struct Buffers {
    texts: BTreeMap<PathBuf, Arc<[u8]>>,
}

impl Buffers {
    /// Holds `text` for the file at `path` (absolute), in place of what is on disk.
    pub fn set(&mut self, path: PathBuf, text: &str) {
        self.texts.insert(path, Arc::from(text.as_bytes()));
    }

    /// The file at `path` is read from disk again.
    pub fn remove(&mut self, path: &Path) {
        self.texts.remove(path);
    }

    /// The text held for `path`, if any.
    #[must_use]
    pub fn get(&self, path: &Path) -> Option<&[u8]> {
        self.texts.get(path).map(|t| &t[..])
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    /// Puts the buffers into what `roots` (the paths linted, absolute) walked to.
    pub fn apply(&self, walked: &mut Walked, opts: &WalkOptions, roots: &[PathBuf]) {
        if self.texts.is_empty() {
            return;
        }
        let mut placed = std::collections::BTreeSet::new();
        for input in &mut walked.inputs {
            if let Input::File {
                path,
                name,
                root,
                role,
            } = input
                && let Some(bytes) = self.texts.get(path.as_path())
            {
                placed.insert(path.clone());
                *input = Input::Blob {
                    path: std::mem::take(path),
                    name: std::mem::take(name),
                    root: *root,
                    bytes: Arc::clone(bytes),
                    role: *role,
                };
            }
        }
        for (path, bytes) in &self.texts {
            if placed.contains(path) || path.symlink_metadata().is_ok() {
                continue;
            }
            let Some(root) = roots.iter().position(|r| walked_to(path, r, opts)) else {
                continue;
            };
            let at = walked.reported;
            walked.inputs.insert(
                at,
                Input::Blob {
                    path: path.clone(),
                    name: display_name(path),
                    root,
                    bytes: Arc::clone(bytes),
                    role: if super::values_of(path).is_some() {
                        Role::HelmValues
                    } else {
                        Role::Manifest
                    },
                },
            );
            walked.reported += 1;
        }
    }
}

/// Whether walking the folder `root` would read a file at `path`, were it on disk.
fn walked_to(path: &Path, root: &Path, opts: &WalkOptions) -> bool {
    let Ok(below) = path.strip_prefix(root) else {
        return false;
    };
    let hidden = below.components().any(|c| {
        c.as_os_str()
            .to_str()
            .is_some_and(|s| s.starts_with('.') && s != "." && s != "..")
    });
    root.is_dir()
        && (opts.no_ignore || !hidden)
        && has_extension(path)
        && selected(opts, path)
        && chart_of(path, &|p| p.is_file()).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &Path) -> Input {
        Input::File {
            path: path.to_path_buf(),
            name: display_name(path),
            root: 0,
            role: Role::Manifest,
        }
    }

    #[test]
    fn a_buffer_replaces_its_file_and_a_new_one_is_added_where_the_walk_would_find_it() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let root = dir.path().to_path_buf();
        std::fs::write(root.join("a.yaml"), "on: disk\n").expect("write");
        let mut walked = Walked {
            inputs: vec![file(&root.join("a.yaml"))],
            reported: 1,
            ..Walked::default()
        };
        let mut buffers = Buffers::default();
        buffers.set(root.join("a.yaml"), "in: editor\n");
        buffers.set(root.join("new.yaml"), "not: saved\n");
        buffers.set(root.join(".hidden/new.yaml"), "x: 1\n");
        buffers.set(root.join("notes.txt"), "x: 1\n");
        buffers.set(PathBuf::from("/elsewhere/new.yaml"), "x: 1\n");
        buffers.apply(
            &mut walked,
            &WalkOptions::default(),
            std::slice::from_ref(&root),
        );
        let got: Vec<(PathBuf, &[u8])> = walked
            .inputs
            .iter()
            .map(|i| match i {
                Input::Blob { path, bytes, .. } => (path.clone(), &bytes[..]),
                other => panic!("not a buffer: {other:?}"),
            })
            .collect();
        assert_eq!(
            got,
            [
                (root.join("a.yaml"), &b"in: editor\n"[..]),
                (root.join("new.yaml"), &b"not: saved\n"[..]),
            ]
        );
        assert_eq!(walked.reported, 2);
    }

    #[test]
    fn a_file_on_disk_the_walk_left_out_stays_out() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let root = dir.path().to_path_buf();
        std::fs::write(root.join("ignored.yaml"), "x: 1\n").expect("write");
        let mut walked = Walked::default();
        let mut buffers = Buffers::default();
        buffers.set(root.join("ignored.yaml"), "x: 2\n");
        buffers.apply(&mut walked, &WalkOptions::default(), &[root]);
        assert!(walked.inputs.is_empty());
    }
}
