//! A small hand-built report shared by the renderers' tests: real compiled rules, findings in
//! two files (one with a byte-order mark and non-ASCII text), a secret, a related location, a
//! duplicate, a rule error and problems.

use super::{Report, Summary};
use crate::diagnostic::{Diagnostic, Label, Problem, Severity};
use crate::pack::{PackFile, Rule, load_pack};
use crate::source::{FileId, SourceFile, SourceMap, Span};
use std::sync::Arc;

/// The secret value of the fixture: no renderer may ever print it.
pub(crate) const SECRET: &str = "hunter2-s3cr3t-value";

const PACK: &str = r#"[pack]
id = "demo"
version = "1.0.0"
title = "Demo pack"

[[rule]]
id = "DEMO-TLS-001"
title = "TLS verification disabled"
severity = "high"
kinds = ["kubernetes"]
tags = ["tls", "security"]
assert = 'true'
message = 'TLS verification is disabled'
help = "Remove `insecureSkipVerify` and trust the server's CA instead."
url = "https://example.com/rules/DEMO-TLS-001"

[rule.docs]
guide = "Network — TLS"
what = "Checks that no client skips TLS certificate verification."
why = "Without verification anyone on the path can impersonate the server."
fix = """
```yaml
tls: {caFile: /etc/ssl/ca.pem}
```
"""
references = ["https://example.com/tls"]

[[rule]]
id = "DEMO-SEC-001"
title = "Password stored in plaintext"
severity = "critical"
kinds = ["kubernetes"]
tags = ["secrets"]
secret = true
assert = 'true'
message = 'password'
help = "Move the value to a Secret and rotate it."
url = "https://example.com/rules/DEMO-SEC-001"

[rule.docs]
what = "Checks that passwords are not written into manifests."

[[rule]]
id = "DEMO-NET-001"
title = "No network policy"
severity = "medium"
kinds = ["kubernetes"]
assert = 'true'
message = 'missing'

[[rule]]
id = "DEMO-LOW-001"
title = "Image tag is not pinned"
severity = "low"
kinds = ["kubernetes"]
assert = 'true'
message = 'unpinned'

[[rule]]
id = "DEMO-INFO-001"
title = "Name is not ASCII"
severity = "info"
kinds = ["kubernetes"]
assert = 'true'
message = 'name'
"#;

/// `deploy/app.yaml`, read with a byte-order mark.
pub(crate) const APP: &str = "\u{feff}metadata:\n  name: café-ünïcødé\nspec:\n  tls: {insecureSkipVerify: true}\n  env:\n    DB_PASSWORD: hunter2-s3cr3t-value\n";

/// Everything a [`Report`] borrows.
pub(crate) struct Fixture {
    pub sources: SourceMap,
    pub rules: Vec<Arc<Rule>>,
    pub diagnostics: Vec<Diagnostic>,
    pub problems: Vec<Problem>,
    pub files: Vec<String>,
    /// `sources` masked, made at the first [`Fixture::report`].
    pub masked: std::sync::OnceLock<crate::secrets::MaskedSources>,
}

impl Fixture {
    /// The report over the fixture.
    pub fn report(&self) -> Report<'_> {
        Report {
            sources: self
                .masked
                .get_or_init(|| crate::secrets::MaskedSources::for_test(&self.sources, &self.diagnostics)),
            rules: &self.rules,
            diagnostics: &self.diagnostics,
            problems: &self.problems,
            summary: Summary {
                files: self.files.len(),
                checked: self.files.len(),
                documents: self.files.len(),
                findings: self.diagnostics.len(),
                ..Summary::default()
            },
            files: &self.files,
        }
    }

    /// The rule with this id.
    pub fn rule(&self, id: &str) -> Arc<Rule> {
        self.rules.iter().find(|r| &*r.id == id).cloned().unwrap_or_else(|| panic!("no rule {id}"))
    }
}

/// Loads the demo pack into `sources`.
pub(crate) fn rules(sources: &SourceMap) -> Vec<Arc<Rule>> {
    let file =
        PackFile { relative: "demo.toml".into(), display: "packs/demo.toml".into(), path: None, text: Arc::from(PACK) };
    load_pack(vec![file], sources).unwrap_or_else(|p| panic!("demo pack: {p:?}")).rules
}

/// The span of the first `needle` in `file` (a file of `sources`).
pub(crate) fn span_of(sources: &SourceMap, file: FileId, needle: &str) -> Span {
    let text = sources.get(file).text.clone();
    let start = text.find(needle).unwrap_or_else(|| panic!("`{needle}` not in file"));
    Span::new(file, start, start + needle.len())
}

/// A finding of `rule` at `span`, as the evaluator builds it.
pub(crate) fn finding(rule: &Rule, span: Span, message: &str, logical_path: &str) -> Diagnostic {
    Diagnostic {
        rule: rule.id.clone(),
        severity: rule.severity,
        title: rule.title.clone(),
        message: message.to_owned(),
        primary: Label { span, message: rule.title.to_string() },
        related: Vec::new(),
        help: rule.help.clone(),
        docs: rule.docs_url.clone(),
        masked: if matches!(rule.secret, crate::pack::Secret::Always) { vec![span] } else { Vec::new() },
        logical_path: logical_path.to_owned(),
        origin: None,
    }
}

/// The shared fixture.
pub(crate) fn fixture() -> Fixture {
    let sources = SourceMap::new();
    let rules = rules(&sources);
    let app = sources.add(SourceFile::new("deploy/app.yaml", None, APP));
    let stack = sources.add(SourceFile::new("Pulumi.prod.yaml", None, "config:\n  demo:replicas: three\n"));
    let broken = sources.add(SourceFile::new("broken.yaml", None, "a: [1, 2\n"));
    let mut f = Fixture {
        sources,
        rules,
        diagnostics: Vec::new(),
        problems: Vec::new(),
        files: ["deploy/app.yaml", "Pulumi.prod.yaml", "broken.yaml", "clean.yaml"].map(String::from).to_vec(),
        masked: std::sync::OnceLock::new(),
    };
    let s = &f.sources;

    let info = f.rule("DEMO-INFO-001");
    let name = finding(&info, span_of(s, app, "ünïcødé"), "name `café-ünïcødé` is not ASCII", "metadata/name");

    // A finding whose primary span (the parent of a missing key) covers the secret.
    let net = f.rule("DEMO-NET-001");
    let spec_start = span_of(s, app, "spec:").start as usize;
    let spec = Span::new(app, spec_start, s.get(app).text.len() - 1);
    let mut missing = finding(
        &net,
        spec,
        "`spec.networkPolicy` is missing: 100% of pods accept traffic, from anywhere,\nso add one",
        "spec",
    );
    missing.primary.message = "`networkPolicy` is missing here".into();

    let tls = f.rule("DEMO-TLS-001");
    let mut skip = finding(&tls, span_of(s, app, "true"), "TLS verification is disabled", "spec/tls");
    skip.related.push(Label { span: span_of(s, app, "name"), message: "for this workload".into() });
    // The same rule at the same logical path again: fingerprints and JUnit names must differ.
    let skip_again = finding(&tls, span_of(s, app, "true"), "TLS verification is disabled (again)", "spec/tls");

    let sec = f.rule("DEMO-SEC-001");
    let password = finding(
        &sec,
        span_of(s, app, SECRET),
        "`DB_PASSWORD` is stored in plaintext; move it to a Secret",
        "spec/env/DB_PASSWORD",
    );

    let rule_error = Diagnostic {
        rule: Arc::from(crate::diagnostic::RULE_ERROR),
        severity: Severity::High,
        title: Arc::from("A rule failed to evaluate"),
        message: "rule DEMO-LOW-001 failed to evaluate its `assert` expression here: no such key: image".into(),
        primary: Label { span: span_of(s, stack, "three"), message: "while checking DEMO-LOW-001".into() },
        related: Vec::new(),
        help: Some(Arc::from("Fix the rule's CEL expression (guard optional fields with `has()`).")),
        docs: None,
        masked: Vec::new(),
        logical_path: "config/demo:replicas".into(),
        origin: None,
    };

    f.diagnostics = vec![name, missing, skip, skip_again, password, rule_error];
    f.problems = vec![
        Problem::at(Span::new(broken, 8, 9), "invalid YAML: did not find expected ',' or ']'"),
        Problem::file(Some("unreadable.yaml".into()), "cannot read file: permission denied"),
    ];
    f
}

/// A diagnostic of the given severity at line `line` of `file`, for volume tests.
pub(crate) fn at_line(rule: &Rule, sources: &SourceMap, file: FileId, line: usize, severity: Severity) -> Diagnostic {
    let range = sources.get(file).line_range(line);
    let mut d = finding(rule, Span::new(file, range.start, range.end), &format!("finding on line {line}"), "");
    d.severity = severity;
    d.logical_path = format!("line{line}");
    d
}

#[test]
fn no_renderer_shows_a_masked_value() {
    let f = fixture();
    let report = f.report();
    let outputs = [
        ("human", super::render_human(&report, super::HumanOptions::default())),
        ("json", super::render_json(&report)),
        ("sarif", super::render_sarif(&report)),
        ("github", super::render_github(&report)),
        ("junit", super::render_junit(&report)),
        ("gitlab", super::render_gitlab(&report)),
    ];
    for (format, out) in outputs {
        assert!(!out.contains(SECRET), "{format} shows the secret:\n{out}");
        assert!(!out.contains("hunter2"), "{format} shows part of the secret");
    }
}
