//! What a malformed request body is told: where it went wrong (line and column of the body,
//! the field path when there is one) and what was expected, never what was found.
//!
//! serde's messages quote the input (`invalid type: string "hunter2", expected u16`,
//! `unknown variant `hunter2``), and the answer and the log line of a bad request carry the
//! message: anyone who can reach the webhook could make it repeat a value into the logs, and a
//! request the API server garbled would have its content logged. So a message is rebuilt from
//! the parts that come from the schema (the expected type, the known variants, field names),
//! and the found value is named by its JSON type only. Messages of a shape not recognised
//! here are dropped for a generic one.

use serde::Deserialize;
use serde_json::error::Category;

/// Deserializes `part` (the whole `body`, or a slice of it such as a `RawValue`) as a `T`.
///
/// # Errors
/// A message saying where in `body` (line, column, and the field path below `path_prefix`)
/// and what was expected, without quoting the body.
pub(crate) fn parse<'a, T: Deserialize<'a>>(body: &'a [u8], part: &'a [u8], path_prefix: &str) -> Result<T, String> {
    let mut deserializer = serde_json::Deserializer::from_slice(part);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().iter().map(ToString::to_string).collect::<Vec<_>>();
        describe(e.inner(), body, part, path_prefix, &path)
    })?;
    deserializer.end().map_err(|e| describe(&e, body, part, path_prefix, &[]))?;
    Ok(value)
}

/// `what went wrong, at line L column C (field path)`, where serde_json stopped: at the
/// offending value (its last character, or just before it).
fn describe(error: &serde_json::Error, body: &[u8], part: &[u8], path_prefix: &str, path: &[String]) -> String {
    let what = match error.classify() {
        Category::Syntax | Category::Eof => syntax(error),
        Category::Data => data(error),
        Category::Io => "the body could not be read".to_owned(),
    };
    let mut message = what;
    if error.line() > 0 {
        let (line, column) = body_position(body, part, error.line(), error.column());
        message.push_str(&format!(", at line {line} column {column}"));
    }
    let path: Vec<&str> = std::iter::once(path_prefix).chain(path.iter().map(String::as_str)).collect();
    let path = path.iter().filter(|s| !s.is_empty()).fold(String::new(), |mut out, segment| {
        if !out.is_empty() && !segment.starts_with('[') {
            out.push('.');
        }
        out.push_str(segment);
        out
    });
    if !path.is_empty() && path != "." {
        message.push_str(&format!(" (`{path}`)"));
    }
    message
}

/// serde_json's own syntax messages name the rule broken (`EOF while parsing a string`,
/// `invalid escape`, `trailing comma`), never the text; the position is added separately.
fn syntax(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let text = text.rsplit_once(" at line ").map_or(text.as_str(), |(message, _)| message);
    // Defence in depth: nothing quoted gets through.
    if text.contains(['"', '`', '\'']) { "malformed JSON".to_owned() } else { format!("malformed JSON: {text}") }
}

/// serde's data messages, rebuilt without the found value (see the module's documentation).
fn data(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let text = text.rsplit_once(" at line ").map_or(text.as_str(), |(message, _)| message);
    // The expected part follows the found value, so its last occurrence is never inside it.
    let expected = |rest: &str| rest.rsplit_once(", expected ").map(|(_, expected)| in_json_terms(expected));
    if let Some(rest) = text.strip_prefix("invalid type: ") {
        return match expected(rest) {
            Some(expected) => format!("expected {expected}, found {}", json_type(rest)),
            None => format!("wrong type: {}", json_type(rest)),
        };
    }
    if let Some(rest) = text.strip_prefix("invalid value: ") {
        return match expected(rest) {
            Some(expected) => format!("invalid {}, expected {expected}", json_type(rest).trim_start_matches("a ")),
            None => "invalid value".to_owned(),
        };
    }
    if let Some(rest) = text.strip_prefix("unknown variant ") {
        return match expected(rest) {
            Some(expected) => format!("unknown value, expected {expected}"),
            None => "unknown value".to_owned(),
        };
    }
    if text.starts_with("unknown field ") {
        return "unknown field".to_owned();
    }
    // The field named is the schema's.
    for schema in ["missing field `", "duplicate field `"] {
        if text.starts_with(schema) && text.matches('`').count() == 2 && text.ends_with('`') {
            return text.to_owned();
        }
    }
    if let Some(rest) = text.strip_prefix("invalid length ")
        && let Some((length, expected)) = rest.split_once(", expected ")
        && length.bytes().all(|b| b.is_ascii_digit())
    {
        return format!("invalid length {length}, expected {expected}");
    }
    "invalid value".to_owned()
}

/// serde's name of an expected type in JSON's terms: `struct DynamicObject` and `a map` are
/// objects, `a sequence` is a list.
fn in_json_terms(expected: &str) -> String {
    match expected {
        "a sequence" => "a list".to_owned(),
        "a map" => "an object".to_owned(),
        _ if expected.starts_with("struct ") => "an object".to_owned(),
        _ => expected.to_owned(),
    }
}

/// The JSON type of serde's description of a found value (`string "…"`, `integer `5``,
/// `map`), without the value.
fn json_type(found: &str) -> &'static str {
    const TYPES: [(&str, &str); 10] = [
        ("string", "a string"),
        ("integer", "a number"),
        ("floating point", "a number"),
        ("boolean", "a boolean"),
        ("null", "null"),
        ("unit value", "null"),
        ("sequence", "a list"),
        ("map", "an object"),
        ("character", "a string"),
        ("byte array", "a string"),
    ];
    TYPES.iter().find(|(prefix, _)| found.starts_with(prefix)).map_or("a value of another type", |(_, name)| name)
}

/// The 1-based line and column in `body` of serde_json's `line`:`column` in `part`, a slice
/// of `body`.
fn body_position(body: &[u8], part: &[u8], line: usize, column: usize) -> (usize, usize) {
    let base = (part.as_ptr() as usize).checked_sub(body.as_ptr() as usize).filter(|&b| b <= body.len()).unwrap_or(0);
    let mut offset = 0;
    for _ in 1..line {
        match part[offset..].iter().position(|&b| b == b'\n') {
            Some(newline) => offset += newline + 1,
            None => break,
        }
    }
    let offset = (base + offset + column.saturating_sub(1)).min(body.len());
    let before = &body[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = offset - before.iter().rposition(|&b| b == b'\n').map_or(0, |n| n + 1) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::DynamicObject;
    use kube::core::admission::AdmissionRequest;

    const SECRET: &str = "hunter2Zq9";

    fn request_error(request: &str) -> String {
        let body = format!("{{\"request\": {request}}}");
        let part = &body.as_bytes()[12..body.len() - 1];
        assert_eq!(part, request.as_bytes());
        let error = parse::<AdmissionRequest<DynamicObject>>(body.as_bytes(), part, "request").err().unwrap();
        assert!(!error.contains(SECRET), "{error}");
        error
    }

    fn request(uid: &str, operation: &str, extra: &str) -> String {
        format!(
            r#"{{"uid": {uid}, "kind": {{"group": "", "version": "v1", "kind": "Pod"}},
"resource": {{"group": "", "version": "v1", "resource": "pods"}}, "name": "p", "namespace": "n",
"operation": {operation}, "userInfo": {{"username": "u"}}{extra}}}"#
        )
    }

    #[test]
    fn wrong_types_say_what_was_expected_and_where() {
        let error = request_error(&request("\"u\"", "\"CREATE\"", &format!(r#", "dryRun": "{SECRET}""#)));
        assert_eq!(error, "expected a boolean, found a string, at line 3 column 76 (`request.dryRun`)");
        let error = request_error(&request(&format!("[\"{SECRET}\"]"), "\"CREATE\"", ""));
        assert_eq!(error, "expected a string, found a list, at line 1 column 20 (`request.uid`)");
    }

    #[test]
    fn unknown_variants_list_the_known_ones() {
        let error = request_error(&request("\"u\"", &format!("\"{SECRET}\""), ""));
        assert_eq!(
            error,
            "unknown value, expected one of `CREATE`, `UPDATE`, `DELETE`, `CONNECT`, at line 3 column 25 (`request.operation`)"
        );
    }

    #[test]
    fn syntax_errors_name_the_rule_broken() {
        let body = format!("{{\"request\": {{\"uid\": \"{SECRET}");
        let error = parse::<serde_json::Value>(body.as_bytes(), body.as_bytes(), "").err().unwrap();
        assert_eq!(error, "malformed JSON: EOF while parsing a string, at line 1 column 31 (`request.uid`)");
        let mut body = format!("{{\"uid\": \"{SECRET}").into_bytes();
        body.extend([0xff, 0xfe, b'"', b'}']);
        let error = parse::<serde_json::Value>(&body, &body, "").err().unwrap();
        assert_eq!(error, "malformed JSON: invalid unicode code point, at line 1 column 20 (`uid`)");
        let body = format!("{{\"a\": 1}} {SECRET}");
        let error = parse::<serde_json::Value>(body.as_bytes(), body.as_bytes(), "").err().unwrap();
        assert_eq!(error, "malformed JSON: trailing characters, at line 1 column 10");
    }

    #[test]
    fn unrecognised_messages_are_replaced() {
        let quoted = serde_json::from_str::<serde_json::Value>("1").map(|_| ()).and_then(|()| {
            Err::<(), _>(<serde_json::Error as serde::de::Error>::custom(format!("no `{SECRET}` here")))
        });
        assert_eq!(data(&quoted.unwrap_err()), "invalid value");
    }

    #[test]
    fn positions_inside_a_part_are_positions_in_the_body() {
        let body = b"{\n  \"a\": {\"b\":\n 1}}";
        let part = &body[9..18];
        assert_eq!(part, b"{\"b\":\n 1}");
        assert_eq!(body_position(body, part, 2, 2), (3, 2));
        assert_eq!(body_position(body, part, 1, 1), (2, 8));
    }
}
