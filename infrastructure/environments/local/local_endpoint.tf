# The emulator endpoint the local provider override points every AWS service at.

variable "aws_endpoint_url" {
  description = "The emulator's endpoint (moto server or LocalStack), from AWS_ENDPOINT_URL."
  type        = string

  validation {
    condition     = can(regex("^https?://", var.aws_endpoint_url))
    error_message = "aws_endpoint_url must be an http(s) URL."
  }
}
