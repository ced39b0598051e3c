//! JSON pointers (RFC 6901) as paths into a document: `/spec/externalIPs/0`. Segments are
//! escaped (`~0` for `~`, `~1` for `/`) and borrowed whenever they need no escaping.

use std::borrow::Cow;

/// Escapes a JSON pointer segment.
#[must_use]
pub fn escape(s: &str) -> Cow<'_, str> {
    if s.contains(['~', '/']) {
        Cow::Owned(s.replace('~', "~0").replace('/', "~1"))
    } else {
        Cow::Borrowed(s)
    }
}

/// Unescapes a JSON pointer segment.
#[must_use]
pub fn unescape(s: &str) -> Cow<'_, str> {
    if s.contains('~') {
        Cow::Owned(s.replace("~1", "/").replace("~0", "~"))
    } else {
        Cow::Borrowed(s)
    }
}

/// The unescaped segments of a pointer (`/a/b~1c` -> `a`, `b/c`).
#[must_use]
pub fn segments(pointer: &str) -> Vec<Cow<'_, str>> {
    pointer.split('/').skip(1).map(unescape).collect()
}

/// Joins unescaped segments into a pointer.
#[must_use]
pub fn join<S: AsRef<str>>(segments: &[S]) -> String {
    segments
        .iter()
        .fold(String::new(), |out, s| child(&out, &escape(s.as_ref())))
}

/// `pointer` with one more, already escaped, segment.
#[must_use]
pub fn child(pointer: &str, segment: &str) -> String {
    let mut out = String::with_capacity(pointer.len() + segment.len() + 1);
    out.push_str(pointer);
    out.push('/');
    out.push_str(segment);
    out
}

/// One step of a path through a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// The JSON pointer of a path.
#[must_use]
pub fn to_pointer(path: &[Segment]) -> String {
    path.iter().fold(String::new(), |out, s| match s {
        Segment::Key(k) => child(&out, &escape(k)),
        Segment::Index(i) => child(&out, &i.to_string()),
    })
}

/// A path as the API server names a field in its errors: `spec.ports[0].port`.
#[must_use]
pub fn field_path(path: &[Segment]) -> String {
    let mut out = String::new();
    for s in path {
        match s {
            Segment::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Segment::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_read_as_the_api_server_writes_them() {
        let path = [
            Segment::Key("spec".into()),
            Segment::Key("ports".into()),
            Segment::Index(0),
            Segment::Key("port".into()),
        ];
        assert_eq!(field_path(&path), "spec.ports[0].port");
        assert_eq!(to_pointer(&path), "/spec/ports/0/port");
    }

    #[test]
    fn segments_round_trip_through_escaping() {
        let segs = ["metadata", "annotations", "extip-lint.io/ignore", "a~b"];
        let p = join(&segs);
        assert_eq!(p, "/metadata/annotations/extip-lint.io~1ignore/a~0b");
        assert_eq!(segments(&p), segs);
    }
}
