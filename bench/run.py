#!/usr/bin/env python3
"""celador's benchmark: whole-process medians of wall time and peak memory on generated corpora.

    bench/run.py                               small and medium, 5 runs each
    bench/run.py --sizes large,huge --runs 3   more corpora, fewer runs
    bench/run.py --sizes small --runs 1        a quick check of the harness itself

For each corpus (bench/gen_corpus.py, generated once into target/bench/corpus/ and reused) it
times, alternating the tools within each round so that a change of load hits them all alike:

  full     celador check --format json CORPUS                     the built-in pack
  floor    parse-floor CORPUS                                     read + parse only (bench/floor)
  pul      celador check --no-builtin --pack bench/rules/pul.toml --format json CORPUS
  input    rego-input INPUT.json CORPUS                           documents -> one JSON input
  regorus  regorus eval -d bench/rules/pul.rego -i INPUT.json data.pul.counts

and checks, before timing, that celador's pul pack, regorus and CORPUS.expected.json agree on
the finding count of every rule (and that the floor loads as many documents as celador with
the built-in pack; the pul pack leaves unread the files that can only be of other kinds than
Kubernetes): the script fails loudly when they differ. It also times `celador check` of one small stack file in
a cold process. Results: a Markdown table on stdout and in docs/benchmarks.md, the samples in
docs/benchmarks.json (rows of corpora not measured this time are kept from it, unless
--fresh), and docs/benchmarks.svg (time and peak memory against input size).

Wall time is measured around fork/exec/wait; peak RSS and CPU time come from the kernel's
rusage of that very child (os.wait4), so nothing beyond Python 3.9's standard library is used.
Targets from the issue are printed against the figures: informative only, never a failure.
Python 3.9+, standard library only.
"""

import argparse
import datetime
import html
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import textwrap
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REGORUS_VERSION = "0.14.1"
SIZES = ("small", "medium", "large", "huge")
TOOLS = ("full", "floor", "pul", "input", "regorus")
LABELS = {
    "full": "celador, built-in pack",
    "floor": "parse floor",
    "pul": "celador, pul pack",
    "input": "YAML → JSON input",
    "regorus": "regorus, pul.rego (JSON input)",
}
RULES = ("PUL001", "PUL002", "PUL003")
COLD_FILE = "examples/insecure/stack/Pulumi.prod.yaml"
MIB = 1024 * 1024


def log(message):
    print(message, file=sys.stderr, flush=True)


def fail(message):
    log("")
    log("bench/run.py: FAILED: " + message)
    sys.exit(1)


def rel(path):
    return os.path.relpath(path, ROOT)


# ------------------------------------------------------------------------------ building


def run_step(what, cmd, timeout, env=None):
    """Runs a preparation step (build, install, generation) with its output shown."""
    log("$ " + " ".join(cmd))
    started = time.monotonic()
    try:
        subprocess.run(cmd, cwd=ROOT, env=env, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        fail("%s took longer than %d s" % (what, timeout))
    except subprocess.CalledProcessError as e:
        fail("%s failed (exit %d)" % (what, e.returncode))
    return time.monotonic() - started


def target_dir():
    return os.path.join(ROOT, os.environ.get("CARGO_TARGET_DIR", "target"))


def build(args):
    """Builds celador and the floor in release mode and installs regorus' CLI; returns paths."""
    celador = os.path.join(target_dir(), "release", "celador")
    floor_target = os.path.join(ROOT, "target", "bench-floor")
    tools_root = os.path.join(ROOT, "target", "bench-tools")
    bins = {
        "celador": celador,
        "parse-floor": os.path.join(floor_target, "release", "parse-floor"),
        "rego-input": os.path.join(floor_target, "release", "rego-input"),
        "regorus": os.path.join(tools_root, "bin", "regorus"),
    }
    if not args.no_build:
        run_step("cargo build --release", ["cargo", "build", "--release", "--quiet"], args.build_timeout)
        env = dict(os.environ, CARGO_TARGET_DIR=floor_target)
        run_step("building bench/floor", ["cargo", "build", "--release", "--quiet", "--manifest-path",
                                          "bench/floor/Cargo.toml"], args.build_timeout, env)
    if not args.no_regorus and regorus_version(bins["regorus"]) != REGORUS_VERSION:
        # The CLI regorus ships as an example of its crate (examples/regorus); cached build.
        run_step("cargo install regorus", [
            "cargo", "install", "regorus", "--version", REGORUS_VERSION, "--locked", "--example", "regorus",
            "--root", tools_root, "--target-dir", os.path.join(tools_root, "build"), "--force"],
            args.build_timeout)
    for name, path in bins.items():
        if name == "regorus" and args.no_regorus:
            continue
        if not os.access(path, os.X_OK):
            fail("%s is missing (run without --no-build)" % rel(path))
    return bins


def regorus_version(path):
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout
    except OSError:
        return None
    parts = out.split()
    return parts[1] if len(parts) == 2 else None


# ------------------------------------------------------------------------------ corpora


def corpus_paths(size):
    out = os.path.join(ROOT, "target", "bench", "corpus", size)
    return out, out + ".expected.json"


def ensure_corpus(size, timeout):
    """Generates the corpus unless a complete one (with its ground truth) is there."""
    out, expected = corpus_paths(size)
    if not os.path.isfile(expected):
        if os.path.exists(out):
            shutil.rmtree(out)  # left over from an interrupted generation
        os.makedirs(os.path.dirname(out), exist_ok=True)
        what = ["--huge"] if size == "huge" else ["--size", size]
        run_step("generating the %s corpus" % size, [sys.executable, "bench/gen_corpus.py", out] + what, timeout)
    with open(expected) as f:
        return json.load(f)


# ------------------------------------------------------------------------------ measuring


class Exceeded(Exception):
    """A measured process went over --timeout or --max-rss and was killed."""


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def measure(cmd, stdout_path, limits, ok=(0,)):
    """Runs cmd once from the repository root: (wall seconds, peak RSS KiB, CPU seconds).

    A watchdog kills it past `limits.timeout` seconds or `limits.max_rss_mib` of resident
    memory (the machine is shared: a runaway process must not take it down); that raises
    Exceeded. Any other exit code than `ok` stops the script."""
    stderr_path = stdout_path + ".stderr"
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        lock = threading.Lock()
        state = {"done": False, "killed": None}
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=err)

        def watchdog():
            limit = limits.max_rss_mib * 1024
            while True:
                time.sleep(0.05)
                with lock:
                    if state["done"]:
                        return
                    elapsed = time.perf_counter() - started
                    rss = rss_kib(proc.pid)
                    if elapsed > limits.timeout or rss > limit:
                        state["killed"] = ("still running after %.0f s" % elapsed if elapsed > limits.timeout else
                                           "killed at %s resident after %.1f s" % (fmt_mib(rss / 1024), elapsed))
                        proc.kill()
                        return

        watcher = threading.Thread(target=watchdog, daemon=True)
        watcher.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        with lock:
            state["done"] = True
        watcher.join()
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    if state["killed"]:
        raise Exceeded(state["killed"])
    if proc.returncode not in ok:
        with open(stderr_path, errors="replace") as f:
            tail = f.read()[-2000:]
        fail("%s exited %d (expected %s); stderr:\n%s" % (" ".join(map(rel_arg, cmd)), proc.returncode,
                                                          " or ".join(map(str, ok)), tail))
    return wall, usage.ru_maxrss, usage.ru_utime + usage.ru_stime


def rel_arg(arg):
    return rel(arg) if os.path.isabs(arg) and arg.startswith(ROOT) else arg


def commands(bins, size):
    corpus = rel(corpus_paths(size)[0])
    rego_json = rel(os.path.join(ROOT, "target", "bench", "rego", size + ".input.json"))
    return {
        "full": ([bins["celador"], "check", "--format", "json", corpus], (0, 1)),
        "floor": ([bins["parse-floor"], corpus], (0,)),
        "pul": ([bins["celador"], "check", "--no-builtin", "--pack", "bench/rules/pul.toml", "--format", "json",
                 corpus], (0, 1)),
        "input": ([bins["rego-input"], rego_json, corpus], (0,)),
        "regorus": ([bins.get("regorus", "regorus"), "eval", "-d", "bench/rules/pul.rego", "-i", rego_json,
                     "data.pul.counts"], (0,)),
    }


def out_path(size, tool):
    return os.path.join(ROOT, "target", "bench", "out", "%s.%s.out" % (size, tool))


def documents_line(path, who):
    with open(path) as f:
        text = f.read().strip()
    try:
        return int(text.split()[0])
    except (ValueError, IndexError):
        fail("%s printed %r, not `N documents in M files`" % (who, text[:200]))


def celador_report(path, who):
    with open(path) as f:
        try:
            report = json.load(f)
        except ValueError as e:
            fail("%s did not print a JSON report: %s" % (who, e))
    if report.get("errors"):
        fail("%s reported errors: %s" % (who, json.dumps(report["errors"][:5])))
    return report


def validate(size, expected, tools, skip=()):
    """Checks the warm-up outputs; returns the facts recorded with the figures."""
    want = {rule: expected["findings"][rule] for rule in RULES}
    facts = {"expected": want}
    pul = celador_report(out_path(size, "pul"), "celador (pul pack)")
    # The pul pack reads only Kubernetes documents, so celador leaves unread the files that can
    # only be of other kinds; the built-in pack reads every kind, and it is what the floor and
    # rego-input must match.
    facts["documents"] = pul["summary"]["documents"]
    facts["pul_documents"] = pul["summary"]["documents"]
    if "full" not in skip:
        full = celador_report(out_path(size, "full"), "celador (built-in pack)")
        facts["full_findings"] = full["summary"]["findings"]
        facts["documents"] = full["summary"]["documents"]
        if full["summary"]["documents"] < facts["pul_documents"]:
            fail("%s: celador loaded %d documents with the built-in pack, fewer than the %d of the pul pack" % (
                size, full["summary"]["documents"], facts["pul_documents"]))
    floor = documents_line(out_path(size, "floor"), "parse-floor")
    if "full" not in skip and floor != facts["documents"]:
        fail("%s: the floor loaded %d documents, celador %d: they must load the same" % (size, floor, facts["documents"]))
    got = dict.fromkeys(RULES, 0)
    for finding in pul["findings"]:
        got[finding["rule"]] = got.get(finding["rule"], 0) + 1
    facts["celador_pul"] = got
    problems = []
    if got != want:
        problems.append("celador's pul pack found %s, the ground truth says %s" % (got, want))
        problems += diff_by_file(size, expected, pul)
    if "regorus" in tools:
        documents = documents_line(out_path(size, "input"), "rego-input")
        if "full" not in skip and documents != facts["documents"]:
            fail("%s: rego-input wrote %d documents, celador loaded %d" % (size, documents, facts["documents"]))
        facts["input_mib"] = os.path.getsize(os.path.join(ROOT, "target", "bench", "rego", size + ".input.json")) / MIB
        with open(out_path(size, "regorus")) as f:
            try:
                value = json.load(f)["result"][0]["expressions"][0]["value"]
            except (ValueError, KeyError, IndexError) as e:
                fail("regorus printed no data.pul.counts (%s); see %s" % (e, rel(out_path(size, "regorus"))))
        rego = {rule: value.get(rule) for rule in RULES}
        facts["regorus"] = rego
        if rego != want:
            problems.append("regorus found %s, the ground truth says %s" % (rego, want))
        if rego != got:
            problems.append("regorus found %s, celador's pul pack %s" % (rego, got))
    if problems:
        fail("%s corpus: finding counts differ:\n  " % size + "\n  ".join(problems))
    log("  %s: %d documents; PUL001-003 = %s (celador pul pack%s, ground truth)" % (
        size, facts["documents"], "/".join(str(want[r]) for r in RULES),
        ", regorus" if "regorus" in tools else ""))
    return facts


def diff_by_file(size, expected, pul):
    """Where celador's pul pack and the ground truth disagree, file by file (the first few)."""
    prefix = rel(corpus_paths(size)[0]) + "/"
    got = {}
    for finding in pul["findings"]:
        name = finding["file"][len(prefix):] if finding["file"].startswith(prefix) else finding["file"]
        got.setdefault(name, {}).setdefault(finding["rule"], 0)
        got[name][finding["rule"]] += 1
    want = expected["findings_by_file"]
    lines = []
    for name in sorted(set(got) | set(want)):
        if got.get(name, {}) != want.get(name, {}):
            lines.append("  %s: celador %s, expected %s" % (name, got.get(name, {}), want.get(name, {})))
    return lines[:20]


def load_average():
    try:
        return list(os.getloadavg())
    except OSError:
        return None


def git_commit():
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty", "--abbrev=10"], cwd=ROOT,
                             capture_output=True, text=True, timeout=30).stdout.strip()
    except OSError:
        out = ""
    return out or "?"


def bench_corpus(size, bins, args, tools):
    expected = ensure_corpus(size, args.build_timeout)
    os.makedirs(os.path.join(ROOT, "target", "bench", "out"), exist_ok=True)
    os.makedirs(os.path.join(ROOT, "target", "bench", "rego"), exist_ok=True)
    cmds = commands(bins, size)
    log("%s corpus: %d files, %.1f MiB; warm-up and correctness check" % (size, expected["files"],
                                                                          expected["bytes"] / MIB))
    load_before = load_average()
    exceeded = {}  # tool -> why it was killed; it is not measured further on this corpus
    for tool in tools:  # warm-up (page cache, binaries) and the outputs validate() reads
        cmd, ok = cmds[tool]
        if tool == "regorus" and "input" in exceeded:
            exceeded[tool] = "no input: the conversion was killed"
            continue
        try:
            measure(cmd, out_path(size, tool), args, ok)
        except Exceeded as e:
            exceeded[tool] = str(e)
            log("  %s: %s; not measured on this corpus" % (tool, e))
    for tool in ("pul", "floor") + (("input", "regorus") if "regorus" in tools else ()):
        if tool in exceeded:
            fail("%s corpus: %s %s: the correctness check needs its output" % (size, LABELS[tool], exceeded[tool]))
    facts = validate(size, expected, tools, skip=set(exceeded))
    live = [t for t in tools if t not in exceeded]
    samples = {tool: [] for tool in live}
    for round_ in range(args.runs):
        # Rotate the order each round, but keep the input conversion before regorus reads it
        # (they are rotated as one unit).
        units = [t for t in live if t != "regorus"]
        shift = round_ % len(units)
        order = []
        for t in units[shift:] + units[:shift]:
            order.append(t)
            if t == "input" and "regorus" in live:
                order.append("regorus")
        for tool in order:
            if tool in exceeded:
                continue
            cmd, ok = cmds[tool]
            try:
                samples[tool].append(measure(cmd, out_path(size, tool), args, ok))
            except Exceeded as e:
                exceeded[tool] = str(e) + " (in a timed round)"
                del samples[tool]
                log("  %s: %s; not measured further" % (tool, e))
        log("  round %d/%d: %s" % (round_ + 1, args.runs, "  ".join(
            "%s %s" % (t, fmt_time(samples[t][-1][0])) for t in live if t in samples)))
    return {
        "corpus": size,
        "files": expected["files"],
        "bytes": expected["bytes"],
        "runs": args.runs,
        "when": now(),
        "commit": git_commit(),
        "load_before": load_before,
        "load_after": load_average(),
        "facts": facts,
        "samples": {tool: [list(s) for s in samples[tool]] for tool in samples},
        "exceeded": exceeded,
    }


def bench_cold(bins, args):
    """One small stack file in a cold process: median of --cold-runs."""
    cmd = [bins["celador"], "check", COLD_FILE]
    path = out_path("cold", "celador")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        measure(cmd, path, args, (0, 1))  # warm-up
        load_before = load_average()
        samples = [measure(cmd, path, args, (0, 1)) for _ in range(args.cold_runs)]
    except Exceeded as e:
        fail("%s: %s" % (" ".join(map(rel_arg, cmd)), e))
    return {"file": COLD_FILE, "runs": args.cold_runs, "when": now(), "commit": git_commit(),
            "load_before": load_before,
            "load_after": load_average(), "samples": [list(s) for s in samples]}


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


# ------------------------------------------------------------------------------ figures


def median(row, tool, i):
    samples = row["samples"].get(tool)
    return statistics.median(s[i] for s in samples) if samples else None


def wall(row, tool):
    return median(row, tool, 0)


def rss_mib(row, tool):
    m = median(row, tool, 1)
    return None if m is None else m / 1024


def cpu(row, tool):
    return median(row, tool, 2)


def fmt_time(t):
    if t is None:
        return "–"
    if t < 1:
        return "%.0f ms" % (t * 1000) if t >= 0.0995 else "%.1f ms" % (t * 1000)
    return "%.2f s" % t


def fmt_mib(m):
    return "–" if m is None else ("%.0f MiB" % m if m >= 10 else "%.1f MiB" % m)


def fmt_ratio(r):
    return "–" if r is None else "%.2f×" % r


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def spread(row, tool):
    samples = row["samples"].get(tool)
    if not samples:
        return "–"
    walls = [s[0] for s in samples]
    return "%s – %s" % (fmt_time(min(walls)), fmt_time(max(walls)))


def targets(rows, cold):
    """(target, measured, verdict) for each of the issue's targets."""
    out = []

    def verdict(ok):
        return "not measured" if ok is None else ("PASS" if ok else "FAIL")

    for size in ("medium", "large"):
        row = rows.get(size)
        if row and killed(row, "full"):
            out.append(("built-in pack ≤ 2× the parse floor (%s)" % size, killed(row, "full"), "FAIL"))
            continue
        r = ratio(wall(row, "full"), wall(row, "floor")) if row else None
        out.append(("built-in pack ≤ 2× the parse floor (%s)" % size,
                    fmt_ratio(r) if r is not None else "–", verdict(None if r is None else r <= 2)))
    row = rows.get("large")
    m = rss_mib(row, "full") if row else None
    out.append(("peak RSS ≤ 300 MiB (large, built-in pack)", killed(row, "full") if row and killed(row, "full") else
                fmt_mib(m), "FAIL" if row and killed(row, "full") else verdict(None if m is None else m <= 300)))
    r = ratio(wall(rows["large"], "full"), wall(rows["medium"], "full")) if "large" in rows and "medium" in rows else None
    c = ratio(cpu(rows["large"], "full"), cpu(rows["medium"], "full")) if "large" in rows and "medium" in rows else None
    out.append(("time large ÷ medium ≤ 11× (built-in pack)",
                fmt_ratio(r) + ("" if c is None else " (CPU time %s)" % fmt_ratio(c)), verdict(None if r is None else r <= 11)))
    row = rows.get("huge")
    if row and killed(row, "full"):
        out.append(("50 MiB manifest ≤ 2.5 s and ≤ 250 MiB (built-in pack)", killed(row, "full"), "FAIL"))
    else:
        t, m = (wall(row, "full"), rss_mib(row, "full")) if row else (None, None)
        out.append(("50 MiB manifest ≤ 2.5 s (built-in pack)", fmt_time(t), verdict(None if t is None else t <= 2.5)))
        out.append(("50 MiB manifest ≤ 250 MiB peak RSS", fmt_mib(m), verdict(None if m is None else m <= 250)))
    for size in SIZES:
        row = rows.get(size)
        if not row or "regorus" not in row["samples"] or "pul" not in row["samples"]:
            continue
        p, g = wall(row, "pul"), wall(row, "regorus")
        out.append(("pul pack faster than regorus (%s)" % size, "%s vs %s" % (fmt_time(p), fmt_time(g)),
                    verdict(p < g)))
    t = statistics.median(s[0] for s in cold["samples"]) if cold else None
    out.append(("one stack file, cold process ≤ 30 ms", fmt_time(t), verdict(None if t is None else t <= 0.030)))
    return out


def linearity(rows):
    if "large" not in rows or "medium" not in rows:
        return None
    large, medium = rows["large"], rows["medium"]
    parts = []
    for tool in TOOLS:
        w, c = ratio(wall(large, tool), wall(medium, tool)), ratio(cpu(large, tool), cpu(medium, tool))
        if w is not None:
            parts.append("%s %.1f× (CPU %.1f×)" % (LABELS[tool], w, c))
    return ("linearity, large ÷ medium (%.1f× the files, %.1f× the bytes): wall time " % (
        large["files"] / medium["files"], large["bytes"] / medium["bytes"]) + "; ".join(parts))


def killed(row, tool):
    return (row.get("exceeded") or {}).get(tool)


def cell_time(row, tool):
    return "killed¹" if killed(row, tool) else fmt_time(wall(row, tool))


def cell_mib(row, tool):
    return "killed¹" if killed(row, tool) else fmt_mib(rss_mib(row, tool))


def killed_notes(rows):
    out = []
    for size in SIZES:
        row = rows.get(size)
        for tool, why in sorted(((row or {}).get("exceeded") or {}).items()):
            out.append("¹ %s, %s: %s (limits: --timeout, --max-rss-mib)." % (size, LABELS[tool], why))
    return out


def table(rows):
    head = ["corpus", "files", "MiB", "celador built-in pack", "parse floor", "built-in ÷ floor", "celador pul pack",
            "regorus (pul.rego)", "RSS built-in", "RSS floor", "RSS pul", "RSS regorus", "runs"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for size in SIZES:
        row = rows.get(size)
        if not row:
            continue
        cells = [size + (" (one file)" if size == "huge" else ""), "{:,}".format(row["files"]),
                 "%.1f" % (row["bytes"] / MIB), cell_time(row, "full"), cell_time(row, "floor"),
                 fmt_ratio(ratio(wall(row, "full"), wall(row, "floor"))), cell_time(row, "pul"),
                 cell_time(row, "regorus"), cell_mib(row, "full"), cell_mib(row, "floor"),
                 cell_mib(row, "pul"), cell_mib(row, "regorus"), str(row["runs"])]
        lines.append("| " + " | ".join(cells) + " |")
    notes = killed_notes(rows)
    return "\n".join(lines + ([""] + notes if notes else []))


def details(rows):
    head = ["corpus", "tool", "wall (median)", "min – max", "CPU user+sys", "CPU ÷ wall", "peak RSS"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for size in SIZES:
        row = rows.get(size)
        if not row:
            continue
        for tool in TOOLS:
            if killed(row, tool):
                lines.append("| %s | %s | killed¹ | | | | |" % (size, LABELS[tool]))
                continue
            if tool not in row["samples"]:
                continue
            w, c = wall(row, tool), cpu(row, tool)
            lines.append("| %s | %s | %s | %s | %s | %s | %s |" % (
                size, LABELS[tool], fmt_time(w), spread(row, tool), fmt_time(c), fmt_ratio(ratio(c, w)),
                fmt_mib(rss_mib(row, tool))))
    return "\n".join(lines)


def correctness(rows):
    head = ["corpus", "documents", "JSON input", "rule", "ground truth", "celador pul pack", "regorus"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for size in SIZES:
        row = rows.get(size)
        if not row:
            continue
        facts = row["facts"]
        for rule in RULES:
            lines.append("| %s | %s | %s | %s | %d | %d | %s |" % (
                size, "{:,}".format(facts["documents"]),
                "%.1f MiB" % facts["input_mib"] if "input_mib" in facts else "–", rule, facts["expected"][rule],
                facts["celador_pul"][rule], facts["regorus"][rule] if "regorus" in facts else "–"))
    return "\n".join(lines)


def markdown(data):
    rows = {row["corpus"]: row for row in data["rows"]}
    cold = data.get("cold")
    env = data["environment"]
    out = ["# Benchmarks", "",
           "Generated by `bench/run.py` (see [bench/README.md](../bench/README.md) for what is measured and how); "
           "do not edit by hand. Whole-process figures: the median wall time of each tool's process and its "
           "median peak resident set size, warm page cache, each corpus run after one untimed warm-up of every "
           "tool, with the tools alternated within each round.", ""]
    if data.get("notes"):
        out += ["> **" + "  \n> ".join(data["notes"]) + "**", ""]
    out += ["![time and peak memory against input size](benchmarks.svg)", "", table(rows), ""]
    lin = linearity(rows)
    if lin:
        out += [lin + ".", ""]
    if cold:
        t = statistics.median(s[0] for s in cold["samples"])
        m = statistics.median(s[1] for s in cold["samples"]) / 1024
        out += ["One small stack file in a cold process, `celador check %s`: median %s over %d runs (%s – %s), "
                "peak RSS %s." % (cold["file"], fmt_time(t), cold["runs"], fmt_time(min(s[0] for s in cold["samples"])),
                                  fmt_time(max(s[0] for s in cold["samples"])), fmt_mib(m)), ""]
    out += ["## Targets (issue #9; informative)", "", "| target | measured | verdict |", "|---|---|---|"]
    out += ["| %s | %s | %s |" % t for t in targets(rows, cold)]
    out += ["", "## Every tool", "",
            "CPU is user + system time of the process (both cores count): regorus evaluates on one thread, "
            "celador and the floor use both cores. The YAML → JSON step (`rego-input`, bench/floor) turns the "
            "corpus into regorus' input once; it is not part of regorus' column.", "", details(rows), "",
            "## Correctness", "",
            "Checked before any timing: the finding count of each rule must be the same from celador's pul pack, "
            "regorus and the ground truth of `bench/gen_corpus.py`, or the run fails.", "", correctness(rows), "",
            "## Where and when", ""]
    out += ["- %s" % line for line in env_lines(env, rows, cold)]
    return "\n".join(out) + "\n"


def env_lines(env, rows, cold):
    lines = ["machine: %s, %s cores, %s GiB memory, Linux %s" % (env["cpu"], env["cores"], env["memory_gib"],
                                                              env["kernel"]),
             "%s; regorus %s (the CLI its crate ships as an example, default features); celador versions "
             "below are `git describe --dirty` of the work tree it was built from (`-dirty`: with uncommitted "
             "changes)" % (env["rustc"], env.get("regorus", "not run"))]
    for size in SIZES:
        row = rows.get(size)
        if row:
            lines.append("%s: %s, celador `%s`, %d runs, load average %s before, %s after" % (
                size, row["when"], row.get("commit", "?"), row["runs"], fmt_load(row["load_before"]),
                fmt_load(row["load_after"])))
    if cold:
        lines.append("cold file: %s, celador `%s`, %d runs, load average %s before, %s after" % (
            cold["when"], cold.get("commit", "?"), cold["runs"], fmt_load(cold["load_before"]),
            fmt_load(cold["load_after"])))
    lines.append("load average: 1, 5 and 15 minutes; this machine has %s cores, so anything above %s means "
                 "other processes were competing for them" % (env["cores"], env["cores"]))
    return lines


def fmt_load(load):
    return "?" if not load else "/".join("%.1f" % x for x in load)


# ------------------------------------------------------------------------------ the plot


COLORS = {"full": "#1f5fa8", "floor": "#7a7a7a", "pul": "#2aa198", "regorus": "#c0392b"}
DASH = {"full": "", "floor": "6 4", "pul": "2 3", "regorus": ""}


def svg(data):
    """Two log-log panels, wall time and peak RSS against input size; plain SVG."""
    rows = {row["corpus"]: row for row in data["rows"]}
    trees = [rows[s] for s in ("small", "medium", "large") if s in rows]
    huge = rows.get("huge")
    every = trees + ([huge] if huge else [])
    series = [t for t in ("full", "floor", "pul", "regorus") if any(t in r["samples"] for r in every)]
    W, H = 960, 430
    panels = [("wall time (median)", lambda r, t: wall(r, t), "s"),
              ("peak RSS (median)", lambda r, t: rss_mib(r, t), "MiB")]
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
           'font-family="sans-serif" font-size="12">' % (W, H, W, H),
           '<rect width="100%" height="100%" fill="white"/>']
    xs = [r["bytes"] / MIB for r in every]
    xlo, xhi = decade_bounds(min(xs), max(xs))
    for p, (title, get, unit) in enumerate(panels):
        left, top, width, height = 70 + p * 480, 40, 380, 300
        ys = [get(r, t) for r in every for t in series if get(r, t)]
        if not ys:
            continue
        ylo, yhi = decade_bounds(min(ys), max(ys))

        def X(v):
            return left + (math.log10(v) - math.log10(xlo)) / (math.log10(xhi) - math.log10(xlo)) * width

        def Y(v):
            return top + height - (math.log10(v) - math.log10(ylo)) / (math.log10(yhi) - math.log10(ylo)) * height

        out.append('<text x="%d" y="%d" font-size="14" font-weight="bold">%s</text>' % (left, top - 16, title))
        out.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#333"/>' % (left, top, width, height))
        labelled = -1e9
        for v in ticks(xlo, xhi):
            x = X(v)
            out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>' % (x, top, x, top + height))
            if x - labelled >= 8 * len(num(v)) + 4:  # no overlapping labels
                out.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (x, top + height + 16, num(v)))
                labelled = x
        for v in ticks(ylo, yhi):
            y = Y(v)
            out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>' % (left, y, left + width, y))
            out.append('<text x="%d" y="%.1f" text-anchor="end">%s</text>' % (left - 6, y + 4, num(v)))
        out.append('<text x="%d" y="%d" text-anchor="middle">input size (MiB, log)</text>' % (
            left + width // 2, top + height + 34))
        out.append('<text transform="translate(%d,%d) rotate(-90)" text-anchor="middle">%s (log)</text>' % (
            left - 48, top + height // 2, unit))
        for t in series:
            pts = [(X(r["bytes"] / MIB), Y(get(r, t))) for r in trees if get(r, t)]
            if len(pts) > 1:
                out.append('<polyline fill="none" stroke="%s" stroke-width="2" stroke-dasharray="%s" points="%s"/>' % (
                    COLORS[t], DASH[t], " ".join("%.1f,%.1f" % pt for pt in pts)))
            for x, y in pts:
                out.append('<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>' % (x, y, COLORS[t]))
            if huge and get(huge, t):
                x, y = X(huge["bytes"] / MIB), Y(get(huge, t))
                out.append('<rect x="%.1f" y="%.1f" width="8" height="8" fill="white" stroke="%s" stroke-width="2"/>' % (
                    x - 4, y - 4, COLORS[t]))
    # Legend.
    y = H - 38
    x = 70
    for t in series:
        out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2" stroke-dasharray="%s"/>' % (
            x, y, x + 26, y, COLORS[t], DASH[t]))
        out.append('<text x="%d" y="%d">%s</text>' % (x + 32, y + 4, html.escape(LABELS[t])))
        x += 40 + 7 * len(LABELS[t])
    notes = "Dots: corpora of many files (small, medium, large)"
    if huge:
        notes += "; squares: one %.0f MiB manifest" % (huge["bytes"] / MIB)
    if any(r.get("exceeded") for r in every):
        notes += "; missing points: killed over the time or memory limit (%s)" % ", ".join(
            "%s on %s" % (LABELS[t], r["corpus"]) for r in every for t in sorted(r.get("exceeded") or {}))
    # The notes' first sentence only; docs/benchmarks.md has them whole.
    notes += ". Figures and method: docs/benchmarks.md. " + " ".join(
        n.split(". ")[0].rstrip(".") + "." for n in data.get("notes") or [])
    lines = textwrap.wrap(notes, 128)
    for i, line in enumerate(lines):
        out.append('<text x="70" y="%d" fill="#555">%s</text>' % (H - 14 + 16 * i, html.escape(line)))
    out.append("</svg>")
    H2 = H + 16 * (len(lines) - 1)
    out[0] = out[0].replace('height="%d"' % H, 'height="%d"' % H2).replace("0 0 %d %d" % (W, H), "0 0 %d %d" % (W, H2))
    return "\n".join(out) + "\n"


def decade_bounds(lo, hi):
    return 10 ** math.floor(math.log10(lo)), 10 ** math.ceil(math.log10(hi) + 1e-9)


def ticks(lo, hi):
    out = []
    e = round(math.log10(lo))
    while 10 ** e <= hi * 1.0001:
        for m in (1, 2, 5):
            v = m * 10 ** e
            if lo * 0.9999 <= v <= hi * 1.0001:
                out.append(v)
        e += 1
    return out


def num(v):
    return ("%g" % v) if v >= 0.001 else ("%.0e" % v)


# ------------------------------------------------------------------------------ main


def environment(bins, tools):
    def first(cmd):
        try:
            return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=30).stdout.strip()
        except OSError:
            return "?"

    cpu_model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024 ** 3
    except (ValueError, OSError):
        memory = 0
    env = {"cpu": cpu_model, "cores": os.cpu_count(), "memory_gib": round(memory), "kernel": platform.release(),
           "rustc": first(["rustc", "--version"])}
    if "regorus" in tools:
        env["regorus"] = regorus_version(bins["regorus"])
    return env


def write(data, docs):
    os.makedirs(docs, exist_ok=True)
    with open(os.path.join(docs, "benchmarks.json"), "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    with open(os.path.join(docs, "benchmarks.md"), "w") as f:
        f.write(markdown(data))
    with open(os.path.join(docs, "benchmarks.svg"), "w") as f:
        f.write(svg(data))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="small,medium",
                        help="comma-separated corpora among %s (default small,medium)" % ",".join(SIZES))
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each tool per corpus (default 5)")
    parser.add_argument("--cold-runs", type=int, default=20, help="runs of the one-file cold check (default 20; 0: skip)")
    parser.add_argument("--no-regorus", action="store_true", help="measure celador and the floor only")
    parser.add_argument("--no-build", action="store_true", help="use the binaries already built")
    parser.add_argument("--report-only", action="store_true",
                        help="measure nothing: rewrite benchmarks.md and .svg from benchmarks.json (and --note)")
    parser.add_argument("--fresh", action="store_true",
                        help="drop the rows of docs/benchmarks.json for corpora not measured now")
    parser.add_argument("--note", action="append", default=[],
                        help="a note printed above the figures (repeatable); replaces the previous notes")
    parser.add_argument("--timeout", type=int, default=600,
                        help="seconds one measured process may take before it is killed (default 600)")
    parser.add_argument("--max-rss-mib", type=int, default=4096,
                        help="resident memory one measured process may reach before it is killed (default 4096)")
    parser.add_argument("--build-timeout", type=int, default=3600, help="seconds a build or generation may take")
    parser.add_argument("--docs", default=os.path.join(ROOT, "docs"), help="where the results go (default docs/)")
    args = parser.parse_args()
    sizes = [s for s in args.sizes.split(",") if s]
    for s in sizes:
        if s not in SIZES:
            parser.error("unknown corpus %r (one of %s)" % (s, ", ".join(SIZES)))
    if args.runs < 1 or args.cold_runs < 0:
        parser.error("--runs must be at least 1 and --cold-runs at least 0")
    tools = [t for t in TOOLS if not (args.no_regorus and t in ("input", "regorus"))]

    json_path = os.path.join(args.docs, "benchmarks.json")
    data = {"rows": [], "cold": None, "notes": []}
    if os.path.isfile(json_path) and (args.report_only or not args.fresh):
        with open(json_path) as f:
            data = json.load(f)
    if args.note:
        data["notes"] = args.note
    if args.report_only:
        if not data["rows"] and not data.get("cold"):
            fail("%s holds no figures" % json_path)
    else:
        bins = build(args)
        data["environment"] = environment(bins, tools)
        rows = {row["corpus"]: row for row in data["rows"]}
        # Written after each corpus, so that what was measured survives a later failure.
        for size in sizes:
            rows[size] = bench_corpus(size, bins, args, tools)
            data["rows"] = [rows[s] for s in SIZES if s in rows]
            write(data, args.docs)
        if args.cold_runs:
            data["cold"] = bench_cold(bins, args)
    write(data, args.docs)
    by = {row["corpus"]: row for row in data["rows"]}
    print(table(by))
    print()
    lin = linearity(by)
    if lin:
        print(lin)
    if data.get("cold"):
        print("one stack file, cold process: median %s over %d runs" % (
            fmt_time(statistics.median(s[0] for s in data["cold"]["samples"])), data["cold"]["runs"]))
    print()
    width = max(len(t[0]) for t in targets(by, data.get("cold")))
    for name, measured, verdict in targets(by, data.get("cold")):
        print("%-*s  %-22s %s" % (width, name, measured, verdict))
    print()
    print("written: %s" % ", ".join(os.path.relpath(os.path.join(args.docs, n))
                                    for n in ("benchmarks.md", "benchmarks.svg", "benchmarks.json")))


if __name__ == "__main__":
    main()
