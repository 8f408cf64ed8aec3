variable "name" {
  description = "Name of the user pool and its app client (e.g. speech-broadcast-dev-speakers)."
  type        = string

  validation {
    condition     = can(regex("^[\\w\\s+=,.@-]{1,128}$", var.name))
    error_message = "name must be 1-128 characters of letters, digits, spaces and + = , . @ _ -."
  }
}

variable "domain_prefix" {
  description = "Prefix of the hosted UI's domain, https://<prefix>.auth.<region>.amazoncognito.com; unique in the region across all accounts."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", var.domain_prefix)) && !can(regex("aws|amazon|cognito", var.domain_prefix))
    error_message = "domain_prefix must be 1-63 lower-case letters, digits and inner '-', without aws, amazon or cognito."
  }
}

variable "callback_urls" {
  description = "Where the hosted UI may send the speaker back with an authorization code: the speaker page's URL(s)."
  type        = list(string)

  validation {
    condition     = length(var.callback_urls) > 0 && alltrue([for url in var.callback_urls : can(regex("^(https://|http://localhost(:\\d+)?/)", url))])
    error_message = "callback_urls needs at least one URL; each https://, or http://localhost for development."
  }
}

variable "logout_urls" {
  description = "Where the hosted UI may send the speaker after signing out; null means the callback URLs."
  type        = list(string)
  default     = null

  validation {
    condition     = var.logout_urls == null || alltrue([for url in coalesce(var.logout_urls, []) : can(regex("^(https://|http://localhost(:\\d+)?/)", url))])
    error_message = "Each logout URL must be https://, or http://localhost for development."
  }
}

variable "speaker_group" {
  description = "The group whose members may speak (the authorizer checks cognito:groups)."
  type        = string
  default     = "speakers"

  validation {
    condition     = can(regex("^[\\w\\s+=,.@-]{1,128}$", var.speaker_group))
    error_message = "speaker_group must be 1-128 characters of letters, digits, spaces and + = , . @ _ -."
  }
}

variable "token_validity" {
  description = "Lifetimes of the ID and access tokens (hours; a talk must not outlive its token's first check, which is only at $connect) and of the refresh token (days)."
  type = object({
    id_hours     = optional(number, 1)
    access_hours = optional(number, 1)
    refresh_days = optional(number, 30)
  })
  default = {}

  validation {
    condition     = var.token_validity.id_hours >= 1 && var.token_validity.id_hours <= 24 && var.token_validity.access_hours >= 1 && var.token_validity.access_hours <= 24 && var.token_validity.refresh_days >= 1 && var.token_validity.refresh_days <= 3650
    error_message = "ID and access tokens live 1-24 hours, refresh tokens 1-3650 days."
  }
}

variable "mfa" {
  description = "Multi-factor authentication with an authenticator app: OFF, OPTIONAL (each speaker chooses) or ON (required)."
  type        = string
  default     = "OPTIONAL"

  validation {
    condition     = contains(["OFF", "OPTIONAL", "ON"], var.mfa)
    error_message = "mfa must be OFF, OPTIONAL or ON."
  }
}

variable "deletion_protection" {
  description = "Refuse to delete the user pool (and so every speaker's account)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for the user pool."
  type        = map(string)
  default     = {}
}
