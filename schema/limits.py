"""Query limits on depth, aliases and tokens; a document over one is refused as LIMIT_EXCEEDED."""

from __future__ import annotations

import functools
from collections.abc import Iterator

from graphql import ASTValidationRule, GraphQLError, GraphQLSyntaxError, ValidationContext, parse
from graphql.language import DocumentNode
from strawberry.extensions import SchemaExtension
from strawberry.extensions.max_aliases import create_validator as create_alias_validator
from strawberry.extensions.query_depth_limiter import create_validator as create_depth_validator

from app.settings import Settings
from schema.extensions import GraphQLErrorCode

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
