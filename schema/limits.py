"""Limits on what a request may ask.

The document's depth, aliases and tokens: a document over one is refused as LIMIT_EXCEEDED. The
arguments' values (ArgumentLimits): a string no database column can hold or a list longer than
the maximum is refused as BAD_USER_INPUT before any resolver runs.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from typing import Any

from graphql import ASTValidationRule, GraphQLError, GraphQLSyntaxError, ValidationContext, parse
from graphql.language import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
)
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension
from strawberry.extensions.max_aliases import create_validator as create_alias_validator
from strawberry.extensions.query_depth_limiter import create_validator as create_depth_validator
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from access.errors import ErrorCode, InputError, Problem
from core.settings import Settings
from schema.extensions import GraphQLErrorCode
from sync.collection import COLLECTIONS, invalid_character, unstorable_character

# graphql-core's wording when `max_tokens` stops the parser.
_TOKEN_LIMIT_MESSAGE = "Document contains more than"

_parse_cached = functools.lru_cache(maxsize=512)(parse)


def _tag(error: GraphQLError, code: GraphQLErrorCode) -> None:
    error.extensions = {**(error.extensions or {}), "code": code.value}


def coded(rule: type[ASTValidationRule], code: GraphQLErrorCode) -> type[ASTValidationRule]:
    """Wraps one of strawberry's limit validators so that what it reports carries `code`.

    Those validators do their whole check in `__init__`, reporting through the context, so the
    context's `on_error` is swapped for the duration. If the check itself fails (strawberry's
    depth limiter raises KeyError on an undefined fragment), the document is refused rather than
    let through unchecked; the standard rules then explain what is wrong with it.
    """

    class CodedRule(ASTValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            report = context.on_error

            def tagged(error: GraphQLError) -> None:
                _tag(error, code)
                report(error)

            context.on_error = tagged  # type: ignore[method-assign]
            try:
                rule(context)
            except Exception:  # an unanalysable document is refused, not waved through
                context.on_error = report  # type: ignore[method-assign]
                unchecked = GraphQLError(
                    "无法检查查询限制 (the document could not be checked against the query limits)"
                )
                _tag(unchecked, GraphQLErrorCode.GRAPHQL_VALIDATION_FAILED)
                context.report_error(unchecked)
            finally:
                context.on_error = report  # type: ignore[method-assign]

    CodedRule.__name__ = CodedRule.__qualname__ = f"Coded{rule.__name__}"
    return CodedRule


def limit_rules(settings: Settings) -> list[type[ASTValidationRule]]:
    """Depth and alias limits as validation rules.

    Made once per schema: the validation cache keys on the rule classes, so a fresh class per
    request (what strawberry's limiter extensions do) would never hit.
    """
    return [
        coded(
            create_depth_validator(settings.max_query_depth, None), GraphQLErrorCode.LIMIT_EXCEEDED
        ),
        coded(create_alias_validator(settings.max_aliases), GraphQLErrorCode.LIMIT_EXCEEDED),
    ]


class ParseWithinLimit(SchemaExtension):
    """Parses through a shared LRU cache, stopping after `max_tokens` tokens.

    Replaces strawberry's ParserCache + MaxTokensLimiter: ParserCache raises syntax errors from
    inside its hook, where strawberry no longer runs the other extensions' `on_operation`, so the
    error reached the client without a code or request id, and uncounted. Here a failed parse
    leaves the document unset; strawberry parses again (with the same limit) and reports it as a
    request error, which this hook then codes.
    """

    def __init__(self, max_tokens: int) -> None:
        self.max_tokens = max_tokens

    def on_operation(self) -> Iterator[None]:
        self.execution_context.parse_options["max_tokens"] = self.max_tokens
        yield

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.query is not None:
            try:
                document: DocumentNode = _parse_cached(ctx.query, max_tokens=self.max_tokens)
            except GraphQLError:
                pass
            else:
                ctx.graphql_document = document
        yield
        for error in ctx.pre_execution_errors or ():
            if isinstance(error, GraphQLSyntaxError):
                over = error.message.startswith(f"Syntax Error: {_TOKEN_LIMIT_MESSAGE}")
                _tag(
                    error,
                    GraphQLErrorCode.LIMIT_EXCEEDED
                    if over
                    else GraphQLErrorCode.GRAPHQL_PARSE_FAILED,
                )


# A request full of bad values gets a readable answer, not one problem per element.
MAX_PROBLEMS = 20


def push_row_arguments() -> frozenset[tuple[str, str]]:
    """(field, argument) of every push<Name>(<name>PushRow:) mutation.

    Their rows are judged one by one by the push, which quarantines a bad row and keeps the rest:
    refusing the whole request would stop the phone's sync for good, as RxDB retries the same
    batch forever. Their number has its own limit (`sync_max_push_rows`).
    """
    return frozenset(
        (f"push{c.name}", f"{c.name[0].lower()}{c.name[1:]}PushRow") for c in COLLECTIONS.values()
    )


class _ArgumentCheck:
    """Walks argument values, literal or from variables, collecting what is wrong with them."""

    def __init__(
        self,
        max_list_length: int,
        variables: Mapping[str, Any],
        defaults: Mapping[str, ValueNode | None],
    ) -> None:
        self.max_list_length = max_list_length
        self.variables = variables
        self.defaults = defaults
        self.problems: list[Problem] = []

    def add(self, path: str, message: str, code: ErrorCode) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(path, message, code))

    def too_many(self, path: str, length: int) -> bool:
        if length <= self.max_list_length:
            return False
        limit = self.max_list_length
        self.add(path, f"最多 {limit} 项 (at most {limit} elements)", ErrorCode.TOO_MANY)
        return True

    def text(self, value: str, path: str) -> None:
        # PostgreSQL's text cannot hold U+0000 (SQLite can, so the two would disagree), and no
        # driver can send a lone surrogate, which JSON may escape: the push's own rule.
        character = unstorable_character(value)
        if character is not None:
            problem = invalid_character(path, character)
            self.add(path, problem.message, problem.code)

    def literal(self, value: ValueNode, path: str) -> None:
        if isinstance(value, StringValueNode):
            self.text(value.value, path)
        elif isinstance(value, ListValueNode):
            if not self.too_many(path, len(value.values)):
                for index, element in enumerate(value.values):
                    self.literal(element, f"{path}[{index}]")
        elif isinstance(value, ObjectValueNode):
            for field in value.fields:
                self.literal(field.value, f"{path}.{field.name.value}")
        elif isinstance(value, VariableNode):
            name = value.name.value
            if name in self.variables:
                self.value(self.variables[name], path)
            else:
                default = self.defaults.get(name)
                if default is not None:
                    self.literal(default, path)

    def value(self, value: object, path: str) -> None:
        """A variable's value as the JSON body carried it."""
        if isinstance(value, str):
            self.text(value, path)
        elif isinstance(value, list):
            if not self.too_many(path, len(value)):
                for index, element in enumerate(value):
                    self.value(element, f"{path}[{index}]")
        elif isinstance(value, dict):
            for key, element in value.items():
                self.value(element, f"{path}.{key}")


def _fields(
    selection_set: SelectionSetNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    seen: set[str],
) -> Iterator[FieldNode]:
    """Every field the selection asks for, through fragments (each fragment once)."""
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection
            if selection.selection_set is not None:
                yield from _fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:
                seen.add(name)
                yield from _fields(fragment.selection_set, fragments, seen)


def argument_problems(
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    max_list_length: int,
    exempt: frozenset[tuple[str, str]],
) -> list[Problem]:
    """What is wrong with the arguments of the operation's fields, each named by its path
    (`createSpotCheck.input.findings[1].text`, the field by its response key)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return []
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    defaults = {
        d.variable.name.value: d.default_value for d in operation.variable_definitions or ()
    }
    check = _ArgumentCheck(max_list_length, variables or {}, defaults)
    for field in _fields(operation.selection_set, fragments, set()):
        key = (field.alias or field.name).value
        for argument in field.arguments or ():
            if (field.name.value, argument.name.value) not in exempt:
                check.literal(argument.value, f"{key}.{argument.name.value}")
    return check.problems


class ArgumentLimits(SchemaExtension):
    """Refuses a query or mutation whose arguments break a limit, before any resolver runs.

    One place for every field: a NUL or a lone surrogate in any string (PostgreSQL cannot store
    a NUL, no driver can send a lone surrogate, which JSON may escape; each
    resolver would otherwise fail with an internal error there, and only there) and a list
    longer than `max_list_length` (a query with 100,000 bound parameters fails in the driver).
    Runs on the arguments as sent, before graphql-core coerces the variables, so an oversized
    list is not coerced first. Push rows are left to the push (see `push_row_arguments`);
    subscriptions carry only their headers.
    """

    def __init__(self, max_list_length: int, exempt: frozenset[tuple[str, str]]) -> None:
        self.max_list_length = max_list_length
        self.exempt = exempt

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        document = execution.graphql_document
        if (
            execution.result is None
            and document is not None
            and execution.operation_type is not OperationType.SUBSCRIPTION
        ):
            problems = argument_problems(
                document,
                execution.operation_name,
                execution.variables,
                self.max_list_length,
                self.exempt,
            )
            if problems:
                refusal = GraphQLError(
                    "参数有误,未执行 (invalid arguments; nothing was run)",
                    original_error=InputError(problems),
                )
                execution.result = ExecutionResult(data=None, errors=[refusal])
        yield
