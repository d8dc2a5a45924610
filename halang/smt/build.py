"""A thin, fast layer over z3's C API for the Boolean and pseudo-Boolean terms the encoding needs.

z3's Python operators (`And`, `Or`, `Not`, `PbGe`) check and coerce every
argument, which costs tens of microseconds a call; a cluster of 512 nodes
needs some 10^5 terms, so the encoding builds them through `z3core` instead
(about ten times faster) and wraps each result in a `BoolRef` at once, which
takes a reference so z3 cannot free it. Python's `True` and `False` stand for
constants and are folded away as terms are built, so statically decided
facts (a node outside a group's list, a pair of buses no node joins) never
reach the solver.
"""

from __future__ import annotations

import ctypes
from functools import reduce
from math import gcd

import z3
from z3 import z3core as C

Term = "z3.BoolRef | bool"
INT32 = 2**31 - 1


class Builder:
    def __init__(self, ctx: z3.Context):
        self.ctx = ctx
        self.ref = ctx.ref()
        self._fresh = 0
        self.constraints: list = []  # definitions of named terms (see `name`); assert them all

    def name(self, term, prefix: str = "t"):
        """A fresh variable equal to `term`, defined by two clauses in `constraints`.

        z3's rewriter flattens nested `or`s, which turns a chain of terms that
        share their parts (a counter, a closure) into terms whose size grows
        with the chain: millions of clauses at 512 nodes. A named cell is a leaf
        the rewriter leaves alone.
        """
        if isinstance(term, bool) or C.Z3_get_ast_kind(self.ref, term.as_ast()) != C.Z3_APP_AST or \
                C.Z3_get_app_num_args(self.ref, term.as_ast()) == 0:
            return term
        var = self.fresh(prefix)
        self.constraints.append(self.or_((self.not_(var), term)))
        self.constraints.append(self.or_((var, self.not_(term))))
        return var

    def _wrap(self, ast) -> z3.BoolRef:
        return z3.BoolRef(ast, self.ctx)

    def var(self, name: str) -> z3.BoolRef:
        return z3.Bool(name, self.ctx)

    def fresh(self, prefix: str) -> z3.BoolRef:
        self._fresh += 1
        return z3.Bool(f"{prefix}!{self._fresh}", self.ctx)

    def not_(self, a):
        if a is True:
            return False
        if a is False:
            return True
        return self._wrap(C.Z3_mk_not(self.ref, a.as_ast()))

    def _args(self, items, absorbing: bool):
        args, seen = [], set()
        for item in items:
            if item is absorbing:
                return None
            if item is (not absorbing):
                continue
            key = item.get_id()
            if key not in seen:
                seen.add(key)
                args.append(item)
        return args

    def and_(self, items):
        args = self._args(items, False)
        if args is None:
            return False
        if not args:
            return True
        if len(args) == 1:
            return args[0]
        array = (z3.Ast * len(args))(*(a.as_ast() for a in args))
        return self._wrap(C.Z3_mk_and(self.ref, len(args), array))

    def or_(self, items):
        args = self._args(items, True)
        if args is None:
            return True
        if not args:
            return False
        if len(args) == 1:
            return args[0]
        array = (z3.Ast * len(args))(*(a.as_ast() for a in args))
        return self._wrap(C.Z3_mk_or(self.ref, len(args), array))

    def implies(self, a, b):
        return self.or_((self.not_(a), b))

    def iff(self, a, b):
        if isinstance(a, bool) or isinstance(b, bool):
            if isinstance(a, bool):
                a, b = b, a
            if isinstance(a, bool):
                return a == b
            return a if b else self.not_(a)
        return self._wrap(C.Z3_mk_iff(self.ref, a.as_ast(), b.as_ast()))

    # ------------------------------------------------------- pseudo-Boolean

    def weighted(self, terms) -> tuple[list, int]:
        """Merge (term, coefficient) pairs: constants fold into an offset, repeated terms add up."""
        merged: dict[int, list] = {}
        offset = 0
        for term, coefficient in terms:
            if coefficient == 0 or term is False:
                continue
            if term is True:
                offset += coefficient
                continue
            key = term.get_id()
            if key in merged:
                merged[key][1] += coefficient
            else:
                merged[key] = [term, coefficient]
        return [(t, c) for t, c in merged.values() if c], offset

    def at_least(self, terms, k: int):
        """sum(coefficient * term) >= k.

        Normalised before z3 sees it: negative coefficients become positive
        ones on negated terms, and all coefficients are divided by their
        greatest common divisor (rounding the bound up), so that sums of equal
        weights (every group needing cpu 2) become cardinality constraints,
        which z3 handles far better than general pseudo-Boolean ones.
        """
        pairs, offset = self.weighted(terms)
        k -= offset
        positive = []
        for term, coefficient in pairs:
            if coefficient < 0:  # c*t = c - c*(not t)  with c < 0: -|c| + |c|*(not t)
                k += -coefficient
                positive.append((self.not_(term), -coefficient))
            else:
                positive.append((term, coefficient))
        if k <= 0:
            return True
        total = sum(c for _, c in positive)
        if total < k:
            return False
        divisor = reduce(gcd, (c for _, c in positive))
        if divisor > 1:
            positive = [(t, c // divisor) for t, c in positive]
            k = -(-k // divisor)
        if all(c == 1 for _, c in positive):
            if k == 1:
                return self.or_(t for t, _ in positive)
            if k == len(positive):
                return self.and_(t for t, _ in positive)
            return self._card(positive, k, C.Z3_mk_atleast)
        return self._pb(positive, k, C.Z3_mk_pbge)

    def at_most(self, terms, k: int):
        """sum(coefficient * term) <= k."""
        return self.at_least(((t, -c) for t, c in terms), -k)

    def exactly(self, terms, k: int):
        terms = list(terms)
        return self.and_((self.at_least(terms, k), self.at_most(terms, k)))

    def unary_count(self, terms, cap: int) -> list:
        """[at least 1 true, at least 2, ..., at least cap] as a sequential counter: len(terms) x cap small terms.

        z3 compiles every cardinality constraint into its own sorting network;
        several thresholds over the same few hundred terms are far cheaper as
        one counter that stops at `cap`.
        """
        counts = [False] * cap  # counts[j]: at least j + 1 of the terms seen so far
        for term in terms:
            if term is False:
                continue
            new = list(counts)
            for j in range(cap):
                below = True if j == 0 else counts[j - 1]
                new[j] = self.name(self.or_((counts[j], self.and_((below, term)))), "count")
            counts = new
        return counts

    def _card(self, pairs, k, make):
        array = (z3.Ast * len(pairs))(*(t.as_ast() for t, _ in pairs))
        return self._wrap(make(self.ref, len(pairs), array, k))

    def _pb(self, pairs, k, make):
        if abs(k) > INT32 or sum(abs(c) for _, c in pairs) > INT32:
            # Beyond z3's 32-bit pseudo-Boolean coefficients: integer arithmetic, which QF_FD bit-blasts.
            total = z3.Sum([z3.If(t, z3.IntVal(c, self.ctx), z3.IntVal(0, self.ctx)) for t, c in pairs])
            return total >= z3.IntVal(k, self.ctx)
        array = (z3.Ast * len(pairs))(*(t.as_ast() for t, _ in pairs))
        coefficients = (ctypes.c_int * len(pairs))(*(c for _, c in pairs))
        return self._wrap(make(self.ref, len(pairs), array, coefficients, k))
