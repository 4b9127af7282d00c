#!/usr/bin/env python3
"""Generates the `each` expression of PSH-ENC-002.toml (run it after editing this file).

CEL has no user-defined functions and no recursion, so the lookups this rule repeats are
spelled out here once and expanded into the rule. Only the `each` block of the rule file is
rewritten; everything else in it is edited by hand.
"""

def AS_LIST(x):
    return f"(type({x}) == list ? {x} : [{x}])"
def PICK(obj, keys):
    # the values of obj under any of keys, each list flattened one level; maps only
    ks = ", ".join(f"'{k}'" for k in keys)
    return (f"[{ks}].filter(k, type({obj}) == map && k in {obj} && {obj}[k] != null)"
            f".map(k, {AS_LIST(obj + '[k]')}).flatten().filter(x, type(x) == map)")
def DEFAULTS(cfg):
    # the apply-by-default blocks of one SSE configuration (separate resource attrs or inline)
    return (f"{PICK(cfg, ['rule', 'rules'])}"
            f".map(rl, {PICK('rl', ['applyServerSideEncryptionByDefault', 'applyServerSideEncryptionByDefaults'])}).flatten()")
INLINE = lambda a: f"{PICK(a, ['serverSideEncryptionConfiguration', 'serverSideEncryptionConfigurations'])}.map(cf, {DEFAULTS('cf')}).flatten()"
ALG_OK = ("('sseAlgorithm' in d && type(d.sseAlgorithm) == string && d.sseAlgorithm in params.allowed_algorithms"
          " && (!params.require_customer_managed_key || (d.sseAlgorithm.startsWith('aws:kms')"
          " && 'kmsMasterKeyId' in d && type(d.kmsMasterKeyId) == string && d.kmsMasterKeyId != '' && !d.kmsMasterKeyId.endsWith('alias/aws/s3'))))")
SSE = "resources.filter(s, s.type in params.sse_types)"
NAMES = "[b.attrs].map(a, ['bucket', 'id'].filter(k, k in a && type(a[k]) == string && a[k] != '').map(k, a[k]))[0]"
EACH = f"""
// 'sse': a default-encryption block (of a separate SSE resource, or inline in a bucket) whose
// algorithm is not an encryption algorithm (or, with require_customer_managed_key, not KMS with
// a customer key).
resources.filter(s, s.type in params.sse_types || s.type in params.bucket_types)
  .map(s, (s.type in params.sse_types ? {DEFAULTS('s.attrs')} : {INLINE('s.attrs')})
    .filter(d, !{ALG_OK})
    .map(d, {{'k': 'sse', 'r': s, 'd': d}}))
  .flatten()
// 'bucket': an S3 bucket with no explicit default encryption at all — neither inline nor in a
// separate configuration resource naming it (one whose bucket is unknown until apply counts).
+ resources.filter(b, b.type in params.bucket_types)
  .filter(b, size({INLINE('b.attrs')}) == 0
    && !{SSE}.exists(s, !('bucket' in s.attrs) || s.attrs.bucket == null || s.attrs.bucket in {NAMES}))
  .map(b, {{'k': 'bucket', 'r': b, 'd': {{}}}})
// 'cmk': with require_customer_managed_key, GCS buckets and Azure storage accounts without a
// customer-managed key.
+ (params.require_customer_managed_key ? resources : [])
  .filter(r, (r.type in params.gcs_types
      && !('encryption' in r.attrs && type(one(r.attrs.encryption)) == map && 'defaultKmsKeyName' in one(r.attrs.encryption)
           && type(one(r.attrs.encryption).defaultKmsKeyName) == string && one(r.attrs.encryption).defaultKmsKeyName != ''))
    || (r.type in params.azure_types
      && !('encryption' in r.attrs && type(one(r.attrs.encryption)) == map && 'keySource' in one(r.attrs.encryption)
           && one(r.attrs.encryption).keySource == 'Microsoft.Keyvault')
      && !('customerManagedKey' in r.attrs && type(r.attrs.customerManagedKey) == list && size(r.attrs.customerManagedKey) > 0)
      && !resources.exists(k, k.type == 'azurerm_storage_account_customer_managed_key' && 'storageAccountId' in k.attrs
           && 'id' in r.attrs && k.attrs.storageAccountId == r.attrs.id)))
  .map(r, {{'k': 'cmk', 'r': r, 'd': {{}}}})
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
