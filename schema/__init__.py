"""The GraphQL schema: root types composed from one class per domain, plus hardening."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from graphql import ASTValidationRule
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as create_alias_validator
from strawberry.extensions.query_depth_limiter import create_validator as create_depth_validator
from strawberry.tools import merge_types

from app.settings import Settings
from schema.account import AccountMutation, AccountQuery
from schema.branch import BranchMutation, BranchQuery
from schema.extensions import Metrics, ShapeErrors
from schema.member import MemberMutation, MemberQuery
from schema.node import NodeQuery

Query = merge_types("Query", (AccountQuery, BranchQuery, MemberQuery, NodeQuery))
Mutation = merge_types("Mutation", (AccountMutation, BranchMutation, MemberMutation))


def build_schema(settings: Settings) -> strawberry.Schema:
    """The schema with its limits; introspection is off in production."""
    # The rule classes are made once: the validation cache keys on them, so a fresh class per
    # request (what the limiter extensions do when constructed per request) would never hit.
    rules: list[type[ASTValidationRule]] = [
        create_depth_validator(settings.max_query_depth, None),
        create_alias_validator(settings.max_aliases),
    ]
    if settings.production:
        rules.append(NoSchemaIntrospectionCustomRule)
    max_tokens = settings.max_query_tokens
    extensions: list[Callable[[], SchemaExtension]] = [
        # Order matters: errors are shaped before metrics read their codes.
        Metrics,
        ShapeErrors,
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: ParserCache(maxsize=512),
        lambda: AddValidationRules(rules),
        lambda: ValidationCache(maxsize=512),
    ]
    return strawberry.Schema(query=Query, mutation=Mutation, extensions=extensions)


def sdl() -> str:
    """The schema as SDL, as committed in schema.graphql (development settings)."""
    return build_schema(Settings()).as_str() + "\n"
