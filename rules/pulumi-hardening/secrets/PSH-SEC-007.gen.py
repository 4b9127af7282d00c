#!/usr/bin/env python3
"""Generates the `each` expression of PSH-SEC-007.toml (run it after editing this file).

CEL has no user-defined functions and no recursion, so the lookups this rule repeats are
spelled out here once and expanded into the rule. Only the `each` block of the rule file is
rewritten; everything else in it is edited by hand.
"""

def CAMEL(S):
    sp = f"{S}.split('_')"
    return (f"(size({sp}) < 2 ? {S} : {sp}[0] + {sp}.slice(1, size({sp}))"
            f".map(w, size(w) > 0 ? w.substring(0, 1).upperAscii() + w.substring(1) : '').join(''))")
def SNAKE(K):
    return (f"lists.range(size({K})).map(i, {K}.substring(i, i + 1))"
            f".map(ch, ch != ch.lowerAscii() ? '_' + ch.lowerAscii() : ch).join('')")
def KEY(st):
    return (f"({st}.type == 'get_attr' ? {CAMEL(st + '.value')} : "
            f"(type({st}.value.value) == string ? {CAMEL(st + '.value.value')} : "
            f"(type({st}.value.value) in [int, uint, double] ? int({st}.value.value) : '#')))")
def HASKEY(x, k):
    return (f"((type({x}) == map && type({k}) == string && {k} in {x}) || "
            f"(type({x}) == list && type({k}) == int && {k} >= 0 && {k} < size({x})))")
def STEP(x, st):
    return f"[{st}].map(st, [{KEY('st')}].map(kk, {x} != null && {HASKEY(x, 'kk')} ? {x}[kk] : null)[0])[0]"
def PARENT(depth=6):
    def expr(j):
        if j == depth - 1:
            return f"x{j}"
        return f"(size(p) < {j + 2} ? x{j} : [{STEP(f'x{j}', f'p[{j}]')}].map(x{j + 1}, {expr(j + 1)})[0])"
    return f"[r.attrs].map(x0, {expr(0)})[0]"
NONEMPTY = lambda v: f"({v} != null && !(type({v}) == string && {v}.trim() == '') && !(type({v}) in [map, list] && size({v}) == 0))"
def DISPLAY(p):
    return (f"{p}.map(st, st.type == 'get_attr' ? '.' + string(st.value) : "
            f"(type(st.value.value) in [int, uint, double, string] ? '[' + string(st.value.value) + ']' : '[…]')).join('').substring(1)")

T_PATHS = ("(type(r.sensitive) == list ? r.sensitive.filter(p, type(p) == list && size(p) > 0 && type(p[0]) == map && has(p[0].type) && p[0].type == 'get_attr') : [])"
           " + (r.type in params.sensitive_attributes ? params.sensitive_attributes[r.type]"
           ".filter(n, !(type(r.sensitive) == list && r.sensitive.exists(p, type(p) == list && size(p) == 1 && type(p[0]) == map && has(p[0].value) && p[0].value == n)))"
           ".map(n, [{'type': 'get_attr', 'value': n}]) : [])")
T_ELEMS = (f"(kind == 'terraform-state' ? resources : [])\n"
           f"  .map(r, ({T_PATHS})\n"
           f"    .map(p, {{'k': 'attr', 'r': r, 'path': {DISPLAY('p')}, 'par': {PARENT()}, 'key': {KEY('p[size(p) - 1]')}}}))\n"
           f"  .flatten()\n"
           f"  .filter(e, {HASKEY('e.par', 'e.key')})")
L_START = ("(kind == 'terraform-plan' ? resources : [])\n"
           "  .map(r, type(r.sensitive) == map ? r.sensitive.filter(k, k in r.attrs)"
           f".map(k, {{'k': 'plan', 'r': r, 's': r.sensitive[k], 'par': r.attrs, 'key': k, 'path': {SNAKE('k')}}}) : [])\n"
           "  .flatten()")
L_STEP = ("\n  .map(e, type(e.s) == bool ? (e.s ? [e] : [])"
          f" : (type(e.s) == map && type(e.par[e.key]) == map ? e.s.filter(k, k in e.par[e.key]).map(k, {{'k': 'plan', 'r': e.r, 's': e.s[k], 'par': e.par[e.key], 'key': k, 'path': e.path + '.' + {SNAKE('k')}}})"
          " : (type(e.s) == list && type(e.par[e.key]) == list ? lists.range(size(e.s)).filter(i, i < size(e.par[e.key])).map(i, {'k': 'plan', 'r': e.r, 's': e.s[i], 'par': e.par[e.key], 'key': i, 'path': e.path + '[' + string(i) + ']'}) : []))).flatten()")
L_ELEMS = L_START + L_STEP * 6 + "\n  .filter(e, type(e.s) == bool && e.s)"
OUTS = ("(kind == 'terraform-state' && has(doc.outputs) && type(doc.outputs) == map ? doc.outputs : {})"
        ".filter(n, type(doc.outputs[n]) == map && has(doc.outputs[n].sensitive) && doc.outputs[n].sensitive == true && has(doc.outputs[n].value))"
        ".map(n, {'k': 'out', 'r': {}, 'par': doc.outputs[n], 'key': 'value', 'path': n})"
        "\n+ (kind == 'terraform-plan' && has(doc.planned_values) && type(doc.planned_values) == map && has(doc.planned_values.outputs) && type(doc.planned_values.outputs) == map ? doc.planned_values.outputs : {})"
        ".filter(n, type(doc.planned_values.outputs[n]) == map && has(doc.planned_values.outputs[n].sensitive) && doc.planned_values.outputs[n].sensitive == true && has(doc.planned_values.outputs[n].value))"
        ".map(n, {'k': 'out', 'r': {}, 'par': doc.planned_values.outputs[n], 'key': 'value', 'path': n})"
        "\n+ (kind == 'terraform-plan' && has(doc.variables) && type(doc.variables) == map && has(doc.configuration) && type(doc.configuration) == map"
        " && has(doc.configuration.root_module) && has(doc.configuration.root_module.variables) && type(doc.configuration.root_module.variables) == map ? doc.variables : {})"
        ".filter(n, n in doc.configuration.root_module.variables && type(doc.configuration.root_module.variables[n]) == map"
        " && has(doc.configuration.root_module.variables[n].sensitive) && doc.configuration.root_module.variables[n].sensitive == true"
        " && type(doc.variables[n]) == map && has(doc.variables[n].value))"
        ".map(n, {'k': 'var', 'r': {}, 'par': doc.variables[n], 'key': 'value', 'path': n})")
EXPAND = ("\n  .map(e, type(e.par[e.key]) == map && e.par[e.key].all(k2, !(type(e.par[e.key][k2]) in [map, list]))"
          " ? e.par[e.key].map(k2, {'k': e.k, 'r': e.r, 'par': e.par[e.key], 'key': k2, 'path': e.path + '.' + k2}) : [e]).flatten()"
          f"\n  .filter(e, {NONEMPTY('e.par[e.key]')})")
EACH = f"(({T_ELEMS})\n+ ({L_ELEMS})\n+ ({OUTS}))\n{EXPAND}"


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
