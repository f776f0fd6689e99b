"""An independent, slow plain-loop reference of METHOD.md §3–§4 (float64 Python lists, no torch maths).

A zero vector has no cosine (None): a zero frame is never on the cosine path, a column without any
cosine has no path entry and is left out of APS^cos, monotonicity^cos and consistency.
"""

from __future__ import annotations

import math


def to_lists(tensor):
    return tensor.double().tolist()


def dot(a, b):
    return sum(x * y for x, y in zip(a, b))


def norm(a):
    return math.sqrt(dot(a, a))


def cos(a, b):
    na, nb = norm(a), norm(b)
    return None if na == 0 or nb == 0 else max(-1.0, min(1.0, dot(a, b) / (na * nb)))


def euc(a, b):
    return math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b)))


def mean_rows(rows):
    return [sum(col) / len(rows) for col in zip(*rows)]


def path(matrix, higher_is_better):
    """matrix[i][j]; for each column the first best row (None entries never chosen; None if all are)."""
    out = []
    for j in range(len(matrix[0])):
        best_i = None
        for i in range(len(matrix)):
            if matrix[i][j] is None:
                continue
            if best_i is None:
                best_i = i
            elif matrix[i][j] > matrix[best_i][j] if higher_is_better else matrix[i][j] < matrix[best_i][j]:
                best_i = i
        out.append(best_i)
    return out


def average_ranks(values):
    ranks = []
    for v in values:
        below = sum(1 for w in values if w < v)
        same = sum(1 for w in values if w == v)
        ranks.append(below + (same + 1) / 2)
    return ranks


def spearman_position(path_values):
    n = len(path_values)
    if n < 2 or len(set(path_values)) == 1:
        return None
    r = average_ranks(path_values)
    p = list(range(1, n + 1))
    mr, mp = sum(r) / n, sum(p) / n
    num = sum((a - mr) * (b - mp) for a, b in zip(r, p))
    den = math.sqrt(sum((a - mr) ** 2 for a in r) * sum((b - mp) ** 2 for b in p))
    return num / den


def mean_or_none(values):
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def compare(speech, text):
    """speech[l][i][d], text[l][j][d] -> dict of per-layer lists and the summaries."""
    layers = len(speech)
    out = {
        k: []
        for k in (
            "layer_cos",
            "layer_euc",
            "aps_cos",
            "aps_euc",
            "mono_cos",
            "mono_euc",
            "consistency",
            "path_cos",
            "path_euc",
        )
    }
    for depth in range(layers):
        s, t = speech[depth], text[depth]
        out["layer_cos"].append(cos(mean_rows(s), mean_rows(t)))
        out["layer_euc"].append(euc(mean_rows(s), mean_rows(t)))
        a_cos = [[cos(si, tj) for tj in t] for si in s]
        a_euc = [[euc(si, tj) for tj in t] for si in s]
        pc, pe = path(a_cos, True), path(a_euc, False)
        out["path_cos"].append(pc)
        out["path_euc"].append(pe)
        with_cos = [j for j in range(len(t)) if pc[j] is not None]
        out["aps_cos"].append(mean_or_none([a_cos[pc[j]][j] for j in with_cos]))
        out["aps_euc"].append(sum(a_euc[pe[j]][j] for j in range(len(t))) / len(t))
        out["mono_cos"].append(spearman_position([pc[j] for j in with_cos]))
        out["mono_euc"].append(spearman_position(pe))
        out["consistency"].append(mean_or_none([1.0 if pc[j] == pe[j] else 0.0 for j in with_cos]))

    def blocks(values):
        return mean_or_none(values[1:])

    out.update(
        sim_cos=blocks(out["layer_cos"]),
        sim_euc=blocks(out["layer_euc"]),
        APS_cos=blocks(out["aps_cos"]),
        APS_euc=blocks(out["aps_euc"]),
        monotonicity_cos=blocks(out["mono_cos"]),
        monotonicity_euc=blocks(out["mono_euc"]),
        Consistency=blocks(out["consistency"]),
        zero_states=sum(1 for depth in range(1, layers) for v in speech[depth] + text[depth] if not any(v)),
    )
    return out
