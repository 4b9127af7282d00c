//! Deployment boundaries: which documents a deployment-scope rule sees together.
//!
//! A deployment is the files of one directory, as installers lay them out, with one
//! exception: two files that define the same Kubernetes object (kind, namespace and name) —
//! `prod.yaml` and `staging.yaml` side by side — are two versions of one deployment, never
//! parts of the same one. Each becomes a deployment of its own, joined by every file of the
//! directory that conflicts with neither (a shared `namespace.yaml` or `network-policy.yaml`).
//!
//! Namespaces do not divide a directory: some joins cross them (an Ingress and the
//! ingress-nginx controller that serves its class, in its own namespace). The joins that
//! Kubernetes makes within a namespace — a Service selecting Pods, an Ingress routing to a
//! Service, a NetworkPolicy selecting Pods — are made within the namespace by the deployment
//! model ([`crate::relations`]). A compose project (its file, overrides and env files), a
//! stack file and a state export keep the directory's boundary; compose services and their
//! env files are joined when components are derived ([`crate::components`]).

use crate::document::Document;
use crate::kind::InputKind;
use std::collections::{BTreeMap, BTreeSet};

/// Splits one directory's documents (`members`, in load order) into deployments, each a list
/// of indices into `members`, in load order. `file_of` names each document's file.
pub fn partition<'n>(members: &[&Document], file_of: impl Fn(&Document) -> &'n str) -> Vec<Vec<usize>> {
    let group: Vec<usize> = (0..members.len()).collect();
    alternatives(members, &group, &file_of)
}

/// Splits a group whose files define the same object more than once into one deployment per
/// alternative; files that conflict with no other file belong to every alternative.
fn alternatives<'n>(
    members: &[&Document],
    group: &[usize],
    file_of: &impl Fn(&Document) -> &'n str,
) -> Vec<Vec<usize>> {
    let mut files_defining: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for &i in group {
        let doc = members[i];
        if doc.kind == InputKind::Kubernetes
            && doc.root.get("kind").is_some()
            && doc.root.path(&["metadata", "name"]).is_some()
        {
            files_defining.entry(doc.identity.as_str()).or_default().insert(file_of(doc));
        }
    }
    let mut conflicts: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for files in files_defining.values().filter(|files| files.len() > 1) {
        for &file in files {
            conflicts.entry(file).or_default().extend(files.iter().copied().filter(|&f| f != file));
        }
    }
    if conflicts.is_empty() {
        return vec![group.to_vec()];
    }
    // Each conflicting file joins the first alternative holding none of the files it
    // conflicts with (in name order, so the split is stable).
    let mut variants: Vec<BTreeSet<&str>> = Vec::new();
    for (&file, others) in &conflicts {
        match variants.iter_mut().find(|v| v.is_disjoint(others)) {
            Some(variant) => {
                variant.insert(file);
            }
            None => variants.push(BTreeSet::from([file])),
        }
    }
    variants
        .iter()
        .map(|variant| {
            group
                .iter()
                .copied()
                .filter(|&i| {
                    let file = file_of(members[i]);
                    variant.contains(file) || !conflicts.contains_key(file)
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load_yaml;
    use crate::source::SourceMap;

    fn docs(files: &[(&str, &str)]) -> (Vec<Document>, Vec<String>) {
        let sources = SourceMap::new();
        let mut out = Vec::new();
        let mut names = Vec::new();
        for (name, text) in files {
            let id = sources.add(crate::source::SourceFile::new(*name, None, text));
            for doc in load_yaml(id, text).expect("valid YAML") {
                out.push(Document::new(id, doc.index, InputKind::Kubernetes, doc.root, None));
                names.push((*name).to_owned());
            }
        }
        (out, names)
    }

    fn split(files: &[(&str, &str)]) -> Vec<Vec<String>> {
        let (documents, names) = docs(files);
        let members: Vec<&Document> = documents.iter().collect();
        let name_of = |d: &Document| names[documents.iter().position(|x| std::ptr::eq(x, d)).unwrap()].as_str();
        partition(&members, name_of)
            .into_iter()
            .map(|g| g.into_iter().map(|i| format!("{}:{}", names[i], members[i].identity)).collect())
            .collect()
    }

    const API: &str = "kind: Deployment\nmetadata: {name: api, namespace: pulumi}\n";

    #[test]
    fn namespaces_do_not_divide_a_directory() {
        let groups = split(&[
            (
                "a.yaml",
                "kind: Service\nmetadata: {name: api, namespace: one}\n---\nkind: Service\nmetadata: {name: api, namespace: two}\n",
            ),
            ("b.yaml", "kind: Service\nmetadata: {name: api}\n"),
        ]);
        assert_eq!(groups, vec![vec!["a.yaml:Service/one/api", "a.yaml:Service/two/api", "b.yaml:Service/api"]]);
    }

    #[test]
    fn files_defining_the_same_object_are_alternatives_sharing_the_rest() {
        let groups = split(&[
            ("common.yaml", "kind: NetworkPolicy\nmetadata: {name: deny, namespace: pulumi}\n"),
            ("prod.yaml", API),
            ("staging.yaml", API),
        ]);
        assert_eq!(
            groups,
            vec![
                vec!["common.yaml:NetworkPolicy/pulumi/deny", "prod.yaml:Deployment/pulumi/api"],
                vec!["common.yaml:NetworkPolicy/pulumi/deny", "staging.yaml:Deployment/pulumi/api"],
            ]
        );
    }

    #[test]
    fn an_object_repeated_within_one_file_is_not_an_alternative() {
        let groups = split(&[("a.yaml", &format!("{API}---\n{API}"))]);
        assert_eq!(groups.len(), 1);
    }
}
