//! Limits on what an input can make celador do.
//!
//! celador reads files from pull requests, from `helm template` output piped into it and from
//! the Kubernetes API server, so every input may be hostile. Whatever a file holds, a run must
//! end in bounded time and memory with a report, never with a crash, a hang, or the contents
//! of a file outside the repository. These are the limits that guarantee it; each one that is
//! hit is a located error (or an error naming the file), exit code 2.
//!
//! | limit | bounds | where |
//! |---|---|---|
//! | [`MAX_FILE_SIZE`] | bytes read per file or from stdin (`--max-file-size`) | [`crate::read`] |
//! | [`MAX_DEPTH`] | nesting of collections in a document, aliases included | loaders |
//! | [`MAX_ALIAS_EXPANSION`] | nodes reached through YAML aliases per file | YAML loader |
//! | [`MAX_EXPRESSION_NESTING`], [`MAX_EXPRESSION_DEPTH`] | nesting of a rule's CEL expression | pack loader |
//! | [`MAX_COMPREHENSION_NESTING`] | comprehensions running inside each other's loops | pack loader |
//! | [`MAX_COST_DEGREE`] | a rule's estimated cost, as a degree in the input's size | pack loader ([`crate::pack::cost`]) |
//! | [`SNIPPET_CONTEXT_CHARS`], [`SNIPPET_MAX_LINES`] | text a snippet shows | human report |
//! | [`COMPILER_STACK`], [`EVALUATION_STACK`] | stacks for parsing and evaluating CEL | pack loader, checker |
//! | [`MAX_EVALUATION_STEPS`], [`MAX_EVALUATION_BYTES`] | work and memory of one rule on one document or deployment | evaluator ([`crate::eval::budget`]) |
//!
//! Every recursive walk over a document tree (CEL conversion, `path_to`, components) is
//! bounded by [`MAX_DEPTH`] because no loader builds a deeper tree, and dropping a tree is
//! iterative ([`crate::tree::Node`]'s `Drop`).

/// The largest file (or stdin) read, in bytes, unless `--max-file-size` says otherwise: 64 MiB.
///
/// Terraform plans and Pulumi states of large estates reach tens of megabytes; nothing a
/// person writes comes near it.
pub const MAX_FILE_SIZE: u64 = 64 * 1024 * 1024;

/// The deepest a document may nest collections (mappings and sequences): 255.
///
/// The root collection is at depth 1. Values reached through a YAML alias count at the depth
/// they appear at, so aliases cannot build a deeper tree than the text could. Kubernetes
/// objects, Helm values, Terraform plans and Pulumi states nest a few dozen levels at most.
/// 255 is also the deepest `saphyr-parser` nests YAML flow collections (`[[[…]]]`), so every
/// syntax gets the same limit. The TOML parser stops earlier, at 80 levels.
pub const MAX_DEPTH: usize = 255;

/// The most nodes YAML aliases may reach in one file: 1,000,000.
///
/// An alias shares the anchored value instead of copying it, but every walk over the document
/// (rules, components) visits the value once per alias. The budget counts, for every alias,
/// the nodes of the value it refers to (themselves counted through their own aliases), as
/// Kubernetes' YAML decoder does, so a "billion laughs" file is rejected at the alias that
/// exceeds it instead of costing gigabytes.
pub const MAX_ALIAS_EXPANSION: u64 = 1_000_000;

/// The deepest a rule's CEL expression may nest, estimated from its text before it is parsed:
/// 512.
///
/// The `cel` crate parses and evaluates recursively, and its own recursion limit does not
/// cover chains such as `1 + 1 + … + 1` or `a[0][0]…[0]`, which nest one level per operator:
/// 300 overflow an 8 MiB stack. The estimate counts, for each operand of `&&`, `||` and `?:`,
/// the operators and brackets it nests; it is never below the real depth, and often far above
/// it (the deepest built-in expression estimates at 321, for a real depth of 62).
pub const MAX_EXPRESSION_NESTING: usize = 512;

/// The deepest a compiled CEL expression may be: 128 levels, twice the deepest built-in
/// rule's. Evaluation recurses once per level.
pub const MAX_EXPRESSION_DEPTH: usize = 128;

/// The most comprehensions (`all`, `exists`, `map`, `filter`, …) a rule's expression may run
/// one inside another's loop: 5, one more than the built-in pack's deepest rule.
///
/// Each level multiplies the cost by the size of the list it iterates: three levels over a
/// 1,000-item list are a billion steps. A comprehension over a literal list of at most one
/// element (`[x].map(v, …)`, which binds a value) does not count. Deeper is refused when the pack loads, with the
/// position of the comprehension past the limit; the runtime budget
/// ([`MAX_EVALUATION_STEPS`]) bounds the rest.
pub const MAX_COMPREHENSION_NESTING: usize = 5;

/// The highest degree in the input's size `n` a rule's estimated cost may have: 2, O(n²).
///
/// A rule whose loops over the input nest three deep (a comprehension over the input inside
/// another's loop, inside `each`, or with a scan such as `in` or `matches` inside) does about
/// 10⁹ steps on a deployment of 1,000 objects, and fails on its runtime budget
/// ([`MAX_EVALUATION_STEPS`]) where a linear rule takes milliseconds. The estimate is made
/// when the pack loads ([`crate::pack::cost`]); an expression above it is refused, at the
/// position of its innermost multiplying loop.
pub const MAX_COST_DEGREE: u32 = 2;

/// The stack of the thread that compiles a pack: 128 MiB, only what is used committed.
/// Parsing an expression at [`MAX_EXPRESSION_NESTING`] takes tens of MiB in a debug build,
/// more than the threads tests and the webhook run on.
pub const COMPILER_STACK: usize = 128 << 20;

/// The stack of the threads that load documents and evaluate rules: 16 MiB, room for
/// [`MAX_EXPRESSION_DEPTH`] levels of evaluation in a debug build (about 28 KiB each) on top
/// of [`MAX_DEPTH`] levels of document.
pub const EVALUATION_STACK: usize = 16 << 20;

/// The steps one rule may take on one unit (a document, or a deployment for deployment
/// rules) whatever its size: 20,000,000, plus [`EVALUATION_STEPS_PER_INPUT_BYTE`] per byte of
/// the unit's input, so a rule linear in its input is never stopped on a large one.
///
/// A step is one node of the expression evaluated, or one element (or 32 bytes) an operation
/// reads (`in`, `==`, `+`, a function's arguments). The built-in pack's fixtures and the
/// 2,000-file benchmark corpus never reach it; a rule that does took 1.4 s in a release build
/// on a shared 2-core machine (8 s under heavy load; the webhook's `--eval-timeout` stops it
/// sooner).
/// Past it the rule's evaluation stops with a located `evaluation-limit` error, and the other
/// rules still run.
pub const MAX_EVALUATION_STEPS: u64 = 20_000_000;

/// The bytes of lists, maps and strings one rule may build on one unit whatever its size:
/// 64 MiB, plus [`EVALUATION_BYTES_PER_INPUT_BYTE`] per byte of the unit's input.
///
/// Counted cumulatively (nothing built is refunded), a list element as 32 bytes, a string as
/// its length. Bounds what `lists.range(1000000).map(i, lists.range(1000000))` or a string
/// doubled over and over can take before it is stopped.
pub const MAX_EVALUATION_BYTES: u64 = 64 << 20;

/// Evaluation steps allowed per byte of a unit's input, beyond [`MAX_EVALUATION_STEPS`]: 64.
/// A deployment rule reading a 5 MiB manifest of 4,566 objects (the built-in pack's heaviest,
/// PSH-APP-005) builds over 64 MiB and needs room proportional to its input; a cost bomb in a
/// small object is still stopped at the base budget.
pub const EVALUATION_STEPS_PER_INPUT_BYTE: u64 = 64;

/// Bytes of lists, maps and strings allowed per byte of a unit's input, beyond
/// [`MAX_EVALUATION_BYTES`]: 32.
pub const EVALUATION_BYTES_PER_INPUT_BYTE: u64 = 32;

/// Characters of a line shown before a snippet's label, and after it (a long label shows at
/// most this many of its own characters too); the rest of a long line is elided with `…`.
pub const SNIPPET_CONTEXT_CHARS: usize = 120;

/// The most lines a snippet's label may cover; a longer span is shown by its first line.
pub const SNIPPET_MAX_LINES: usize = 12;

/// The most related locations one finding keeps (after dropping its own place). A rule that
/// relates every API of a deployment of thousands would otherwise repeat thousands of
/// locations in each finding: output quadratic in the input. The first ones, in the rule's
/// order, are kept.
pub const MAX_RELATED: usize = 10;

/// The most objects one relation of the deployment model joins to one object (`k8s.services[]`'s
/// workloads, `k8s.workloads[]`'s NetworkPolicies), in source order. Real namespaces stay far
/// below it; a crafted manifest of thousands of Services selecting thousands of Pods would
/// otherwise build a relation quadratic in its size, outside any rule's evaluation budget.
pub const MAX_RELATION_MATCHES: usize = 1_000;
