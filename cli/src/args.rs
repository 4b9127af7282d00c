//! Command-line arguments.

use celador_engine::diagnostic::Severity;
use celador_engine::kind::InputKind;
use clap::builder::TypedValueParser as _;
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
    /// Run the Kubernetes validating admission webhook (HTTPS).
    #[cfg(feature = "webhook")]
    Serve(ServeArgs),
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
    #[arg(long, value_name = "KIND", value_parser = kind_parser())]
    pub kind: Option<InputKind>,
    /// The name of stdin's content, for kind detection and messages.
    #[arg(long, value_name = "NAME")]
    pub stdin_filename: Option<String>,
    /// Check only files changed against this git ref (and untracked files), within PATHs.
    #[arg(long, value_name = "REF")]
    pub changed_since: Option<String>,
    /// Print each rule's evaluation time, evaluations and findings on stderr, slowest first.
    #[arg(long)]
    pub timings: bool,
    /// The largest file (or stdin) read, in bytes or with KiB/MiB/GiB; a larger one is an
    /// error [default: 64MiB].
    #[arg(long, value_name = "SIZE", value_parser = parse_size::<u64>)]
    pub max_file_size: Option<u64>,
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
    #[arg(long, value_name = "SEVERITY", default_value = "low", value_parser = severity_parser())]
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
    /// Rewrite each rule's snapshot (`<ID>.snap` beside the rule file) with the findings its
    /// fixtures produce now, and delete stale ones; review the diff before committing.
    #[arg(long)]
    pub update: bool,
}

#[cfg(feature = "webhook")]
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// PEM certificate chain to serve (reloaded when the file changes).
    #[arg(long, value_name = "FILE")]
    pub tls_cert: PathBuf,
    /// PEM private key of the certificate (reloaded when the file changes).
    #[arg(long, value_name = "FILE")]
    pub tls_key: PathBuf,
    /// Accept only clients presenting a certificate signed by this CA (the API server's).
    #[arg(long, value_name = "FILE")]
    pub client_ca: Option<PathBuf>,
    /// Address of the HTTPS server (/validate, /healthz, /readyz).
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:8443")]
    pub listen: std::net::SocketAddr,
    /// Address of the plain-HTTP /metrics server; `off` disables it.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9090")]
    pub metrics_listen: String,
    #[command(flatten)]
    pub packs: PackArgs,
    /// Use this configuration file instead of the nearest celador.toml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// `enforce` denies findings at or above --deny-on; `audit` only warns and logs.
    #[arg(long, value_enum, default_value_t = ServeMode::Enforce)]
    pub mode: ServeMode,
    /// Deny objects with a finding of at least this severity; lower ones become warnings.
    #[arg(long, value_name = "SEVERITY", default_value = "high", value_parser = severity_parser())]
    pub deny_on: Severity,
    /// The decision when an object cannot be evaluated in time (or at all).
    #[arg(long, value_enum, default_value_t = OnErrorChoice::Deny)]
    pub on_error: OnErrorChoice,
    /// The longest one object's evaluation may take (e.g. 500ms, 2s).
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration)]
    pub eval_timeout: std::time::Duration,
    /// The largest request body accepted (bytes, or with KiB/MiB).
    #[arg(long, value_name = "SIZE", default_value = "3MiB", value_parser = parse_size::<usize>)]
    pub max_body: usize,
    /// Allow objects in this namespace without evaluating them; repeatable (kube-system and
    /// the webhook's own namespace are always excluded).
    #[arg(long = "exclude-namespace", value_name = "NAMESPACE")]
    pub exclude_namespaces: Vec<String>,
    /// The webhook's own namespace, excluded to avoid locking itself out [default: $POD_NAMESPACE].
    #[arg(long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// How often the certificate files are checked for changes.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration)]
    pub reload_interval: std::time::Duration,
    /// Time a client has for the TLS handshake and request headers, and again for the body.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub read_timeout: std::time::Duration,
    /// After SIGTERM, keep serving this long while reporting not ready.
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_duration)]
    pub shutdown_delay: std::time::Duration,
    /// Then let in-flight requests finish for at most this long.
    #[arg(long, value_name = "DURATION", default_value = "20s", value_parser = parse_duration)]
    pub shutdown_grace: std::time::Duration,
}

#[cfg(feature = "webhook")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ServeMode {
    /// Deny findings at or above --deny-on.
    Enforce,
    /// Never deny: warn and log.
    Audit,
}

#[cfg(feature = "webhook")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnErrorChoice {
    /// Fail open.
    Allow,
    /// Fail closed.
    Deny,
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
    /// The rule reference: every rule's documentation (docs/rules.md).
    Markdown,
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

/// A severity name; `--help` lists them.
fn severity_parser() -> impl clap::builder::TypedValueParser<Value = Severity> {
    clap::builder::PossibleValuesParser::new(Severity::ALL.map(Severity::as_str).into_iter().rev())
        .try_map(|name: String| Severity::parse(&name).ok_or("unknown severity"))
}

/// An input kind name; `--help` lists them.
fn kind_parser() -> impl clap::builder::TypedValueParser<Value = InputKind> {
    clap::builder::PossibleValuesParser::new(InputKind::ALL.map(InputKind::as_str))
        .try_map(|name: String| InputKind::parse(&name).ok_or("unknown kind"))
}

/// `500ms`, `2s`, `1m`, or a number of seconds.
#[cfg(feature = "webhook")]
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let error = || format!("invalid duration `{s}` (expected e.g. 500ms, 2s, 1m)");
    let (number, unit) = s.find(|c: char| !c.is_ascii_digit() && c != '.').map_or((s, "s"), |i| s.split_at(i));
    let value: f64 = number.parse().map_err(|_| error())?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(error()),
    };
    std::time::Duration::try_from_secs_f64(seconds).map_err(|_| error())
}

/// `3145728`, `512KiB`, `3MiB`, `1GiB` (`K`/`KB`/`M`/`MB`/`G`/`GB` are read as KiB/MiB/GiB too).
fn parse_size<T: TryFrom<u64>>(s: &str) -> Result<T, String> {
    let error = || format!("invalid size `{s}` (expected bytes, or e.g. 512KiB, 3MiB)");
    let (number, unit) = s.find(|c: char| !c.is_ascii_digit()).map_or((s, ""), |i| s.split_at(i));
    let value: u64 = number.parse().map_err(|_| error())?;
    let factor: u64 = match unit.trim() {
        "" | "B" => 1,
        "K" | "KB" | "KiB" => 1 << 10,
        "M" | "MB" | "MiB" => 1 << 20,
        "G" | "GB" | "GiB" => 1 << 30,
        _ => return Err(error()),
    };
    value.checked_mul(factor).and_then(|v| T::try_from(v).ok()).ok_or_else(error)
}

#[cfg(all(test, feature = "webhook"))]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn durations_and_sizes() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert!(parse_duration("2 hours").is_err());
        assert_eq!(parse_size::<usize>("3MiB"), Ok(3 * 1024 * 1024));
        assert_eq!(parse_size::<usize>("512KiB"), Ok(512 * 1024));
        assert_eq!(parse_size::<usize>("1000"), Ok(1000));
        assert_eq!(parse_size::<u64>("3GiB"), Ok(3 << 30));
        assert!(parse_size::<u64>("3TiB").is_err());
        assert_eq!(parse_size::<u64>("64MiB"), Ok(celador_engine::limits::MAX_FILE_SIZE));
    }

    #[test]
    fn serve_defaults() {
        let cli = Cli::try_parse_from(["celador", "serve", "--tls-cert", "c.pem", "--tls-key", "k.pem"]).unwrap();
        let Command::Serve(args) = cli.command else { panic!("not serve") };
        assert_eq!(args.listen, "0.0.0.0:8443".parse().unwrap());
        assert_eq!(args.metrics_listen, "127.0.0.1:9090");
        assert_eq!(args.deny_on, Severity::High);
        assert_eq!(args.on_error, OnErrorChoice::Deny);
        assert_eq!(args.eval_timeout, Duration::from_secs(2));
        assert_eq!(args.max_body, 3 * 1024 * 1024);
    }
}
