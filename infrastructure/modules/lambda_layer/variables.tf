variable "layer_name" {
  description = "Name of the layer."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9-_]{1,140}$", var.layer_name))
    error_message = "Layer names are 1-140 letters, digits, '-' or '_'."
  }
}

variable "description" {
  description = "What the layer holds."
  type        = string
  default     = ""
}

variable "artifact" {
  description = "The built layer zip: its path and base64 SHA-256, from dist/manifest.json."
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

variable "compatible_runtimes" {
  description = "Python runtimes the layer was built for."
  type        = list(string)

  validation {
    condition     = length(var.compatible_runtimes) > 0 && alltrue([for r in var.compatible_runtimes : can(regex("^python3\\.(1[2-9]|[2-9][0-9])$", r))])
    error_message = "compatible_runtimes must list python3.12 or newer runtimes."
  }
}

variable "architecture" {
  description = "Instruction set the layer's native wheels were built for."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}
