//! `celador serve`: the admission webhook, with the packs and `celador.toml` that `check` uses.

use crate::ExitStatus;
use crate::args::{OnErrorChoice, ServeArgs, ServeMode};
use crate::packs::{Builtin, load_packs};
use anyhow::Context as _;
use celador_engine::check::display_name;
use celador_engine::config::{self, Config};
use celador_engine::diagnostic::Problem;
use celador_engine::source::SourceMap;
use celador_webhook::{JsonLog, Mode, OnError, Options, Policy, TlsFiles};
use std::sync::Arc;

pub fn run(args: &ServeArgs) -> anyhow::Result<ExitStatus> {
    // Before the packs are loaded, so that none of the server's memory is in huge pages.
    celador_webhook::disable_transparent_huge_pages();
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let sources = SourceMap::new();
    let mut problems = Vec::new();
    let config_path = match &args.config {
        Some(path) => Some(path.clone()),
        None => config::discover(&cwd).unwrap_or_else(|problem| {
            problems.push(problem);
            None
        }),
    };
    let config = match &config_path {
        Some(path) => config::load(path, &display_name(path, &cwd), &sources).unwrap_or_else(|mut errs| {
            problems.append(&mut errs);
            Config::default()
        }),
        None => Config::default(),
    };
    let (packs, mut pack_problems) = load_packs(&args.packs, &config.packs, &sources, Builtin::Rules);
    problems.append(&mut pack_problems);
    if problems.is_empty() {
        let rules: Vec<_> = packs.iter().flat_map(|p| p.rules.iter().cloned()).collect();
        problems.extend(config.validate(&rules));
    }
    if !problems.is_empty() {
        let lines: Vec<String> = problems.iter().map(|p| describe(p, &sources)).collect();
        anyhow::bail!("cannot start the webhook:\n{}", lines.join("\n"));
    }
    let policy = Policy::new(packs.iter().flat_map(|p| p.rules.iter().cloned()).collect(), config)?;

    let mut options = Options::new(TlsFiles {
        cert: args.tls_cert.clone(),
        key: args.tls_key.clone(),
        client_ca: args.client_ca.clone(),
    });
    options.listen = args.listen;
    options.metrics_listen = match args.metrics_listen.as_str() {
        "off" | "" => None,
        addr => Some(addr.parse().with_context(|| format!("invalid --metrics-listen address `{addr}`"))?),
    };
    options.reload_interval = args.reload_interval;
    options.deny_on = args.deny_on;
    options.mode = match args.mode {
        ServeMode::Enforce => Mode::Enforce,
        ServeMode::Audit => Mode::Audit,
    };
    options.on_error = match args.on_error {
        OnErrorChoice::Allow => OnError::Allow,
        OnErrorChoice::Deny => OnError::Deny,
    };
    options.eval_timeout = args.eval_timeout;
    options.max_body = args.max_body;
    options.header_timeout = args.read_timeout;
    options.body_timeout = args.read_timeout;
    options.shutdown_delay = args.shutdown_delay;
    options.shutdown_grace = args.shutdown_grace;
    let own_namespace = args.namespace.clone().or_else(|| std::env::var("POD_NAMESPACE").ok());
    options.exclude_namespaces.extend(own_namespace.into_iter().filter(|ns| !ns.is_empty()));
    options.exclude_namespaces.extend(args.exclude_namespaces.iter().cloned());

    celador_webhook::run(options, policy, Arc::new(JsonLog::new(std::io::stderr())))?;
    Ok(ExitStatus::Success)
}

/// `file:line:column: message`, or `file: message`.
fn describe(problem: &Problem, sources: &SourceMap) -> String {
    match problem.span {
        Some(span) => {
            let at = sources.start(span);
            format!("{}:{}:{}: {}", sources.get(span.file).name, at.line, at.column, problem.message)
        }
        None => format!("{}: {}", problem.file.as_deref().unwrap_or("celador"), problem.message),
    }
}
