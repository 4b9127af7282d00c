//! Loading admission packs and running their rules: located errors, the API server's
//! semantics, and where findings point.

use crate::check::{Checker, Input, load_inputs};
use crate::diagnostic::{Diagnostic, Problem};
use crate::pack::{PackFile, load_pack};
use crate::read::ReadScope;
use crate::source::SourceMap;
use std::sync::Arc;

const HEADER: &str =
    "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata:\n  name: p\n";

const MATCH_DEPLOYMENTS: &str = "  matchConstraints:\n    resourceRules:\n    - apiGroups: [apps]\n      apiVersions: [v1]\n      operations: [CREATE]\n      resources: [deployments]\n";

const BINDING: &str = "---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata:\n  name: b\nspec:\n  policyName: p\n  validationActions: [Deny]\n";

fn pack_file(relative: &str, text: &str) -> PackFile {
    PackFile { relative: relative.into(), display: format!("vap/{relative}"), path: None, text: Arc::from(text) }
}

/// The problems of a pack of one file, as `(line, column, message)`.
fn problems(text: &str) -> Vec<(usize, usize, String)> {
    let sources = SourceMap::new();
    let found: Vec<Problem> = load_pack(vec![pack_file("policy.yaml", text)], &sources).err().unwrap_or_default();
    found
        .into_iter()
        .map(|p| {
            let at = sources.start(p.span.expect("every problem is located"));
            (at.line, at.column, p.message)
        })
        .collect()
}

/// The diagnostics of checking `manifests` (one file) against a pack of `policy` (one file).
fn check(policy: &str, manifests: &str) -> (SourceMap, Vec<Diagnostic>) {
    check_files(&[("policy.yaml", policy)], manifests)
}

fn check_files(pack: &[(&str, &str)], manifests: &str) -> (SourceMap, Vec<Diagnostic>) {
    let sources = SourceMap::new();
    let files = pack.iter().map(|(r, t)| pack_file(r, t)).collect();
    let pack = load_pack(files, &sources).unwrap_or_else(|p| panic!("{p:?}"));
    let input =
        Input { name: "m.yaml".into(), path: None, bytes: manifests.as_bytes().to_vec(), explicit: true, kind: None };
    let loaded = load_inputs(vec![input], &sources, None, &ReadScope::nothing(), &Default::default());
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let found = Checker::new(pack.rules).check(&loaded.documents, &sources);
    (sources, found)
}

/// `(line, column, rule, message)` of each diagnostic.
fn located(sources: &SourceMap, found: &[Diagnostic]) -> Vec<(usize, usize, String, String)> {
    found
        .iter()
        .map(|d| {
            let at = sources.start(d.primary.span);
            (at.line, at.column, d.rule.to_string(), d.message.clone())
        })
        .collect()
}

fn policy(validations: &str) -> String {
    format!("{HEADER}spec:\n{MATCH_DEPLOYMENTS}  validations:\n{validations}{BINDING}")
}

const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {team: a}\nspec:\n  replicas: 7\n  template:\n    spec:\n      containers:\n      - name: a\n        image: good/a\n      - name: b\n        image: bad/b\n";

#[test]
fn cel_syntax_errors_are_located_inside_plain_quoted_and_block_scalars() {
    let found = problems(&policy("  - expression: object.spec.replicas <= )\n"));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].0, found[0].1), (13, 41), "{found:?}");
    assert!(found[0].2.starts_with("CEL syntax error"), "{found:?}");

    let found = problems(&policy("  - expression: \"object.spec.replicas <= )\"\n"));
    assert_eq!((found[0].0, found[0].1), (13, 42), "{found:?}");

    let found = problems(&policy("  - expression: |\n      object.spec.replicas > 0 &&\n        object.spec.x <= )\n"));
    assert_eq!((found[0].0, found[0].1), (15, 26), "{found:?}");

    let found = problems(&policy("  - expression: >-\n      object.spec.replicas > 0 &&\n      object.spec.x <= )\n"));
    assert_eq!((found[0].0, found[0].1), (15, 24), "{found:?}");
}

#[test]
fn unknown_and_unsupported_functions_are_located_at_the_call() {
    let found = problems(&policy("  - expression: \"object.metadata.name.startWith('a')\"\n"));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].0, found[0].1), (13, 39), "{found:?}");
    assert!(found[0].2.contains("unknown function `startWith`") && found[0].2.contains("`startsWith`"), "{found:?}");

    let found = problems(&policy(
        "  - expression: |\n      size(object.x) > 0 && timestamp(object.x) > timestamp('2020-01-01T00:00:00Z')\n",
    ));
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].2.contains("`timestamp` (Kubernetes CEL standard library) is not supported"), "{found:?}");
    assert_eq!((found[0].0, found[0].1), (14, 29), "{found:?}");
}

#[test]
fn unknown_fields_and_values_are_located_with_suggestions() {
    let text = policy("  - expresion: object.x\n").replace("operations: [CREATE]", "operations: [CRAETE]");
    let found = problems(&text);
    let messages: Vec<&str> = found.iter().map(|f| f.2.as_str()).collect();
    assert!(
        found.iter().any(|f| (f.0, f.1) == (13, 5)
            && f.2.contains("unknown field `expresion`")
            && f.2.contains("did you mean `expression`")),
        "{found:?}"
    );
    assert!(found.iter().any(|f| (f.0, f.1) == (10, 20) && f.2.contains("unknown operation `CRAETE`")), "{messages:?}");
}

#[test]
fn a_binding_naming_a_missing_policy_is_located_at_its_policy_name() {
    let text = policy("  - expression: 'true'\n").replace("policyName: p", "policyName: q");
    let found = problems(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].0, found[0].1), (20, 15), "{found:?}");
    assert!(found[0].2.contains("names policy `q`, which is not in the pack"), "{found:?}");
}

#[test]
fn params_mismatches_and_unsupported_versions_are_errors() {
    let text = policy("  - expression: 'true'\n").replace(
        "spec:\n  matchConstraints",
        "spec:\n  paramKind: {apiVersion: v1, kind: ConfigMap}\n  matchConstraints",
    );
    let found = problems(&text);
    assert!(found.iter().any(|f| f.2.contains("has no paramRef, but policy `p` has a paramKind")), "{found:?}");
    let text = policy("  - expression: 'true'\n").replacen(
        "admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\n",
        "admissionregistration.k8s.io/v1alpha1\nkind: ValidatingAdmissionPolicy\n",
        1,
    );
    let found = problems(&text);
    assert_eq!((found[0].0, found[0].1), (1, 13), "{found:?}");
    assert!(found[0].2.contains("unsupported apiVersion"), "{found:?}");
}

#[test]
fn findings_point_at_the_field_the_failing_expression_read_last() {
    let (sources, found) = check(&policy("  - expression: object.spec.replicas <= 5\n"), DEPLOYMENT);
    assert_eq!(
        located(&sources, &found),
        [(7, 3, "p/0".into(), "failed expression: object.spec.replicas <= 5".into())]
    );
    assert_eq!(found[0].related.len(), 1);
    assert_eq!(sources.get(found[0].related[0].span.file).name, "vap/policy.yaml");

    // The element of `all()` that fails.
    let all = "  - expression: object.spec.template.spec.containers.all(c, c.image.startsWith('good/'))\n";
    let (sources, found) = check(&policy(all), DEPLOYMENT);
    let at = located(&sources, &found);
    assert_eq!((at[0].0, at[0].1), (14, 9), "{at:?}");

    // A missing key: the nearest existing parent.
    let (sources, found) = check(&policy("  - expression: has(object.spec.strategy)\n"), DEPLOYMENT);
    let at = located(&sources, &found);
    assert_eq!((at[0].0, at[0].1), (6, 1), "{at:?}");
    assert_eq!(found[0].primary.message, "`strategy` is missing here");
}

#[test]
fn reads_of_params_variables_and_the_namespace_do_not_move_the_finding() {
    let policy = format!(
        "{HEADER}spec:\n  paramKind: {{apiVersion: v1, kind: ConfigMap}}\n{MATCH_DEPLOYMENTS}  variables:\n  - name: team\n    expression: object.metadata.labels.team\n  validations:\n  - expression: object.spec.replicas <= int(params.data.max) && variables.team != '' && namespaceObject == null\n    messageExpression: \"'at most ' + params.data.max + ' in ' + request.namespace\"\n{BINDING}  paramRef: {{name: limits}}\n"
    );
    let params = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: limits}\ndata: {max: '5'}\n";
    let (sources, found) = check_files(&[("policy.yaml", &policy), ("params.yaml", params)], DEPLOYMENT);
    assert_eq!(located(&sources, &found), [(7, 3, "p/0".into(), "at most 5 in default".into())]);
}

#[test]
fn missing_params_deny_unless_the_binding_allows() {
    let policy = format!(
        "{HEADER}spec:\n  paramKind: {{apiVersion: v1, kind: ConfigMap}}\n{MATCH_DEPLOYMENTS}  validations:\n  - expression: 'true'\n{BINDING}  paramRef: {{name: limits}}\n"
    );
    let (sources, found) = check(&policy, DEPLOYMENT);
    let at = located(&sources, &found);
    assert_eq!(at.len(), 1, "{at:?}");
    assert!(at[0].3.contains("no params found"), "{at:?}");
    let allowed = policy.replace("{name: limits}", "{name: limits, parameterNotFoundAction: Allow}");
    assert!(check(&allowed, DEPLOYMENT).1.is_empty());
}

#[test]
fn selectors_conditions_and_exclusions_decide_what_is_checked() {
    let failing = "  validations:\n  - expression: 'false'\n";
    let with = |constraints: &str| format!("{HEADER}spec:\n{MATCH_DEPLOYMENTS}{constraints}{failing}{BINDING}");
    assert_eq!(check(&with(""), DEPLOYMENT).1.len(), 1);
    assert!(check(&with("    objectSelector: {matchLabels: {team: b}}\n"), DEPLOYMENT).1.is_empty());
    assert_eq!(check(&with("    objectSelector: {matchLabels: {team: a}}\n"), DEPLOYMENT).1.len(), 1);
    let exclude = "    excludeResourceRules:\n    - {apiGroups: ['*'], apiVersions: ['*'], operations: ['*'], resources: ['*'], resourceNames: [web]}\n";
    assert!(check(&with(exclude), DEPLOYMENT).1.is_empty());
    assert!(
        check(&with("  matchConditions:\n  - name: big\n    expression: object.spec.replicas > 10\n"), DEPLOYMENT)
            .1
            .is_empty()
    );
    let production = "    namespaceSelector: {matchLabels: {environment: production}}\n";
    assert!(check(&with(production), DEPLOYMENT).1.is_empty(), "no Namespace among the inputs: no environment label");
    let in_prod = format!(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: {{environment: production}}\n---\n{}",
        DEPLOYMENT.replace("name: web\n", "name: web\n  namespace: shop\n")
    );
    assert_eq!(check(&with(production), &in_prod).1.len(), 1);
}

#[test]
fn evaluation_errors_follow_the_failure_policy() {
    let failing = "  - expression: object.spec.missing > 0\n";
    let (_, found) = check(&policy(failing), DEPLOYMENT);
    assert_eq!(found.len(), 1);
    assert_eq!(&*found[0].rule, crate::diagnostic::RULE_ERROR);
    let ignored =
        policy(failing).replace("spec:\n  matchConstraints", "spec:\n  failurePolicy: Ignore\n  matchConstraints");
    assert!(check(&ignored, DEPLOYMENT).1.is_empty());
}

#[test]
fn v1beta1_objects_load_like_v1() {
    let text = policy("  - expression: object.spec.replicas <= 5\n")
        .replace("admissionregistration.k8s.io/v1\n", "admissionregistration.k8s.io/v1beta1\n");
    assert!(text.contains("v1beta1"));
    let (sources, found) = check(&text, DEPLOYMENT);
    let at = located(&sources, &found);
    assert_eq!((at[0].0, at[0].1), (7, 3), "{at:?}");
}

/// A binding's `matchResources` narrows the policy's constraints; without `resourceRules` it
/// constrains only by its selectors.
#[test]
fn a_bindings_match_resources_narrow_the_policy() {
    let text = policy("  - expression: 'false'\n");
    assert_eq!(
        check(&format!("{text}  matchResources:\n    objectSelector: {{matchLabels: {{team: a}}}}\n"), DEPLOYMENT)
            .1
            .len(),
        1
    );
    assert!(
        check(&format!("{text}  matchResources:\n    objectSelector: {{matchLabels: {{team: b}}}}\n"), DEPLOYMENT)
            .1
            .is_empty()
    );
    let pods_only = "  matchResources:\n    resourceRules:\n    - {apiGroups: [''], apiVersions: [v1], operations: [CREATE], resources: [pods]}\n";
    assert!(check(&format!("{text}{pods_only}"), DEPLOYMENT).1.is_empty());
}

#[test]
fn type_errors_and_unknown_identifiers_are_located_inside_the_expression() {
    // `  - expression: ` is 16 characters: the expression starts at column 17 of line 13.
    let found = problems(&policy("  - expression: object.spec.replicas > 0 && size(true) > 0\n"));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].0, found[0].1), (13, 45), "{found:?}");
    assert!(found[0].2.contains("size"), "{found:?}");

    let found = problems(&policy("  - expression: objct.spec.replicas <= 5\n"));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].0, found[0].1), (13, 17), "{found:?}");
    assert!(found[0].2.contains("unknown identifier `objct`") && found[0].2.contains("`object`"), "{found:?}");

    let found = problems(&policy("  - expression: \"object.metadata.name + 1 == 'x'\"\n"));
    assert!(found.is_empty(), "a document value is of any type: {found:?}");
    let found = problems(&policy("  - expression: \"'web' + 1 == 'x'\"\n"));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].0, found[0].1), (13, 24), "{found:?}");
}
