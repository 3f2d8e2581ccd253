"""The GraphQL schema: root types composed from one class per domain, plus hardening."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

import strawberry
from graphql import ASTValidationRule, GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules, SchemaExtension, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext
from strawberry.types.base import get_object_definition

from core.observability import OperationLabels
from core.settings import Settings
from schema.account import AccountMutation, AccountQuery
from schema.account_admin import AccountAdminMutation, AccountAdminQuery
from schema.assessment import AssessmentMutation, AssessmentQuery
from schema.branch import BranchMutation, BranchQuery
from schema.brand import BrandMutation, BrandQuery
from schema.cache import ResponseCacheExtension
from schema.care import CareMutation, CareQuery
from schema.dashboard import DashboardQuery
from schema.directive import DirectiveMutation, DirectiveQuery
from schema.education import EducationMutation, EducationQuery
from schema.extensions import Metrics, ShapeErrors
from schema.fast_pull import FastPull
from schema.field_record import FieldRecordMutation, FieldRecordQuery
from schema.ledger import LedgerMutation, LedgerQuery
from schema.limits import ArgumentLimits, ParseWithinLimit, limit_rules, push_row_arguments
from schema.member import MemberMutation, MemberQuery
from schema.my_day import MyDayQuery
from schema.node import NodeQuery
from schema.scalars import scalar_overrides
from schema.study import StudyMutation, StudyQuery
from schema.supervision import SupervisionMutation, SupervisionQuery
from schema.sync import SyncMutation, SyncQuery, SyncSubscription
from schema.sync_admin import SyncAdminMutation, SyncAdminQuery

Query = merge_types(
    "Query",
    (
        AccountQuery,
        AccountAdminQuery,
        AssessmentQuery,
        BranchQuery,
        BrandQuery,
        CareQuery,
        DashboardQuery,
        EducationQuery,
        DirectiveQuery,
        FieldRecordQuery,
        LedgerQuery,
        MemberQuery,
        MyDayQuery,
        NodeQuery,
        StudyQuery,
        SupervisionQuery,
        SyncAdminQuery,
        SyncQuery,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        AccountMutation,
        AccountAdminMutation,
        AssessmentMutation,
        BranchMutation,
        BrandMutation,
        CareMutation,
        EducationMutation,
        DirectiveMutation,
        FieldRecordMutation,
        LedgerMutation,
        MemberMutation,
        StudyMutation,
        SupervisionMutation,
        SyncAdminMutation,
        SyncMutation,
    ),
)
Subscription = merge_types("Subscription", (SyncSubscription,))


class MeijingSchema(strawberry.Schema):
    """strawberry.Schema without strawberry's own error logging."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Logs nothing: ShapeErrors writes one structured line per internal error, with the
        request id. Strawberry's default logs every error, expected ones included, as text."""


# Built schemas by the settings they read (see _schema_key). A schema holds no per-app state
# (extensions are made afresh per operation), so apps with the same limits share one: building
# it takes ~150 ms, which every create_app paid before (every test, in the test suite).
_built: dict[tuple[object, ...], strawberry.Schema] = {}
_built_lock = threading.Lock()


def _schema_key(settings: Settings) -> tuple[object, ...]:
    """Every setting _build_schema reads, and nothing else."""
    return (
        settings.production,
        settings.max_query_depth,
        settings.max_aliases,
        settings.max_query_tokens,
        settings.metrics_operations,
        settings.max_list_length,
        settings.timezone,
    )


def build_schema(settings: Settings) -> strawberry.Schema:
    """The schema with its limits; introspection and field suggestions are off in production.

    Built once per process for each set of limits."""
    key = _schema_key(settings)
    with _built_lock:
        schema = _built.get(key)
        if schema is None:
            schema = _built[key] = _build_schema(settings)
    return schema


def _build_schema(settings: Settings) -> strawberry.Schema:
    rules: list[type[ASTValidationRule]] = limit_rules(settings)
    if settings.production:
        rules.append(NoSchemaIntrospectionCustomRule)
    max_tokens = settings.max_query_tokens
    labels = OperationLabels(known_operation_names(settings.metrics_operations))
    max_list_length = settings.max_list_length
    push_rows = push_row_arguments()
    extensions: list[Callable[[], SchemaExtension]] = [
        # Order matters: the first extension's `on_operation` ends last, so errors are shaped
        # before Metrics reads their codes.
        lambda: Metrics(labels),
        ShapeErrors,
        lambda: ParseWithinLimit(max_tokens),
        lambda: AddValidationRules(rules),
        lambda: ValidationCache(maxsize=512),
        # Before the fast path and the cache: neither answers a request that breaks a limit.
        lambda: ArgumentLimits(max_list_length, push_rows),
        # Before the cache: answers recognised pull<Name> queries without graphql-core, and
        # keeps their pages out of the cache (see FastPull).
        FastPull,
        ResponseCacheExtension,
    ]
    return MeijingSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=settings.production),
        scalar_overrides=scalar_overrides(settings.timezone),
    )


# The name RxDB's pullStreamBuilderFromRxSchema gives every stream subscription.
RXDB_STREAM_OPERATION = "onStream"


def known_operation_names(extra: Iterable[str] = ()) -> frozenset[str]:
    """Operation names the metrics count by: every root field's name, as is and capitalised
    (`pullVisit`, `PullVisit` as RxDB's builders name it), RxDB's `onStream`, and `extra`."""
    names = {RXDB_STREAM_OPERATION, *extra}
    converter = StrawberryConfig().name_converter
    for root in (Query, Mutation, Subscription):
        for field in get_object_definition(root, strict=True).fields:
            name = converter.from_field(field)
            names.update((name, name[:1].upper() + name[1:]))
    return frozenset(names)


def sdl() -> str:
    """The schema in SDL, as committed in schema.graphql (`make schema`): the clients' contract."""
    return build_schema(Settings()).as_str() + "\n"
