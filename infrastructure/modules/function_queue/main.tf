# An SQS queue that invokes one function through an event source mapping: work a function hands itself for
# later (a delayed message: SendMessage with DelaySeconds). Encrypted (SSE-SQS) as every queue here; a message
# the function fails max_receive_count times moves to the dead-letter queue, kept 14 days and alarmed by
# module.failure_queues (docs/OPERATIONS.md, "On-failure queues").

resource "aws_sqs_queue" "dead_letter" {
  name                      = "${var.name}-dead-letter"
  message_retention_seconds = 1209600 # 14 days, SQS's maximum: time to look at what failed and redrive it
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

resource "aws_sqs_queue" "this" {
  name                       = var.name
  visibility_timeout_seconds = var.visibility_timeout_seconds
  message_retention_seconds  = var.message_retention_seconds
  sqs_managed_sse_enabled    = true
  tags                       = var.tags
}

# Its own resource rather than the queue's redrive_policy argument, so the queue does not wait for its dead-letter
# queue: the provider waits about 25 s after creating a queue for its attributes to settle, and the functions that
# read and write the queue (their roles name its ARN) start only after it.
resource "aws_sqs_queue_redrive_policy" "this" {
  queue_url = aws_sqs_queue.this.id
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letter.arn
    maxReceiveCount     = var.max_receive_count
  })
}

resource "aws_lambda_event_source_mapping" "this" {
  event_source_arn                   = aws_sqs_queue.this.arn
  function_name                      = var.function_name
  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = 0
  function_response_types            = ["ReportBatchItemFailures"]
}
