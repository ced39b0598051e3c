//! `--explain` on a terminal: a rule's Markdown documentation drawn for reading, not for a
//! Markdown viewer. Headings are bold (the first also underlined), code spans and fenced blocks
//! coloured, list bullets drawn, links shown as their text with the address after it. Only the
//! constructs the rule docs use are handled; anything else passes through as written.
//! Piped output stays the Markdown source.

const BOLD: &str = "\x1b[1m";
const UNDERLINE: &str = "\x1b[4m";
const CODE: &str = "\x1b[36m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

/// The document drawn for a terminal; `color` adds ANSI styles.
#[must_use]
pub fn terminal(doc: &str, color: bool) -> String {
    let style = |s: &'static str| if color { s } else { "" };
    let mut out = String::with_capacity(doc.len() + doc.len() / 8);
    let mut fenced = false;
    for line in doc.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            out.push_str("    ");
            out.push_str(style(CODE));
            out.push_str(line);
            out.push_str(style(RESET));
            out.push('\n');
            continue;
        }
        let hashes = line.bytes().take_while(|b| *b == b'#').count();
        if hashes > 0 && line[hashes..].starts_with(' ') {
            let title = inline(line[hashes + 1..].trim(), color);
            out.push_str(style(BOLD));
            if hashes == 1 {
                out.push_str(style(UNDERLINE));
            }
            out.push_str(&title);
            out.push_str(style(RESET));
            out.push('\n');
            if !color {
                let width = line[hashes + 1..].trim().chars().count();
                out.push_str(&(if hashes == 1 { "═" } else { "─" }).repeat(width));
                out.push('\n');
            }
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let rest = &line[indent..];
        if let Some(item) = rest.strip_prefix("- ") {
            out.push_str(&line[..indent]);
            out.push_str("• ");
            out.push_str(&inline(item, color));
        } else {
            out.push_str(&inline(line, color));
        }
        out.push('\n');
    }
    out
}

/// One line's inline markup: `code`, **bold**, [text](address).
fn inline(line: &str, color: bool) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(i) = rest.find(['`', '[', '*']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(code) = tail.strip_prefix('`')
            && let Some(end) = code.find('`')
        {
            if color {
                out.push_str(CODE);
                out.push_str(&code[..end]);
                out.push_str(RESET);
            } else {
                out.push_str(&tail[..end + 2]);
            }
            rest = &code[end + 1..];
        } else if let Some(bold) = tail.strip_prefix("**")
            && let Some(end) = bold.find("**")
        {
            if color {
                out.push_str(BOLD);
            }
            out.push_str(&bold[..end]);
            if color {
                out.push_str(RESET);
            }
            rest = &bold[end + 2..];
        } else if let Some(link) = tail.strip_prefix('[')
            && let Some(close) = link.find("](")
            && let Some(end) = link[close + 2..].find(')')
        {
            let text = &link[..close];
            let address = &link[close + 2..close + 2 + end];
            out.push_str(&inline(text, color));
            // Links between rule docs name the rule already; outside ones show the address.
            if address.starts_with("http") {
                out.push_str(if color { DIM } else { "" });
                out.push_str(" <");
                out.push_str(address);
                out.push('>');
                out.push_str(if color { RESET } else { "" });
            }
            rest = &link[close + 3 + end..];
        } else {
            out.push_str(&tail[..1]);
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::{inline, terminal};

    #[test]
    fn markup_is_drawn_and_text_kept() {
        let doc = "# EXT002 name\n\n## Fix\n\n- use `a`, see [EXT004](EXT004.md)\n```yaml\nkind: Service\n```\n";
        let plain = terminal(doc, false);
        assert_eq!(
            plain,
            "EXT002 name\n═══════════\n\nFix\n───\n\n• use `a`, see EXT004\n    kind: Service\n"
        );
        let colored = terminal(doc, true);
        assert!(colored.starts_with("\x1b[1m\x1b[4mEXT002 name\x1b[0m\n"));
        assert!(colored.contains("\x1b[36ma\x1b[0m"));
        assert_eq!(
            inline("[docs](https://k8s.io) and *one* star", false),
            "docs <https://k8s.io> and *one* star"
        );
        assert_eq!(
            inline("unclosed `code and [link", false),
            "unclosed `code and [link"
        );
    }
}
