//! The repository reads nothing outside itself: `.ci/self-contained` passes on it, and its own
//! tests (scratch repositories that do and do not refer outside) pass.

#[test]
fn self_contained_check_passes_its_own_tests() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new("bash")
        .arg(root.join("tests/ci/self_contained_test.sh"))
        .output()
        .expect("bash runs");
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}
