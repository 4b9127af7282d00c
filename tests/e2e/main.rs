//! End-to-end tests: the `celador` binary run on files, directories and stdin.
//!
//! Tests marked `BUG (reported)` assert the correct behaviour of something celador currently
//! gets wrong; they fail until it is fixed.

mod support;

mod check_json;
mod discovery;
mod exit_codes;
mod explain_rules;
mod human_output;
mod malformed;
mod mixed;
mod packs;
mod secrets;
mod stdin;
mod test_cmd;
