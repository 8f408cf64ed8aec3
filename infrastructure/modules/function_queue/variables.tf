variable "name" {
  description = "Name of the queue; its dead-letter queue is <name>-dead-letter."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,68}$", var.name))
    error_message = "name must be 1-68 letters, digits, '_' or '-' (SQS names are at most 80 characters)."
  }
}

variable "function_name" {
  description = "The function the queue's event source mapping invokes."
  type        = string
}

variable "visibility_timeout_seconds" {
  description = "How long a received message stays hidden: at least the function's timeout (Lambda refuses a mapping otherwise), six times it as AWS advises."
  type        = number
  default     = 60

  validation {
    condition     = var.visibility_timeout_seconds >= 0 && var.visibility_timeout_seconds <= 43200
    error_message = "visibility_timeout_seconds must be 0 to 43200."
  }
}

variable "message_retention_seconds" {
  description = "How long an undelivered message is kept."
  type        = number
  default     = 3600

  validation {
    condition     = var.message_retention_seconds >= 60 && var.message_retention_seconds <= 1209600
    error_message = "message_retention_seconds must be 60 to 1209600 (14 days)."
  }
}

variable "max_receive_count" {
  description = "Receives before a message the function keeps failing moves to the dead-letter queue."
  type        = number
  default     = 5

  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000
    error_message = "max_receive_count must be 1 to 1000."
  }
}

variable "batch_size" {
  description = "Messages per invocation."
  type        = number
  default     = 10

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10
    error_message = "batch_size must be 1 to 10 (no batching window is set)."
  }
}

variable "tags" {
  description = "Tags for the queues."
  type        = map(string)
  default     = {}
}
