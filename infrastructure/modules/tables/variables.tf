variable "name_prefix" {
  description = "Prefix for every table name, e.g. `speech-broadcast-dev`."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{3,200}$", var.name_prefix))
    error_message = "name_prefix must be 3-200 characters of letters, digits, '_', '.', '-'."
  }
}

variable "connections_by_session_index" {
  description = "Name of the connections GSI keyed on sessionId and targetLanguage."
  type        = string
  default     = "by-session-language"

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{3,255}$", var.connections_by_session_index))
    error_message = "Index names are 3-255 characters of letters, digits, '_', '.', '-'."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for table encryption; null uses the AWS-managed key for DynamoDB."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN or null."
  }
}

variable "point_in_time_recovery" {
  description = "Enable point-in-time recovery on every table."
  type        = bool
  default     = true
}

variable "deletion_protection" {
  description = "Refuse table deletion (turn on for production)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for every table."
  type        = map(string)
  default     = {}
}
