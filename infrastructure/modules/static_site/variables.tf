variable "name" {
  description = "Name of the bucket (it must be globally unique) and prefix of the CloudFront resources."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.name))
    error_message = "name must be a valid S3 bucket name: 3-63 lower-case letters, digits, '.' and '-'."
  }
}

variable "files_dir" {
  description = "Folder of the built pages (web/dist): every file in it is uploaded, under the same path."
  type        = string
}

variable "config" {
  description = "What the pages read at start, written as config.json beside them (web/src/config.ts)."
  type        = any
}

variable "default_root_object" {
  description = "The page CloudFront serves for the site's root URL."
  type        = string
  default     = "listener.html"

  validation {
    condition     = can(regex("^[\\w.-]+\\.html$", var.default_root_object))
    error_message = "default_root_object must be an .html file name at the site's root."
  }
}

variable "price_class" {
  description = "CloudFront price class (which edge locations serve the site)."
  type        = string
  default     = "PriceClass_100"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.price_class)
    error_message = "price_class must be PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

variable "versioning" {
  description = "Keep old versions of overwritten or deleted files (for noncurrent_version_days). Only the local emulator sets false: moto cannot empty a versioned bucket holding delete markers, so its destroy never ends."
  type        = bool
  default     = true
}

variable "noncurrent_version_days" {
  description = "Days an overwritten or deleted file's old version is kept (when versioning)."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_days >= 1
    error_message = "noncurrent_version_days must be at least 1."
  }
}

variable "force_destroy" {
  description = "Let terraform destroy delete the bucket with the files (and old versions) in it."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for the bucket and the distribution."
  type        = map(string)
  default     = {}
}

variable "require_tls" {
  description = "Deny every request to the bucket made without TLS (aws:SecureTransport). Only an emulator reached over http:// needs false."
  type        = bool
  default     = true
}

variable "distribution_enabled" {
  description = "Whether the distribution serves the site. Only an emulator, which serves no CloudFront, needs false: a disabled distribution is deleted without first being disabled and waited for (45 s on every destroy)."
  type        = bool
  default     = true
}

variable "wait_for_deployment" {
  description = "Wait until CloudFront reports the distribution Deployed after each change. Only an emulator needs false: moto drops the origin access control from what it reports, so every apply changes the distribution and would wait 30 s for it."
  type        = bool
  default     = true
}
