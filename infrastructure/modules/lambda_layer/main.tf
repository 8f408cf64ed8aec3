resource "aws_lambda_layer_version" "this" {
  layer_name               = var.layer_name
  description              = var.description
  filename                 = var.code_object == null ? var.artifact.path : null
  s3_bucket                = try(var.code_object.bucket, null)
  s3_key                   = try(var.code_object.key, null)
  source_code_hash         = var.artifact.sha256
  compatible_runtimes      = var.compatible_runtimes
  compatible_architectures = [var.architecture]
}
