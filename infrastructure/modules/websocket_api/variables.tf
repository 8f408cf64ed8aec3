variable "name" {
  description = "Name of the WebSocket API."
  type        = string

  validation {
    condition     = length(var.name) > 0 && length(var.name) <= 128
    error_message = "name must be 1-128 characters."
  }
}

variable "description" {
  description = "Description of the API."
  type        = string
  default     = ""
}

variable "stage_name" {
  description = "Stage clients connect to, e.g. `dev` or `prod`."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,128}$", var.stage_name))
    error_message = "stage_name must be 1-128 letters, digits, '-' or '_'."
  }
}

variable "routes" {
  description = "Routes keyed by route key ($connect, $disconnect, $default or an action): the function each integrates with."
  type = map(object({
    function_name = string
    invoke_arn    = string
  }))

  validation {
    condition     = alltrue([for key in ["$connect", "$disconnect", "$default"] : contains(keys(var.routes), key)])
    error_message = "routes must include $connect, $disconnect and $default."
  }

  validation {
    condition     = alltrue([for key in keys(var.routes) : can(regex("^(\\$connect|\\$disconnect|\\$default|[A-Za-z][A-Za-z0-9]*)$", key))])
    error_message = "Route keys are $connect, $disconnect, $default or an action name of letters and digits."
  }
}

variable "authorizer" {
  description = "The $connect REQUEST authorizer function and the identity sources API Gateway requires before calling it."
  type = object({
    function_name    = string
    invoke_arn       = string
    identity_sources = list(string)
  })

  validation {
    condition     = length(var.authorizer.identity_sources) > 0
    error_message = "At least one identity source is required."
  }
}

variable "integration_timeout_milliseconds" {
  description = "Integration timeout; API Gateway allows 50 to 29,000 ms."
  type        = number
  default     = 29000

  validation {
    condition     = var.integration_timeout_milliseconds >= 50 && var.integration_timeout_milliseconds <= 29000
    error_message = "integration_timeout_milliseconds must be between 50 and 29000."
  }
}

variable "create_deployment" {
  description = "Create the deployment the stage serves. Only the `local` environment turns this off: moto has no API Gateway v2 CreateDeployment."
  type        = bool
  default     = true
}

variable "throttling" {
  description = "Stage-wide throttling for every route."
  type = object({
    burst_limit = number
    rate_limit  = number
  })
  default = { burst_limit = 500, rate_limit = 1000 }

  validation {
    condition     = var.throttling.burst_limit > 0 && var.throttling.rate_limit > 0
    error_message = "Throttling limits must be positive."
  }
}

variable "route_throttling" {
  description = "Throttling of single routes (route key => limits), each at most the stage-wide one; routes not named get the stage's."
  type = map(object({
    burst_limit = number
    rate_limit  = number
  }))
  default = {}

  validation {
    condition     = alltrue([for t in values(var.route_throttling) : t.burst_limit > 0 && t.rate_limit > 0])
    error_message = "Route throttling limits must be positive."
  }
}

variable "execution_logging_level" {
  description = "API Gateway execution logging: OFF, ERROR or INFO (needs the account's CloudWatch role)."
  type        = string
  default     = "OFF"

  validation {
    condition     = contains(["OFF", "ERROR", "INFO"], var.execution_logging_level)
    error_message = "execution_logging_level must be OFF, ERROR or INFO."
  }
}

variable "log_retention_days" {
  description = "Retention of the access log group, in days."
  type        = number
  default     = 30
}

variable "log_kms_key_arn" {
  description = "KMS key for the access log group; null for CloudWatch's default encryption."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
