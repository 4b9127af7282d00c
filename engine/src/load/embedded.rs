//! JSON embedded in a JSON string, located in the outer file.
//!
//! ECS task definitions keep `containerDefinitions` as a JSON *string* inside Pulumi and
//! Terraform state. To point at a variable inside it, the string is unescaped while recording
//! where each unescaped byte came from, parsed, and every span mapped back into the outer file.

use super::load_json;
use crate::source::{FileId, Span};
use crate::tree::{Node, Value};

/// Parses the JSON held by the string token at `token` (quotes included) of `text`, with spans
/// in `file`. `None` when the string does not hold JSON.
pub fn load_embedded_json(file: FileId, text: &str, token: Span) -> Option<Node> {
    let raw = text.get(token.range())?;
    let inner_start = token.start as usize + usize::from(raw.starts_with('"'));
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    let (mut unescaped, mut origin) = unescape(inner, inner_start)?;
    // A decrypted Pulumi secret holds its value JSON-encoded once more: `"\"[{…}]\""`.
    while unescaped.len() >= 2 && unescaped.starts_with('"') && unescaped.ends_with('"') {
        let Some((again, again_origin)) = unescape(&unescaped[1..unescaped.len() - 1], 1) else { break };
        origin = again_origin.iter().map(|&i| origin[i]).collect();
        unescaped = again;
    }
    let mut node = load_json(FileId(u32::MAX), &unescaped).ok()?;
    remap(&mut node, file, &origin);
    Some(node)
}

/// Unescapes a JSON string body; `origin[i]` is the outer offset of unescaped byte `i`.
fn unescape(inner: &str, base: usize) -> Option<(String, Vec<usize>)> {
    let mut out = String::with_capacity(inner.len());
    let mut origin = Vec::with_capacity(inner.len() + 1);
    let mut chars = inner.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let decoded = if c == '\\' {
            let (_, escape) = chars.next()?;
            match escape {
                '"' => '"',
                '\\' => '\\',
                '/' => '/',
                'b' => '\u{8}',
                'f' => '\u{c}',
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                'u' => {
                    let hex: String = (0..4).filter_map(|_| chars.next().map(|(_, h)| h)).collect();
                    char::from_u32(u32::from_str_radix(&hex, 16).ok()?).unwrap_or('\u{fffd}')
                }
                _ => return None,
            }
        } else {
            c
        };
        for _ in 0..decoded.len_utf8() {
            origin.push(base + i);
        }
        out.push(decoded);
    }
    origin.push(base + inner.len());
    Some((out, origin))
}

fn remap(node: &mut Node, file: FileId, origin: &[usize]) {
    let at = |i: u32| origin.get(i as usize).copied().unwrap_or_else(|| *origin.last().unwrap_or(&0));
    node.span = Span::new(file, at(node.span.start), at(node.span.end));
    node.key_span = node.key_span.map(|k| Span::new(file, at(k.start), at(k.end)));
    match &mut node.value {
        Value::List(items) => std::sync::Arc::make_mut(items).iter_mut().for_each(|n| remap(n, file, origin)),
        Value::Map(entries) => {
            std::sync::Arc::make_mut(entries).iter_mut().for_each(|e| remap(&mut e.value, file, origin))
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    #[test]
    fn json_encoded_twice_is_decoded_twice() {
        let text = r#"{"plaintext": "\"[{\\\"name\\\":\\\"api\\\"}]\""}"#;
        let outer = load_json(FileId(0), text).unwrap();
        let token = outer.get("plaintext").unwrap().span;
        let inner = load_embedded_json(FileId(0), text, token).unwrap();
        let name = inner.as_list().unwrap()[0].get("name").unwrap();
        assert_eq!(name.as_str(), Some("api"));
        assert_eq!(&text[name.span.range()], r#"\\\"api\\\""#);
    }

    #[test]
    fn values_inside_an_escaped_json_string_are_located_in_the_outer_file() {
        let text = r#"{"containerDefinitions": "[{\"name\":\"api\",\"environment\":[{\"name\":\"PULUMI_LICENSE_KEY\",\"value\":\"eyJ\\u00e9x\"}]}]"}"#;
        let outer = load_json(FileId(0), text).unwrap();
        let token = outer.get("containerDefinitions").unwrap().span;
        let inner = load_embedded_json(FileId(0), text, token).unwrap();
        let env = &inner.as_list().unwrap()[0].get("environment").unwrap().as_list().unwrap()[0];
        let value = env.get("value").unwrap();
        assert_eq!(value.as_str(), Some("eyJéx"));
        assert_eq!(&text[value.span.range()], r#"\"eyJ\\u00e9x\""#);
        let name = env.get("name").unwrap();
        let file = SourceFile::new("s.json", None, text);
        assert_eq!(file.line_col(name.span.start as usize).column, text.find(r#"\"PULUMI_LICENSE_KEY"#).unwrap() + 1);
    }
}
