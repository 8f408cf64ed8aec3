data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "${var.name_prefix}-scheduler"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "invoke" {
  statement {
    sid       = "InvokeScheduledFunctions"
    actions   = ["lambda:InvokeFunction"]
    resources = distinct([for schedule in values(var.schedules) : schedule.function_arn])
  }
}

data "aws_iam_policy_document" "dead_letters" {
  statement {
    sid       = "ReportUndeliveredRuns"
    actions   = ["sqs:SendMessage"]
    resources = [var.dead_letter_queue_arn]
  }
}

resource "aws_iam_role_policy" "dead_letters" {
  name   = "${var.name_prefix}-scheduler-dead-letters"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.dead_letters.json
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "${var.name_prefix}-scheduler-invoke"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.invoke.json
}

resource "aws_scheduler_schedule_group" "this" {
  name = var.name_prefix
  tags = var.tags
}

resource "aws_scheduler_schedule" "this" {
  for_each = var.schedules

  name                         = "${var.name_prefix}-${each.key}"
  group_name                   = aws_scheduler_schedule_group.this.name
  description                  = each.value.description
  schedule_expression          = each.value.expression
  schedule_expression_timezone = "UTC"
  state                        = var.enabled ? "ENABLED" : "DISABLED"

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = each.value.function_arn
    role_arn = aws_iam_role.scheduler.arn
    input    = jsonencode({ schedule = each.key })

    retry_policy {
      maximum_event_age_in_seconds = 60
      maximum_retry_attempts       = 0
    }

    # A run the scheduler could not hand to Lambda (function missing, permission refused). A run Lambda
    # accepted and the function then failed goes to the function's own on-failure destination instead.
    dead_letter_config {
      arn = var.dead_letter_queue_arn
    }
  }
}
