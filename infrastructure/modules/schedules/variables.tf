variable "name_prefix" {
  description = "Prefix for the schedule group, schedules and the scheduler role."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{1,54}$", var.name_prefix))
    error_message = "name_prefix must be 1-54 letters, digits, '_', '.', '-'."
  }
}

variable "schedules" {
  description = "EventBridge Scheduler schedules keyed by name: expression (one minute is the finest rate) and the function invoked."
  type = map(object({
    expression   = string
    description  = string
    function_arn = string
  }))

  validation {
    condition     = alltrue([for s in values(var.schedules) : can(regex("^(rate\\(\\d+ (minute|minutes|hour|hours|day|days)\\)|cron\\(.+\\))$", s.expression))])
    error_message = "Each expression must be rate(N unit) or cron(...); EventBridge Scheduler runs at most once a minute."
  }
}

variable "dead_letter_queue_arn" {
  description = "ARN of the SQS queue for runs EventBridge Scheduler could not deliver to their function."
  type        = string
}

variable "enabled" {
  description = "Whether the schedules run."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for the role and group."
  type        = map(string)
  default     = {}
}
