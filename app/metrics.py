"""GET /metrics: the Prometheus text, and who may read it (see `metrics_routes`)."""

from __future__ import annotations

import hmac

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from access.auth import bearer_token
from app.endpoint import json_error
from app.graphql_http import request_id_of
from core.settings import Settings
from schema.extensions import GraphQLErrorCode

METRICS_REFUSED = "需要监控令牌 (send 'Authorization: Bearer <MEIJING_METRICS_TOKEN>')"


def metrics_routes(settings: Settings) -> list[Route]:
    """GET /metrics, guarded by `settings.metrics_token` when there is one.

    In production without a token there is no route at all (a 404, as for any unknown path):
    an unconfigured server should hand its traffic figures to nobody, and a refusal would only
    advertise an endpoint to guess tokens at. Development serves it to anyone, for `make run`.
    """
    expected = settings.metrics_token
    if expected is None and settings.production:
        return []

    async def metrics(request: Request) -> Response:
        if expected is not None:
            sent = bearer_token(request.headers.get("authorization"))
            if sent is None or not hmac.compare_digest(sent.encode(), expected.encode()):
                code = (
                    GraphQLErrorCode.UNAUTHENTICATED
                    if sent is None
                    else GraphQLErrorCode.TOKEN_INVALID
                )
                return json_error(
                    401,
                    code.value,
                    METRICS_REFUSED,
                    request_id_of(request.scope),
                    headers={"www-authenticate": 'Bearer realm="metrics"'},
                )
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return [Route("/metrics", metrics, methods=["GET"])]
