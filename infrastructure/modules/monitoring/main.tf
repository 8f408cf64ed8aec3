# Who hears about trouble, and what they look at: one SNS topic per environment with its
# subscriptions, alarms on every function's errors and throttles, on the WebSocket API's
# execution and integration errors and on the application's own failure metrics, and a
# dashboard along a talk's path (speaker audio → transcription → translation → listeners).

locals {
  alarm_actions = concat([aws_sns_topic.alarms.arn], var.extra_alarm_actions)
  region        = var.region
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name_prefix}-alarms"
  kms_master_key_id = "alias/aws/sns"
  tags              = var.tags
}

resource "aws_sns_topic_subscription" "alarms" {
  for_each = { for s in var.subscriptions : "${s.protocol}:${s.endpoint}" => s }

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = each.value.protocol
  endpoint  = each.value.endpoint
}

# Every alarm of this module: one resource over one map, keyed by alarm name suffix. Each alarms when the
# sum over its period is above its threshold (an application alarm may name another statistic and comparison);
# a period without data is not breaching.
locals {
  alarms = merge(
    {
      for key, name in var.functions : "${key}-errors" => {
        name        = "${name}-errors"
        description = "${name} failed (an unhandled error or a timeout) in the last minute"
        namespace   = "AWS/Lambda", metric = "Errors", dimensions = { FunctionName = name }, period = 60, threshold = 0
      } if !contains(var.error_alarms_elsewhere, key)
    },
    {
      for key, name in var.functions : "${key}-throttles" => {
        name        = "${name}-throttles"
        description = "Lambda refused to run ${name} (concurrency exhausted) in the last minute"
        namespace   = "AWS/Lambda", metric = "Throttles", dimensions = { FunctionName = name }, period = 60, threshold = 0
      }
    },
    {
      for key, alarm in {
        execution-errors   = { metric = "ExecutionError", description = "API Gateway could not call an integration (its 5xx): clients' messages were lost" }
        integration-errors = { metric = "IntegrationError", description = "an integration answered API Gateway with a 4xx/5xx (a handler failed or timed out, or $connect refused)" }
        } : "websocket-${key}" => {
        name        = "${var.name_prefix}-websocket-${key}"
        description = alarm.description
        namespace   = "AWS/ApiGateway", metric = alarm.metric, dimensions = { ApiId = var.api.id, Stage = var.api.stage }, period = 60, threshold = 0
      }
    },
    {
      for key, alarm in var.application_alarms : "application-${key}" => {
        name        = "${var.name_prefix}-${key}"
        description = alarm.description
        namespace   = var.metric_namespace, metric = alarm.metric, dimensions = { service = alarm.service }, period = 300, threshold = alarm.threshold
        statistic   = alarm.statistic, comparison = alarm.comparison
      }
    },
  )
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name          = each.value.name
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  dimensions          = each.value.dimensions
  statistic           = try(each.value.statistic, "Sum")
  period              = each.value.period
  evaluation_periods  = 1
  threshold           = each.value.threshold
  comparison_operator = try(each.value.comparison, "GreaterThanThreshold")
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

locals {
  # The cost meter's metrics (broadcast_shared.meter), summed over every session, function and dimension set.
  cost_searches = {
    audio     = "Namespace=\"${var.metric_namespace}\" MetricName=\"BilledAudioSeconds\""
    translate = "Namespace=\"${var.metric_namespace}\" MetricName=\"BilledCharacters\" AwsService=\"translate\""
    neural    = "Namespace=\"${var.metric_namespace}\" MetricName=\"BilledCharacters\" AwsService=\"polly\" Engine=\"neural\""
    standard  = "Namespace=\"${var.metric_namespace}\" MetricName=\"BilledCharacters\" AwsService=\"polly\" Engine=\"standard\""
    messages  = "Namespace=\"${var.metric_namespace}\" MetricName=\"BilledMessageUnits\""
  }
  # Priced as broadcast_shared.pricing.Prices.estimate prices a session for sessionStatus.
  cost_expression = join(" + ", [
    "FILL(audio, 0) * ${var.prices.transcribe_streaming_second}",
    "FILL(translate, 0) * ${var.prices.translate_character}",
    "FILL(neural, 0) * ${var.prices.polly_neural_character}",
    "FILL(standard, 0) * ${var.prices.polly_standard_character}",
    "FILL(messages, 0) * ${var.prices.websocket_message}",
  ])
}

resource "aws_cloudwatch_dashboard" "talk" {
  dashboard_name = "${var.name_prefix}-talk"
  dashboard_body = jsonencode({
    widgets = concat(
      [
        {
          type = "metric", x = 0, y = 0, width = 12, height = 6
          properties = {
            title   = "WebSocket API: connections, messages, errors"
            region  = local.region
            stat    = "Sum"
            period  = 60
            metrics = [for m in ["ConnectCount", "MessageCount", "ClientError", "IntegrationError", "ExecutionError"] : ["AWS/ApiGateway", m, "ApiId", var.api.id, "Stage", var.api.stage]]
          }
        },
        {
          type = "metric", x = 12, y = 0, width = 12, height = 6
          properties = {
            title  = "Audio lag (ms): the worker's reader (what listeners wait for), its mapping (bookkeeping, grows during a talk)"
            region = local.region
            stat   = "Maximum"
            period = 60
            metrics = [
              [var.metric_namespace, "AudioReadBehindLatest", "service", "audio-transcription"],
              ["AWS/Lambda", "IteratorAge", "FunctionName", var.talk_path.worker],
              ["AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds", "StreamName", var.talk_path.stream_name],
            ]
          }
        },
        {
          type = "metric", x = 0, y = 6, width = 12, height = 6
          properties = {
            title   = "Talk path: invocations, errors, throttles"
            region  = local.region
            stat    = "Sum"
            period  = 60
            metrics = flatten([for fn in var.talk_path.functions : [for m in ["Invocations", "Errors", "Throttles"] : ["AWS/Lambda", m, "FunctionName", fn]]])
          }
        },
        {
          type = "metric", x = 12, y = 6, width = 12, height = 6
          properties = {
            title   = "Talk path: duration p95 (ms)"
            region  = local.region
            stat    = "p95"
            period  = 60
            metrics = [for fn in var.talk_path.functions : ["AWS/Lambda", "Duration", "FunctionName", fn]]
          }
        },
      ],
      [
        {
          type = "metric", x = 0, y = 12 + ceil(length(var.talk_path.emf_by_service) / 2) * 6, width = 24, height = 6
          properties = {
            title  = "Cost: $ per talk-hour (recognition, translation, speech and messages to clients, at the price file's prices)"
            region = local.region
            period = 300
            stat   = "Sum"
            view   = "timeSeries"
            metrics = concat(
              [for id, search in local.cost_searches : [{ id = id, expression = "SUM(SEARCH('${search}', 'Sum', 300))", label = id, visible = false }]],
              [
                [{ id = "dollars", expression = local.cost_expression, label = "$ in 5 minutes, all talks", visible = false }],
                # The speaker's audio streams about a second a second, so the audio seconds are the talk time.
                [{ id = "per_talk_hour", expression = "IF(audio > 0, dollars / (audio / 3600), 0)", label = "$ per talk-hour" }],
                [{ id = "per_hour", expression = "dollars * 12", label = "$ per hour, all talks" }],
              ],
            )
          }
        },
      ],
      [
        for index, service in sort(keys(var.talk_path.emf_by_service)) : {
          type = "metric", x = (index % 2) * 12, y = 12 + floor(index / 2) * 6, width = 12, height = 6
          properties = {
            title   = "${service}: ${join(", ", var.talk_path.emf_by_service[service])}"
            region  = local.region
            stat    = "Sum"
            period  = 60
            metrics = [for m in var.talk_path.emf_by_service[service] : [var.metric_namespace, m, "service", service]]
          }
        }
      ],
    )
  })
}
