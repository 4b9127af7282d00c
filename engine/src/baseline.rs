//! Baselines: today's findings recorded by fingerprint, so a check reports only new ones.
//!
//! Fingerprints hash the rule, the file and the finding's logical path (never line numbers),
//! so a baseline survives reformatting and moved lines.

use crate::diagnostic::{Diagnostic, Problem};
use crate::source::SourceMap;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The baseline file.
#[derive(Debug, Serialize, Deserialize)]
pub struct Baseline {
    /// Format version (1).
    pub version: u32,
    /// Recorded findings.
    pub findings: Vec<BaselineEntry>,
}

/// One recorded finding.
#[derive(Debug, Serialize, Deserialize)]
pub struct BaselineEntry {
    /// Rule id.
    pub rule: String,
    /// File name.
    pub file: String,
    /// Fingerprint.
    pub fingerprint: String,
    /// Message when recorded (for humans reading the file).
    pub message: String,
}

impl Baseline {
    /// Records findings.
    pub fn create(diagnostics: &[Diagnostic], sources: &SourceMap) -> Self {
        let mut findings: Vec<BaselineEntry> = diagnostics
            .iter()
            .map(|d| {
                let file = sources.get(d.primary.span.file).name.clone();
                BaselineEntry {
                    rule: d.rule.to_string(),
                    fingerprint: d.fingerprint(&file),
                    file,
                    message: d.message.clone(),
                }
            })
            .collect();
        findings.sort_by(|a, b| (&a.file, &a.rule, &a.fingerprint).cmp(&(&b.file, &b.rule, &b.fingerprint)));
        Self { version: 1, findings }
    }

    /// Reads a baseline file.
    ///
    /// # Errors
    /// Unreadable or malformed files.
    pub fn read(path: &std::path::Path, display: &str) -> Result<Self, Problem> {
        let problem = |message: String| Problem::file(Some(display.to_owned()), message);
        let bytes = crate::read::read_regular(path, crate::limits::MAX_FILE_SIZE).map_err(|e| match e {
            crate::read::ReadError::Io(e) => problem(format!("cannot read baseline: {e}")),
            other => problem(other.to_string()),
        })?;
        let text = String::from_utf8(bytes).map_err(|_| problem("cannot read baseline: not valid UTF-8".to_owned()))?;
        serde_json::from_str(&text).map_err(|e| {
            Problem::file(
                Some(display.to_owned()),
                format!("invalid baseline at line {} column {}: {e}", e.line(), e.column()),
            )
        })
    }

    /// Drops the findings the baseline records (each entry absorbs one finding), returning
    /// the new ones and how many were baselined.
    pub fn filter(&self, diagnostics: Vec<Diagnostic>, sources: &SourceMap) -> (Vec<Diagnostic>, usize) {
        let mut remaining: HashMap<&str, usize> = HashMap::new();
        for entry in &self.findings {
            *remaining.entry(entry.fingerprint.as_str()).or_default() += 1;
        }
        let mut baselined = 0;
        let kept = diagnostics
            .into_iter()
            .filter(|d| {
                let fingerprint = d.fingerprint(&sources.get(d.primary.span.file).name);
                match remaining.get_mut(fingerprint.as_str()) {
                    Some(n) if *n > 0 => {
                        *n -= 1;
                        baselined += 1;
                        false
                    }
                    _ => true,
                }
            })
            .collect();
        (kept, baselined)
    }
}
