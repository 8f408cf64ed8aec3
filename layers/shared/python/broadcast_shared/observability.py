"""Powertools Logger and Metrics, configured once per execution environment.

Service name, metric namespace and log level come from the standard Powertools
environment variables (POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE,
POWERTOOLS_LOG_LEVEL) that Terraform sets on every function.

There is no Powertools Tracer: importing the X-Ray SDK it needs costs about 300 ms of
every cold start (``make bench``), on routes where a listener waits for the answer.
Lambda's own active tracing still records each invocation (Terraform's ``tracing``).

Many invocations rightly emit no metric (a ``$connect``, an authorizer's answer): Powertools' warning that there was
none to publish is filtered out, as its docs show, rather than written to the log at every such invocation.
"""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

logger = Logger()
metrics = Metrics()
warnings.filterwarnings("ignore", "No application metrics to publish*", UserWarning)


def count_by(name: str, **dimensions: str) -> None:
    """Emit one count with its own dimensions (a separate EMF blob), e.g. rejections by code."""
    with single_metric(
        name=name, unit=MetricUnit.Count, value=1, default_dimensions=metrics.default_dimensions
    ) as metric:
        for key, value in dimensions.items():
            metric.add_dimension(name=key, value=value)
