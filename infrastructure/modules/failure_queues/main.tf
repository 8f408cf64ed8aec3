# Where asynchronous work that failed every attempt is kept (docs/OPERATIONS.md, "On-failure queues"): one SQS
# queue per name, encrypted, holding a message for 14 days, and an alarm on each queue with anything visible in it.
# Queues other modules own (the audio stream's mapping failures) are alarmed here too, by name.

resource "aws_sqs_queue" "this" {
  for_each = var.queues

  name                      = "${var.name_prefix}-${each.key}"
  message_retention_seconds = 1209600 # 14 days, SQS's maximum: time to look at what failed and redrive it
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

locals {
  watched = merge(
    { for key, queue in aws_sqs_queue.this : key => { name = queue.name, description = var.queues[key] } },
    var.other_queues,
  )
}

resource "aws_cloudwatch_metric_alarm" "queue_not_empty" {
  for_each = local.watched

  alarm_name          = "${each.value.name}-not-empty"
  alarm_description   = "${each.value.description} (docs/OPERATIONS.md, On-failure queues)"
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = each.value.name }
  statistic           = "Maximum"
  period              = 300 # SQS publishes its metrics every 5 minutes
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}
