#!/usr/bin/env bash
# Tests .ci/self-contained on scratch git repositories: what it must flag, with file:line, and
# what it must leave alone. Exit 0 when every case passes.
#
#   tests/ci/self_contained_test.sh
#
# The references are assembled from pieces (`$up`, `$work`) so that this file is not itself
# one of them.
set -euo pipefail
script="$(cd "$(dirname "$0")/../.." && pwd)/.ci/self-contained"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
up=..
work=/work
failures=0

# new_repo NAME: an empty git repository under the scratch directory; prints its path.
new_repo() {
    local repo="$scratch/$1"
    mkdir -p "$repo"
    git -C "$repo" init -q
    printf '%s\n' "$repo"
}

# put REPO FILE TEXT: writes FILE (creating its directory) and stages it.
put() {
    mkdir -p "$(dirname "$1/$2")"
    printf '%s\n' "$3" >"$1/$2"
    git -C "$1" add -- "$2"
}

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# --- Legitimate references: exit 0. -------------------------------------------------------
clean=$(new_repo clean)
put "$clean" Cargo.toml '[workspace]
members = ["engine"]
[dependencies]
engine = { path = "engine" }
[[bench]]
path = "cli/benches/check.rs"'
put "$clean" engine/Cargo.toml "[dependencies]
sibling = { path = \"$up/rules\" }"
put "$clean" engine/src/report/sarif.rs "const S: &str = include_str!(\"$up/$up/$up/schemas/s.json\");
const B: &[u8] = include_bytes!(\"data.bin\");
#[path = \"$up/other.rs\"] mod other;
// include_str!(concat!(env!(\"OUT_DIR\"), \"/x\")) is not a literal
const URI: &str = \"file:///C:$work/app.yaml\";"
put "$clean" tests/attack.rs "let input = \"env_file: $up/$up/$up/$up/etc/passwd\";"
put "$clean" docs/guide.md "Rust shows it as include_str!(\"$up/$up/$up/$up/elsewhere.json\"), which is only text here.
See https://example.com$work/page and C:$work/app.yaml.
A folder named $up/sharedthings or $up/shared-data is not the neighbour."
put "$clean" docs/allowed.md "The old location was $up/shared/bench (self-contained: allow)."
# An untracked file is not part of the repository.
printf '%s\n' "$up/shared/x" >"$clean/untracked.txt"

if ! out=$("$script" "$clean" 2>&1); then
    fail "clean repository flagged:"$'\n'"$out"
fi
# Any directory of the work tree selects the whole repository.
if ! "$script" "$clean/engine/src" >/dev/null 2>&1; then
    fail "a subdirectory argument does not check the repository it belongs to"
fi

# --- Each kind of outside reference: exit 1, reported as file:line. -------------------------
dirty=$(new_repo dirty)
put "$dirty" README.md "nothing to see"
put "$dirty" engine/src/report/sarif.rs "// line 1
const S: &str = include_str!(\"$up/$up/$up/$up/shared/schemas/s.json\");"
put "$dirty" src/lib.rs "const B: &[u8] = include_bytes!(\"$work/main/blob.bin\");
const C: &str = include_str!(r\"$up/$up/outside.txt\");
#[path = \"$up/$up/elsewhere.rs\"] mod elsewhere;"
put "$dirty" engine/Cargo.toml "[dependencies]
helper = { path = \"$up/$up/helper\" }"
put "$dirty" cli/benches/check.rs "let script = root.join(\"$up/shared/bench/gen_corpus.py\");"
put "$dirty" scripts/run.sh "ls $up/$up/.library/env
cat $work/shared/README.md
python3 \"$work/main/x.py\""

expected=(
    "cli/benches/check.rs:1:"
    "engine/Cargo.toml:2:"
    "engine/src/report/sarif.rs:2:"
    "scripts/run.sh:1:"
    "scripts/run.sh:2:"
    "scripts/run.sh:3:"
    "src/lib.rs:1:"
    "src/lib.rs:2:"
    "src/lib.rs:3:"
)
status=0
out=$("$script" "$dirty" 2>&1) || status=$?
if [[ $status != 1 ]]; then
    fail "dirty repository: exit $status, expected 1"$'\n'"$out"
fi
for want in "${expected[@]}"; do
    grep -qF -- "$want" <<<"$out" || fail "dirty repository: $want not reported"$'\n'"$out"
done
reported=$(grep -cE '^[^ ]+:[0-9]+: ' <<<"$out" || true)
if [[ $reported != "${#expected[@]}" ]]; then
    fail "dirty repository: $reported lines reported, expected ${#expected[@]}"$'\n'"$out"
fi

# --- Usage errors: exit 2. ---------------------------------------------------------------
status=0
"$script" "$scratch" >/dev/null 2>&1 || status=$?
[[ $status == 2 ]] || fail "a directory outside any git work tree: exit $status, expected 2"

if ((failures > 0)); then
    echo "$failures failure(s)" >&2
    exit 1
fi
echo "self_contained_test: all cases pass"
