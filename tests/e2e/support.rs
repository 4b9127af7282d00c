//! Helpers for running the binary in a scratch directory.
//!
//! A [`Project`] is a temporary directory that tests fill with files of exact content; the
//! binary runs with that directory as its working directory, so every path it reports is
//! relative and `/`-separated. Every run is checked for panics: a crash is never an answer.

#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_celador");

/// A scratch directory to write inputs into and run `celador` in.
pub struct Project {
    dir: tempfile::TempDir,
}

impl Default for Project {
    fn default() -> Self {
        Self::new()
    }
}

impl Project {
    /// An empty scratch directory.
    pub fn new() -> Self {
        let dir = tempfile::Builder::new().prefix("celador-e2e-").tempdir().expect("create a temporary directory");
        Self { dir }
    }

    /// The directory's absolute path.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The absolute path of `relative` inside the directory.
    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// Writes `contents` byte for byte to `relative` (parents created).
    pub fn file(&self, relative: &str, contents: impl AsRef<[u8]>) -> &Self {
        let path = self.path(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent directories");
        }
        std::fs::write(&path, contents).expect("write test file");
        self
    }

    /// Creates an (empty) directory.
    pub fn dir(&self, relative: &str) -> &Self {
        std::fs::create_dir_all(self.path(relative)).expect("create directory");
        self
    }

    /// Runs `celador ARGS` in the directory.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, None, &[])
    }

    /// Runs `celador ARGS` in the directory with `stdin` as its standard input.
    pub fn run_stdin(&self, args: &[&str], stdin: impl AsRef<[u8]>) -> Run {
        self.run_with(args, Some(stdin.as_ref()), &[])
    }

    /// Runs `celador ARGS` in a subdirectory of the project.
    pub fn run_in(&self, dir: &str, args: &[&str]) -> Run {
        self.run_at(&self.path(dir), args, None, &[])
    }

    /// Runs `celador ARGS` with extra environment variables and optional stdin.
    pub fn run_with(&self, args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Run {
        self.run_at(self.root(), args, stdin, env)
    }

    /// Runs `celador ARGS` in the directory with its address space limited to `mib` MiB
    /// (`ulimit -v`, as `prlimit --as` sets it): a run that needs more fails to allocate and
    /// dies, which [`Run::assert_no_panic`] reports.
    pub fn run_limited(&self, mib: u64, args: &[&str]) -> Run {
        self.run_limited_in(".", mib, args)
    }

    /// [`Project::run_limited`] in a subdirectory of the project.
    pub fn run_limited_in(&self, dir: &str, mib: u64, args: &[&str]) -> Run {
        let kib = (mib * 1024).to_string();
        let mut wrapped = vec!["-c", "ulimit -v \"$0\" && exec \"$@\"", &kib, BIN];
        wrapped.extend_from_slice(args);
        let mut run = self.command("sh", &self.path(dir), &wrapped, None, &[]);
        run.args = args.iter().map(|a| (*a).to_owned()).collect();
        run
    }

    fn run_at(&self, dir: &Path, args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Run {
        self.command(BIN, dir, args, stdin, env)
    }

    fn command(&self, program: &str, dir: &Path, args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Run {
        let mut cmd = assert_cmd::Command::new(program);
        cmd.current_dir(dir)
            .args(args)
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .env("COLUMNS", "100")
            .timeout(Duration::from_secs(60));
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.write_stdin(stdin.unwrap_or_default().to_vec());
        let output = cmd.output().unwrap_or_else(|e| panic!("cannot run celador {args:?}: {e}"));
        let run = Run {
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        run.assert_no_panic();
        run
    }
}

/// The result of one run.
#[derive(Debug)]
pub struct Run {
    /// The arguments it was run with.
    pub args: Vec<String>,
    /// The exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Everything printed, stdout then stderr.
    pub fn all_output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    fn context(&self) -> String {
        format!(
            "celador {}\n--- exit code: {:?}\n--- stdout:\n{}\n--- stderr:\n{}",
            self.args.join(" "),
            self.code,
            self.stdout,
            self.stderr
        )
    }

    /// Fails if the process panicked or died from a signal.
    pub fn assert_no_panic(&self) {
        assert!(self.code.is_some(), "celador was killed by a signal\n{}", self.context());
        assert_ne!(self.code, Some(101), "celador panicked (exit 101)\n{}", self.context());
        assert!(!self.stderr.contains("panicked at"), "celador panicked\n{}", self.context());
    }

    /// Asserts the exit code.
    #[track_caller]
    pub fn assert_code(&self, expected: i32) -> &Self {
        assert_eq!(self.code, Some(expected), "unexpected exit code\n{}", self.context());
        self
    }

    /// Asserts that stdout contains `needle`.
    #[track_caller]
    pub fn assert_stdout_contains(&self, needle: &str) -> &Self {
        assert!(self.stdout.contains(needle), "stdout does not contain {needle:?}\n{}", self.context());
        self
    }

    /// Asserts that stderr contains `needle`.
    #[track_caller]
    pub fn assert_stderr_contains(&self, needle: &str) -> &Self {
        assert!(self.stderr.contains(needle), "stderr does not contain {needle:?}\n{}", self.context());
        self
    }

    /// Parses stdout as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON: {e}\n{}", self.context()))
    }

    /// Parses stdout as a version-1 report and checks its shape (see [`assert_report_shape`]).
    #[track_caller]
    pub fn report(&self) -> Value {
        let report = self.json();
        assert_report_shape(&report);
        report
    }
}

/// The sorted keys of a JSON object.
pub fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> =
        value.as_object().unwrap_or_else(|| panic!("not an object: {value}")).keys().cloned().collect();
    keys.sort();
    keys
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
    v.sort();
    v
}

/// Checks that a report has the fields of JSON contract version 1, with their types. The
/// contract is only ever extended, so further fields are allowed here; the test
/// `check_json::the_whole_report_is_exactly_the_contract` pins the complete current shape.
#[track_caller]
pub fn assert_report_shape(report: &Value) {
    assert_eq!(keys(report), sorted(&["version", "findings", "errors", "summary"]), "top-level fields of {report:#}");
    assert_eq!(report["version"], 1);
    for name in ["files", "documents", "skipped", "findings"] {
        assert!(report["summary"][name].is_u64(), "summary.{name} is a count: {report:#}");
    }
    let findings = report["findings"].as_array().expect("findings is an array");
    assert_eq!(report["summary"]["findings"].as_u64(), Some(findings.len() as u64), "summary.findings counts findings");
    for f in findings {
        for name in ["rule", "severity", "title", "message", "file"] {
            assert!(f[name].is_string(), "finding.{name} is a string: {f:#}");
        }
        for name in ["line", "column", "end_line", "end_column"] {
            assert!(f[name].as_u64().is_some_and(|n| n >= 1), "finding.{name} is 1-based: {f:#}");
        }
        assert!(f.get("help").is_some_and(|h| h.is_string() || h.is_null()), "finding.help: {f:#}");
        assert!(f.get("docs").is_some_and(|d| d.is_string() || d.is_null()), "finding.docs: {f:#}");
        if let Some(source) = f.get("source") {
            assert!(source.is_string(), "source is a string when present: {f:#}");
        }
        for r in f["related"].as_array().expect("related is an array") {
            assert!(r["file"].is_string() && r["message"].is_string(), "related {r:#}");
            assert!(r["line"].as_u64().is_some_and(|n| n >= 1) && r["column"].as_u64().is_some_and(|n| n >= 1));
        }
    }
    for e in report["errors"].as_array().expect("errors is an array") {
        for name in ["file", "line", "column", "message"] {
            assert!(e.get(name).is_some(), "error.{name} is present (maybe null): {e:#}");
        }
        assert!(e["message"].is_string());
        assert!(e["file"].is_string() || e["file"].is_null());
        assert_eq!(e["line"].is_null(), e["column"].is_null(), "line and column come together: {e:#}");
    }
}

/// The version-1 counts of `summary`: `{files, documents, skipped, findings}`.
/// The summary's main counts; asserts that every file found was either checked or skipped.
#[track_caller]
pub fn summary(report: &Value) -> Value {
    let s = &report["summary"];
    assert_files_add_up(report);
    serde_json::json!({
        "files": s["files"], "documents": s["documents"], "skipped": s["skipped"], "findings": s["findings"]
    })
}

/// `(rule, file, line, column)` of every finding, in report order.
pub fn finding_positions(report: &Value) -> Vec<(String, String, u64, u64)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_owned(),
                f["file"].as_str().unwrap_or_default().to_owned(),
                f["line"].as_u64().unwrap_or_default(),
                f["column"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

/// Builds the expected value of [`finding_positions`].
pub fn at(rule: &str, file: &str, line: u64, column: u64) -> (String, String, u64, u64) {
    (rule.to_owned(), file.to_owned(), line, column)
}

/// 1-based `(line, column)` (column in characters) of the first occurrence of `needle` in
/// `text`, for computing expected positions from the text a test writes.
#[track_caller]
pub fn line_col_of(text: &str, needle: &str) -> (u64, u64) {
    let offset = text.find(needle).unwrap_or_else(|| panic!("{needle:?} not in the text"));
    line_col_at(text, offset)
}

/// 1-based `(line, column)` of byte `offset` in `text`.
pub fn line_col_at(text: &str, offset: usize) -> (u64, u64) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..offset].chars().count() + 1;
    (line as u64, column as u64)
}

/// A Kubernetes Deployment of the API with the given `env:` items (already indented for the
/// list under `env:`, i.e. starting with `        - name:`), or no `env:` block when `None`.
pub fn api_deployment(name: &str, env: Option<&str>) -> String {
    let mut text = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  template:\n    spec:\n      containers:\n      - name: api\n        image: pulumi/service:20260801-1234\n"
    );
    if let Some(env) = env {
        text.push_str("        env:\n");
        text.push_str(env);
    }
    text
}

/// Both TLS variables set: PSH-TLS-008 passes.
pub const TLS_ENV_OK: &str = "        - name: DATABASE_CA_CERTIFICATE\n          valueFrom:\n            secretKeyRef: {name: db-ca, key: ca.pem}\n        - name: DATABASE_MIN_TLS_VERSION\n          value: \"1.2\"\n";

/// Like [`finding_positions`], restricted to the given rules. The built-in pack grows; tests
/// about one rule's behaviour look at that rule's findings only.
pub fn positions_of(report: &Value, rules: &[&str]) -> Vec<(String, String, u64, u64)> {
    finding_positions(report).into_iter().filter(|(rule, ..)| rules.contains(&rule.as_str())).collect()
}

/// The findings of one rule.
pub fn findings_of<'a>(report: &'a Value, rule: &str) -> Vec<&'a Value> {
    report["findings"].as_array().expect("findings").iter().filter(|f| f["rule"] == rule).collect()
}

/// Fails if two findings have the same rule, position and message.
#[track_caller]
pub fn assert_no_duplicate_findings(report: &Value) {
    let mut seen = std::collections::BTreeSet::new();
    for f in report["findings"].as_array().expect("findings") {
        let key = (
            f["rule"].to_string(),
            f["file"].to_string(),
            f["line"].to_string(),
            f["column"].to_string(),
            f["end_line"].to_string(),
            f["end_column"].to_string(),
            f["message"].to_string(),
        );
        assert!(seen.insert(key), "duplicate finding {f:#}");
    }
}

/// `summary` without the finding count: `(files, documents, skipped)`.
#[track_caller]
pub fn counts(report: &Value) -> (u64, u64, u64) {
    let s = &report["summary"];
    assert_files_add_up(report);
    (s["files"].as_u64().unwrap(), s["documents"].as_u64().unwrap(), s["skipped"].as_u64().unwrap())
}

/// `summary.files` is `checked + skipped`: every file found is one or the other.
#[track_caller]
pub fn assert_files_add_up(report: &Value) {
    let s = &report["summary"];
    let n = |k: &str| s[k].as_u64().unwrap_or_else(|| panic!("summary.{k} in {report:#}"));
    assert_eq!(n("files"), n("checked") + n("skipped"), "files = checked + skipped: {report:#}");
}

/// A Kubernetes object no Pulumi hardening rule is about.
pub const CONFIGMAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  LOG_LEVEL: info\n";

/// The source of the built-in pack in the repository.
pub const BUILTIN_PACK_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/rules/pulumi-hardening");

/// A single-file pack holding exactly the given built-in rule files (e.g.
/// `tls/PSH-TLS-008.toml`), read from the repository: the real rules, without the ones added
/// later, for tests that assert a whole report. Use with `--no-builtin --pack`.
pub fn builtin_rules_pack(rule_files: &[&str]) -> String {
    let mut pack = String::from(
        "[pack]\nid = \"pulumi-hardening\"\nversion = \"0.0.0\"\ntitle = \"Extract of the built-in pack\"\n",
    );
    // The components the rules are about, declared as the built-in pack declares them.
    let manifest = format!("{BUILTIN_PACK_DIR}/pack.toml");
    let manifest = std::fs::read_to_string(&manifest).unwrap_or_else(|e| panic!("cannot read {manifest}: {e}"));
    if let Some(at) = manifest.find("\n[[component]]") {
        pack.push_str(&manifest[at..]);
    }
    for file in rule_files {
        let path = format!("{BUILTIN_PACK_DIR}/{file}");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
        pack.push('\n');
        pack.push_str(&text);
        if !text.ends_with('\n') {
            pack.push('\n');
        }
    }
    pack
}

/// The two rules the suite was written against.
pub const TLS_008: &str = "tls/PSH-TLS-008.toml";
/// See [`TLS_008`].
pub const SEC_001: &str = "secrets/PSH-SEC-001.toml";

/// The repository root (the workspace), for tests that run on shipped files.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}
