//! `--diff-base`: the files under the paths given, as they are at a git revision, read through
//! git without a checkout. Runs the user's `git` with read-only plumbing commands only
//! (`rev-parse`, `ls-tree`, `diff --name-status`, `cat-file`), never a command that fetches, runs
//! hooks, filters or external diff programs, and never writes to the repository.
//!
//! Each file is named as the path the user would give for it now: a file renamed since the
//! revision gets its new name, so what is said about it (and its fingerprints) carry over.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::Error;
use crate::source::display_name;

/// One file at the revision.
#[derive(Debug, Clone)]
pub struct BaseFile {
    /// The index of the path given that holds it.
    pub root: usize,
    /// Its name now: under the path given, as the walk would name it.
    pub path: PathBuf,
    /// Its path from the top of the repository, now: one file under two paths given is one.
    pub repo_path: String,
    pub bytes: Vec<u8>,
}

/// The files under the paths given at one revision.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The revision as given (`HEAD`, `origin/main`).
    pub rev: String,
    /// The commit it names.
    pub commit: String,
    pub files: Vec<BaseFile>,
    /// Each path given, from the top of the repository (`None` for standard input).
    pub roots: Vec<Option<PathBuf>>,
    /// The top of the repository.
    pub top: PathBuf,
}

fn git(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.current_dir(dir)
        .args([
            "--no-optional-locks",
            "--literal-pathspecs",
            "-c",
            "core.fsmonitor=false",
        ])
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .stderr(Stdio::piped());
    c
}

fn run(mut c: Command, what: &str) -> Result<Vec<u8>, String> {
    let out = c
        .output()
        .map_err(|e| format!("cannot run git for {what}: {e}"))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// The top of the git repository (or worktree) holding `start`: the nearest folder at or above
/// it with a `.git` entry. Looked up on the file system, without running git.
#[must_use]
pub fn repository_root(start: &Path) -> Option<PathBuf> {
    let dir = if start.is_dir() {
        start
    } else {
        start.parent()?
    };
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

fn usage(message: impl std::fmt::Display) -> Error {
    Error::Usage(format!("--diff-base: {message}"))
}

/// Reads the files under `roots` at `rev` that `wanted` (given each file's name now) keeps.
/// Standard input (`-`) has no past and is left out.
pub fn snapshot(
    rev: &str,
    roots: &[PathBuf],
    wanted: &dyn Fn(&Path) -> bool,
) -> Result<Snapshot, Error> {
    let cwd = std::env::current_dir().map_err(|e| usage(format!("no working directory: {e}")))?;
    let first = roots
        .iter()
        .find(|r| r.as_os_str() != "-")
        .map_or_else(|| cwd.clone(), |r| cwd.join(r));
    let probe = if first.is_dir() {
        first.clone()
    } else {
        first
            .parent()
            .map_or_else(|| cwd.clone(), Path::to_path_buf)
    };
    let mut c = git(&probe);
    c.args(["rev-parse", "--show-toplevel"]);
    let top = run(c, "the repository").map_err(|_| {
        usage(format!(
            "`{}` is not in a git repository",
            display_name(&first)
        ))
    })?;
    let top = PathBuf::from(String::from_utf8_lossy(&top).trim());
    let top = std::fs::canonicalize(&top).unwrap_or(top);
    let mut c = git(&top);
    c.args(["rev-parse", "--verify", "--quiet", "--end-of-options"])
        .arg(format!("{rev}^{{commit}}"));
    let commit = match run(c, "the revision") {
        Ok(c) => String::from_utf8_lossy(&c).trim().to_string(),
        // `HEAD` before the first commit: nothing was there, every finding is new.
        Err(_) if rev == "HEAD" && unborn(&top) => {
            return Ok(Snapshot {
                rev: rev.to_string(),
                commit: String::new(),
                files: Vec::new(),
                roots: vec![None; roots.len()],
                top,
            });
        }
        Err(_) => {
            return Err(usage(format!(
                "unknown revision `{rev}` in {}",
                display_name(&top)
            )));
        }
    };

    // Each path given, relative to the top of the repository.
    let mut rels: Vec<(usize, PathBuf)> = Vec::new();
    for (i, root) in roots.iter().enumerate() {
        if root.as_os_str() == "-" {
            continue;
        }
        let Ok(abs) = std::fs::canonicalize(root) else {
            // A path that does not exist is the main run's error to report.
            continue;
        };
        let rel = abs.strip_prefix(&top).map_err(|_| {
            usage(format!(
                "`{}` is outside the repository at {}",
                display_name(root),
                display_name(&top)
            ))
        })?;
        rels.push((i, rel.to_path_buf()));
    }
    let specs: Vec<String> = rels
        .iter()
        .map(|(_, r)| {
            if r.as_os_str().is_empty() {
                ".".to_string()
            } else {
                slash(r)
            }
        })
        .collect();
    let mut root_rels = vec![None; roots.len()];
    for (i, rel) in &rels {
        root_rels[*i] = Some(rel.clone());
    }
    if specs.is_empty() {
        return Ok(Snapshot {
            rev: rev.to_string(),
            commit,
            files: Vec::new(),
            roots: root_rels,
            top,
        });
    }
    let renames = renames(&top, &commit, &specs)?;
    let mut c = git(&top);
    c.args(["ls-tree", "-r", "-z", &commit, "--"]).args(&specs);
    let listing = run(c, "the files").map_err(|e| usage(format!("cannot list `{rev}`: {e}")))?;
    let mut wanted_files: Vec<(usize, PathBuf, String, String)> = Vec::new();
    for record in listing.split(|&b| b == 0).filter(|r| !r.is_empty()) {
        let record = String::from_utf8_lossy(record);
        let Some((meta, path)) = record.split_once('\t') else {
            continue;
        };
        let mut meta = meta.split(' ');
        let (Some(mode), Some("blob"), Some(oid)) = (meta.next(), meta.next(), meta.next()) else {
            continue;
        };
        if mode == "120000" {
            continue;
        }
        let now = renames.get(path).map_or(path, String::as_str);
        for (root, rel) in &rels {
            let Ok(below) = Path::new(now).strip_prefix(rel) else {
                continue;
            };
            let user = if below.as_os_str().is_empty() {
                roots[*root].clone()
            } else {
                roots[*root].join(below)
            };
            if wanted(&user) {
                wanted_files.push((*root, user, now.to_string(), oid.to_string()));
            }
        }
    }
    let contents = cat(&top, wanted_files.iter().map(|f| f.3.as_str()))?;
    Ok(Snapshot {
        rev: rev.to_string(),
        commit,
        files: wanted_files
            .into_iter()
            .zip(contents)
            .map(|((root, path, repo_path, _), bytes)| BaseFile {
                root,
                path,
                repo_path,
                bytes,
            })
            .collect(),
        roots: root_rels,
        top,
    })
}

/// A snapshot written out under a temporary folder, for renderers that read folders; removed
/// when dropped.
#[derive(Debug)]
pub struct Checkout {
    pub dir: PathBuf,
    /// The top of the repository it stands for.
    pub top: PathBuf,
    /// Each path given, in the checkout (`None` for standard input or a path the revision lacks).
    pub roots: Vec<Option<PathBuf>>,
}

impl Drop for Checkout {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Checkout {
    /// Where `path` (a folder in the working tree, like the config's) is in the checkout, if it
    /// is in the repository.
    #[must_use]
    pub fn place(&self, path: &Path) -> Option<PathBuf> {
        // A file deleted since is placed by its folder.
        let abs = std::fs::canonicalize(path).ok().or_else(|| {
            Some(
                std::fs::canonicalize(path.parent()?)
                    .ok()?
                    .join(path.file_name()?),
            )
        })?;
        Some(self.dir.join(abs.strip_prefix(&self.top).ok()?))
    }
}

impl Snapshot {
    /// Writes the snapshot's files under a new temporary folder, at their repository paths.
    pub fn check_out(&self) -> Result<Checkout, Error> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "extip-lint-base-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let failed =
            |e: std::io::Error| usage(format!("cannot write the files of `{}`: {e}", self.rev));
        std::fs::create_dir_all(&dir).map_err(failed)?;
        let checkout = Checkout {
            roots: self
                .roots
                .iter()
                .map(|r| r.as_ref().map(|r| dir.join(r)))
                .collect(),
            dir,
            top: self.top.clone(),
        };
        for f in &self.files {
            let path = checkout.dir.join(&f.repo_path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(failed)?;
            }
            std::fs::write(&path, &f.bytes).map_err(failed)?;
        }
        Ok(checkout)
    }
}

/// Whether the repository has no commit yet (`HEAD` names a branch that does not exist).
fn unborn(top: &Path) -> bool {
    let mut c = git(top);
    c.args(["symbolic-ref", "--quiet", "HEAD"]);
    let Ok(branch) = run(c, "HEAD") else {
        return false;
    };
    let mut c = git(top);
    c.args(["rev-parse", "--verify", "--quiet"])
        .arg(String::from_utf8_lossy(&branch).trim());
    run(c, "the branch").is_err()
}

fn slash(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Files renamed since `commit` in the working tree: old path -> new path, from the top.
fn renames(top: &Path, commit: &str, specs: &[String]) -> Result<HashMap<String, String>, Error> {
    let mut c = git(top);
    c.args([
        "diff",
        "--no-ext-diff",
        "--no-textconv",
        "--no-color",
        "-M",
        "--name-status",
        "-z",
        commit,
        "--",
    ])
    .args(specs);
    let out =
        run(c, "renames").map_err(|e| usage(format!("cannot compare with `{commit}`: {e}")))?;
    let mut fields = out.split(|&b| b == 0).map(String::from_utf8_lossy);
    let mut map = HashMap::new();
    while let Some(status) = fields.next() {
        if status.is_empty() {
            break;
        }
        let Some(first) = fields.next() else { break };
        if status.starts_with('R') || status.starts_with('C') {
            let Some(second) = fields.next() else { break };
            if status.starts_with('R') {
                map.insert(first.into_owned(), second.into_owned());
            }
        }
    }
    Ok(map)
}

/// The contents of blobs, in order, through one `git cat-file --batch`.
fn cat<'a>(top: &Path, oids: impl Iterator<Item = &'a str>) -> Result<Vec<Vec<u8>>, Error> {
    let oids: Vec<String> = oids.map(String::from).collect();
    if oids.is_empty() {
        return Ok(Vec::new());
    }
    let mut c = git(top);
    c.args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut child = c
        .spawn()
        .map_err(|e| usage(format!("cannot run git: {e}")))?;
    let mut stdin = child.stdin.take().expect("BUG: piped stdin");
    let requests = oids.clone();
    // Written from another thread, so a full pipe in either direction cannot block both sides.
    let writer = std::thread::spawn(move || {
        for oid in requests {
            if writeln!(stdin, "{oid}").is_err() {
                break;
            }
        }
    });
    let mut out = BufReader::new(child.stdout.take().expect("BUG: piped stdout"));
    let mut blobs = Vec::with_capacity(oids.len());
    let broken = || usage("`git cat-file` stopped early");
    for _ in &oids {
        let mut header = String::new();
        out.read_line(&mut header).map_err(|_| broken())?;
        let size: usize = header
            .trim_end()
            .rsplit(' ')
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(broken)?;
        let mut blob = vec![0u8; size];
        out.read_exact(&mut blob).map_err(|_| broken())?;
        let mut newline = [0u8; 1];
        out.read_exact(&mut newline).map_err(|_| broken())?;
        blobs.push(blob);
    }
    let _ = writer.join();
    let _ = child.wait();
    Ok(blobs)
}
