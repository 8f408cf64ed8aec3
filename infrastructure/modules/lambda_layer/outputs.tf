output "arn" {
  description = "ARN of this layer version."
  value       = aws_lambda_layer_version.this.arn
}
