# A Kinesis data stream, the functions that consume it through event source mappings
# (one batch per shard at a time, so each partition key is processed in order), and
# alarms on how far behind those consumers fall (the mappings' iterator age and, for
# consumers that read the shards themselves, their own reader lag) and on their errors. A batch that keeps
# failing is bisected, and what still fails after the retries is described (shard and
# sequence range, not the audio) on the failures queue.

resource "aws_kinesis_stream" "this" {
  name             = var.name
  retention_period = var.retention_hours
  encryption_type  = "KMS"
  kms_key_id       = var.kms_key_id
  shard_count      = var.on_demand ? null : var.shard_count

  stream_mode_details {
    stream_mode = var.on_demand ? "ON_DEMAND" : "PROVISIONED"
  }

  tags = var.tags
}

resource "aws_lambda_event_source_mapping" "this" {
  for_each = var.consumers

  event_source_arn                   = aws_kinesis_stream.this.arn
  function_name                      = each.value.function_name
  starting_position                  = "LATEST"
  batch_size                         = each.value.batch_size
  maximum_batching_window_in_seconds = each.value.batching_window_seconds
  parallelization_factor             = 1
  maximum_retry_attempts             = each.value.maximum_retry_attempts
  maximum_record_age_in_seconds      = each.value.maximum_record_age_seconds
  function_response_types            = ["ReportBatchItemFailures"]
  bisect_batch_on_function_error     = true

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.failures.arn
    }
  }
}

resource "aws_sqs_queue" "failures" {
  name                      = "${var.name}-failures"
  message_retention_seconds = 1209600 # 14 days, SQS's maximum: time to look at what failed
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

resource "aws_cloudwatch_metric_alarm" "iterator_age" {
  for_each = var.consumers

  alarm_name          = "${var.name}-${each.key}-iterator-age"
  alarm_description   = "${each.value.function_name} is more than ${var.iterator_age_alarm_seconds} s behind ${var.name}"
  namespace           = "AWS/Lambda"
  metric_name         = "IteratorAge"
  dimensions          = { FunctionName = each.value.function_name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  threshold           = var.iterator_age_alarm_seconds * 1000
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "reader_lag" {
  count = var.reader_lag_alarm == null ? 0 : 1

  alarm_name          = "${var.name}-reader-lag"
  alarm_description   = "The consumers' own readers have stayed more than ${var.reader_lag_alarm.threshold_seconds} s behind ${var.name}'s tip for 3 minutes: captions lag the speakers"
  namespace           = var.reader_lag_alarm.namespace
  metric_name         = var.reader_lag_alarm.metric
  dimensions          = { service = var.reader_lag_alarm.service }
  statistic           = "Minimum"
  period              = 60
  evaluation_periods  = 3
  threshold           = var.reader_lag_alarm.threshold_seconds * 1000
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  for_each = var.consumers

  alarm_name          = "${var.name}-${each.key}-errors"
  alarm_description   = "${each.value.function_name} failed while consuming ${var.name}"
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = each.value.function_name }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}
