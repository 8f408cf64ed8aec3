variable "name_prefix" {
  description = "Prefix for the alarm topic, the alarms and the dashboard."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,200}$", var.name_prefix))
    error_message = "name_prefix must be 1-200 letters, digits, '_' or '-'."
  }
}

variable "region" {
  description = "The region the dashboard's widgets read metrics from."
  type        = string
}

variable "subscriptions" {
  description = "Who hears the alarms: SNS subscriptions to the environment's alarm topic (e.g. { protocol = \"email\", endpoint = \"oncall@example.com\" })."
  type = list(object({
    protocol = string
    endpoint = string
  }))
  default = []

  validation {
    condition     = alltrue([for s in var.subscriptions : contains(["email", "email-json", "sms", "https", "http", "lambda", "sqs", "firehose", "application"], s.protocol) && length(s.endpoint) > 0])
    error_message = "Each subscription needs an SNS protocol (email, email-json, sms, https, http, lambda, sqs, firehose, application) and an endpoint."
  }
}

variable "extra_alarm_actions" {
  description = "Further ARNs (SNS topics) every alarm notifies besides the environment's own topic."
  type        = list(string)
  default     = []
}

variable "functions" {
  description = "Functions whose Errors and Throttles are alarmed, function key => function name."
  type        = map(string)
}

variable "error_alarms_elsewhere" {
  description = "Function keys whose Errors another module already alarms with more context (the Kinesis consumers); they get only the throttles alarm here."
  type        = list(string)
  default     = []
}

variable "api" {
  description = "The WebSocket API and stage whose ExecutionError and IntegrationError are alarmed."
  type = object({
    id    = string
    stage = string
  })
}

variable "metric_namespace" {
  description = "The functions' EMF namespace (POWERTOOLS_METRICS_NAMESPACE)."
  type        = string
  default     = "SpeechBroadcast"
}

variable "application_alarms" {
  description = "Alarms on the functions' own metrics, keyed by alarm suffix: metric, the Powertools service that emits it (its `service` dimension), the threshold (by default, alarm when the 5-minute Sum is above it; statistic and comparison name another CloudWatch statistic and comparison operator, e.g. Maximum and GreaterThanOrEqualToThreshold for a percentage) and what it means."
  type = map(object({
    metric      = string
    service     = string
    threshold   = number
    description = string
    statistic   = optional(string, "Sum")
    comparison  = optional(string, "GreaterThanThreshold")
  }))
  default = {}

  validation {
    condition     = alltrue([for alarm in values(var.application_alarms) : contains(["Sum", "Maximum", "Average", "Minimum", "SampleCount"], alarm.statistic) && contains(["GreaterThanThreshold", "GreaterThanOrEqualToThreshold"], alarm.comparison)])
    error_message = "An application alarm's statistic must be Sum, Maximum, Average, Minimum or SampleCount, its comparison GreaterThanThreshold or GreaterThanOrEqualToThreshold."
  }
}

variable "talk_path" {
  description = "What the dashboard shows along a talk's path: the functions in order (speaker audio → listener), the audio stream, and EMF metrics by service."
  type = object({
    functions      = list(string)
    stream_name    = string
    worker         = string
    emf_by_service = map(list(string))
  })
}

variable "tags" {
  description = "Tags for the topic and alarms."
  type        = map(string)
  default     = {}
}

variable "prices" {
  description = "USD per billing unit from the region's price file (infrastructure/pricing/<region>.json): the dashboard prices the cost meter's metrics with them."
  type        = map(number)
  validation {
    condition     = alltrue([for name in ["transcribe_streaming_second", "translate_character", "polly_neural_character", "polly_standard_character", "websocket_message"] : contains(keys(var.prices), name) && var.prices[name] >= 0])
    error_message = "prices must hold transcribe_streaming_second, translate_character, polly_neural_character, polly_standard_character and websocket_message, none negative."
  }
}
