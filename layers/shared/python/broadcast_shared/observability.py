"""Powertools Logger, Metrics and Tracer, configured once per execution environment.

Service name, metric namespace and log level come from the standard Powertools
environment variables (POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE,
POWERTOOLS_LOG_LEVEL) that Terraform sets on every function.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

logger = Logger()
metrics = Metrics()
tracer = Tracer()


def count_by(name: str, **dimensions: str) -> None:
    """Emit one count with its own dimensions (a separate EMF blob), e.g. rejections by code."""
    with single_metric(name=name, unit=MetricUnit.Count, value=1, default_dimensions=metrics.default_dimensions) as metric:
        for key, value in dimensions.items():
            metric.add_dimension(name=key, value=value)
