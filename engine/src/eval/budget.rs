//! The budget every rule evaluation runs under, and the cancellation that stops it early.
//!
//! A rule is data from a pack anyone can write, evaluated over documents anyone can write: a
//! comprehension over a comprehension, or a rule that compares every pair of 45,000 hosts,
//! would otherwise run for hours. [`crate::eval::Evaluator::run`], the one entry point every
//! evaluation goes through (CLI, fixtures, webhook), runs each rule on each unit under a
//! `cel::budget::Budget` of [`MAX_EVALUATION_STEPS`] steps and [`MAX_EVALUATION_BYTES`]
//! bytes, which the (vendored) interpreter charges as it goes. Going past it is a located
//! error of the run (`evaluation-limit`) naming the rule; the other rules still run.
//!
//! A [`Cancel`] stops every evaluation that shares it, from any thread, within a few
//! thousand steps: the webhook trips it when a review times out or the server shuts down.

use crate::limits::{
    EVALUATION_BYTES_PER_INPUT_BYTE, EVALUATION_STEPS_PER_INPUT_BYTE, MAX_EVALUATION_BYTES, MAX_EVALUATION_STEPS,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Stops the evaluations it is passed to: when [`Cancel::cancel`] is called, or once its
/// deadline has passed. Clones share the flag.
#[derive(Clone, Debug, Default)]
pub struct Cancel {
    flag: Arc<AtomicBool>,
    deadline: Option<Instant>,
}

impl Cancel {
    /// A cancellation that only [`Cancel::cancel`] trips.
    pub fn new() -> Self {
        Self::default()
    }

    /// The same cancellation, also tripped once `deadline` has passed.
    #[must_use]
    pub fn with_deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Stops every evaluation sharing this cancellation.
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::Relaxed);
    }

    /// Whether evaluations sharing this cancellation stop: cancelled, or past the deadline.
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::Relaxed) || self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// The budget of one rule on a unit of `size` bytes of input, stopped by this cancellation.
    pub(crate) fn budget(&self, size: u64) -> cel::budget::Budget {
        let steps = MAX_EVALUATION_STEPS.saturating_add(EVALUATION_STEPS_PER_INPUT_BYTE.saturating_mul(size));
        let bytes = MAX_EVALUATION_BYTES.saturating_add(EVALUATION_BYTES_PER_INPUT_BYTE.saturating_mul(size));
        cel::budget::Budget {
            cancel: Some(self.flag.clone()),
            deadline: self.deadline,
            ..cel::budget::Budget::new(steps, bytes)
        }
    }
}

/// Why a rule's evaluation stopped, for its `evaluation-limit` error.
pub(crate) fn stopped_because(limit: cel::budget::Exceeded) -> String {
    use cel::budget::Exceeded;
    match limit {
        Exceeded::Steps(steps) => format!(
            "it took more than {steps} evaluation steps, the limit for one rule on this input (a comprehension inside a comprehension over large lists?)"
        ),
        Exceeded::Bytes(bytes) => format!(
            "it built more than {} MiB of lists, maps and strings, the limit for one rule on this input",
            bytes >> 20
        ),
        Exceeded::Cancelled => "the evaluation was cancelled (a timeout or a shutdown)".to_owned(),
        Exceeded::Deadline => "the evaluation ran past its deadline".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{Checker, Input, load_inputs};
    use crate::diagnostic::{Diagnostic, EVALUATION_LIMIT};
    use crate::pack::{PackFile, load_pack};
    use crate::read::ReadScope;
    use crate::source::SourceMap;

    /// Variables a rule's `assert` may read: `r`, a list of 100,000 numbers built once, and
    /// `s0` … `s6`, strings of 16 bytes, each eight times the one before (`s6` is 4 MiB).
    fn variables(assert: &str) -> String {
        let mut vars = Vec::new();
        if assert.contains("variables.r") {
            vars.push(("r".to_owned(), "lists.range(100000)".to_owned()));
        }
        if assert.contains("variables.bomb") {
            vars.push(("bomb".to_owned(), "lists.range(100000).all(i, lists.range(100000).all(j, true))".to_owned()));
        }
        if assert.contains("variables.s") {
            vars.push(("s0".to_owned(), "'xxxxxxxxxxxxxxxx'".to_owned()));
            for i in 1..7 {
                vars.push((format!("s{i}"), vec![format!("variables.s{}", i - 1); 8].join(" + ")));
            }
        }
        vars.iter()
            .map(|(name, expr)| format!("[[rule.variables]]\nname = \"{name}\"\nexpression = \"{expr}\"\n"))
            .collect()
    }

    /// A pack with one rule per `(id, assert)` on Kubernetes objects.
    fn pack(rules: &[(&str, &str)]) -> String {
        let mut pack = String::from("[pack]\nid = \"t\"\nversion = \"0\"\ntitle = \"t\"\n");
        for (id, assert) in rules {
            pack.push_str(&format!(
                "[[rule]]\nid = \"{id}\"\ntitle = \"t\"\nseverity = \"low\"\nkinds = [\"kubernetes\"]\nassert = '''{assert}'''\nmessage = 'm'\n{}",
                variables(assert)
            ));
        }
        pack
    }

    /// Checks a two-line ConfigMap with `rules`; returns the diagnostics as `(rule, line,
    /// column, message)`.
    fn check(rules: &[(&str, &str)], cancel: &Cancel) -> Vec<(String, usize, usize, String)> {
        let sources = SourceMap::new();
        let file =
            PackFile { relative: "p.toml".into(), display: "p.toml".into(), path: None, text: Arc::from(pack(rules)) };
        let rules = load_pack(vec![file], &sources).expect("pack loads").rules;
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: b}\n";
        let input = Input { name: "cm.yaml".into(), path: None, bytes: text.into(), explicit: true, kind: None };
        let loaded = load_inputs(vec![input], &sources, None, &ReadScope::nothing(), &Default::default());
        let found: Vec<Diagnostic> = Checker::new(rules).check_until(&loaded.documents, &sources, cancel);
        found
            .into_iter()
            .map(|d| {
                let at = sources.start(d.primary.span);
                (d.rule.to_string(), at.line, at.column, d.message)
            })
            .collect()
    }

    /// 10¹⁰ iterations, over a list built once.
    const NESTED: &str = "variables.r.all(i, variables.r.all(j, true))";

    #[test]
    fn a_nested_comprehension_stops_at_the_step_limit_and_the_other_rules_run() {
        let found = check(&[("T-BOMB", NESTED), ("T-FAIL", "false")], &Cancel::new());
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found.iter().any(|f| f.0 == "T-FAIL"), "{found:#?}");
        let (rule, line, column, message) = found.iter().find(|f| f.0 != "T-FAIL").unwrap();
        assert_eq!((rule.as_str(), *line, *column), (EVALUATION_LIMIT, 1, 1));
        // The base budget plus a little for the document's few bytes of input.
        let prefix = "rule T-BOMB stopped in its `assert` expression while checking this: it took more than ";
        let steps: u64 =
            message.strip_prefix(prefix).and_then(|m| m.split(' ').next()).and_then(|n| n.parse().ok()).unwrap();
        assert!(
            (MAX_EVALUATION_STEPS..MAX_EVALUATION_STEPS + 100 * EVALUATION_STEPS_PER_INPUT_BYTE).contains(&steps),
            "{message}"
        );
        assert!(
            message.ends_with(" evaluation steps, the limit for one rule on this input (a comprehension inside a comprehension over large lists?)"),
            "{message}"
        );
    }

    #[test]
    fn building_large_lists_or_strings_stops_at_the_memory_limit() {
        // 4 MiB, then 36 MiB, then 40 MiB more.
        let doubling = "size(variables.s6 + variables.s6 + variables.s6 + variables.s6 + variables.s6 + variables.s6 + variables.s6 + variables.s6 + variables.s6 + variables.s6) > 0";
        for (assert, built) in [
            ("size(lists.range(1000000).map(i, lists.range(1000000))) > 0", "lists"),
            ("lists.range(100000).all(i, lists.range(100000).all(j, true))", "a list per iteration"),
            (doubling, "strings"),
            ("size([1, 2, 3].map(x, lists.range(1000000).map(y, string(y)).join(','))) > 0", "join"),
        ] {
            let found = check(&[("T-BIG", assert)], &Cancel::new());
            assert_eq!(found.len(), 1, "{built}: {found:#?}");
            assert_eq!(found[0].0, EVALUATION_LIMIT, "{built}");
            assert!(found[0].3.contains("it built more than 64 MiB"), "{built}: {}", found[0].3);
        }
    }

    #[test]
    fn a_limit_hit_where_errors_are_not_reported_is_still_an_error() {
        // A `locate` that fails falls back to the element's place, silently.
        let sources = SourceMap::new();
        let text = format!(
            "[pack]\nid = \"t\"\nversion = \"0\"\ntitle = \"t\"\n[[rule]]\nid = \"T-LOC\"\ntitle = \"t\"\nseverity = \"low\"\nkinds = [\"kubernetes\"]\nassert = 'false'\nlocate = '{NESTED}'\nmessage = 'm'\n{}",
            variables(NESTED)
        );
        let file = PackFile { relative: "p.toml".into(), display: "p.toml".into(), path: None, text: Arc::from(text) };
        let rules = load_pack(vec![file], &sources).expect("pack loads").rules;
        let input = Input {
            name: "cm.yaml".into(),
            path: None,
            bytes: b"apiVersion: v1\nkind: ConfigMap\n".to_vec(),
            explicit: true,
            kind: None,
        };
        let loaded = load_inputs(vec![input], &sources, None, &ReadScope::nothing(), &Default::default());
        let found = Checker::new(rules).check(&loaded.documents, &sources);
        let rules: Vec<&str> = found.iter().map(|d| &*d.rule).collect();
        assert_eq!(rules, ["T-LOC", EVALUATION_LIMIT], "{found:#?}");
        assert!(
            found[1].message.starts_with("rule T-LOC stopped while checking this: it took more than"),
            "{}",
            found[1].message
        );
    }

    #[test]
    fn cheap_rules_are_not_stopped() {
        let found = check(&[("T-OK", "lists.range(300).all(i, lists.range(300).all(j, i + j >= 0))")], &Cancel::new());
        assert_eq!(found, []);
    }

    #[test]
    fn a_cancelled_check_stops_every_rule() {
        let cancel = Cancel::new();
        cancel.cancel();
        let found = check(&[("T-1", "false"), ("T-2", "true")], &cancel);
        let rules: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(rules, [EVALUATION_LIMIT, EVALUATION_LIMIT]);
        assert!(
            found.iter().all(|f| f.3.ends_with("the evaluation was cancelled (a timeout or a shutdown)")),
            "{found:#?}"
        );
        let past = Cancel::new().with_deadline(Instant::now());
        assert!(past.is_cancelled());
        assert!(check(&[("T-1", "false")], &past)[0].3.contains("cancelled"));
    }

    /// A rule variable is evaluated when the rule first reads it: stopped there, the rule is
    /// stopped, not failing with an error of its own.
    #[test]
    fn a_variable_stopped_by_the_budget_stops_its_rule() {
        let found = check(&[("T-VAR", "variables.bomb")], &Cancel::new());
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].0, EVALUATION_LIMIT, "{found:#?}");
        assert!(found[0].3.starts_with("rule T-VAR stopped in its `assert` expression"), "{}", found[0].3);
    }

    #[test]
    fn cancelling_from_another_thread_stops_a_running_evaluation() {
        // Three nested ranges of 10,000 would take 10¹² steps; the step limit stops them long
        // after the cancellation does.
        let cancel = Cancel::new();
        let canceller = {
            let cancel = cancel.clone();
            std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(20));
                cancel.cancel();
            })
        };
        let found = check(&[("T-LONG", NESTED)], &cancel);
        canceller.join().unwrap();
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].3.contains("cancelled"), "{}", found[0].3);
    }
}
