variable "name_prefix" {
  description = "Prefix of every queue's name."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,40}$", var.name_prefix))
    error_message = "name_prefix must be 1-40 letters, digits, '_' or '-' (SQS names are at most 80 characters)."
  }
}

variable "queues" {
  description = "The queues to create, name suffix => what a message in it means (the alarm's description)."
  type        = map(string)

  validation {
    condition     = alltrue([for key in keys(var.queues) : can(regex("^[a-zA-Z0-9_-]{1,39}$", key))])
    error_message = "Queue keys must be 1-39 letters, digits, '_' or '-'."
  }
}

variable "other_queues" {
  description = "Queues made elsewhere whose messages also mean failed work: key => { name, description }."
  type = map(object({
    name        = string
    description = string
  }))
  default = {}
}

variable "alarm_actions" {
  description = "What each queue's alarm notifies (the environment's alarm topic)."
  type        = list(string)
}

variable "tags" {
  description = "Tags for the queues and alarms."
  type        = map(string)
  default     = {}
}
