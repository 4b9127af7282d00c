//! The pre-commit hooks, run by the real `pre-commit` (from PyPI) with `pre-commit try-repo`
//! against a scratch git repository: a bad staged file fails the hook with a located message,
//! a good one passes.
//!
//! `pre-commit` is taken from `PATH`, or installed into `target/pre-commit-venv` on first use.
//! The `celador` hook (`language: rust`) builds the binary with `cargo install`; its build
//! directory and pre-commit's cache live under `target/` so later runs reuse them.

use crate::support::repo_root;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn pre_commit() -> PathBuf {
    if Command::new("pre-commit").arg("--version").output().is_ok_and(|o| o.status.success()) {
        return PathBuf::from("pre-commit");
    }
    let venv = repo_root().join("target/pre-commit-venv");
    let bin = venv.join("bin/pre-commit");
    if !bin.exists() {
        let ok = Command::new("python3").args(["-m", "venv"]).arg(&venv).status().is_ok_and(|s| s.success())
            && Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", "pre-commit>=4"])
                .status()
                .is_ok_and(|s| s.success());
        assert!(ok, "pre-commit is not on PATH and could not be installed with python3 -m venv + pip");
    }
    bin
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A scratch repository with one bad and one good stack file, both staged.
fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    git(dir.path(), &["init", "-q"]);
    std::fs::write(dir.path().join("Pulumi.prod.yaml"), "config:\n  proj:licenseKey: eyJplaintext-license\n").unwrap();
    std::fs::write(dir.path().join("Pulumi.dev.yaml"), "secretsprovider: passphrase\nencryptionsalt: v1:c2FsdHNhbHQ=:v1:bm9uY2Vub25jZQ==:Y2lwaGVydGV4dA==\nconfig:\n  proj:apiDomain: api.example.com\n  proj:dbPassword:\n    secure: v1:AAECAwQFBgcICQoL:ZmFrZWNpcGhlcnRleHQ=\n").unwrap();
    git(dir.path(), &["add", "."]);
    dir
}

/// A scratch repository that looks like an ordinary application's: tool configuration,
/// `package.json`, a workflow, `pyproject.toml`, a `tsconfig.json` with comments — and one
/// insecure stack file; everything staged.
fn application_repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    git(dir.path(), &["init", "-q"]);
    let files = [
        (".pre-commit-config.yaml", "repos:\n- repo: local\n  hooks: []\n"),
        ("package.json", "{\"name\": \"app\", \"version\": \"1.0.0\", \"scripts\": {\"build\": \"tsc\"}}\n"),
        ("tsconfig.json", "{\n  // strict mode\n  \"compilerOptions\": {\"strict\": true,},\n}\n"),
        ("pyproject.toml", "[project]\nname = \"app\"\nversion = \"0.1.0\"\n"),
        (
            ".github/workflows/ci.yml",
            "on: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n    - run: npm test\n",
        ),
        ("infra/Pulumi.prod.yaml", "config:\n  proj:licenseKey: eyJplaintext-license\n"),
    ];
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    git(dir.path(), &["add", "."]);
    dir
}

fn try_repo(dir: &Path, hook: &str, file: &str, path_prefix: Option<&Path>) -> (Output, String) {
    let files = ["--files", file];
    try_repo_with(dir, hook, if file.is_empty() { &["--all-files"] } else { &files }, path_prefix)
}

fn try_repo_with(dir: &Path, hook: &str, selection: &[&str], path_prefix: Option<&Path>) -> (Output, String) {
    let root = repo_root();
    let mut command = Command::new(pre_commit());
    command
        .args(["try-repo"])
        .arg(&root)
        .arg(hook)
        .args(selection)
        .current_dir(dir)
        .env("PRE_COMMIT_HOME", root.join("target/pre-commit-home"))
        .env("CARGO_TARGET_DIR", root.join("target/pre-commit-build"))
        .env("PRE_COMMIT_COLOR", "never")
        .env("CELADOR_NO_PROGRESS", "1");
    if let Some(prefix) = path_prefix {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut paths = vec![prefix.to_path_buf()];
        paths.extend(std::env::split_paths(&path));
        command.env("PATH", std::env::join_paths(paths).unwrap());
    }
    let out = command.output().expect("pre-commit runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out, strip_ansi(&text))
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[track_caller]
fn assert_blocks_and_passes(hook: &str, path_prefix: Option<&Path>) {
    let dir = scratch();
    let (bad, text) = try_repo(dir.path(), hook, "Pulumi.prod.yaml", path_prefix);
    assert!(!bad.status.success(), "{hook} passed a plaintext license key:\n{text}");
    assert!(text.contains("Pulumi.prod.yaml:2:20"), "{hook} did not locate the finding:\n{text}");
    assert!(text.contains("PSH-SEC-001"), "{hook} did not name the rule:\n{text}");
    assert!(!text.contains("eyJplaintext-license"), "{hook} printed the secret:\n{text}");
    let (good, text) = try_repo(dir.path(), hook, "Pulumi.dev.yaml", path_prefix);
    assert!(good.status.success(), "{hook} failed a good file:\n{text}");
}

/// On an ordinary repository the hook fails only for the stack file's finding: the staged
/// application files are skipped (one note each), never an error.
#[track_caller]
fn assert_ordinary_repository(hook: &str, path_prefix: Option<&Path>) {
    let dir = application_repository();
    let (run, text) = try_repo(dir.path(), hook, "", path_prefix);
    assert!(!run.status.success(), "{hook} passed a plaintext license key:\n{text}");
    assert!(text.contains("infra/Pulumi.prod.yaml:2:20"), "{hook} did not locate the finding:\n{text}");
    assert!(text.contains("PSH-SEC-001"), "{hook}:\n{text}");
    assert!(!text.contains(" error"), "{hook} reported an error on an ordinary repository:\n{text}");
    assert!(text.contains("celador: skipped tsconfig.json: not a known kind"), "{hook}:\n{text}");
    assert!(!text.contains("eyJplaintext-license"), "{hook} printed the secret:\n{text}");

    // Without the stack file's finding, the same commit passes.
    std::fs::write(dir.path().join("infra/Pulumi.prod.yaml"), "config:\n  proj:apiDomain: api.example.com\n").unwrap();
    git(dir.path(), &["add", "."]);
    let (run, text) = try_repo(dir.path(), hook, "", path_prefix);
    assert!(run.status.success(), "{hook} failed an ordinary repository without findings:\n{text}");
}

#[test]
fn system_hook_blocks_a_bad_file_and_passes_a_good_one() {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_celador"));
    assert_blocks_and_passes("celador-system", binary.parent());
    assert_ordinary_repository("celador-system", binary.parent());
}

#[test]
fn rust_hook_builds_celador_and_blocks_a_bad_file() {
    assert_blocks_and_passes("celador", None);
    assert_ordinary_repository("celador", None);
}
