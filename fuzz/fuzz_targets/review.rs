//! The webhook on an arbitrary request body: parsing the AdmissionReview, evaluating its
//! object with the built-in pack and writing the answer give a response, never a panic.
#![no_main]

use celador_engine::config::Config;
use celador_engine::pack::load_pack;
use celador_engine::source::SourceMap;
use celador_webhook::Policy;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn policy() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(|| {
        let files = celador_rules::builtin_files(celador_rules::DEFAULT_PACK).expect("the built-in pack");
        let rules = load_pack(files, &SourceMap::new()).expect("the built-in pack compiles").rules;
        Policy::new(rules, Config::default()).expect("the default policy")
    })
}

// Compiling the built-in pack takes seconds under the sanitizer: done before the first input,
// so it does not count against libFuzzer's per-input timeout.
fuzz_target!(init: { policy(); }, |body: &[u8]| {
    let _ = celador_webhook::fuzzing::review(body, policy());
});
