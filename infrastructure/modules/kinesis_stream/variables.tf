variable "name" {
  description = "Name of the stream."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{1,128}$", var.name))
    error_message = "Stream names are 1-128 letters, digits, '_', '.' or '-'."
  }
}

variable "on_demand" {
  description = "ON_DEMAND capacity (true) or PROVISIONED with shard_count shards (false)."
  type        = bool
  default     = true
}

variable "shard_count" {
  description = "Shards when provisioned. Each carries 1 MB/s in: about 30 speakers of 16 kHz PCM."
  type        = number
  default     = 1

  validation {
    condition     = var.shard_count >= 1
    error_message = "shard_count must be at least 1."
  }
}

variable "retention_hours" {
  description = "How long records stay readable (24-8760 hours)."
  type        = number
  default     = 24

  validation {
    condition     = var.retention_hours >= 24 && var.retention_hours <= 8760
    error_message = "retention_hours must be between 24 and 8760."
  }
}

variable "kms_key_id" {
  description = "KMS key for server-side encryption."
  type        = string
  default     = "alias/aws/kinesis"
}

variable "consumers" {
  description = "Functions that consume the stream through an event source mapping, by key."
  type = map(object({
    function_name              = string
    batch_size                 = optional(number, 100)
    batching_window_seconds    = optional(number, 0)
    maximum_retry_attempts     = optional(number, 2)
    maximum_record_age_seconds = optional(number, 3600)
  }))
  default = {}

  validation {
    condition     = alltrue([for c in values(var.consumers) : c.maximum_record_age_seconds == -1 || (c.maximum_record_age_seconds >= 60 && c.maximum_record_age_seconds <= 604800)])
    error_message = "maximum_record_age_seconds must be -1 (until the record expires) or between 60 and 604800."
  }

  validation {
    condition     = alltrue([for c in values(var.consumers) : c.batch_size >= 1 && c.batch_size <= 10000])
    error_message = "batch_size must be between 1 and 10000."
  }
}

variable "iterator_age_alarm_seconds" {
  description = "Alarm when a consumer's iterator age (how old the records its mapping delivers are) exceeds this."
  type        = number
  default     = 60

  validation {
    condition     = var.iterator_age_alarm_seconds >= 1
    error_message = "iterator_age_alarm_seconds must be at least 1."
  }
}

variable "reader_lag_alarm" {
  description = "An alarm on how far behind the stream's tip consumers that read it themselves are (the transcription worker publishes, in milliseconds, GetRecords' MillisBehindLatest or how long the audio it reads had waited): the EMF namespace, metric and Powertools service, and the lag in seconds that alarms when it lasts 3 minutes; null: none."
  type = object({
    namespace         = string
    metric            = string
    service           = string
    threshold_seconds = number
  })
  default = null

  validation {
    condition     = var.reader_lag_alarm == null ? true : var.reader_lag_alarm.threshold_seconds >= 1
    error_message = "reader_lag_alarm.threshold_seconds must be at least 1."
  }
}

variable "alarm_actions" {
  description = "ARNs (SNS topics) notified when an alarm changes state."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for the stream and alarms."
  type        = map(string)
  default     = {}
}
