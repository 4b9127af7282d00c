//! End-to-end tests: the `celador` binary run on files, directories and stdin.

mod support;

mod admission;
mod agreement;
mod check_json;
mod ci;
mod classification;
mod component_packs;
mod config_errors;
mod discovery;
mod examples;
mod exit_codes;
mod explain_rules;
mod hostile;
mod human_output;
mod malformed;
mod mixed;
mod packs;
mod planted_secrets;
mod pre_commit;
mod secrets;
mod self_contained;
mod stdin;
mod test_cmd;
