//! The benchmark ceiling: libyaml-safer's bare event loop (the parser extip-lint uses) over the
//! given files, nothing else.
//! `cargo run --release --example parse_only -- FILE|DIR...` prints bytes and events.

use std::path::Path;

fn visit(path: &Path, files: &mut Vec<std::path::PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for e in entries {
            visit(&e, files);
        }
    } else {
        files.push(path.to_path_buf());
    }
}

fn main() {
    let mut files = Vec::new();
    for arg in std::env::args().skip(1) {
        visit(Path::new(&arg), &mut files);
    }
    let (mut bytes, mut events) = (0usize, 0usize);
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        bytes += text.len();
        // Fed as extip-lint feeds it: a slice at a time (see `yaml::Slices`).
        let mut parser = libyaml_safer::Parser::new();
        parser.set_input(extip_lint::yaml::Slices::new(&text));
        while let Ok(e) = parser.parse() {
            events += 1;
            if e.data == libyaml_safer::EventData::StreamEnd {
                break;
            }
        }
    }
    println!("{bytes} bytes, {events} events");
}
