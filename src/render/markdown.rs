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

/// The document drawn for a terminal `width` columns wide; `color` adds ANSI styles.
/// Paragraphs and list items are reflowed to the width (the source is wrapped for an editor);
/// code blocks and tables are kept as written.
#[must_use]
pub fn terminal(doc: &str, color: bool, width: usize) -> String {
    let style = |s: &'static str| if color { s } else { "" };
    let mut out = String::with_capacity(doc.len() + doc.len() / 8);
    let mut fenced = false;
    // The paragraph or list item being gathered: its first line's prefix, the indent of the
    // lines after it, and its words.
    let mut block: Option<(String, String, String)> = None;
    let flush = |out: &mut String, block: &mut Option<(String, String, String)>| {
        if let Some((first, rest, text)) = block.take() {
            let opts = textwrap::Options::new(width.max(20))
                .initial_indent(&first)
                .subsequent_indent(&rest)
                .word_separator(textwrap::WordSeparator::AsciiSpace)
                .word_splitter(textwrap::WordSplitter::NoHyphenation)
                .break_words(false);
            for line in textwrap::wrap(&inline(&text, color), opts) {
                out.push_str(line.trim_end());
                out.push('\n');
            }
        }
    };
    for line in doc.lines() {
        if line.trim_start().starts_with("```") {
            flush(&mut out, &mut block);
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
            flush(&mut out, &mut block);
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
        if rest.is_empty() || rest.starts_with('|') {
            flush(&mut out, &mut block);
            out.push_str(&inline(line, color));
            out.push('\n');
            continue;
        }
        if let Some((marker, item)) = list_item(rest) {
            flush(&mut out, &mut block);
            let first = format!("{}{marker}", &line[..indent]);
            let hang = " ".repeat(first.chars().count());
            block = Some((first, hang, item.to_string()));
            continue;
        }
        match &mut block {
            // A continuation of the paragraph or item being gathered.
            Some((_, _, text)) => {
                text.push(' ');
                text.push_str(rest);
            }
            None => {
                block = Some((
                    line[..indent].to_string(),
                    line[..indent].to_string(),
                    rest.to_string(),
                ));
            }
        }
    }
    flush(&mut out, &mut block);
    out
}

/// `- item` or `3. item`: the marker as drawn (`• `, `3. `) and the item's text.
fn list_item(line: &str) -> Option<(String, &str)> {
    if let Some(item) = line.strip_prefix("- ") {
        return Some(("• ".into(), item));
    }
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && line[digits..].starts_with(". ") {
        return Some((line[..digits + 2].to_string(), &line[digits + 2..]));
    }
    None
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
    fn paragraphs_and_items_are_reflowed_to_the_width_and_code_is_kept() {
        let doc = "Some words that were wrapped\nfor an editor at a width.\n\n- an item that goes on\n  over two lines\n2. numbered\n```yaml\nkind: Service   # a long line that stays as it is\n```\n";
        assert_eq!(
            terminal(doc, false, 24),
            "Some words that were\nwrapped for an editor at\na width.\n\n• an item that goes on\n  over two lines\n2. numbered\n    kind: Service   # a long line that stays as it is\n"
        );
    }

    #[test]
    fn markup_is_drawn_and_text_kept() {
        let doc = "# EXT002 name\n\n## Fix\n\n- use `a`, see [EXT004](EXT004.md)\n```yaml\nkind: Service\n```\n";
        let plain = terminal(doc, false, 100);
        assert_eq!(
            plain,
            "EXT002 name\n═══════════\n\nFix\n───\n\n• use `a`, see EXT004\n    kind: Service\n"
        );
        let colored = terminal(doc, true, 100);
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
