variable "function_name" {
  description = "Name of the function; also names its role and log group."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9-_]{1,64}$", var.function_name))
    error_message = "Function names are 1-64 letters, digits, '-' or '_'."
  }
}

variable "description" {
  description = "What the function does (shown in the console)."
  type        = string
  default     = ""
}

variable "artifact" {
  description = "The built zip: its path and base64 SHA-256 (Lambda's CodeSha256), from dist/manifest.json."
  type = object({
    path   = string
    sha256 = string
  })

  validation {
    condition     = endswith(var.artifact.path, ".zip") && can(regex("^[A-Za-z0-9+/]{43}=$", var.artifact.sha256))
    error_message = "artifact.path must be a .zip and artifact.sha256 a base64 SHA-256."
  }
}

variable "code_object" {
  description = "Where the artifact was uploaded to S3 (bucket and key) to deploy it from there; null uploads artifact.path with the request. The provider creates zip-file deployments one at a time (it holds a lock while it reads the file and waits for the function), S3 ones in parallel."
  type = object({
    bucket = string
    key    = string
  })
  default = null
}

variable "handler" {
  description = "Python handler, `package.module.attribute`."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z_][A-Za-z0-9_.]*\\.[A-Za-z_][A-Za-z0-9_]*$", var.handler))
    error_message = "handler must look like package.module.attribute."
  }
}

variable "runtime" {
  description = "Lambda Python runtime, python3.12 or newer."
  type        = string

  validation {
    condition     = can(regex("^python3\\.(1[2-9]|[2-9][0-9])$", var.runtime))
    error_message = "runtime must be python3.12 or newer."
  }
}

variable "architecture" {
  description = "Instruction set the artifact was built for."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "layers" {
  description = "Layer version ARNs, in order."
  type        = list(string)
  default     = []
}

variable "memory_size" {
  description = "Memory in MB."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be between 128 and 10240 MB."
  }
}

variable "timeout" {
  description = "Timeout in seconds. Functions behind API Gateway answer within its 29-second integration limit."
  type        = number
  default     = 10

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900
    error_message = "timeout must be between 1 and 900 seconds."
  }
}

variable "environment" {
  description = "Environment variables."
  type        = map(string)
  default     = {}
}

variable "policy_statements" {
  description = "Extra IAM statements for the function's role, keyed by statement id. Never `*` actions."
  type = map(object({
    actions   = list(string)
    resources = list(string)
  }))
  default = {}

  validation {
    condition     = alltrue([for s in values(var.policy_statements) : !contains(s.actions, "*") && alltrue([for a in s.actions : !endswith(a, ":*")])])
    error_message = "Policy statements must name their actions; '*' and 'service:*' are refused."
  }

  validation {
    condition     = alltrue([for k in keys(var.policy_statements) : can(regex("^[A-Za-z0-9]+$", k))])
    error_message = "Statement ids must be alphanumeric."
  }
}

variable "tracing" {
  description = "Active X-Ray tracing."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "CloudWatch Logs retention in days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts."
  }
}

variable "log_kms_key_arn" {
  description = "KMS key for the log group; null for CloudWatch's default encryption."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "reserved_concurrency" {
  description = "Concurrent executions reserved for (and capping) the function; -1 leaves it on the account's unreserved pool. Set it for functions that asynchronous invokes, streams or schedules drive: the stage's throttle does not bound them."
  type        = number
  default     = -1

  validation {
    condition     = var.reserved_concurrency >= -1
    error_message = "reserved_concurrency is -1 (unreserved) or a number of executions (0 stops the function)."
  }
}

variable "on_failure" {
  description = "For a function invoked asynchronously (a schedule, another function's Event invoke): the SQS queue Lambda sends an event to once its retries are spent or it is too old, how often Lambda retries a failed event (0-2) and how old an event may get (60-21600 s). null for functions only invoked synchronously or by a stream."
  type = object({
    queue_arn                    = string
    maximum_retry_attempts       = number
    maximum_event_age_in_seconds = number
  })
  default = null

  validation {
    condition     = var.on_failure == null || (try(var.on_failure.maximum_retry_attempts, 0) >= 0 && try(var.on_failure.maximum_retry_attempts, 0) <= 2 && try(var.on_failure.maximum_event_age_in_seconds, 60) >= 60 && try(var.on_failure.maximum_event_age_in_seconds, 60) <= 21600)
    error_message = "on_failure.maximum_retry_attempts must be 0-2 and maximum_event_age_in_seconds 60-21600."
  }
}
