"""The cost guard: depth, aliases and complexity of a document, checked before graphql-core's rules.

One short document can stand for an enormous one: 30 fragments, each spreading the previous one
twice, fit in about 300 tokens and expand to 2^30 selections. Strawberry's depth and alias limiters
walked every spread again (exponential), and graphql-core's OverlappingFieldsCanBeMergedRule compares
every pair of fields answering at the same place (quadratic, and again for each pair nested under a
pair). So, before any of graphql-core's rules:

1. One pass over the document, each fragment summed once (memoised): the selections it expands to,
   its depth and its aliases. Work proportional to the document, however much it expands.
2. Only when that is within the cap, a walk of the expanded selections (so at most the cap of them)
   that also charges repeated fields: a field answering at the same place as n earlier ones costs
   n + 1, so a field repeated n times at one place costs n(n + 1) / 2, which bounds the pairs
   graphql-core compares. The walk stops as soon as the cap is passed.

Complexity is therefore: every selection once fragments are spread (field, fragment spread, inline
fragment) counts 1, a repeated field counts more each time, and every definition (operation or
fragment) counts DEFINITION_COST: graphql-core's rules do work per definition (each operation is
walked again for its variables), and 400 one-field operations, or 400 unused one-field fragments,
took 25 ms to validate. An ordinary query costs about its number of fields, plus 10 for the
operation and each of its fragments.

Depth is the nesting of fields per operation (top-level fields at 0; what an introspection field
selects is not counted, like Strawberry's limiter). Aliases are counted over all operations, at
every spread. A fragment that spreads itself (directly or not) is not followed into
itself: graphql-core refuses the cycle afterwards.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
)
from graphql.validation import ASTValidationRule
from strawberry.schema.schema import validate_document

from schema.observability import GRAPHQL_VALIDATION_FAILED, OPERATION_RESOLUTION_FAILURE, with_code

QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
DEFINITION_COST = 10


@dataclass(frozen=True, slots=True)
class QueryLimits:
    max_depth: int
    max_aliases: int
    max_complexity: int


@dataclass(slots=True)
class Cost:
    selections: int = 0  # once fragments are spread: operations, and fragments no one spreads
    definitions: int = 0  # operations and fragments
    complexity: int | None = None  # with repeats charged; None past the cap
    aliases: int = 0  # in operations
    depths: dict[str, int] = field(default_factory=dict)  # operation name -> deepest field level
    visited: int = 0  # selection nodes looked at by both passes, to show the work is bounded


@dataclass(slots=True)
class _Sum:
    selections: int = 0
    height: int = -1  # the deepest field level under this selection set (0: its own fields); -1: none
    aliases: int = 0


@dataclass(slots=True)
class _Frame:
    """A selection set being summed (pass 1), and how its sum folds into the one above."""

    selections: tuple[SelectionNode, ...]
    fold: FieldNode | str | None  # the field it belongs to, the fragment it is, or None (inline/root)
    index: int = 0
    total: _Sum = field(default_factory=_Sum)


def measure(document: DocumentNode, max_complexity: int) -> Cost:
    cost = Cost()
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    memo: dict[str, _Sum] = {}
    spread: set[str] = set()
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    cost.definitions = len(document.definitions)
    for operation in operations:
        total = _sum(operation.selection_set, fragments, memo, spread, cost)
        name = operation.name.value if operation.name else "anonymous"
        cost.depths[name] = max(total.height, cost.depths.get(name, 0))
        cost.aliases += total.aliases
        cost.selections += total.selections
    unspread = []
    for name, fragment in fragments.items():
        _sum(fragment.selection_set, fragments, memo, spread, cost, name)
    for name, fragment in fragments.items():
        if name not in spread:  # never executed, but graphql-core's rules still look at it
            unspread.append(fragment.selection_set)
            cost.selections += memo[name].selections
    base = DEFINITION_COST * cost.definitions
    if base + cost.selections <= max_complexity:
        roots = [o.selection_set for o in operations] + unspread
        charged = _charge_repeats(roots, fragments, cost, max_complexity - base)
        cost.complexity = None if charged is None else base + charged
    return cost


def _sum(
    root: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    memo: dict[str, _Sum],
    spread: set[str],
    cost: Cost,
    fragment: str | None = None,
) -> _Sum:
    """Pass 1: the sum of one selection set, fragments taken from (and put into) `memo`. Iterative."""
    if fragment is not None:
        if fragment in memo:
            return memo[fragment]
        memo[fragment] = _Sum()  # in progress: a spread of it inside itself adds nothing
    stack = [_Frame(tuple(root.selections), fragment)]
    while True:
        frame = stack[-1]
        if frame.index == len(frame.selections):
            stack.pop()
            done = frame.total
            if isinstance(frame.fold, str):
                memo[frame.fold] = done
            if not stack:
                return done
            above = stack[-1].total
            above.selections += done.selections
            above.aliases += done.aliases
            if isinstance(frame.fold, FieldNode):
                if done.height >= 0 and not frame.fold.name.value.startswith("__"):
                    above.height = max(above.height, done.height + 1)
            else:
                above.height = max(above.height, done.height)
            continue
        selection = frame.selections[frame.index]
        frame.index += 1
        cost.visited += 1
        total = frame.total
        total.selections += 1
        if isinstance(selection, FieldNode):
            total.height = max(total.height, 0)
            if selection.alias is not None:
                total.aliases += 1
            if selection.selection_set is not None:
                stack.append(_Frame(tuple(selection.selection_set.selections), selection))
        elif isinstance(selection, InlineFragmentNode):
            stack.append(_Frame(tuple(selection.selection_set.selections), None))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            spread.add(name)
            known = memo.get(name)
            if known is not None:
                total.selections += known.selections
                total.aliases += known.aliases
                total.height = max(total.height, known.height)
            elif name in fragments:
                memo[name] = _Sum()  # in progress
                stack.append(_Frame(tuple(fragments[name].selection_set.selections), name))


class _Place:
    """A place in the response (a response key under its parent place): how many fields answer there."""

    __slots__ = ("fields", "under")

    def __init__(self) -> None:
        self.fields = 0
        self.under: dict[str, _Place] = {}


def _charge_repeats(
    roots: list[SelectionSetNode], fragments: dict[str, FragmentDefinitionNode], cost: Cost, budget: int
) -> int | None:
    """Pass 2: complexity with repeated fields charged, walking the expanded selections; None past `budget`."""
    complexity = 0
    for root in roots:
        stack: list[tuple[SelectionSetNode, dict[str, _Place], frozenset[str]]] = [(root, {}, frozenset())]
        while stack:
            selection_set, places, spreading = stack.pop()
            for selection in selection_set.selections:
                cost.visited += 1
                if isinstance(selection, FieldNode):
                    key = selection.alias.value if selection.alias else selection.name.value
                    place = places.get(key)
                    if place is None:
                        place = places[key] = _Place()
                    place.fields += 1
                    complexity += place.fields
                    if selection.selection_set is not None:
                        stack.append((selection.selection_set, place.under, spreading))
                else:
                    complexity += 1
                    if isinstance(selection, InlineFragmentNode):
                        stack.append((selection.selection_set, places, spreading))
                    elif isinstance(selection, FragmentSpreadNode):
                        name = selection.name.value
                        if name in fragments and name not in spreading:
                            stack.append((fragments[name].selection_set, places, spreading | {name}))
                if complexity > budget:
                    return None
    return complexity


def check(document: DocumentNode, limits: QueryLimits) -> list[GraphQLError]:
    """The guard's errors for `document`; empty when it may go on to graphql-core's validation."""
    names = [d.name.value for d in document.definitions if isinstance(d, FragmentDefinitionNode)]
    if len(names) != len(set(names)):
        # The cost is measured per fragment name: a second definition of a name would go unmeasured to
        # graphql-core's rules, which refuse it anyway (UniqueFragmentNamesRule), after looking at it.
        return [
            GraphQLError(
                "Each fragment name may be defined only once in a document.",
                extensions={"code": GRAPHQL_VALIDATION_FAILED},
            )
        ]
    cost = measure(document, limits.max_complexity)
    errors = []
    if cost.complexity is None:
        least = DEFINITION_COST * cost.definitions + cost.selections
        if least > limits.max_complexity:
            shown = f"{least}" if least < 10**12 else "more than 10^12"
            detail = (
                f"once fragments are spread it costs {shown} "
                f"(1 for each selection, {DEFINITION_COST} for each operation and fragment)"
            )
        else:
            detail = "it repeats fields at the same place too often (each repeat costs 1 more than the last)"
        errors.append(
            GraphQLError(
                f"The query is too complex: {detail}. The limit is {limits.max_complexity}.",
                extensions={"code": QUERY_TOO_COMPLEX},
            )
        )
    errors += [
        GraphQLError(
            f"'{name}' exceeds maximum operation depth of {limits.max_depth}", extensions={"code": QUERY_TOO_DEEP}
        )
        for name, depth in cost.depths.items()
        if depth > limits.max_depth
    ]
    if cost.aliases > limits.max_aliases:
        errors.append(
            GraphQLError(
                f"{cost.aliases} aliases found. Allowed: {limits.max_aliases}", extensions={"code": TOO_MANY_ALIASES}
            )
        )
    return errors


@functools.lru_cache(maxsize=256)
def validate(
    limits: QueryLimits,
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: tuple[type[ASTValidationRule], ...],
) -> list[GraphQLError]:
    """The guard, then graphql-core's rules (and Strawberry's) only for a document the guard lets through.

    Cached like Strawberry's ValidationCache (which this replaces): the key holds the limits, so
    apps built with other settings never share an answer.
    """
    return check(document, limits) or [
        with_code(error, GRAPHQL_VALIDATION_FAILED) for error in validate_document(schema, document, rules)
    ]


def operation_errors(document: DocumentNode, operation_name: object) -> list[GraphQLError]:
    """A document with several operations names the one to run with `operationName` (GraphQL spec,
    GetOperation). Strawberry would quietly run the first; this refuses it, before any execution."""
    operations = sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)
    if operation_name is None and operations > 1:
        return [
            GraphQLError(
                "The document has several operations: name the one to run with `operationName`.",
                extensions={"code": OPERATION_RESOLUTION_FAILURE},
            )
        ]
    return []
