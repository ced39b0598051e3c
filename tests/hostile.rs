//! Runs the real binary on inputs that could hang a run or exhaust its memory: FIFOs, sockets
//! and devices where files are expected, files larger than `max-file-size`, standard input past
//! it, and documents whose size, not their aliases, makes them large. Every input is made here;
//! a run that hangs is killed by `common::output_within` (the test then fails), and no test
//! asserts time or memory (`scripts/bench.sh` measures those).

mod common;

use common::{BAD_SERVICE, project, run_in};

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Output};

/// A Service with no finding under `--select EXT004,EXT900`.
const CLEAN_SERVICE: &str =
    "apiVersion: v1\nkind: Service\nmetadata:\n  name: ok\nspec:\n  ports: [{port: 80}]\n";

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Makes a FIFO with the system's `mkfifo` (the crate forbids `unsafe`, so no `mkfifo(3)`).
#[cfg(unix)]
fn mkfifo(path: &Path) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let status = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

const SHORT: &[&str] = &["-f", "short", "--select", "EXT004,EXT900"];

#[cfg(unix)]
#[test]
fn fifo_named_gitignore_in_a_linted_folder_is_named_and_not_read() {
    let dir = project(&[("k8s/svc.yaml", BAD_SERVICE.as_bytes())]);
    mkfifo(&dir.path().join("k8s/.gitignore"));
    mkfifo(&dir.path().join("k8s/sub/.gitignore"));
    std::fs::write(dir.path().join("k8s/sub/web.yaml"), BAD_SERVICE).expect("write");
    let out = run_in(dir.path(), &[&["k8s"], SHORT].concat(), None);
    let (stdout, stderr) = text(&out);
    assert!(stdout.contains("k8s/svc.yaml:8:5: EXT004"), "{stdout}");
    assert!(stdout.contains("k8s/sub/web.yaml:8:5: EXT004"), "{stdout}");
    for fifo in ["k8s/.gitignore", "k8s/sub/.gitignore"] {
        assert!(
            stderr.contains(&format!(
                "`{fifo}` was not read (it is a FIFO (named pipe), not a regular file)"
            )),
            "{stderr}"
        );
    }
    assert_eq!(out.status.code(), Some(1), "{stderr}");
}

#[cfg(unix)]
#[test]
fn fifo_gitignore_above_the_linted_folder_does_not_hang() {
    let dir = project(&[("repo/k8s/svc.yaml", BAD_SERVICE.as_bytes())]);
    mkfifo(&dir.path().join("repo/.gitignore"));
    let out = run_in(
        &dir.path().join("repo/k8s"),
        &[&["."], SHORT].concat(),
        None,
    );
    let (stdout, stderr) = text(&out);
    assert!(stdout.contains("svc.yaml:8:5: EXT004"), "{stdout}");
    assert!(stderr.contains(".gitignore` was not read"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn fifo_git_info_exclude_is_named_and_not_read() {
    let dir = project(&[
        ("repo/svc.yaml", BAD_SERVICE.as_bytes()),
        ("repo/.git/HEAD", b"ref: refs/heads/main\n"),
    ]);
    mkfifo(&dir.path().join("repo/.git/info/exclude"));
    let out = run_in(dir.path(), &[&["repo"], SHORT].concat(), None);
    let (stdout, stderr) = text(&out);
    assert!(stdout.contains("repo/svc.yaml:8:5: EXT004"), "{stdout}");
    assert!(
        stderr.contains("`repo/.git/info/exclude` was not read (it is a FIFO"),
        "{stderr}"
    );
}

#[test]
fn gitignore_rules_still_apply_from_the_folder_and_above() {
    let dir = project(&[
        ("repo/.gitignore", b"ignored.yaml\n/generated/\n"),
        ("repo/k8s/.gitignore", b"*.skip.yaml\n!keep.skip.yaml\n"),
        ("repo/k8s/svc.yaml", BAD_SERVICE.as_bytes()),
        ("repo/k8s/ignored.yaml", BAD_SERVICE.as_bytes()),
        ("repo/k8s/a.skip.yaml", BAD_SERVICE.as_bytes()),
        ("repo/k8s/keep.skip.yaml", BAD_SERVICE.as_bytes()),
        ("repo/generated/out.yaml", BAD_SERVICE.as_bytes()),
        ("repo/k8s/generated/out.yaml", BAD_SERVICE.as_bytes()),
    ]);
    let out = run_in(&dir.path().join("repo"), &[&["."], SHORT].concat(), None);
    let (stdout, stderr) = text(&out);
    let files: Vec<&str> = stdout.lines().filter_map(|l| l.split(':').next()).collect();
    assert_eq!(
        files,
        [
            "k8s/generated/out.yaml",
            "k8s/keep.skip.yaml",
            "k8s/svc.yaml"
        ],
        "{stdout}\n{stderr}"
    );
    assert!(
        stderr.contains("3 files (ignored by .gitignore, read with --no-ignore)"),
        "{stderr}"
    );
}

#[cfg(unix)]
#[test]
fn fifo_in_a_folder_walk_is_named_and_skipped() {
    let dir = project(&[("k8s/svc.yaml", CLEAN_SERVICE.as_bytes())]);
    mkfifo(&dir.path().join("k8s/x.yaml"));
    mkfifo(&dir.path().join("k8s/not-a-manifest"));
    let out = run_in(dir.path(), &[&["k8s"], SHORT].concat(), None);
    let (stdout, stderr) = text(&out);
    assert_eq!(stdout, "");
    assert!(
        stderr.contains(
            "skipped 1 file that is not a regular file (reading could wait forever or never end): `k8s/x.yaml` (a FIFO (named pipe))"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("not-a-manifest"), "{stderr}");
    // Found by the walk, not named by the user: a notice, not an error.
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

#[cfg(unix)]
#[test]
fn fifo_named_on_the_command_line_is_an_error_and_the_rest_is_linted() {
    let dir = project(&[("svc.yaml", BAD_SERVICE.as_bytes())]);
    mkfifo(&dir.path().join("x.yaml"));
    let out = run_in(dir.path(), &[&["x.yaml", "svc.yaml"], SHORT].concat(), None);
    let (stdout, stderr) = text(&out);
    assert!(stdout.contains("svc.yaml:8:5: EXT004"), "{stdout}");
    assert!(
        stderr
            .contains("error: cannot read `x.yaml`: it is a FIFO (named pipe), not a regular file"),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(2), "{stderr}");
}

#[cfg(unix)]
#[test]
fn socket_named_on_the_command_line_is_an_error() {
    let dir = project(&[("svc.yaml", CLEAN_SERVICE.as_bytes())]);
    let _listener =
        std::os::unix::net::UnixListener::bind(dir.path().join("s.yaml")).expect("socket");
    let out = run_in(dir.path(), &[&["s.yaml", "svc.yaml"], SHORT].concat(), None);
    let (_, stderr) = text(&out);
    assert!(
        stderr.contains("cannot read `s.yaml`: it is a socket, not a regular file"),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(2), "{stderr}");
}

/// `/dev/zero` never ends: named through a link, it is refused from its metadata.
#[cfg(target_os = "linux")]
#[test]
fn device_named_on_the_command_line_is_an_error_not_an_endless_read() {
    let dir = project(&[("svc.yaml", CLEAN_SERVICE.as_bytes())]);
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.yaml")).expect("link");
    let out = run_in(
        dir.path(),
        &[&["zero.yaml", "svc.yaml"], SHORT].concat(),
        None,
    );
    let (_, stderr) = text(&out);
    assert!(
        stderr.contains("cannot read `zero.yaml`: it is a character device, not a regular file"),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(2), "{stderr}");
}

#[cfg(unix)]
#[test]
fn fifo_given_to_config_is_an_error_naming_it() {
    let dir = project(&[("svc.yaml", CLEAN_SERVICE.as_bytes())]);
    mkfifo(&dir.path().join("cfg.yaml"));
    let out = run_in(dir.path(), &["--config", "cfg.yaml", "svc.yaml"], None);
    let (stdout, stderr) = text(&out);
    assert_eq!(stdout, "");
    assert!(
        stderr.contains("cannot read `cfg.yaml`: it is a FIFO (named pipe), not a regular file"),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(2), "{stderr}");
}

/// A FIFO where the nearest config would be is that config, unreadable: an error, not a reason
/// to use a config further up.
#[cfg(unix)]
#[test]
fn fifo_found_as_the_nearest_config_is_an_error() {
    let dir = project(&[
        (".extip-lint.yaml", b"profile: cloud\n"),
        ("k8s/svc.yaml", CLEAN_SERVICE.as_bytes()),
    ]);
    mkfifo(&dir.path().join("k8s/.extip-lint.yaml"));
    let out = run_in(dir.path(), &["k8s/svc.yaml"], None);
    let (_, stderr) = text(&out);
    assert!(
        stderr.contains(".extip-lint.yaml`: it is a FIFO (named pipe), not a regular file"),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(2), "{stderr}");
}

#[cfg(unix)]
#[test]
fn fifo_given_as_baseline_is_an_error_naming_it() {
    let dir = project(&[("svc.yaml", CLEAN_SERVICE.as_bytes())]);
    mkfifo(&dir.path().join("base.json"));
    let out = run_in(dir.path(), &["--baseline", "base.json", "svc.yaml"], None);
    let (_, stderr) = text(&out);
    assert!(
        stderr.contains("cannot read `base.json`: it is a FIFO (named pipe), not a regular file"),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(2), "{stderr}");
}

/// Standard input may be a pipe: it is read, as always.
#[test]
fn standard_input_is_still_read() {
    let dir = project(&[]);
    let out = run_in(
        dir.path(),
        &[&["-"], SHORT].concat(),
        Some(BAD_SERVICE.as_bytes()),
    );
    let (stdout, stderr) = text(&out);
    assert!(stdout.contains("<stdin>:8:5: EXT004"), "{stdout}\n{stderr}");
}

/// A sparse file of 64 GiB: read, it would take minutes and all the memory there is; refused
/// from its size, the message gives the size only its metadata knows.
#[test]
fn file_over_max_file_size_is_refused_from_its_metadata() {
    let dir = project(&[("svc.yaml", BAD_SERVICE.as_bytes())]);
    let big = std::fs::File::create(dir.path().join("big.yaml")).expect("create");
    big.set_len(64 << 30).expect("sparse file");
    let out = run_in(dir.path(), SHORT, None);
    let (stdout, stderr) = text(&out);
    assert!(stdout.contains("svc.yaml:8:5: EXT004"), "{stdout}");
    assert!(
        stdout.contains(
            "big.yaml:1:1: EXT900 [error] `big.yaml` is larger than 268435456 bytes (limit `max-file-size`): it is 68719476736 bytes; it was not read"
        ),
        "{stdout}\n{stderr}"
    );
}

/// Standard input past `max-file-size` is refused after one byte more, not read to its end.
#[test]
fn standard_input_over_max_file_size_is_refused() {
    let dir = project(&[(".extip-lint.yaml", b"limits:\n  max-file-size: 1000\n")]);
    let mut input = BAD_SERVICE.repeat(2000).into_bytes();
    input.extend(std::iter::repeat_n(b'#', 1 << 20));
    let out = run_in(dir.path(), &[&["-"], SHORT].concat(), Some(&input));
    let (stdout, stderr) = text(&out);
    assert!(
        stdout.contains(
            "<stdin>:1:1: EXT900 [error] `<stdin>` is larger than 1000 bytes (limit `max-file-size`)"
        ),
        "{stdout}\n{stderr}"
    );
    assert!(!stdout.contains("EXT004"), "{stdout}");
}

/// Offsets into a file are 32 bits: a limit past 4 GiB would promise what the reader cannot do.
#[test]
fn max_file_size_of_4_gib_or_more_is_a_config_error() {
    let dir = project(&[
        (
            ".extip-lint.yaml",
            b"limits:\n  max-file-size: 4294967296\n",
        ),
        ("svc.yaml", CLEAN_SERVICE.as_bytes()),
    ]);
    let out = run_in(dir.path(), &["svc.yaml"], None);
    let (_, stderr) = text(&out);
    assert!(
        stderr.contains("`max-file-size` is at most 4294967295 (4 GiB - 1)"),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(2), "{stderr}");
}

/// A Service with more externalIPs than `max-alias-expansion` and no alias: large, not an alias
/// bomb, and read in full.
#[test]
fn a_large_document_without_aliases_is_not_an_alias_expansion() {
    let mut svc = String::from(
        "apiVersion: v1\nkind: Service\nmetadata: {name: many}\nspec:\n  ports: [{port: 80}]\n  externalIPs:\n",
    );
    for i in 0..100_001u32 {
        let [_, b, c, d] = i.to_be_bytes();
        let _ = writeln!(svc, "  - 10.{b}.{c}.{d}");
    }
    // The last address is the one EXT004 reports: it is read.
    svc.push_str("  - 127.0.0.1\n");
    let dir = project(&[("many.yaml", svc.as_bytes())]);
    let out = run_in(dir.path(), SHORT, None);
    let (stdout, stderr) = text(&out);
    assert!(!stdout.contains("EXT900"), "{stdout}");
    assert!(
        stdout.contains("many.yaml:100008:5: EXT004"),
        "{stdout}\n{stderr}"
    );
}

/// Aliases past the limit: the limit holds, and the finding names the alias where the count
/// passed it (2,000 strings, then 60 aliases of them: each brings 2,001 nodes, and the 50th
/// passes 100,000).
#[test]
fn aliases_past_the_limit_are_named_at_the_alias() {
    let mut svc =
        String::from("apiVersion: v1\nkind: Service\nmetadata:\n  name: many\n  finalizers: &f\n");
    for i in 0..2000 {
        let _ = writeln!(svc, "  - example.com/f{i}");
    }
    svc.push_str("  managedFields:\n  - fieldsV1:\n");
    for i in 0..60 {
        let _ = writeln!(svc, "      a{i}: *f");
    }
    svc.push_str("spec:\n  ports: [{port: 80}]\n");
    let dir = project(&[("aliased.yaml", svc.as_bytes())]);
    let out = run_in(dir.path(), &["-f", "short", "--select", "EXT900"], None);
    let (stdout, stderr) = text(&out);
    assert!(
        stdout.contains("aliased.yaml:2057:12: EXT900 [error] Service default/many cannot be decoded at `metadata.managedFields[0].fieldsV1.a49`: aliases bring more than 100000 nodes into it, passing the limit at this alias (`max-alias-expansion` counts every node an alias brings, each time it brings it)"),
        "{stdout}\n{stderr}"
    );
}

/// The null device reads as an empty file: `--config /dev/null` says "no config".
#[cfg(unix)]
#[test]
fn the_null_device_reads_as_an_empty_file() {
    let dir = project(&[
        (".extip-lint.yaml", b"profile: cloud\n"),
        ("svc.yaml", BAD_SERVICE.as_bytes()),
    ]);
    let out = run_in(
        dir.path(),
        &[
            "--config",
            "/dev/null",
            "-f",
            "short",
            "svc.yaml",
            "/dev/null",
        ],
        None,
    );
    let (stdout, stderr) = text(&out);
    assert!(stdout.contains("svc.yaml:8:5: EXT004"), "{stdout}");
    // The config in the folder was not read: the profile is decided from the input.
    assert!(stderr.contains("profile: on-prem (auto"), "{stderr}");
    assert!(!stderr.contains("error:"), "{stderr}");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
}

/// Many FIFOs in a folder: the first 20 are named, the rest counted.
#[cfg(unix)]
#[test]
fn many_fifos_are_counted_after_the_first_twenty() {
    let dir = project(&[("k8s/svc.yaml", CLEAN_SERVICE.as_bytes())]);
    for i in 0..22 {
        mkfifo(&dir.path().join(format!("k8s/f{i:02}.yaml")));
    }
    let out = run_in(dir.path(), &[&["k8s"], SHORT].concat(), None);
    let (_, stderr) = text(&out);
    assert!(
        stderr.contains("skipped 22 files that are not regular files")
            && stderr.contains("`k8s/f19.yaml` (a FIFO (named pipe)), and 2 more")
            && !stderr.contains("f20.yaml"),
        "{stderr}"
    );
    assert!(
        stderr.contains("22 files (FIFOs, sockets or devices, never opened)"),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}
