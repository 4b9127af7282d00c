#!/usr/bin/env python3
"""Generates the `each` expression of PSH-ENC-003.toml (run it after editing this file).

CEL has no user-defined functions and no recursion, so the lookups this rule repeats are
spelled out here once and expanded into the rule. Only the `each` block of the rule file is
rewritten; everything else in it is edited by hand.
"""

def AS_LIST(x):
    return f"(type({x}) == list ? {x} : [{x}])"
def PICK(obj, keys):
    ks = ", ".join(f"'{k}'" for k in keys)
    return (f"[{ks}].filter(k, type({obj}) == map && k in {obj} && {obj}[k] != null)"
            f".map(k, {AS_LIST(obj + '[k]')}).flatten().filter(x, type(x) == map)")
def SNAKE(K):
    return (f"lists.range(size({K})).map(i, {K}.substring(i, i + 1))"
            f".map(ch, ch != ch.lowerAscii() ? '_' + ch.lowerAscii() : ch).join('')")
NAME = "(r.provider == 'terraform' ? r.id : r.name)"
FLAG_BAD = ("(!(f in r.attrs) ? kind != 'terraform-plan' : (r.attrs[f] == null ? kind != 'terraform-plan'"
            " : !((type(r.attrs[f]) == bool && r.attrs[f]) || (type(r.attrs[f]) == string && isTruthy(r.attrs[f])))))")
GRANTS = (f"({PICK('r.attrs', ['accessControlPolicy'])}.map(p, {PICK('p', ['grants', 'grant'])}).flatten()"
          f" + {PICK('r.attrs', ['grants', 'grant'])})"
          f".map(g, 'grantee' in g ? {PICK('g', ['grantee'])} : [g]).flatten()")
EACH = f"""
// 'bpa': a Block Public Access configuration (bucket or account) with a flag not true (absent
// means false, except in a plan, where it is unknown).
resources.filter(r, r.type in params.block_types)
  .filter(r, params.block_flags.exists(f, {FLAG_BAD}))
  .map(r, [params.block_flags.filter(f, {FLAG_BAD})].map(bad, {{'k': 'bpa', 'r': r, 'at': bad[0], 'x': {{}},
    'flags': bad.map(f, r.provider == 'terraform' ? {SNAKE('f')} : f)}})[0])
// 'acl': a canned ACL or a grant that opens a bucket to everyone or to every AWS account.
+ resources.filter(r, r.type in params.acl_types)
  .filter(r, 'acl' in r.attrs && r.attrs.acl in params.public_acls)
  .map(r, {{'k': 'acl', 'r': r, 'at': 'acl', 'x': {{}}}})
+ resources.filter(r, r.type in params.acl_types)
  .map(r, {GRANTS}.filter(g, 'uri' in g && type(g.uri) == string && params.public_grantees.exists(u, g.uri.endsWith(u)))
    .map(g, {{'k': 'grant', 'r': r, 'at': 'uri', 'x': g}}))
  .flatten()
// 'gcs': IAM members, bindings and ACL entries granting allUsers / allAuthenticatedUsers.
+ resources.filter(r, r.type in params.gcs_member_types)
  .map(r, ['member', 'entity'].filter(f, f in r.attrs && type(r.attrs[f]) == string && r.attrs[f] in params.public_members)
    .map(f, {{'k': 'gcs', 'r': r, 'at': f, 'x': {{}}}}))
  .flatten()
+ resources.filter(r, r.type in params.gcs_member_types)
  .map(r, ['members', 'roleEntities', 'roleEntity'].filter(f, f in r.attrs && type(r.attrs[f]) == list)
    .map(f, lists.range(size(r.attrs[f])).filter(i, type(r.attrs[f][i]) == string
        && params.public_members.exists(m, r.attrs[f][i] == m || r.attrs[f][i].endsWith(':' + m)))
      .map(i, {{'k': 'gcsl', 'r': r, 'at': f, 'i': i, 'x': {{}}}}))
    .flatten())
  .flatten()
// 'azure': storage accounts that allow public blob access, containers that grant it.
+ resources.filter(r, r.type in params.azure_account_types)
  .map(r, ['allowBlobPublicAccess', 'allowNestedItemsToBePublic'].filter(f, f in r.attrs && type(r.attrs[f]) == bool && r.attrs[f])
    .map(f, {{'k': 'azure', 'r': r, 'at': f, 'x': {{}}}}))
  .flatten()
+ resources.filter(r, r.type in params.azure_container_types)
  .map(r, ['publicAccess', 'containerAccessType'].filter(f, f in r.attrs && type(r.attrs[f]) == string && r.attrs[f].lowerAscii() in ['blob', 'container'])
    .map(f, {{'k': 'container', 'r': r, 'at': f, 'x': {{}}}}))
  .flatten()
// With require_explicit_block: S3 buckets no Block Public Access covers, and GCS buckets
// without enforced public access prevention or uniform bucket-level access.
+ (params.require_explicit_block ? resources : [])
  .filter(r, r.type in params.bucket_types
    && !resources.exists(a, a.type in params.account_block_types && params.block_flags.all(f, f in a.attrs && type(a.attrs[f]) == bool && a.attrs[f]))
    && !resources.exists(b, b.type in params.bucket_block_types
        && (!('bucket' in b.attrs) || b.attrs.bucket == null
            || ['bucket', 'id'].exists(k, k in r.attrs && type(r.attrs[k]) == string && r.attrs[k] == b.attrs.bucket))))
  .map(r, {{'k': 'nobpa', 'r': r, 'at': 'bucket', 'x': {{}}}})
+ (params.require_explicit_block ? resources : [])
  .filter(r, r.type in params.gcs_bucket_types
    && !('publicAccessPrevention' in r.attrs && r.attrs.publicAccessPrevention == 'enforced'))
  .map(r, {{'k': 'pap', 'r': r, 'at': 'publicAccessPrevention', 'x': {{}}}})
"""


def write_each(each: str) -> None:
    """Replaces the `each = '''…'''` block of the rule file beside this script."""
    import pathlib
    import re
    toml = pathlib.Path(__file__).with_name(pathlib.Path(__file__).name.replace(".gen.py", ".toml"))
    text = toml.read_text()
    new, n = re.subn(r"(?ms)^each = '''\n.*?\n'''\n", lambda _: "each = '''\n" + each.strip("\n") + "\n'''\n", text, count=1)
    assert n == 1, "no each block found"
    toml.write_text(new)


if __name__ == "__main__":
    write_each(EACH)
