//! Structured logs: one JSON object per line, written to a sink the caller provides.

use serde_json::{Map, Value};
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

/// Where log lines go. Each call gets one complete JSON object, without a newline.
pub trait LogSink: Send + Sync + 'static {
    /// Writes one line.
    fn write_line(&self, line: &str);
}

/// A sink writing lines to any writer (the binary passes stderr).
pub struct JsonLog<W>(Mutex<W>);

impl<W: Write + Send + 'static> JsonLog<W> {
    /// Logs to `writer`.
    pub fn new(writer: W) -> Self {
        Self(Mutex::new(writer))
    }
}

impl<W: Write + Send + 'static> LogSink for JsonLog<W> {
    fn write_line(&self, line: &str) {
        let mut writer = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        // A log line that cannot be written is dropped: logging never fails a request.
        let _ = writer.write_all(line.as_bytes()).and_then(|()| writer.write_all(b"\n")).and_then(|()| writer.flush());
    }
}

/// A sink that keeps lines in memory, for tests.
#[derive(Clone, Default)]
pub struct MemoryLog(Arc<Mutex<Vec<String>>>);

impl MemoryLog {
    /// The lines logged so far.
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl LogSink for MemoryLog {
    fn write_line(&self, line: &str) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).push(line.to_owned());
    }
}

/// The server's logger: adds `ts`, `level` and `msg` to the fields of each event.
#[derive(Clone)]
pub(crate) struct Log(pub(crate) Arc<dyn LogSink>);

impl Log {
    pub(crate) fn info(&self, msg: &str, fields: Value) {
        self.emit("info", msg, fields);
    }

    pub(crate) fn warn(&self, msg: &str, fields: Value) {
        self.emit("warn", msg, fields);
    }

    pub(crate) fn error(&self, msg: &str, fields: Value) {
        self.emit("error", msg, fields);
    }

    fn emit(&self, level: &str, msg: &str, fields: Value) {
        let mut record = Map::new();
        record.insert("ts".into(), Value::String(timestamp(SystemTime::now())));
        record.insert("level".into(), Value::String(level.into()));
        record.insert("msg".into(), Value::String(msg.into()));
        if let Value::Object(fields) = fields {
            record.extend(fields);
        }
        self.0.write_line(&Value::Object(record).to_string());
    }
}

/// RFC 3339 UTC with milliseconds: `2026-03-07T12:34:56.789Z`.
pub(crate) fn timestamp(at: SystemTime) -> String {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (year, month, day) = celador_engine::config::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        since.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let at = UNIX_EPOCH + Duration::from_millis(1_772_886_896_789);
        assert_eq!(timestamp(at), "2026-03-07T12:34:56.789Z");
    }
}
