//! Command-line arguments.

use celador_engine::diagnostic::Severity;
use celador_engine::kind::InputKind;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Policy-as-code for the configuration you deploy: CEL rule packs, located diagnostics.
#[derive(Debug, Parser)]
#[command(name = "celador", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check files, directories or stdin (`-`) against the rule packs.
    Check(CheckArgs),
    /// List the rules of the packs.
    Rules(RulesArgs),
    /// Explain a rule: what it checks, why, and how to fix it.
    Explain(ExplainArgs),
    /// Run the fixtures rules ship with.
    Test(TestArgs),
    /// Record today's findings, so `check --baseline` reports only new ones.
    #[command(subcommand)]
    Baseline(BaselineCommand),
}

#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Write a baseline of the current findings.
    Create(BaselineCreateArgs),
}

#[derive(Debug, clap::Args)]
pub struct BaselineCreateArgs {
    /// Where to write the baseline.
    #[arg(long, short, value_name = "FILE")]
    pub output: PathBuf,
    #[command(flatten)]
    pub scan: ScanArgs,
}

/// Which packs to use.
#[derive(Debug, clap::Args)]
pub struct PackArgs {
    /// Add a rule pack (a TOML file, or a directory with pack.toml); repeatable.
    #[arg(long = "pack", value_name = "PATH")]
    pub packs: Vec<PathBuf>,
    /// Do not use the built-in Pulumi hardening pack.
    #[arg(long)]
    pub no_builtin: bool,
}

/// What to scan and with which rules: shared by `check` and `baseline create`.
#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Files and directories to check; `-` reads stdin.
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub packs: PackArgs,
    /// Use this configuration file instead of the nearest celador.toml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Treat every input as this kind instead of detecting it.
    #[arg(long, value_name = "KIND", value_parser = parse_kind)]
    pub kind: Option<InputKind>,
    /// The name of stdin's content, for kind detection and messages.
    #[arg(long, value_name = "NAME")]
    pub stdin_filename: Option<String>,
    /// Check only files changed against this git ref (and untracked files), within PATHs.
    #[arg(long, value_name = "REF")]
    pub changed_since: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub scan: ScanArgs,
    /// Output format; repeat with --output to write several reports from one scan.
    #[arg(long, value_enum)]
    pub format: Vec<Format>,
    /// Write the report of the matching --format (by position) to a file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Vec<PathBuf>,
    /// Exit 1 when a finding has at least this severity.
    #[arg(long, value_name = "SEVERITY", default_value = "low", value_parser = parse_severity)]
    pub fail_on: Severity,
    /// Always exit 0 when the check ran, findings or not.
    #[arg(long)]
    pub exit_zero: bool,
    /// Report only findings not recorded in this baseline (see `celador baseline create`).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// List suppressed findings too.
    #[arg(long)]
    pub show_suppressed: bool,
    /// When to use colours.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    #[command(flatten)]
    pub packs: PackArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    pub format: ListFormat,
}

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The rule id, e.g. PSH-TLS-008.
    pub rule: String,
    #[command(flatten)]
    pub packs: PackArgs,
}

#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Packs to test (files or directories); the built-in pack when none is given.
    #[arg(value_name = "PACK")]
    pub packs: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Snippets with labels and help.
    Human,
    /// The JSON report (version 1).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
    /// GitHub Actions annotations (workflow commands).
    Github,
    /// JUnit XML.
    Junit,
    /// GitLab Code Quality.
    Gitlab,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// A table.
    Human,
    /// JSON.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and `NO_COLOR` is unset.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::parse(s).ok_or_else(|| format!("unknown severity `{s}` (expected critical, high, medium, low or info)"))
}

fn parse_kind(s: &str) -> Result<InputKind, String> {
    InputKind::parse(s).ok_or_else(|| {
        format!("unknown kind `{s}` (expected one of {})", InputKind::ALL.map(InputKind::as_str).join(", "))
    })
}
